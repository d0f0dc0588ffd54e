"""The peak-season load generator: deterministic, shaped like the mix, every record meant."""

from __future__ import annotations

import dataclasses
import json
import re
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from orderstream.benchmarks.loadgen import (
    Expected,
    LoadRun,
    Mix,
    RawRecord,
    generate,
    read_files,
    sample_network,
    write_files,
)
from orderstream.benchmarks.loadgen.cli import loadgen_app
from orderstream.benchmarks.loadgen.stock import spread
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import (
    CanonicalEvent,
    OrderCancelled,
    OrderPlaced,
    PaymentUpdated,
    StockAdjusted,
    StockSnapshotted,
)
from orderstream.streams.model import PaymentState
from orderstream.streams.rejections import Rejected, RejectReason
from orderstream.streams.validation import POSTCODE_FORMATS, check_address

START = datetime(2026, 11, 27, 6, 0, tzinfo=timezone(timedelta(hours=1)))
NETWORK = sample_network()
BIG = Mix(orders=5_000)
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
OFFSET = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


def _normalize(record: RawRecord) -> CanonicalEvent | Rejected:
    headers = {name: value.decode() for name, value in record.headers}
    return normalize_payload(Source(record.topic.removeprefix("raw.")), record.value, headers)


@pytest.fixture(scope="module")
def big_run() -> tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]]:
    records, expected = generate(BIG, seed=2026, start=START, network=NETWORK)
    return records, expected, [_normalize(record) for record in records]


def _orders(
    run: tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]],
) -> list[tuple[RawRecord, OrderPlaced]]:
    records, _, events = run
    return [
        (record, event)
        for record, event in zip(records, events, strict=True)
        if record.kind == "order" and isinstance(event, OrderPlaced)
    ]


# Determinism.


def _fingerprint(records: list[RawRecord]) -> list[tuple[Any, ...]]:
    return [(r.topic, r.key, r.value, tuple(r.headers), r.kind, r.offset_ms) for r in records]


def test_the_same_seed_and_mix_give_byte_identical_records() -> None:
    first, expected_first = generate(Mix(orders=800), seed=11, start=START, network=NETWORK)
    second, expected_second = generate(Mix(orders=800), seed=11, start=START, network=NETWORK)
    assert _fingerprint(first) == _fingerprint(second)
    assert expected_first == expected_second


def test_iterating_a_run_twice_gives_the_same_records() -> None:
    run = LoadRun(Mix(orders=300), seed=5, start=START, network=NETWORK)
    assert _fingerprint(list(run)) == _fingerprint(list(run))


def test_a_different_seed_gives_different_records_and_order_ids() -> None:
    first, expected_first = generate(Mix(orders=300), seed=1, start=START, network=NETWORK)
    second, expected_second = generate(Mix(orders=300), seed=2, start=START, network=NETWORK)
    assert _fingerprint(first) != _fingerprint(second)
    ids_first = {oms for ids in expected_first.order_ids.values() for oms in ids}
    ids_second = {oms for ids in expected_second.order_ids.values() for oms in ids}
    assert not ids_first & ids_second


def test_expected_is_only_known_once_the_run_was_iterated() -> None:
    run = LoadRun(Mix(orders=10), seed=1, start=START, network=NETWORK)
    with pytest.raises(RuntimeError):
        _ = run.expected
    records = list(run)
    assert run.expected.records == len(records)


# The mix.


def test_channel_shares_are_respected_over_five_thousand_orders(
    big_run: tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]],
) -> None:
    _, expected, _ = big_run
    assert expected.orders == 5_000
    counts = {channel: len(ids) for channel, ids in expected.order_ids.items()}
    assert sum(counts.values()) == 5_000
    for channel, share in BIG.shares().items():
        assert abs(counts[channel] / 5_000 - share) < 0.025, (channel, counts)


def test_orders_have_between_one_and_six_lines_two_and_a_half_on_average(
    big_run: tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]],
) -> None:
    sizes = [len(event.order.lines) for _, event in _orders(big_run)]
    assert min(sizes) == 1
    assert max(sizes) == 6
    assert abs(statistics.mean(sizes) - 2.5) < 0.1


