"""Dead-letter replay, the pure parts: letter ids, the replay record and header, what `dlq`
selects and prints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from typer.testing import CliRunner

from orderstream.agents.cli import build_app
from orderstream.agents.dlq_view import (
    LetterFilter,
    Replays,
    Stored,
    counts,
    list_line,
    parse_since,
    payload_text,
    release_targets,
    select,
    show_lines,
    to_replay,
)
from orderstream.agents.topics import DLQ_REPLAYS, TopicNames, TopicRetention
from orderstream.codecs.deadletter import DeadLetter, dead_letter
from orderstream.codecs.replays import (
    REPLAY_OF,
    LetterId,
    decode_replayed,
    encode_replayed,
    parse_letter_id,
    replay_headers,
    replayed,
)
from orderstream.streams.rejections import Rejected, RejectReason

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
PAYLOAD = b'{"orderId": "A-1", "shipmentDetails": {"email": "jan@example.nl"}}'


def letter(
    *,
    stage: str = "ingest",
    reason: RejectReason = RejectReason.INVALID_COUNTRY,
    source: tuple[str, int, int] = ("raw.bol", 2, 17),
    at: datetime = NOW,
    value: bytes = PAYLOAD,
    headers: list[tuple[str, bytes]] | None = None,
    key: bytes | None = b"bol:A-1",
    state_key: str = "",
) -> DeadLetter:
    topic, partition, offset = source
    return dead_letter(
        stage=stage,
        rejected=Rejected(reason, "only NL is served", "shipmentDetails.countryCode"),
        topic=topic,
        partition=partition,
        offset=offset,
        value=value,
        key=key,
        headers=headers if headers is not None else [("x-source", b"poller")],
        now=at,
        state_key=state_key,
    )


def stored(text_id: str, one: DeadLetter) -> Stored:
    parsed = parse_letter_id(text_id)
    assert parsed is not None
    return Stored(parsed, one)


def test_a_letter_id_names_topic_partition_and_offset_and_reads_back() -> None:
    parsed = parse_letter_id("dlq.ingest:3:1042")
    assert parsed == LetterId("dlq.ingest", 3, 1042)
    assert str(parsed) == "dlq.ingest:3:1042"
    assert parse_letter_id(" dlq.orders:0:0\n") == LetterId("dlq.orders", 0, 0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "dlq.ingest",
        "dlq.ingest:1",
        "dlq.ingest:a:1",
        "raw.bol:0:1",
        "dlq.ingest:-1:2",
        "dlq.ingest:0:1:2",
        "run1.dlq.ingest:0:1",
        "dlq.ingest:0:99999999999999999999",
    ],
)
def test_anything_else_is_not_a_letter_id(text: str) -> None:
    assert parse_letter_id(text) is None


def test_ids_order_by_topic_partition_then_offset() -> None:
    ids = [
        LetterId("dlq.orders", 0, 1),
        LetterId("dlq.ingest", 1, 2),
        LetterId("dlq.ingest", 1, 10),
    ]
    assert sorted(ids) == [ids[1], ids[2], ids[0]]


def test_a_replay_keeps_the_original_headers_and_adds_its_marker_last() -> None:
    one = letter(headers=[("x-source", b"poller"), ("X-Shopify-Topic", b"orders/create")])
    headers = replay_headers(LetterId("dlq.ingest", 0, 5), one)
    assert headers == [
        ("x-source", b"poller"),
        ("X-Shopify-Topic", b"orders/create"),
        (REPLAY_OF, b"dlq.ingest:0:5"),
    ]


def test_a_letter_of_a_replay_is_replayed_with_its_own_id_only() -> None:
    again = letter(headers=[("Orderstream-Replay-Of", b"dlq.ingest:0:5"), ("x-a", b"1")])
    headers = replay_headers(LetterId("dlq.ingest", 1, 9), again)
    assert headers == [("x-a", b"1"), (REPLAY_OF, b"dlq.ingest:1:9")]


def test_the_replay_record_says_what_went_where_and_reads_back() -> None:
    record = replayed(LetterId("dlq.ingest", 0, 5), letter(), replayed_offset=230, now=NOW)
    assert (record.letter_id, record.stage, record.reason) == (
        "dlq.ingest:0:5",
        "ingest",
        "invalid_country",
    )
    assert (record.source_topic, record.source_partition, record.source_offset) == (
        "raw.bol",
        2,
        17,
    )
    assert record.replayed_offset == 230 and record.replayed_at == NOW
    raw = encode_replayed(record)
    assert msgspec.json.decode(raw)["type"] == "dead_letter_replayed.v1"
    assert decode_replayed(raw) == record
    assert PAYLOAD not in raw  # the record names the letter; it does not copy its bytes


def test_filters_match_stage_reason_and_time_and_an_empty_one_matches_all() -> None:
    entries = [
        stored("dlq.ingest:0:0", letter()),
        stored(
            "dlq.ingest:0:1", letter(reason=RejectReason.UNDECODABLE, at=NOW - timedelta(days=2))
        ),
        stored("dlq.orders:1:0", letter(stage="orders", source=("orders.events", 1, 4))),
    ]
    assert select(entries, LetterFilter()) == entries
    assert select(entries, LetterFilter(stage="orders")) == [entries[2]]
    assert select(entries, LetterFilter(reason="undecodable")) == [entries[1]]
    assert select(entries, LetterFilter(since=NOW - timedelta(days=1))) == [entries[0], entries[2]]
    assert select(entries, LetterFilter(stage="ingest", reason="invalid_country")) == [entries[0]]


def test_the_key_filter_matches_the_record_key_or_the_quarantined_stored_key() -> None:
    held = letter(stage="inventory", key=b"SKU-1", state_key="SKU-1")
    answer = letter(stage="orders", key=b"bol:A-9", state_key="bol:A-9")
    unkeyed = letter(key=None)
    entries = [stored(f"dlq.orders:0:{n}", one) for n, one in enumerate((held, answer, unkeyed))]
    assert select(entries, LetterFilter(key="SKU-1")) == [entries[0]]
    assert select(entries, LetterFilter(key="bol:A-9")) == [entries[1]]
    assert select(entries, LetterFilter(key="")) == []


def test_a_release_goes_to_every_partition_a_key_was_quarantined_on() -> None:
    held = RejectReason.STATE_UNDECODABLE
    entries = [
        stored(
            "dlq.orders:0:1",
            letter(
                stage="orders", reason=held, state_key="bol:A-1", source=("orders.events", 3, 40)
            ),
        ),
        stored(
            "dlq.orders:0:2",
            letter(
                stage="orders", reason=held, state_key="bol:A-1", source=("orders.events", 3, 41)
            ),
        ),
        stored(
            "dlq.orders:0:3",
            letter(
                stage="orders", reason=held, state_key="bol:A-1", source=("inventory.replies", 3, 9)
            ),
        ),
        stored("dlq.orders:0:4", letter(stage="orders", key=b"bol:A-1")),  # another reason
        stored("dlq.orders:0:5", letter(stage="bundling", reason=held, state_key="bol:A-1")),
    ]
    targets = release_targets(entries, "bol:A-1", "orders")
    assert [(t.topic, t.partition) for t in targets] == [
        ("inventory.replies", 3),
        ("orders.events", 3),
    ]
    assert all(t.record_key == b"bol:A-1" for t in targets)
    assert release_targets(entries, "bol:A-2", None) == []
    assert len(release_targets(entries, "bol:A-1", None)) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", NOW - timedelta(minutes=90)),
        ("6h", NOW - timedelta(hours=6)),
        ("7d", NOW - timedelta(days=7)),
        ("30s", NOW - timedelta(seconds=30)),
        ("2026-11-26T08:00:00+01:00", datetime(2026, 11, 26, 7, tzinfo=UTC)),
        ("2026-11-26T08:00:00", datetime(2026, 11, 26, 8, tzinfo=UTC)),
        ("2026-11-26", datetime(2026, 11, 26, tzinfo=UTC)),
    ],
)
def test_since_is_a_time_a_date_or_an_age(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "6 hours", "-2h", "2026-13-01", "7w"])
def test_since_refuses_anything_else(text: str) -> None:
    assert parse_since(text, NOW) is None


def test_replay_keeps_offset_order_per_source_partition_and_time_across_them() -> None:
    minute = timedelta(minutes=1)
    late = stored("dlq.ingest:0:3", letter(source=("raw.bol", 1, 40), at=NOW + 2 * minute))
    early = stored("dlq.ingest:2:0", letter(source=("raw.bol", 1, 7), at=NOW + 3 * minute))
    other = stored("dlq.ingest:1:1", letter(source=("raw.amazon", 0, 9), at=NOW + minute))
    first = stored("dlq.orders:0:0", letter(source=("inventory.replies", 2, 3), at=NOW))
    # offset 7 went before 40 on raw.bol:1 whatever the letters' clocks say
    assert to_replay([late, early, other, first], Replays()) == [first, other, early, late]


def test_replay_skips_letters_and_source_records_replayed_before() -> None:
    done = stored("dlq.ingest:1:2", letter(source=("raw.bol", 0, 1)))
    twin_of_sent = stored("dlq.ingest:3:8", letter(source=("raw.bol", 0, 5)))
    pending = stored("dlq.ingest:0:4", letter(source=("raw.bol", 0, 6)))
    replays = Replays(ids={"dlq.ingest:1:2"}, sources={("raw.bol", 0, 5)})
    assert to_replay([done, twin_of_sent, pending], replays) == [pending]
    assert replays.covers(done) and replays.covers(twin_of_sent)
    assert not replays.covers(pending)


def test_a_record_dead_lettered_twice_is_replayed_once() -> None:
    # delivered again before its offset was committed: a second letter for the same record
    one = stored("dlq.ingest:0:4", letter(source=("raw.bol", 0, 6)))
    again = stored("dlq.ingest:0:9", letter(source=("raw.bol", 0, 6), at=NOW + timedelta(1)))
    assert to_replay([again, one], Replays()) == [one]


def test_counts_come_by_stage_and_reason_largest_first() -> None:
    entries = [
        stored("dlq.ingest:0:0", letter(reason=RejectReason.UNDECODABLE)),
        stored("dlq.ingest:0:1", letter()),
        stored("dlq.ingest:0:2", letter()),
    ]
    assert counts(entries) == [
        "3 dead letters",
        "        2  ingest  invalid_country",
        "        1  ingest  undecodable",
    ]
    assert counts([]) == ["0 dead letters"]


def test_a_list_line_names_the_letter_without_its_payload_or_detail() -> None:
    line = list_line(stored("dlq.ingest:0:5", letter()), Replays(ids={"dlq.ingest:0:5"}))
    assert line == (
        "dlq.ingest:0:5  ingest  invalid_country at shipmentDetails.countryCode"
        "  raw.bol:2:17  2026-11-27T09:30:00Z  replayed"
    )
    assert "example.nl" not in line and "only NL" not in line
    assert not list_line(stored("dlq.ingest:0:5", letter()), Replays()).endswith("replayed")
    held = list_line(stored("dlq.inventory:0:1", letter(state_key="SKU-1")), Replays())
    assert held.endswith("2026-11-27T09:30:00Z  key SKU-1")


def test_show_prints_reason_position_headers_and_the_payload_as_text() -> None:
    lines = show_lines(stored("dlq.ingest:0:5", letter()), Replays())
    text = "\n".join(lines)
    for expected in (
        "id:              dlq.ingest:0:5",
        "reason:          invalid_country",
        "field:           shipmentDetails.countryCode",
        "detail:          only NL is served",
        "exception:       -",
        "quarantined key: -",
        "source:          raw.bol:2:17",
        "replayed:        no",
        "key:             bol:A-1",
        "  x-source: poller",
        f"payload:         {len(PAYLOAD)} bytes",
    ):
        assert expected in lines, expected
    assert lines[-1] == PAYLOAD.decode()
    assert text.count("\n") == len(lines) - 1


def test_a_sink_s_letter_shows_the_refused_request_and_the_response() -> None:
    refused = msgspec.structs.replace(
        letter(stage="sink.shopify", reason=RejectReason.CHANNEL_REFUSED),
        request=b'{"fulfillment": {"trackingNumber": "3S1"}}',
        response="422 tracking number is not valid",
    )
    lines = show_lines(stored("dlq.sink.shopify:0:3", refused), Replays())
    at = lines.index("request:         42 bytes")
    assert lines[at - 1] == "response:        422 tracking number is not valid"
    assert lines[at + 1] == '{"fulfillment": {"trackingNumber": "3S1"}}'
    assert "request:" not in "\n".join(show_lines(stored("dlq.ingest:0:5", letter()), Replays()))


def test_the_payload_is_bounded_and_bad_bytes_are_replaced() -> None:
    assert payload_text(b"\xff\xfeok", limit=10) == "\ufffd\ufffdok"
    assert payload_text(b"x" * 5000, limit=8) == "xxxxxxxx\n... 4992 more bytes not shown"


def test_control_and_format_characters_cannot_reach_the_terminal() -> None:
    hostile = "A\x1b[2J\u202e-1\u200b\r\n\t".encode()
    assert payload_text(hostile) == "A\\u001b[2J\\u202e-1\\u200b\\u000d\n\t"
    one = letter(value=hostile, headers=[("x-evil", b"\x1b]0;title\x07")])
    lines = show_lines(stored("dlq.ingest:0:5", one), Replays())
    assert not any("\x1b" in line or "\x07" in line for line in lines)
    assert "  x-evil: \\u001b]0;title\\u0007" in lines


def test_the_worker_creates_the_replay_topic_compacted() -> None:
    names = TopicNames("run1.")
    assert "run1.dlq.replays" in names.all()
    retention = TopicRetention(dead_letters=timedelta(days=14), personal_data=timedelta(days=30))
    replays = names.configs(retention)[names.name(DLQ_REPLAYS)]
    assert replays["cleanup.policy"] == "compact,delete"
    assert replays["retention.ms"] == str(14 * 24 * 3600 * 1000)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "raw.bol:0:1"], "is not a letter id"),
        (["list", "--since", "yesterday"], "--since 'yesterday'"),
        (["replay", "--since", "soon", "--dry-run"], "--since 'soon'"),
    ],
)
def test_unusable_arguments_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(build_app(), ["dlq", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_broker_is_one_line_and_exit_2() -> None:
    result = CliRunner().invoke(build_app(), ["dlq", "list", "--bootstrap", "127.0.0.1:1"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        line for line in result.output.strip().splitlines() if line.startswith("error: broker")
    ]
