"""The order agent: the single writer of each order (`orders.events` + `inventory.replies`,
both keyed by `oms_order_id`, so one partition number holds all of an order's inputs).

Gather the order's state from `order_id_to_state` and the planning replica; decide with
`streams.order_process.decide` at the input record's own timestamp (so a replay decides the
same); apply: the next state first (its outbox holds the outputs), flushed to the broker,
then status changes to `orders.status`, fulfilment requests to `fulfilment.requests`,
reservation commands to `inventory.commands` (keyed by SKU). A replayed input re-sends the
outputs its first delivery caused.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from orderstream.codecs import internal
from orderstream.streams.ledger import AwaitStock, Commit, Release, Reserve
from orderstream.streams.order_messages import FulfilmentRequested, StatusChanged
from orderstream.streams.order_process import Context, decide, order_id_of
from orderstream.streams.order_state import OrderState, Output
from orderstream.streams.rejections import Rejected, RejectReason

from .dead_letters import decode_or_dead_letter, send_dead_letter
from .order_batch import DeferredOutputs
from .retention_rules import order_lifetime, order_rule
from .retention_sweep import PartitionClock, register_sweep
from .topics import (
    DLQ_ORDERS,
    FULFILMENT_BUNDLING,
    FULFILMENT_REQUESTS,
    INVENTORY_COMMANDS,
    INVENTORY_REPLIES,
    ORDERS_EVENTS,
    ORDERS_STATUS,
)

if TYPE_CHECKING:
    from .pipeline import Pipeline

log = logging.getLogger(__name__)
STAGE = "orders"
BATCH_IDLE_S = 0.05
"""A batch whose next record has not come for this long settles without it."""


async def flushed(app: Any) -> None:
    """Every record the worker buffered is on the broker. (Faust's agent test harness never
    starts the producer, whose buffer then refuses to flush; nothing is sent there.)"""
    if app.producer.buffer.state == "running":
        await app.producer.flush()


def register(pipeline: Pipeline) -> None:  # noqa: PLR0915 - the agent and its wiring
    app, metrics, settings = pipeline.app, pipeline.metrics, pipeline.settings
    states = pipeline.table("order_id_to_state")
    inputs = app.topic(
        pipeline.names.name(ORDERS_EVENTS),
        pipeline.names.name(INVENTORY_REPLIES),
        key_type=bytes,
        value_type=bytes,
    )
    status_topic = pipeline.topic(ORDERS_STATUS)
    fulfilment_topic = pipeline.topic(FULFILMENT_REQUESTS)
    bundling_topic = pipeline.topic(FULFILMENT_BUNDLING)
    commands_topic = pipeline.topic(INVENTORY_COMMANDS)
    dlq = pipeline.topic(DLQ_ORDERS)
    reservation_ttl = timedelta(minutes=settings.reservation_ttl_minutes)
    lifetime = order_lifetime(settings, pipeline.dedupe_retention)
    clock = PartitionClock()
    register_sweep(
        pipeline, states, clock, order_rule(lifetime, pipeline.topic(ORDERS_EVENTS)), STAGE
    )

    async def publish(output: Output) -> None:
        if isinstance(output, StatusChanged):
            await status_topic.send(key=output.key.encode(), value=internal.encode(output))
            metrics.statuses.labels(status=output.status.value).inc()
        elif isinstance(output, FulfilmentRequested):
            value = internal.encode(output)
            await fulfilment_topic.send(key=output.key.encode(), value=value)
            if output.bundle_key:
                await bundling_topic.send(key=output.bundle_key.encode(), value=value)
        elif isinstance(output, (Reserve, Release, Commit, AwaitStock)):
            await commands_topic.send(key=output.sku.encode(), value=internal.encode(output))

    async def decide_record(message: Any) -> tuple[Output, ...]:
        """Decide one record and write the order's next state; its outputs are returned,
        for the batch to publish once the state is on the broker."""
        inbound = await decode_or_dead_letter(internal.order_inbound, message, dlq, STAGE, metrics)
        if inbound is None:
            return ()
        clock.saw(message.partition, message.timestamp)
        order_id = order_id_of(inbound)
        key = order_id.encode()
        stored = states.get(key)
        state = internal.order_state.decode(stored) if stored else OrderState(oms_order_id=order_id)
        context = Context(
            now=datetime.fromtimestamp(message.timestamp, UTC),
            rules=pipeline.rules,
            atp=pipeline.replica.snapshot(),
            served=pipeline.served,
            retention=pipeline.dedupe_retention,
            reservation_ttl=reservation_ttl,
            position=f"{message.topic}:{message.partition}:{message.offset}",
            lifetime=lifetime,
        )
        started = time.perf_counter()
        try:
            decision = decide(state, inbound, context)
        except Exception as error:  # a bug: never crash-loop on one order
            log.exception("decision failed for %s", order_id)
            rejected = Rejected(RejectReason.INTERNAL_ERROR, repr(error))
            await send_dead_letter(dlq, STAGE, message, rejected)
            metrics.count(STAGE, "internal_error")
            return ()
        metrics.decide_seconds.labels(stage=STAGE).observe(time.perf_counter() - started)
        metrics.count(STAGE, decision.verdict)
        if decision.verdict == "too_many_inputs":
            detail = f"{lifetime.max_seen} live inputs already (ORDERSTREAM_ORDER_MAX_INPUTS)"
            await send_dead_letter(
                dlq, STAGE, message, Rejected(RejectReason.TOO_MANY_INPUTS, detail)
            )
            return ()
        if decision.state is not state or decision.verdict == "replay":
            # A replay's state may exist only in this worker's RocksDB: a SIGKILL after
            # the local write and before the changelog record left loses the record, not
            # the row. Written again, it reaches the changelog before the outbox is re-sent.
            states[key] = internal.encode(decision.state)
        # The outputs wait for the batch's flush: the state, with them in its outbox, is on
        # the broker before any of them is published. A decision reads the planning replica,
        # which a restart rebuilds: decided again after a crash, it could differ from what
        # was already published under the same event ids. Now a crash either loses both, or
        # the replay finds the state and re-sends its outbox.
        return decision.outputs

    @app.agent(inputs, name="process_orders")
    async def process_orders(stream: Any) -> None:
        manual = stream.noack()
        batch = DeferredOutputs(
            manual,
            lambda: flushed(app),
            publish,
            limit=settings.order_batch_max,
            idle_s=BATCH_IDLE_S,
            on_settled=metrics.order_batch.observe,
        )
        idle = asyncio.ensure_future(batch.settle_when_idle())
        try:
            async for event in manual.events():
                await batch.add(event, await decide_record(event.message))
        finally:
            idle.cancel()