def test_sku_popularity_is_zipf_skewed_with_the_top_sku_far_above_the_median(
    big_run: tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]],
) -> None:
    lines = Counter(line.sku for _, event in _orders(big_run) for line in event.order.lines)
    catalogue = [*NETWORK.skus, *(f"SKU-{n:05d}" for n in range(1, 501 - len(NETWORK.skus)))]
    counts = sorted((lines[sku] for sku in catalogue), reverse=True)
    assert lines.most_common(1)[0][0] == NETWORK.skus[0]  # rank 1 is the network's first SKU
    assert set(lines) <= set(catalogue)
    assert counts[0] > 20 * statistics.median(counts)


def test_channel_order_ids_are_unique_within_a_run(
    big_run: tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]],
) -> None:
    ids = [event.order.oms_order_id for _, event in _orders(big_run)]
    assert len(ids) == len(set(ids)) == 5_000
    _, expected, _ = big_run
    assert sorted(ids) == sorted(oms for ids in expected.order_ids.values() for oms in ids)


def test_destinations_are_served_by_the_network_in_their_postcode_format(
    big_run: tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]],
) -> None:
    countries: Counter[str] = Counter()
    for _, event in _orders(big_run):
        address = event.order.customer.shipping_address
        if event.order.channel == "pos":
            assert address is None
            continue
        assert address is not None
        assert check_address(address, NETWORK.served) is None, address
        countries[address.country] += 1
    assert {"NL", "BE", "DE", "AT", "FR"} <= set(countries)
    assert set(countries) <= set(POSTCODE_FORMATS)
    assert countries.most_common(1)[0][0] == "NL"


def test_pos_sales_come_only_from_the_stores_of_the_sample_network(
    big_run: tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]],
) -> None:
    stores = Counter(
        event.order.store_id for _, event in _orders(big_run) if event.order.channel == "pos"
    )
    assert set(stores) == {"STORE-AMS-01", "STORE-UTR-01"}


# Every record means what its kind says.


def test_every_record_that_is_not_malformed_normalizes_to_a_canonical_event_of_its_kind(
    big_run: tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]],
) -> None:
    records, expected, events = big_run
    kinds: dict[str, type[Any]] = {
        "order": OrderPlaced,
        "duplicate": OrderPlaced,
        "cancel": OrderCancelled,
        "payment": PaymentUpdated,
        "stock": StockSnapshotted,
        "adjustment": StockAdjusted,
    }
    checked = 0
    for record, event in zip(records, events, strict=True):
        if record.kind == "malformed":
            continue
        assert not isinstance(event, Rejected), (record, event)
        assert isinstance(event, kinds[record.kind]), (record.kind, event)
        checked += 1
    assert checked > 7_000
    assert Counter(r.kind for r in records) == Counter(
        {
            "order": expected.orders,
            "duplicate": expected.duplicates,
            "malformed": expected.malformed,
            "payment": len(expected.payments),
            "cancel": len(expected.cancellations),
            "stock": expected.stock_snapshots,
            "adjustment": expected.adjustments,
        }
    )


def test_every_malformed_record_is_rejected_by_normalize_payload() -> None:
    records, expected = generate(
        Mix(orders=1_500, malformed_rate=0.3), seed=9, start=START, network=NETWORK
    )
    malformed = [r for r in records if r.kind == "malformed"]
    assert len(malformed) == expected.malformed > 300
    reasons: Counter[RejectReason] = Counter()
    for record in malformed:
        outcome = _normalize(record)
        assert isinstance(outcome, Rejected), record
        reasons[outcome.reason] += 1
        assert record.key is None
    assert set(reasons) == {
        RejectReason.UNDECODABLE,  # truncated, wrong type, missing field, naive timestamp
        RejectReason.INVALID_QUANTITY,
        RejectReason.UNKNOWN_CURRENCY,
    }
    assert {r.topic for r in malformed} == {"raw.shopify", "raw.bol", "raw.amazon", "raw.pos"}
    details = " ".join(o.describe() for o in map(_normalize, malformed) if isinstance(o, Rejected))
    for words in ("truncated", "Expected `int`, got `str`", "missing required field", "timezone"):
        assert words.lower() in details.lower(), words


