"""The pipeline as separate worker processes on a real broker, under duplicates, bad input,
SIGKILL and rebalance: DESIGN's four invariants, read off the output topics, every record
published valid against its topic's committed schema, carrying its headers and its raw input's
trace, on topics created with their retention."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.structs import ConsumerRecord

from orderstream.agents.topic_reader import read_topic
from orderstream.agents.topics import TopicNames
from orderstream.benchmarks.chaos import Schedule, run_chaos
from orderstream.benchmarks.drive import (
    collect,
    duplicates_counted,
    ledger_heads,
    wait_for_outcomes,
)
from orderstream.benchmarks.loadgen import Expected, Mix, RawRecord, generate
from orderstream.benchmarks.loadgen.send import produce
from orderstream.benchmarks.localrun import Run
from orderstream.benchmarks.summary import Summary, render, summarize
from orderstream.codecs.contract import TOPICS
from orderstream.codecs.headers import HEADER_NAMES
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.codecs.trace import derived_trace_id, position
from orderstream.streams.rejections import Rejected
from tests.builders import contract_violations, header_violations

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def load(orders: int, seed: int) -> tuple[list[RawRecord], Expected]:
    mix = Mix(orders=orders, catalogue_size=60)
    return generate(mix, seed=seed, start=datetime.now(UTC))


def finish(
    run: Run, produced: list[tuple[RawRecord, int]], expected: Expected, duplicates: int
) -> Summary:
    assert wait_for_outcomes(run, expected.all_order_ids, timeout=180), run.logs()
    time.sleep(2)  # let trailing answers and availability changes land
    collected = asyncio.run(collect(run))
    summary = summarize(
        produced=produced,
        consumed=collected.statuses,
        dead_letters=collected.dead_letters,
        ledger=collected.ledger,
        duplicates_dropped=duplicates,
    )
    # what the ledger published last is its own state, read back from its changelog
    heads = asyncio.run(ledger_heads(run, collected.ledger))
    for sku, locations in collected.ledger.items():
        for location, (on_hand, reserved, _) in locations.items():
            stock = heads[sku].locations[location]
            assert (stock.on_hand, stock.reserved) == (on_hand, reserved), (sku, location)
    print(render(summary))
    return summary


async def published(run: Run) -> dict[str, list[bytes]]:
    """Every value on every flow topic of the run (tombstones left out), by base name."""
    values = {}
    for contract in TOPICS:
        records = await read_topic(run.bootstrap, run.topic(contract.topic))
        values[contract.topic] = [r.value for r in records if r.value is not None]
    return values


def traced(records: list[RawRecord]) -> tuple[list[RawRecord], set[bytes]]:
    """Every other record with a W3C `traceparent`, as a traced webhook sender sets it; the
    others get a trace derived from where they land. Returns the trace ids given."""
    given, out = set(), []
    for index, record in enumerate(records):
        if not index % 2:
            out.append(record)
            continue
        trace = f"{index + 1:032x}".encode()
        parent = [("traceparent", b"00-" + trace + b"-00f067aa0ba902b7-01")]
        out.append(dataclasses.replace(record, headers=[*record.headers, *parent]))
        given.add(trace)
    return out, given


async def raw_traces(run: Run) -> dict[str, set[bytes]]:
    """The trace id of every raw record the run read, by the idempotency key ingest gave it
    (the `caused_by` of the status changes it caused): its `traceparent`'s, else derived
    from its topic, partition and offset."""
    traces: dict[str, set[bytes]] = defaultdict(set)
    for source in Source:
        for record in await read_topic(run.bootstrap, run.topic(f"raw.{source.value}")):
            headers = {name.lower(): bytes(value) for name, value in record.headers}
            parent = headers.get("traceparent")
            trace = (
                parent.split(b"-")[1]
                if parent
                else derived_trace_id(position(record.topic, record.partition, record.offset))
            )
            text = {name: value.decode() for name, value in headers.items()}
            outcome = normalize_payload(source, record.value or b"", text)
            if not isinstance(outcome, Rejected):
                traces[outcome.idempotency_key].add(trace)
    return traces


def assert_headers(topic: str, records: list[ConsumerRecord[bytes, bytes]], own_id: str) -> None:
    """Each record has the four headers, valid, naming its tag, version and own id."""
    assert records, topic
    assert not header_violations(topic, [r.headers for r in records])
    for record in records:
        headers = dict(record.headers)
        assert list(headers) == list(HEADER_NAMES), (topic, record.headers)
        value = json.loads(record.value or b"null")
        assert headers["event-type"] == value["type"].encode()
        assert headers["schema-version"] == b"1"
        assert headers["event-id"] == value[own_id].encode()


async def retention_of(run: Run, topics: list[str]) -> dict[str, dict[str, str]]:
    """The configs the broker holds for each topic (full names; keyed without the prefix)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=run.bootstrap)
    await admin.start()
    try:
        wanted = [ConfigResource(ConfigResourceType.TOPIC, name) for name in topics]
        (response,) = await admin.describe_configs(wanted)
        return {
            resource[3].removeprefix(run.prefix): {entry[0]: entry[1] for entry in resource[4]}
            for resource in response.resources
        }
    finally:
        await admin.close()


