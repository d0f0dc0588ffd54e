"""The agents on Faust's test context: in-memory channels and tables, sends captured.

What each agent publishes for what it reads, and that a bad record becomes a dead letter
instead of a crash. The same agents run against the real broker in tests/e2e.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from unittest import mock

import msgspec
import pytest

from orderstream.agents import orders
from orderstream.agents.app import create_app
from orderstream.agents.dead_letters import (
    CONTROL_HEADER,
    RELEASE,
    STATE_KEY_HEADER,
)
from orderstream.agents.metrics import Metrics
from orderstream.agents.pipeline import Pipeline, build_pipeline
from orderstream.agents.replica import AtpReplica
from orderstream.agents.samples import sample_rules_path
from orderstream.agents.settings import load_settings
from orderstream.agents.worker import read_rules
from orderstream.codecs import internal, limits
from orderstream.codecs.deadletter import decode_quarantined
from orderstream.codecs.limits import RECORD_MAX_BYTES
from orderstream.streams.events import ParcelScanned, TrackingStatus
from orderstream.streams.inventory import AvailabilityChanged, ReservationAnswered
from orderstream.streams.ledger_commands import Release, Reserve, SetInbound, SetStock
from orderstream.streams.order_messages import ShipmentTracked
from tests.builders import (
    FIXTURES,
    close_unstarted_consumer,
    large_shopify_order,
    placed_shopify_order,
)
from tests.builders import fulfilment_request as bundling_request

NOW = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)
IN_TRANSIT = TrackingStatus.IN_TRANSIT


@dataclass
class Harness:
    pipeline: Pipeline
    sent: list[tuple[str, bytes | None, dict[str, Any]]] = field(default_factory=list)
    headers: list[tuple[str, dict[str, bytes]]] = field(default_factory=list)
    """Per record sent: its topic and its headers, which every record must have."""

    def on(self, topic: str) -> list[dict[str, Any]]:
        return [value for name, _, value in self.sent if name == topic]

    def headers_on(self, topic: str) -> list[dict[str, bytes]]:
        return [headers for name, headers in self.headers if name == topic]

    async def sent_on(self, topic: str, count: int) -> list[dict[str, Any]]:
        """What went to `topic` once it holds `count` records (or after two seconds)."""
        for _ in range(200):
            if len(self.on(topic)) >= count:
                break
            await asyncio.sleep(0.01)
        return self.on(topic)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    settings = load_settings(
        kafka_bootstrap="127.0.0.1:1",
        topic_partitions=1,
        reservation_ttl_minutes=90,
        bundle_key_secret="unit tests' bundle key secret",
    )
    app = create_app(settings)
    app.conf.store = "memory://"
    box = Harness(build_pipeline(app, settings, read_rules(sample_rules_path())))
    app.finalize()

    async def capture(
        topic: Any,
        key: bytes | None = None,
        value: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
        **_: Any,
    ) -> None:
        box.sent.append((topic.get_topic_name(), key, json.loads(value or b"null")))
        box.headers.append((topic.get_topic_name(), dict(headers or ())))
        await asyncio.sleep(0)  # a real send yields to the loop, letting inputs arrive

    with mock.patch("faust.topics.Topic.send", capture):
        yield box
    close_unstarted_consumer(app)


def granted(reserve: dict[str, Any]) -> ReservationAnswered:
    """The SKU owner's grant of a reserve command the order agent sent."""
    return ReservationAnswered(
        reserve["reservation_id"],
        reserve["oms_order_id"],
        reserve["line_id"],
        reserve["sku"],
        reserve["location"],
        reserve["qty"],
        granted=True,
    )