def test_the_default_mix_sends_about_five_in_a_thousand_malformed_records(
    big_run: tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]],
) -> None:
    _, expected, _ = big_run
    assert 10 <= expected.malformed <= 45


def test_duplicates_share_the_idempotency_key_of_an_earlier_order_record(
    big_run: tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]],
) -> None:
    records, expected, events = big_run
    seen: dict[str, RawRecord] = {}
    duplicates = 0
    repolled = 0
    for record, event in zip(records, events, strict=True):
        if record.kind == "order":
            assert isinstance(event, OrderPlaced)
            assert event.idempotency_key not in seen
            seen[event.idempotency_key] = record
        elif record.kind == "duplicate":
            assert isinstance(event, OrderPlaced)
            original = seen[event.idempotency_key]  # an earlier record carries the key
            assert record.key == original.key
            assert record.offset_ms > original.offset_ms
            if record.topic in ("raw.shopify", "raw.pos"):
                assert (record.value, record.headers) == (original.value, original.headers)
            else:  # an overlapping poll: the same order version from a later poll
                assert record.headers != original.headers
                repolled += record.value != original.value
            duplicates += 1
    assert duplicates == expected.duplicates
    assert abs(duplicates / expected.orders - 0.05) < 0.015
    assert repolled > 0  # Amazon re-polls differ in bytes, not in key


def test_payments_capture_pending_shopify_orders_sent_before_them(
    big_run: tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]],
) -> None:
    records, expected, events = big_run
    pending: dict[str, int] = {}
    payments = []
    for record, event in zip(records, events, strict=True):
        if record.kind == "order" and isinstance(event, OrderPlaced):
            if event.order.payment_state is PaymentState.PENDING:
                pending[event.order.oms_order_id] = record.offset_ms
        elif record.kind == "payment":
            assert isinstance(event, PaymentUpdated)
            assert event.payment_state is PaymentState.PAID
            assert event.oms_order_id in pending  # an earlier pending order
            assert record.key == event.oms_order_id.encode()
            payments.append(event.oms_order_id)
    assert tuple(pending) == expected.payment_holds
    assert all(oms.startswith("shopify:") for oms in pending)
    assert abs(len(pending) / len(expected.order_ids["shopify"]) - 0.03) < 0.015
    assert sorted(payments) == sorted(expected.payments)
    assert 0.75 * len(pending) <= len(payments) < len(pending)


def test_cancellations_follow_an_earlier_shopify_order_that_was_not_pending(
    big_run: tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]],
) -> None:
    records, expected, events = big_run
    placed: dict[str, OrderPlaced] = {}
    cancelled = []
    for record, event in zip(records, events, strict=True):
        if record.kind == "order" and isinstance(event, OrderPlaced):
            placed[event.order.oms_order_id] = event
        elif record.kind == "cancel":
            assert isinstance(event, OrderCancelled)
            assert dict(record.headers)["x-shopify-topic"] == b"orders/cancelled"
            original = placed[event.oms_order_id]
            assert original.order.payment_state is not PaymentState.PENDING
            assert event.idempotency_key != original.idempotency_key
            assert event.occurred_at > original.occurred_at
            cancelled.append(event.oms_order_id)
    assert sorted(cancelled) == sorted(expected.cancellations)
    assert abs(len(cancelled) / len(expected.order_ids["shopify"]) - 0.02) < 0.012


# Stock.


