"""The bundling agent: the single writer of each bundle (`fulfilment.bundling` by bundle key).

The order agent sends every fulfilment request that carries a `bundle_key` here too, keyed
by that key, so one partition sees all of a customer's shipments from one location on one ship
date. Gather the bundle from `bundle_key_to_bundle`, decide with `streams.bundling.join`,
apply: the instruction to ship the members as one parcel to `fulfilment.bundles` (keyed by
bundle key), then the bundle value. A replayed request is a member already: no output.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from orderstream.codecs import internal
from orderstream.state.table import TEXT_KEY, json_codec
from orderstream.streams.bundling import join
from orderstream.streams.retention import bundle_ended

from .retention_rules import bundle_rule
from .retention_sweep import PartitionClock, register_sweep
from .topics import DLQ_ORDERS, FULFILMENT_BUNDLES, FULFILMENT_BUNDLING
from .wiring import cause_of

if TYPE_CHECKING:
    from .wiring import Pipeline

STAGE = "bundling"


def register(pipeline: Pipeline) -> None:
    app, metrics = pipeline.app, pipeline.metrics
    bundles = pipeline.port("bundle_key_to_bundle", TEXT_KEY, json_codec(internal.bundle))
    instructions = pipeline.flow(FULFILMENT_BUNDLES)
    contained = pipeline.containment(STAGE, DLQ_ORDERS, "bundle_key_to_quarantine")
    retention = timedelta(days=pipeline.settings.bundle_retention_days)
    clock = PartitionClock()
    register_sweep(pipeline, bundles.raw, clock, bundle_rule(retention), STAGE)

    async def join_request(message: Any) -> None:
        request = contained.decode(internal.fulfilment_requested, message)
        if not request.bundle_key:
            return
        key = request.bundle_key
        current = contained.stored(bundles, key)
        now = datetime.fromtimestamp(message.timestamp, UTC)
        if current is not None and bundle_ended(current, now, retention):
            current = None  # what the sweep would have deleted starts afresh
        bundle, bundled = join(current, request)
        if bundled is not None:
            await instructions.send(bundled, cause_of(message), key=key.encode())
            metrics.count(STAGE, "bundled")
        if bundle != current:
            bundles.put(key, bundle)

    @app.agent(pipeline.topic(FULFILMENT_BUNDLING), name="bundle_shipments")
    async def bundle_shipments(stream: Any) -> None:
        await contained.each(stream, join_request, clock.saw)