async def test_the_ledger_agent_answers_reserves_publishes_atp_and_never_oversells(
    harness: Harness,
) -> None:
    agent = harness.pipeline.app.agents["apply_inventory_commands"]
    async with agent.test_context() as ctx:
        await ctx.put(internal.encode(SetStock("A", NOW, "WH-AMS", 5, "wms", 1)), key=b"A")
        for rid in ("r1", "r2", "r1"):
            await ctx.put(
                internal.encode(Reserve("A", NOW, rid, f"o:{rid}", "1", "WH-AMS", 3)), key=b"A"
            )
    answers = harness.on("inventory.replies")
    assert [(a["reservation_id"], a["granted"]) for a in answers] == [
        ("r1", True),
        ("r2", False),
        ("r1", True),  # the duplicate repeats the first answer
    ]
    positions = [(c["atp"], c["reserved"]) for c in harness.on("inventory.positions")]
    # the refusal changes nothing; the duplicate publishes its location again, in case the
    # first position was lost while the ledger kept its effect
    assert positions == [(5, 0), (2, 3), (2, 3)]
    # the public topic says the ATP and nothing of the counts behind it
    public = harness.on("inventory.availability")
    assert [(c["sku"], c["location"], c["atp"]) for c in public] == [
        ("A", "WH-AMS", 5),
        ("A", "WH-AMS", 2),
        ("A", "WH-AMS", 2),
    ]
    assert all(set(c) == {"type", "sku", "location", "atp"} for c in public)


async def test_the_ledger_agent_publishes_inbound_supply_without_promising_it(
    harness: Harness,
) -> None:
    agent = harness.pipeline.app.agents["apply_inventory_commands"]
    async with agent.test_context() as ctx:
        await ctx.put(internal.encode(SetStock("A", NOW, "WH-AMS", 5, "wms", 1)), key=b"A")
        await ctx.put(internal.encode(SetInbound("A", NOW, "WH-AMS", 240, "erp", 1)), key=b"A")
    changes = [(c["atp"], c.get("inbound", 0)) for c in harness.on("inventory.positions")]
    assert changes == [(5, 0), (5, 240)]


async def test_the_bundling_agent_bundles_two_orders_once(harness: Harness) -> None:
    agent = harness.pipeline.app.agents["bundle_shipments"]
    requests = [bundling_request("o1"), bundling_request("o2"), bundling_request("o2")]
    async with agent.test_context() as ctx:
        for one in requests:
            await ctx.put(internal.encode(one), key=b"k1")
    bundled = harness.on("fulfilment.bundles")
    assert [(b["event_id"], b["oms_order_ids"]) for b in bundled] == [("k1:2", ["o1", "o2"])]


async def test_the_tracking_agent_attributes_a_scan_naming_only_its_parcel(
    harness: Harness,
) -> None:
    agent = harness.pipeline.app.agents["attribute_tracking"]
    scan = ParcelScanned("carrier:dhl:J1:in_transit:1", "carrier", NOW, "dhl", "J1", IN_TRANSIT)
    shipped = ShipmentTracked("DHL", "J1", "shopify:1", "shopify:1/1", NOW)
    async with agent.test_context() as ctx:
        await ctx.put(internal.encode(scan), key=b"dhl:J1")  # before its registration: waits
        assert harness.on("orders.events") == []
        await ctx.put(internal.encode(shipped), key=b"dhl:J1")
        await ctx.put(internal.encode(scan), key=b"dhl:J1")  # known now: attributed again
    events = harness.on("orders.events")
    assert [(e["type"], e["oms_order_id"], e["shipment_id"]) for e in events] == [
        ("tracking.updated.v1", "shopify:1", "shopify:1/1"),
    ] * 2
    stored = harness.pipeline.app.tables["tracking_key_to_shipment"].data[b"dhl:J1"]
    assert internal.tracked_shipment.decode(stored).oms_order_id == "shopify:1"


async def test_the_ledger_agent_dead_letters_what_it_cannot_decode(harness: Harness) -> None:
    agent = harness.pipeline.app.agents["apply_inventory_commands"]
    async with agent.test_context() as ctx:
        await ctx.put(b'{"type": "inventory.teleport.v1"}', key=b"A")
        await ctx.put(internal.encode(SetStock("A", NOW, "WH-AMS", 5, "wms", 1)), key=b"A")
    (letter,) = harness.on("dlq.inventory")
    assert letter["reason"] == "undecodable"
    assert letter["stage"] == "inventory"
    assert len(harness.on("inventory.availability")) == 1  # the stream went on