def test_the_opening_snapshot_counts_every_sku_at_every_location_before_any_order(
    big_run: tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]],
) -> None:
    records, expected, events = big_run
    first_order = next(i for i, r in enumerate(records) if r.kind != "stock")
    snapshot = [e for e in events[:first_order] if isinstance(e, StockSnapshotted)]
    assert len(snapshot) == first_order == expected.stock_snapshots
    pairs = {(e.sku, e.location) for e in snapshot}
    locations = {location.id for location in NETWORK.locations}
    skus = {e.sku for e in snapshot}
    assert len(skus) == 500 and set(NETWORK.skus) <= skus
    assert locations == {"WH-AMS", "WH-DUS", "3PL-ANR", "STORE-AMS-01", "STORE-UTR-01"}
    assert pairs == {(sku, location) for sku in skus for location in locations}
    assert not any(r.kind == "stock" for r in records[first_order:])
    assert all(r.key == e.sku.encode() for r, e in zip(records, snapshot, strict=False))


def test_stock_sequences_increase_per_source_system_and_location(
    big_run: tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]],
) -> None:
    _, expected, events = big_run
    last: dict[tuple[str, str], int] = {}
    adjustments = 0
    for event in events:
        if isinstance(event, (StockSnapshotted, StockAdjusted)):
            feed = (event.source_system, event.location)
            assert event.sequence > last.get(feed, 0), feed
            last[feed] = event.sequence
            adjustments += isinstance(event, StockAdjusted)
    assert len(last) == len(NETWORK.locations)
    assert adjustments == expected.adjustments
    assert abs(adjustments / expected.orders - 0.02) < 0.01


def test_adjustments_restock_warehouses_and_take_units_only_at_the_till_only_store() -> None:
    records, _ = generate(
        Mix(orders=3_000, adjustment_rate=0.3), seed=6, start=START, network=NETWORK
    )
    count: Counter[tuple[str, str]] = Counter()
    taken: Counter[str] = Counter()
    received: Counter[str] = Counter()
    for record in records:
        event = _normalize(record)
        if isinstance(event, StockSnapshotted):
            count[(event.sku, event.location)] = event.on_hand
        elif isinstance(event, StockAdjusted):
            count[(event.sku, event.location)] += event.delta
            assert count[(event.sku, event.location)] >= 0  # a feed never counts below zero
            if event.delta < 0:
                taken[event.location] += 1
                assert event.reason in {"damaged", "shrinkage", "cycle_count"}
            else:
                received[event.location] += 1
                assert event.reason == "received"
    assert set(taken) == {"STORE-UTR-01"}  # it sells at its till only: nothing is reserved
    assert set(received) == {"WH-AMS", "WH-DUS", "3PL-ANR"}
    assert 0.15 < sum(taken.values()) / (sum(taken.values()) + sum(received.values())) < 0.45


def test_popular_skus_are_stocked_below_what_the_run_asks_for_and_the_tail_is_not(
    big_run: tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]],
) -> None:
    _, _, events = big_run
    stock: Counter[str] = Counter()
    for event in events:
        if isinstance(event, StockSnapshotted):
            stock[event.sku] += event.on_hand
    demand: Counter[str] = Counter()
    for _, event in _orders(big_run):
        if event.order.channel != "pos":  # till sales leave the shelf, no reservation
            for line in event.order.lines:
                demand[line.sku] += line.qty
    top = NETWORK.skus[0]
    assert demand[top] > stock[top]  # the best seller runs short: orders backorder or hold
    ample = [sku for sku in NETWORK.skus[3:] if stock[sku] >= demand[sku]]
    assert len(ample) >= len(NETWORK.skus[3:]) - 1


def test_spread_splits_units_by_weight_and_keeps_the_total() -> None:
    assert spread(10, [4.0, 4.0, 2.0]) == (4, 4, 2)
    assert spread(7, [4.0, 4.0, 2.0, 0.5, 0.5]) == (3, 3, 1, 0, 0)
    assert sum(spread(101, [4.0, 4.0, 2.0, 0.5, 0.5])) == 101


# Time.


def _stamps(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _stamps(v)]
    if isinstance(value, list):
        return [s for v in value for s in _stamps(v)]
    return [value] if isinstance(value, str) and STAMP.match(value) else []


