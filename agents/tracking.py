"""The tracking agent: the single writer of each tracking number's row (`tracking.shipments` +
`tracking.scans`, both keyed by `keys.tracking_key`, so one partition holds all of a parcel's).

The order agent registers each shipment that ships with a tracking number on the compacted
`tracking.shipments`; ingest sends carrier scans that name no order to `tracking.scans`. Decide
with `streams.tracking.decide_tracking` on table `tracking_key_to_shipment`; apply: the
attributed scans to `orders.events` by order id (at the deciding record's time), then the row.
A scan that finds too many others waiting for the same unknown number is a dead letter.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from orderstream.codecs import internal
from orderstream.state.table import TEXT_KEY
from orderstream.state.tables import TRACKED_SHIPMENTS
from orderstream.streams.rejections import Rejected, RejectReason
from orderstream.streams.tracking import MAX_WAITING, TrackingVerdict, decide_tracking

from .dead_letters import UnusableInputError
from .retention_rules import tracking_rule
from .retention_sweep import PartitionClock, register_sweep
from .topics import DLQ_ORDERS, ORDERS_EVENTS, TRACKING_SCANS, TRACKING_SHIPMENTS
from .wiring import cause_of

if TYPE_CHECKING:
    from .wiring import Pipeline

STAGE = "tracking"


def register(pipeline: Pipeline) -> None:
    app, metrics, names = pipeline.app, pipeline.metrics, pipeline.names
    rows = pipeline.port("tracking_key_to_shipment", TEXT_KEY, TRACKED_SHIPMENTS)
    inputs = app.topic(
        names.name(TRACKING_SHIPMENTS),
        names.name(TRACKING_SCANS),
        key_type=bytes,
        value_type=bytes,
    )
    orders_events = pipeline.flow(ORDERS_EVENTS)
    contained = pipeline.containment(STAGE, DLQ_ORDERS, "tracking_key_to_quarantine")
    retention = timedelta(days=pipeline.settings.tracking_retention_days)
    clock = PartitionClock()
    register_sweep(pipeline, rows.raw, clock, tracking_rule(retention), STAGE)

    async def attribute(message: Any) -> None:
        inbound = contained.decode(internal.tracking_inbound, message)
        key = inbound.key
        current = contained.stored(rows, key)
        decision = decide_tracking(current, inbound)
        if decision.verdict is TrackingVerdict.FULL:
            detail = f"{MAX_WAITING} scans already wait for an unregistered tracking number"
            raise UnusableInputError(Rejected(RejectReason.TOO_MANY_INPUTS, detail))
        cause = cause_of(message)
        for update in decision.updates:
            await orders_events.send(
                update, cause, key=update.key.encode(), timestamp=message.timestamp
            )
        metrics.count(STAGE, decision.verdict.value)
        if decision.row != current:
            rows.put(key, decision.row)

    @app.agent(inputs, name="attribute_tracking")
    async def attribute_tracking(stream: Any) -> None:
        await contained.each(stream, attribute, clock.saw)