async def test_the_order_agent_places_reserves_and_allocates_on_the_answers(
    harness: Harness,
) -> None:
    harness.pipeline.replica.view.update(
        {"JKT-WOOL-NAVY-M": {"WH-DUS": 4}, "SCARF-MERINO-GRY": {"WH-DUS": 12}}
    )
    placed = placed_shopify_order()
    agent = harness.pipeline.app.agents["process_orders"]
    async with agent.test_context() as ctx:
        await ctx.put(internal.encode(placed), key=b"shopify:5874123456789")
        reserves = await harness.sent_on("inventory.commands", 2)
        assert [r["location"] for r in reserves] == ["WH-DUS", "WH-DUS"]
        for reserve in reserves:  # ORDERSTREAM_RESERVATION_TTL_MINUTES reaches the reservation
            issued = datetime.fromisoformat(reserve["issued_at"])
            assert datetime.fromisoformat(reserve["expires_at"]) - issued == timedelta(minutes=90)
        for reserve in reserves:
            answer = granted(reserve)
            await ctx.put(internal.encode(answer), key=b"shopify:5874123456789")
        await ctx.put(internal.encode(placed), key=b"shopify:5874123456789")  # a re-send
        await ctx.put(b"not json", key=b"shopify:5874123456789")
        await harness.sent_on("dlq.orders", 1)
    statuses = [(s["event_id"], s["status"]) for s in harness.on("orders.status")]
    assert statuses == [
        ("shopify:5874123456789:1", "PLACED"),
        ("shopify:5874123456789:2", "ALLOCATED"),
    ]
    (request,) = harness.on("fulfilment.requests")
    assert request["node"] == "WH-DUS"
    assert [d["reason"] for d in harness.on("dlq.orders")] == ["undecodable"]


async def test_every_record_of_a_raw_order_carries_its_headers_and_the_raw_records_trace(
    harness: Harness,
) -> None:
    """Raw order -> orders.events -> reserve commands; their answers (carrying the commands'
    headers, as the ledger sends them) -> the allocation: one trace all the way."""
    harness.pipeline.replica.view.update(
        {"JKT-WOOL-NAVY-M": {"WH-DUS": 4}, "SCARF-MERINO-GRY": {"WH-DUS": 12}}
    )
    trace = b"4bf92f3577b34da6a3ce929d0e0e4736"
    raw = (FIXTURES / "shopify/orders_create.json").read_bytes()
    incoming = [
        ("X-Shopify-Topic", b"orders/create"),
        ("traceparent", b"00-" + trace + b"-00f067aa0ba902b7-01"),
    ]
    ingest = harness.pipeline.app.agents["normalize_raw_events"]
    async with ingest.test_context() as ctx:
        ctx._get_strtopic = lambda channel: "raw.shopify"  # the agent reads all nine raw topics
        await ctx.put(raw, key=b"shopify:5874123456789", headers=incoming)
        await harness.sent_on("orders.events", 1)
    (event,), (event_headers,) = harness.on("orders.events"), harness.headers_on("orders.events")
    assert event_headers["event-type"] == event["type"].encode()
    assert event_headers["schema-version"] == b"1"
    assert event_headers["trace-id"] == trace
    assert event_headers["event-id"].startswith(b"raw.shopify:")
    orders_agent = harness.pipeline.app.agents["process_orders"]
    async with orders_agent.test_context() as ctx:
        await ctx.put(
            json.dumps(event).encode(),
            key=b"shopify:5874123456789",
            headers=list(event_headers.items()),
        )
        reserves = await harness.sent_on("inventory.commands", 2)
        for reserve, headers in zip(
            reserves, harness.headers_on("inventory.commands"), strict=True
        ):
            assert headers["trace-id"] == trace
            answer = granted(reserve)
            await ctx.put(
                internal.encode(answer),
                key=b"shopify:5874123456789",
                headers=[("trace-id", headers["trace-id"])],
            )
        await harness.sent_on("fulfilment.requests", 1)
    for status, headers in zip(
        harness.on("orders.status"), harness.headers_on("orders.status"), strict=True
    ):
        assert headers == {
            "event-type": b"order.status_changed.v1",
            "schema-version": b"1",
            "event-id": status["event_id"].encode(),
            "trace-id": trace,
        }
    ((request, headers),) = zip(
        harness.on("fulfilment.requests"), harness.headers_on("fulfilment.requests"), strict=True
    )
    assert headers["event-id"] == request["request_id"].encode()
    assert headers["trace-id"] == trace
    reserve_ids = [h["event-id"] for h in harness.headers_on("inventory.commands")]
    assert len(set(reserve_ids)) == len(reserve_ids) == 2


