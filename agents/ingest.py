"""Ingest: raw channel payloads in, canonical events out (or a dead letter).

Gather the raw record, decide with the channel's normalizer, apply by routing the outcome:
order events to `orders.events` keyed by `oms_order_id`, stock feed records to
`inventory.commands` keyed by SKU, refusals to `dlq.ingest`. Stateless: duplicates are
dropped where their effect would be recorded, by the order and SKU owners, whose table
values hold the idempotency markers next to the effect (one changelog record for both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orderstream.codecs import internal
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.inventory import StockFeedEvent, command_for
from orderstream.streams.rejections import Rejected

from .dead_letters import send_dead_letter
from .topics import DLQ_INGEST, INVENTORY_COMMANDS, ORDERS_EVENTS, source_of

if TYPE_CHECKING:
    from .pipeline import Pipeline

STAGE = "ingest"


def register(pipeline: Pipeline) -> None:
    app, names, metrics = pipeline.app, pipeline.names, pipeline.metrics
    raw = app.topic(*(names.raw(source) for source in Source), key_type=bytes, value_type=bytes)
    orders_events = pipeline.topic(ORDERS_EVENTS)
    inventory_commands = pipeline.topic(INVENTORY_COMMANDS)
    dlq = pipeline.topic(DLQ_INGEST)
    prefix = names.prefix

    @app.agent(raw, name="normalize_raw_events")
    async def normalize_raw_events(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            source = source_of(message.topic, prefix)
            headers = {
                name.lower(): bytes(value).decode("utf-8", "replace")
                for name, value in (message.headers or [])
            }
            outcome = normalize_payload(source, message.value or b"", headers)
            if isinstance(outcome, Rejected):
                await send_dead_letter(dlq, STAGE, message, outcome)
                metrics.count(STAGE, "dead_letter")
                continue
            if isinstance(outcome, StockFeedEvent):
                command = command_for(outcome)
                await inventory_commands.send(
                    key=command.sku.encode(), value=internal.encode(command)
                )
            else:
                await orders_events.send(key=outcome.key.encode(), value=internal.encode(outcome))
            metrics.count(STAGE, "normalized")
