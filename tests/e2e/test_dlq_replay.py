"""Dead-letter replay after a fix, end to end: a worker whose Bol.com codec is too strict
dead-letters real-shaped orders; the codec is fixed, the worker restarted, the letters are
replayed with `orderstream dlq replay`, and every order gets its outcome exactly once, the
ones a channel re-sent meanwhile included. A second replay sends nothing.

The too-strict codec is a test-only `sitecustomize` on the first worker's PYTHONPATH that
swaps the Bol.com entry of `codecs.sources.CODECS` for one refusing every order not shipped
to NL; the restarted worker runs without it, as a fixed release would.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from orderstream.agents.kafka_admin import partitions_of
from orderstream.agents.topic_reader import read_topic, true_end_offsets
from orderstream.benchmarks.drive import (
    Collected,
    collect,
    dead_letters,
    duplicates_counted,
    statuses,
    wait_for_outcomes,
)
from orderstream.benchmarks.loadgen import Expected, RawRecord, generate
from orderstream.benchmarks.loadgen.send import produce
from orderstream.benchmarks.localrun import Run, wait_until
from orderstream.codecs.replays import REPLAY_OF
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import OrderPlaced
from orderstream.streams.status import OrderStatus
from tests.e2e.support import dlq, invariants_hold, plain_mix

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TOO_STRICT_BOL = '''
"""Test-only: a Bol.com codec that refuses every order not shipped to NL."""
from orderstream.codecs import bol, sources
from orderstream.codecs.common import ChannelCodec
from orderstream.streams.events import OrderPlaced
from orderstream.streams.rejections import Rejected, RejectReason


def _nl_only(order, headers):
    outcome = bol.normalize_bol(order, headers)
    address = outcome.order.customer.shipping_address if isinstance(outcome, OrderPlaced) else None
    if address is not None and address.country != "NL":
        return Rejected(
            RejectReason.INVALID_COUNTRY, "Bol.com orders ship to NL only", "shipmentDetails"
        )
    return outcome


sources.CODECS[sources.Source.BOL] = ChannelCodec(bol.SOURCE, bol.BolOrder, _nl_only)
'''


def refused_by_the_strict_codec(record: RawRecord) -> str | None:
    """The order id of a Bol.com record the strict codec refuses, else None."""
    if record.topic != "raw.bol":
        return None
    headers = {name.lower(): value.decode() for name, value in record.headers}
    outcome = normalize_payload(Source.BOL, record.value, headers)
    assert isinstance(outcome, OrderPlaced), outcome
    address = outcome.order.customer.shipping_address
    if address is None or address.country == "NL":
        return None
    return outcome.order.oms_order_id


async def consumed_all(run: Run, base: str) -> bool:
    """The worker's group has committed every record now on the topic."""
    topic = run.topic(base)
    partitions = [TopicPartition(topic, p) for p in await partitions_of(run.bootstrap, topic)]
    consumer = AIOKafkaConsumer(bootstrap_servers=run.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await true_end_offsets(run.bootstrap, await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=run.bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(run.app_id, partitions=partitions)
    finally:
        await admin.close()
    return all(tp in committed and committed[tp].offset >= end for tp, end in ends.items())


def assert_each_order_applied_once(
    collected: Collected, produced: list[tuple[RawRecord, int]], expected: Expected
) -> None:
    """Every order was placed once (one PLACED event id: no replay or re-send applied it
    again) and every line has exactly one outcome, with nothing over-allocated."""
    placed: dict[str, set[str]] = defaultdict(set)
    for event, _ in collected.statuses:
        if event.status is OrderStatus.PLACED:
            placed[event.oms_order_id].add(event.event_id)
    assert set(placed) == expected.all_order_ids
    assert {order: ids for order, ids in placed.items() if len(ids) != 1} == {}
    summary = invariants_hold(produced, collected)
    assert summary.orders == expected.orders and summary.orders_without_outcome == 0


def test_letters_of_a_too_strict_codec_are_replayed_after_the_fix_and_apply_once(
    run: Run,
) -> None:
    mix = plain_mix(
        orders=80,
        channel_shares=(("shopify", 0.3), ("bol", 0.5), ("amazon", 0.1), ("pos", 0.1)),
        catalogue_size=60,
        duplicate_rate=0.2,
    )
    records, expected = generate(mix, seed=15, start=datetime.now(UTC))
    refused_records = [r for r in records if refused_by_the_strict_codec(r) is not None]
    refused = {refused_by_the_strict_codec(r) for r in refused_records} - {None}
    assert len(refused) >= 10 and len(refused_records) > len(refused)  # duplicates among them

    plugin = Path(tempfile.mkdtemp(dir=run.root))
    (plugin / "sitecustomize.py").write_text(TOO_STRICT_BOL)
    run.settings["PYTHONPATH"] = str(plugin)
    strict = run.start_worker("w1")
    produced = asyncio.run(produce(run, records))
    accepted = expected.all_order_ids - refused
    assert wait_for_outcomes(run, accepted, timeout=180), run.logs()
    assert wait_until(lambda: len(asyncio.run(dead_letters(run))) >= len(refused_records), 60), (
        run.logs()
    )
    letters = asyncio.run(dead_letters(run))
    assert sorted(d.original for d in letters) == sorted(r.value for r in refused_records)
    assert {(d.stage, d.reason) for d in letters} == {("ingest", "invalid_country")}
    assert not refused & {event.oms_order_id for event, _ in asyncio.run(statuses(run))}

    # The fix ships: the worker restarts without the strict codec. Meanwhile the channel
    # re-sends two of the refused orders (the next poll), and those now go through.
    strict.stop()
    del run.settings["PYTHONPATH"]
    fixed = run.start_worker("w1")
    resent = [r for r in refused_records if r.kind == "order"][:2]
    resent_ids = {refused_by_the_strict_codec(r) for r in resent} - {None}
    produced += asyncio.run(produce(run, resent))
    assert wait_for_outcomes(run, resent_ids, timeout=120), run.logs()

    listed = dlq(run, "list")
    assert listed[:2] == [
        f"{len(letters)} dead letters",
        f"  {len(letters):>7}  ingest  invalid_country",
    ]
    lines = listed[2:]
    assert len(lines) == len(letters) and not any(line.endswith("replayed") for line in lines)
    assert all("@" not in line for line in listed)  # no payload (customers' emails) listed
    first = lines[0].split()[0]
    shown = "\n".join(dlq(run, "show", first))
    assert "reason:          invalid_country" in shown and '"orderId"' in shown
    assert dlq(run, "show", "dlq.ingest:0:9999", code=2) == [
        f"error: no dead letter at dlq.ingest:0:9999 (prefix {run.prefix!r})"
    ]

    assert (
        dlq(run, "replay", "--dry-run")[-1]
        == f"would replay {len(letters)} letters (0 replayed before)"
    )
    replayed = dlq(run, "replay", "--stage", "ingest", "--reason", "invalid_country")
    assert replayed[-1] == f"replayed {len(letters)} letters (0 replayed before)"
    assert wait_for_outcomes(run, expected.all_order_ids, timeout=180), run.logs()
    assert wait_until(lambda: asyncio.run(consumed_all(run, "raw.bol")), 60), run.logs()
    # Each refused order's first replayed copy applies, unless the channel's re-send did;
    # every other copy is dropped and counted as a duplicate.
    assert duplicates_counted(run) >= len(letters) - len(refused) + len(resent_ids)

    again = dlq(run, "replay")
    assert again == [f"replayed 0 letters ({len(letters)} replayed before)"]
    assert all(line.endswith("replayed") for line in dlq(run, "list")[2:])

    raw_bol = asyncio.run(read_topic(run.bootstrap, run.topic("raw.bol")))
    marks = [dict(r.headers).get(REPLAY_OF) for r in raw_bol if REPLAY_OF in dict(r.headers)]
    assert sorted(mark.decode() for mark in marks if mark) == sorted(
        line.split()[0] for line in lines
    )

    collected = asyncio.run(collect(run))
    assert len(collected.dead_letters) == len(letters)  # every replay was accepted
    assert_each_order_applied_once(collected, produced, expected)
    assert fixed.alive and "Traceback" not in fixed.log.read_text(), run.logs()