async def test_the_order_agent_decides_every_input_once_while_more_arrive(
    harness: Harness,
) -> None:
    """Inputs that keep arriving while the agent decides are each decided once."""
    harness.pipeline.replica.view.update({"JKT-WOOL-NAVY-M": {"WH-DUS": 400}})
    placed = placed_shopify_order()
    ids = [f"shopify:{number}" for number in range(1000, 1300)]
    agent = harness.pipeline.app.agents["process_orders"]
    async with agent.test_context() as ctx:
        for order_id in ids:
            order = msgspec.structs.replace(placed.order, oms_order_id=order_id)
            one = msgspec.structs.replace(placed, order=order, idempotency_key=f"{order_id}:1")
            await ctx.put(internal.encode(one), key=order_id.encode())
        statuses = await harness.sent_on("orders.status", len(ids))
    placed_ids = [s["oms_order_id"] for s in statuses if s["status"] == "PLACED"]
    assert sorted(placed_ids) == sorted(ids)


async def test_a_replayed_input_writes_the_order_state_again(harness: Harness) -> None:
    """A SIGKILL can leave a state in the worker's RocksDB whose changelog record never
    left: the replay (same offset) must write it again, not only re-send the outbox."""
    harness.pipeline.replica.view.update({"JKT-WOOL-NAVY-M": {"WH-DUS": 4}})
    placed = placed_shopify_order()
    states = harness.pipeline.app.tables["order_id_to_state"]
    agent = harness.pipeline.app.agents["process_orders"]
    with mock.patch.object(states, "on_key_set", wraps=states.on_key_set) as written:
        async with agent.test_context() as ctx:
            await ctx.put(internal.encode(placed), key=b"shopify:5874123456789")
            first = await harness.sent_on("orders.status", 1)
            assert written.call_count == 1
            ctx.sent_offset -= 1  # the same record again, as after a crash
            await ctx.put(internal.encode(placed), key=b"shopify:5874123456789")
            again = await harness.sent_on("orders.status", len(first) + 1)
    assert written.call_count == 2
    assert again[len(first)] == first[0]  # the outbox, re-sent unchanged


async def test_a_repeated_reservation_writes_the_ledger_head_again(harness: Harness) -> None:
    """The ledger answers a repeated command with its first verdict and writes the head
    again: after a SIGKILL the head may be in this worker's RocksDB only."""
    ledgers = harness.pipeline.app.tables["sku_to_ledger"]
    agent = harness.pipeline.app.agents["apply_inventory_commands"]
    reserve = internal.encode(Reserve("A", NOW, "r1", "o:r1", "1", "WH-AMS", 3))
    with mock.patch.object(ledgers, "on_key_set", wraps=ledgers.on_key_set) as written:
        async with agent.test_context() as ctx:
            await ctx.put(internal.encode(SetStock("A", NOW, "WH-AMS", 5, "wms", 1)), key=b"A")
            await ctx.put(reserve, key=b"A")
            ctx.sent_offset -= 1
            await ctx.put(reserve, key=b"A")
    assert [call.args[0] for call in written.call_args_list] == [b"A", b"A", b"A"]
    assert [a["granted"] for a in harness.on("inventory.replies")] == [True, True]