def assert_invariants(summary: Summary, expected: Expected) -> None:
    assert summary.oversold_skus == ()
    assert summary.double_reservations == ()
    assert summary.lines_without_outcome == 0, summary.lines_without_outcome_detail
    assert summary.orders_without_outcome == 0
    assert summary.orders == expected.orders
    assert summary.dead_letters == expected.malformed
    assert sum(summary.outcomes.values()) == expected.orders


def test_orders_from_every_channel_get_one_outcome_per_line_and_bad_payloads_are_dead_lettered(
    run: Run,
) -> None:
    records, expected = load(400, seed=11)
    records, given = traced(records)
    assert set(expected.order_ids) == {"shopify", "bol", "amazon", "pos"}
    worker = run.start_worker("w1")
    produced = asyncio.run(produce(run, records))
    summary = finish(run, produced, expected, 0)
    assert_invariants(summary, expected)
    assert duplicates_counted(run) >= expected.duplicates
    # every record it published is valid against its topic's committed schema
    values = asyncio.run(published(run))
    assert values["orders.status"] and values["dlq.ingest"] and values["inventory.availability"]
    assert values["orders.allocations"]
    problems = [e for topic, out in values.items() for e in contract_violations(topic, out)]
    assert not problems, "\n".join(problems[:20])
    # and carries its headers, with the trace of the raw record it comes from
    statuses = asyncio.run(read_topic(run.bootstrap, run.topic("orders.status")))
    requests = asyncio.run(read_topic(run.bootstrap, run.topic("fulfilment.requests")))
    assert_headers("orders.status", statuses, "event_id")
    assert_headers("fulfilment.requests", requests, "request_id")
    traces = asyncio.run(raw_traces(run))
    every_raw_trace = set().union(*traces.values())
    for record in statuses + requests:  # reserved, answered, allocated: the raw record's trace
        assert dict(record.headers)["trace-id"] in every_raw_trace
    caused = [(json.loads(r.value or b""), dict(r.headers)["trace-id"]) for r in statuses]
    direct = [(status, trace) for status, trace in caused if status["caused_by"] in traces]
    assert all(trace in traces[status["caused_by"]] for status, trace in direct)
    placed = {status["oms_order_id"] for status, _ in direct if status["status"] == "PLACED"}
    assert placed == expected.all_order_ids
    assert {trace for _, trace in caused} & given and {trace for _, trace in caused} - given
    # the order table's changelog compacts an overwritten row within the personal data
    # retention: its old values hold the customer's contact
    changelog = f"{run.app_id}-order_id_to_state-changelog"
    (config,) = asyncio.run(retention_of(run, [changelog])).values()
    assert config.get("max.compaction.lag.ms") == str(30 * 24 * 3600 * 1000), config
    assert worker.alive


def test_the_run_creates_every_topic_holding_personal_data_with_its_retention(run: Run) -> None:
    run.create_topics()
    names = [name.removeprefix(run.prefix) for name in TopicNames(run.prefix).all()]
    configs = asyncio.run(retention_of(run, [run.topic(name) for name in names]))
    day_ms = 24 * 3600 * 1000
    personal = {
        *(f"raw.{source.value}" for source in Source),
        "orders.events",
        "fulfilment.requests",
        "fulfilment.bundling",
        "tracking.shipments",
        "tracking.scans",
    }
    letters = {"dlq.ingest", "dlq.inventory", "dlq.orders", "dlq.replays"}
    for name, config in configs.items():
        if name in personal:
            assert config.get("retention.ms") == str(30 * day_ms), name
        elif name in letters:
            assert config.get("retention.ms") == str(14 * day_ms), name
        else:  # the broker's default, not the personal data retention
            assert config.get("retention.ms") != str(30 * day_ms), name
    assert configs["tracking.shipments"]["cleanup.policy"] == "compact,delete"
    assert set(configs) == set(names)


def test_short_chaos_campaign_kills_and_a_stop_in_rebalance_change_no_count(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """`orderstream chaos` in small, placement only: two workers, four SIGKILLs at random
    moments, one worker stopped during a rebalance. SKU heads keep 4 rows, so reservations
    spill to rows of their own and are read back under the kills as they would be for a
    Black Friday best seller. The campaign with the fulfilment simulator still finds
    violations (README, "The crash campaign"), so it is not part of `make test` yet."""
    report = run_chaos(
        kafka_bootstrap,
        orders=500,
        schedule=Schedule(kills=4),
        seed=12,
        rate=100,
        timeout=180,
        settings={"ORDERSTREAM_LEDGER_HEAD_ROWS": "4"},
        keep_logs=tmp_path / "logs",
    )
    # one log per start: two workers, four kills, one stop, each followed by a start
    assert len(list((tmp_path / "logs").glob("w*.log"))) == 2 + 4 + 1
    assert report.kills == 4
    assert report.stops_in_rebalance == 1
    assert report.simulator_kills == 0
    assert report.orders == 500
    assert report.duplicates > 0 and report.dead_letters > 0
    assert report.violations == 0, report.details
