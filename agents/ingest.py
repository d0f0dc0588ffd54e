"""Ingest: raw channel payloads in, canonical events out (or a dead letter).

Decide with the channel's normalizer, `codecs.limits.admit` and `streams.dedupe.check`, then
route: order events to `orders.events` by `oms_order_id`, stock records to `inventory.commands`
by SKU, carrier scans that name no order to `tracking.scans` by tracking key, refusals to
`dlq.ingest`, re-sends dropped and counted; then record the key's first
sighting in `idempotency_key_to_first_seen` (kept per `ORDERSTREAM_DEDUPE_HOURS_<SOURCE>`).
A re-send meets its first sighting only on the same raw partition; the order and SKU owners
dedupe again, so one that slips through changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from orderstream.codecs import internal
from orderstream.codecs.limits import admit
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.state.table import TEXT_KEY, json_codec
from orderstream.streams.dedupe import FirstSeen, Seen, check
from orderstream.streams.events import ParcelScanned
from orderstream.streams.inventory import StockFeedEvent, command_for
from orderstream.streams.rejections import Rejected

from .dead_letters import UnusableInputError, position
from .retention_rules import first_seen_rule
from .retention_sweep import PartitionClock, register_sweep
from .topics import DLQ_INGEST, INVENTORY_COMMANDS, ORDERS_EVENTS, TRACKING_SCANS, source_of
from .wiring import cause_of

if TYPE_CHECKING:
    from .wiring import Pipeline

STAGE = "ingest"


def register(pipeline: Pipeline) -> None:
    app, names, metrics = pipeline.app, pipeline.names, pipeline.metrics
    raw = app.topic(*(names.raw(source) for source in Source), key_type=bytes, value_type=bytes)
    orders_events = pipeline.flow(ORDERS_EVENTS)
    inventory_commands = pipeline.flow(INVENTORY_COMMANDS)
    tracking_scans = pipeline.flow(TRACKING_SCANS)
    contained = pipeline.containment(STAGE, DLQ_INGEST, "idempotency_key_to_quarantine")
    prefix = names.prefix
    first_seen = pipeline.port(
        "idempotency_key_to_first_seen", TEXT_KEY, json_codec(internal.first_seen)
    )
    retention = pipeline.dedupe_retention
    max_lines = pipeline.settings.max_order_lines
    clock = PartitionClock()
    register_sweep(pipeline, first_seen.raw, clock, first_seen_rule(retention, prefix), STAGE)

    async def normalize(message: Any) -> None:
        source = source_of(message.topic, prefix)
        headers = {
            name.lower(): bytes(value).decode("utf-8", "replace")
            for name, value in (message.headers or [])
        }
        outcome = normalize_payload(source, message.value or b"", headers)
        if not isinstance(outcome, Rejected):
            outcome = admit(outcome, max_lines)
        if isinstance(outcome, Rejected):
            raise UnusableInputError(outcome)
        key = outcome.idempotency_key
        earlier = contained.stored(first_seen, key)
        now = datetime.fromtimestamp(message.timestamp, UTC)
        at = position(message)
        seen = check(earlier, now, at, retention[source])
        if seen is Seen.DUPLICATE:
            metrics.count(STAGE, "duplicate")
            return
        cause = cause_of(message)
        if isinstance(outcome, StockFeedEvent):
            command = command_for(outcome)
            await inventory_commands.send(
                command, cause, key=command.sku.encode(), timestamp=message.timestamp
            )
        elif isinstance(outcome, ParcelScanned):  # no order named: the tracking table finds it
            await tracking_scans.send(
                outcome, cause, key=outcome.key.encode(), timestamp=message.timestamp
            )
        else:  # at the raw record's time, as a replay would be
            await orders_events.send(
                outcome, cause, key=outcome.key.encode(), timestamp=message.timestamp
            )
        # A replay writes the row again: it may be in this RocksDB only (see orders.py).
        if seen is Seen.NEW or earlier is None:
            first_seen.put(key, FirstSeen(now, at))
        else:
            first_seen.put_again(key, earlier)
        metrics.count(STAGE, "normalized")

    @app.agent(raw, name="normalize_raw_events")
    async def normalize_raw_events(stream: Any) -> None:
        await contained.each(stream, normalize, clock.saw)