async def test_a_replayed_snapshot_writes_the_head_and_publishes_its_position_again(
    harness: Harness,
) -> None:
    """A snapshot replayed after a SIGKILL is stale to the ledger that kept its effect; the
    position it made may be lost all the same, and the head may be in RocksDB only."""
    ledgers = harness.pipeline.app.tables["sku_to_ledger"]
    agent = harness.pipeline.app.agents["apply_inventory_commands"]
    snapshot = internal.encode(SetStock("A", NOW, "WH-AMS", 26, "wms", 16))
    with mock.patch.object(ledgers, "on_key_set", wraps=ledgers.on_key_set) as written:
        async with agent.test_context() as ctx:
            await ctx.put(snapshot, key=b"A")
            ctx.sent_offset -= 1
            await ctx.put(snapshot, key=b"A")
    assert [call.args[0] for call in written.call_args_list] == [b"A", b"A"]
    positions = [(c["on_hand"], c["atp"]) for c in harness.on("inventory.positions")]
    assert positions == [(26, 26), (26, 26)]


def release_headers(key: bytes) -> list[tuple[str, bytes]]:
    return [(CONTROL_HEADER, RELEASE), (STATE_KEY_HEADER, key)]


async def test_a_ledger_that_no_longer_decodes_quarantines_its_sku_until_released(
    harness: Harness,
) -> None:
    """Nothing is decided on a head that cannot be read: every command for the SKU is a
    `state_undecodable` letter, a reserve is answered refused (so its order re-plans), the
    stored bytes are kept; a release lifts the quarantine and the next command applies."""
    ledgers = harness.pipeline.app.tables["sku_to_ledger"]
    quarantine = harness.pipeline.app.tables["sku_to_quarantine"]
    ledgers.data[b"A"] = b'{"sku": "A", "locations": 7}'  # a change that was not additive
    agent = harness.pipeline.app.agents["apply_inventory_commands"]
    reserve = internal.encode(Reserve("A", NOW, "r1", "o:r1", "1", "WH-AMS", 3))
    async with agent.test_context() as ctx:
        await ctx.put(internal.encode(SetStock("A", NOW, "WH-AMS", 5, "wms", 1)), key=b"A")
        await ctx.put(reserve, key=b"A")
        await ctx.put(internal.encode(SetStock("B", NOW, "WH-AMS", 2, "wms", 1)), key=b"B")
        assert set(quarantine.data.keys()) == {b"A"}
        kept = decode_quarantined(quarantine.data[b"A"])
        assert kept.stored == b'{"sku": "A", "locations": 7}'
        del ledgers.data[b"A"]  # the operator repaired (here: dropped) the value
        await ctx.put(b"", key=b"A", headers=release_headers(b"A"))
        await ctx.put(internal.encode(SetStock("A", NOW, "WH-AMS", 4, "wms", 2)), key=b"A")
    letters = harness.on("dlq.inventory")
    assert [(d["reason"], d["state_key"]) for d in letters] == [("state_undecodable", "A")] * 2
    (answer,) = harness.on("inventory.replies")
    assert (answer["reservation_id"], answer["granted"]) == ("r1", False)
    assert [c["sku"] for c in harness.on("inventory.availability")] == ["B", "A"]
    assert b"A" not in quarantine.data
    gauge = harness.pipeline.metrics.exposition().decode()
    assert 'orderstream_quarantined_keys{stage="inventory"} 0.0' in gauge