def test_every_timestamp_in_every_payload_carries_an_offset(
    big_run: tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]],
) -> None:
    records, _, _ = big_run
    checked = 0
    for record in records:
        if record.kind == "malformed":
            continue
        for stamp in _stamps(json.loads(record.value)):
            assert OFFSET.search(stamp), (record.topic, stamp)
            checked += 1
    assert checked > 20_000


def test_event_times_start_at_start_and_never_go_back(
    big_run: tuple[list[RawRecord], Expected, list[CanonicalEvent | Rejected]],
) -> None:
    records, _, events = big_run
    offsets = [r.offset_ms for r in records]
    assert offsets == sorted(offsets)
    assert offsets[0] == 0
    first = events[0]
    assert isinstance(first, StockSnapshotted)
    assert first.occurred_at == START.astimezone(UTC)
    # 5,000 orders at 50 a second: about a hundred seconds of event time, plus follow-ups.
    last_order = max(r.offset_ms for r in records if r.kind == "order")
    assert 80_000 < last_order < 120_000


def test_records_carry_no_timestamp_unless_the_run_stamps_its_event_times() -> None:
    plain, _ = generate(Mix(orders=300, cancel_rate=0.2), seed=5, start=START, network=NETWORK)
    stamped, _ = generate(
        Mix(orders=300, cancel_rate=0.2), seed=5, start=START, network=NETWORK, event_time=True
    )
    assert {r.timestamp_ms for r in plain} == {None}
    assert _fingerprint(stamped) == _fingerprint(plain)
    start_ms = int(START.timestamp() * 1000)
    assert [r.timestamp_ms for r in stamped] == [start_ms + r.offset_ms for r in stamped]
    # A record is stamped when its payload says it happened (to the payload's second); a
    # re-send when it was sent again.
    kinds: Counter[str] = Counter()
    for record in stamped:
        event = _normalize(record)
        if record.kind != "duplicate" and not isinstance(event, Rejected):
            occurred_ms = int(event.occurred_at.timestamp() * 1000)
            assert 0 <= (record.timestamp_ms or 0) - occurred_ms < 1000, record
            kinds[record.kind] += 1
    assert kinds["order"] == 300 and kinds["cancel"] > 0 and kinds["stock"] > 0


def test_a_low_arrival_rate_spreads_a_run_over_months_of_event_time() -> None:
    days = 220
    records, _ = generate(
        Mix(orders=400, orders_per_second=400 / (days * 86_400)),
        seed=6,
        start=START,
        network=NETWORK,
        event_time=True,
    )
    last = max(r.offset_ms for r in records if r.kind == "order")
    assert 0.85 * days < last / 86_400_000 < 1.15 * days
    assert max(r.timestamp_ms or 0 for r in records) >= int(START.timestamp() * 1000) + last


def test_a_later_start_moves_the_timestamps_not_the_choices() -> None:
    early, _ = generate(Mix(orders=50), seed=3, start=START, network=NETWORK)
    late, _ = generate(Mix(orders=50), seed=3, start=START + timedelta(days=1), network=NETWORK)
    assert [r.offset_ms for r in early] == [r.offset_ms for r in late]
    assert [r.key for r in early] == [r.key for r in late]
    assert [r.value for r in early] != [r.value for r in late]


def test_a_start_without_an_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        LoadRun(Mix(orders=1), seed=1, start=datetime(2026, 11, 27, 6, 0), network=NETWORK)


@pytest.mark.parametrize(
    "change",
    [
        {"orders": -1},
        {"duplicate_rate": 1.5},
        {"channel_shares": (("shopify", 1.0), ("etsy", 1.0))},
        {"lines_mean": 7.0},
        {"payment_hold_rate": 0.6, "cancel_rate": 0.6},
    ],
)
def test_an_impossible_mix_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="invalid mix"):
        dataclasses.replace(Mix(), **change)


def test_a_country_the_network_does_not_serve_is_refused_before_anything_is_generated() -> None:
    with pytest.raises(ValueError, match="serves no node in US"):
        LoadRun(Mix(orders=5, countries=(("US", 1.0),)), seed=1, start=START, network=NETWORK)


# Files and the command line.