async def test_an_order_whose_state_does_not_decode_is_quarantined_and_its_inputs_kept(
    harness: Harness,
) -> None:
    harness.pipeline.replica.view.update({"JKT-WOOL-NAVY-M": {"WH-DUS": 4}})
    placed = placed_shopify_order()
    states = harness.pipeline.app.tables["order_id_to_state"]
    states.data[b"shopify:5874123456789"] = b"\xff not json"
    agent = harness.pipeline.app.agents["process_orders"]
    async with agent.test_context() as ctx:
        await ctx.put(internal.encode(placed), key=b"shopify:5874123456789")
        await ctx.put(internal.encode(placed), key=b"shopify:5874123456789")
        await harness.sent_on("dlq.orders", 2)
        gauge = harness.pipeline.metrics.exposition().decode()
        assert 'orderstream_quarantined_keys{stage="orders"} 1.0' in gauge
    letters = harness.on("dlq.orders")
    assert [d["reason"] for d in letters] == ["state_undecodable", "state_undecodable"]
    assert harness.on("orders.status") == [] and harness.on("inventory.commands") == []
    assert states.data[b"shopify:5874123456789"] == b"\xff not json"  # nothing overwritten


async def test_a_decision_that_raises_is_a_dead_letter_and_the_agent_goes_on(
    harness: Harness,
) -> None:
    harness.pipeline.replica.view.update({"JKT-WOOL-NAVY-M": {"WH-DUS": 4}})
    placed = placed_shopify_order()
    other = msgspec.structs.replace(
        placed,
        order=msgspec.structs.replace(placed.order, oms_order_id="shopify:2"),
        idempotency_key="shopify:2:1",
    )
    agent = harness.pipeline.app.agents["process_orders"]
    real = orders.decide

    def flaky(state: Any, inbound: Any, context: Any) -> Any:
        if state.oms_order_id == "shopify:5874123456789":
            raise KeyError("a bug")
        return real(state, inbound, context)

    with mock.patch.object(orders, "decide", flaky):
        async with agent.test_context() as ctx:
            await ctx.put(internal.encode(placed), key=b"shopify:5874123456789")
            await ctx.put(internal.encode(other), key=b"shopify:2")
            await harness.sent_on("orders.status", 1)
    (letter,) = harness.on("dlq.orders")
    assert (letter["reason"], letter["exception"]) == ("internal_error", "KeyError")
    assert [s["oms_order_id"] for s in harness.on("orders.status")] == ["shopify:2"]


async def test_an_unreadable_first_sighting_quarantines_the_idempotency_key(
    harness: Harness,
) -> None:
    placed = placed_shopify_order()
    key = placed.idempotency_key.encode()
    harness.pipeline.app.tables["idempotency_key_to_first_seen"].data[key] = b"[]"
    agent = harness.pipeline.app.agents["normalize_raw_events"]
    headers = [("X-Shopify-Topic", b"orders/create")]
    raw = (FIXTURES / "shopify/orders_create.json").read_bytes()
    async with agent.test_context() as ctx:
        ctx._get_strtopic = lambda channel: "raw.shopify"  # the agent reads all nine raw topics
        await ctx.put(raw, key=b"shopify:5874123456789", headers=headers)
    (letter,) = harness.on("dlq.ingest")
    assert (letter["reason"], letter["state_key"]) == ("state_undecodable", key.decode())
    assert harness.on("orders.events") == []


async def test_an_unreadable_bundle_is_quarantined(harness: Harness) -> None:
    harness.pipeline.app.tables["bundle_key_to_bundle"].data[b"k1"] = b"{}"
    agent = harness.pipeline.app.agents["bundle_shipments"]
    async with agent.test_context() as ctx:
        await ctx.put(internal.encode(bundling_request("o1")), key=b"k1")
    (letter,) = harness.on("dlq.orders")
    assert (letter["stage"], letter["reason"]) == ("bundling", "state_undecodable")
    assert b"k1" in harness.pipeline.app.tables["bundle_key_to_quarantine"].data