def test_written_files_read_back_as_the_same_records_in_the_same_order(tmp_path: Path) -> None:
    records, expected = generate(
        Mix(orders=400, malformed_rate=0.05), seed=4, start=START, network=NETWORK
    )
    manifest = write_files(records, tmp_path)
    assert sum(manifest.records.values()) == len(records)
    assert manifest.records == expected.per_topic
    for topic, name in manifest.files.items():
        lines = (tmp_path / name).read_text().splitlines()
        assert len(lines) == manifest.records[topic]
        assert all(json.loads(line)["kind"] for line in lines)
    assert _fingerprint(list(read_files(tmp_path))) == _fingerprint(records)


def test_stamped_event_times_survive_the_files(tmp_path: Path) -> None:
    records, _ = generate(Mix(orders=50), seed=4, start=START, network=NETWORK, event_time=True)
    write_files(records, tmp_path)
    assert list(read_files(tmp_path)) == records


def test_a_record_that_is_not_utf8_survives_the_files_as_base64(tmp_path: Path) -> None:
    record = RawRecord("raw.pos", b"\xff\x00", b"\xc3\x28{", [("x-a", b"1")], "malformed", 3)
    write_files([record], tmp_path)
    assert list(read_files(tmp_path)) == [record]


def test_the_command_writes_the_run_and_what_it_holds(tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(loadgen_app, name="loadgen")
    args = ["loadgen", "--orders", "300", "--seed", "8", "--duplicate-rate", "0.1"]
    first = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "a")])
    second = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert first.exit_code == 0, first.output
    assert "300 orders" in first.output and "records/s" in first.output
    expected = json.loads((tmp_path / "a" / "expected.json").read_text())
    assert expected["orders"] == 300
    _, direct = generate(
        Mix(orders=300, duplicate_rate=0.1),
        seed=8,
        start=datetime.fromisoformat("2026-11-27T06:00:00+01:00"),
        network=NETWORK,
    )
    assert expected["duplicates"] == direct.duplicates
    for name in ["manifest.json", "expected.json", *(f"{t}.jsonl" for t in direct.per_topic)]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert second.exit_code == 0


def test_the_command_stamps_event_times_only_when_asked(tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(loadgen_app, name="loadgen")
    args = ["loadgen", "--orders", "20", "--seed", "8"]
    plain = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "a")])
    stamped = CliRunner().invoke(app, [*args, "--event-time", "--out", str(tmp_path / "b")])
    assert plain.exit_code == 0 and stamped.exit_code == 0, stamped.output
    assert {r.timestamp_ms for r in read_files(tmp_path / "a")} == {None}
    start_ms = int(datetime.fromisoformat("2026-11-27T06:00:00+01:00").timestamp() * 1000)
    assert [r.timestamp_ms for r in read_files(tmp_path / "b")] == [
        start_ms + r.offset_ms for r in read_files(tmp_path / "a")
    ]


def test_the_command_refuses_an_impossible_rate_with_exit_2(tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(loadgen_app, name="loadgen")
    result = CliRunner().invoke(
        app, ["loadgen", "--orders", "10", "--malformed-rate", "2", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "malformed_rate" in result.output


def test_every_knob_is_an_option_and_weights_are_name_weight_lists(tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(loadgen_app, name="loadgen")
    args = ["loadgen", "--orders", "200", "--out", str(tmp_path)]
    knobs = ["--channel-shares", "bol=1", "--countries", "NL=1", "--lines-mean", "1.5"]
    result = CliRunner().invoke(app, [*args, *knobs, "--zipf", "1.3"])
    assert result.exit_code == 0, result.output
    expected = json.loads((tmp_path / "expected.json").read_text())
    assert {channel for channel, ids in expected["order_ids"].items() if ids} == {"bol"}
    bad = CliRunner().invoke(app, [*args, "--channel-shares", "bol"])
    assert bad.exit_code == 2
    assert "--channel-shares: expected name=weight" in bad.output
    neither = CliRunner().invoke(app, ["loadgen", "--orders", "5"])
    assert neither.exit_code == 2