async def test_the_availability_follower_skips_a_bad_record_and_counts_it() -> None:
    metrics = Metrics()
    replica = AtpReplica("127.0.0.1:1", "inventory.availability", metrics)
    good = internal.encode(AvailabilityChanged("A", "WH-AMS", 5))
    for offset, value in enumerate([b'{"deep": ' * 3 + b"1}}}", good]):
        record = SimpleNamespace(
            topic="inventory.availability",
            partition=0,
            offset=offset,
            value=value,
            key=b"A",
            headers=(),
            timestamp=0,
        )
        await replica.contained.handle(record, replica.apply_record)
    assert replica.view == {"A": {"WH-AMS": 5}}
    counted = 'records_total{outcome="dead_letter",stage="availability"} 1.0'
    assert counted in metrics.exposition().decode()


async def test_every_table_changelog_is_created_with_the_record_limit_and_compaction_lag(
    harness: Harness,
) -> None:
    tables = harness.pipeline.app.tables
    assert set(tables) >= {"order_id_to_state", "sku_to_ledger", "idempotency_key_to_first_seen"}
    lag = str(harness.pipeline.settings.personal_data_retention_days * 24 * 3600 * 1000)
    for table in tables.values():
        assert table.changelog_topic.config == {
            "max.message.bytes": str(RECORD_MAX_BYTES),
            "max.compaction.lag.ms": lag,
        }


async def test_the_ingest_agent_dead_letters_an_order_of_too_many_lines(harness: Harness) -> None:
    raw, _ = large_shopify_order(1000, at=NOW, title_chars=20, sku_chars=12)
    small, _ = large_shopify_order(2, at=NOW, title_chars=20, sku_chars=12, number=2)
    agent = harness.pipeline.app.agents["normalize_raw_events"]
    headers = [("X-Shopify-Topic", b"orders/create")]
    async with agent.test_context() as ctx:
        ctx._get_strtopic = lambda channel: "raw.shopify"  # the agent reads all nine raw topics
        await ctx.put(raw, key=b"1", headers=headers)
        await ctx.put(small, key=b"2", headers=headers)
        await harness.sent_on("orders.events", 1)
    (letter,) = harness.on("dlq.ingest")
    assert (letter["stage"], letter["reason"]) == ("ingest", "order_too_large")
    assert [e["order"]["oms_order_id"] for e in harness.on("orders.events")] == [
        "shopify:5000070000002"
    ]


async def test_the_order_agent_never_writes_a_state_over_the_table_value_limit(
    harness: Harness,
) -> None:
    harness.pipeline.replica.view.update({"JKT-WOOL-NAVY-M": {"WH-DUS": 4}})
    placed = placed_shopify_order()
    states = harness.pipeline.app.tables["order_id_to_state"]
    agent = harness.pipeline.app.agents["process_orders"]
    small = functools.partial(limits.fits, limit=200)  # any state of this order is larger
    with mock.patch("orderstream.state.tables.fits", small):
        async with agent.test_context() as ctx:
            await ctx.put(internal.encode(placed), key=b"shopify:5874123456789")
            await harness.sent_on("dlq.orders", 1)
    (letter,) = harness.on("dlq.orders")
    assert letter["reason"] == "order_too_large"
    assert b"shopify:5874123456789" not in states
    assert harness.on("orders.status") == []
    assert harness.on("inventory.commands") == []


async def test_a_spilled_row_the_head_takes_back_leaves_the_ledger_table(
    harness: Harness,
) -> None:
    agent = harness.pipeline.app.agents["apply_inventory_commands"]
    ledgers = harness.pipeline.app.tables["sku_to_ledger"]
    async with agent.test_context() as ctx:
        await ctx.put(internal.encode(SetStock("A", NOW, "WH-AMS", 40, "wms", 1)), key=b"A")
        for n in range(20):  # more than the head keeps: the oldest spill to rows
            reserve = Reserve("A", NOW, f"r{n}", f"o:{n}", "1", "WH-AMS", 1)
            await ctx.put(internal.encode(reserve), key=b"A")
        assert b"A\x00r0" in ledgers
        await ctx.put(internal.encode(Release("A", NOW, "r0", "cancelled")), key=b"A")
    assert b"A\x00r0" not in ledgers  # the head holds r0's marker now: the row ended
    assert "r0" in internal.sku_ledger.decode(ledgers[b"A"]).settled
