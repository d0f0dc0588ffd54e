"""The order agent: the single writer of each order (`orders.events` + `inventory.replies`, both
keyed by `oms_order_id`, so one partition holds all of an order's inputs).

Decide with `streams.order_process.decide` at the record's own timestamp (a replay decides the
same); apply the next state first (its outbox holds the outputs), flushed, then publish to
`orders.status`, `orders.allocations`, `fulfilment.requests`, `inventory.commands` (by SKU)
and `tracking.shipments` (by tracking key). A next state that does not fit a table value
(`state.tables.ORDER_STATES` refuses it) is not written: an `order_too_large` dead letter.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from orderstream.codecs import internal
from orderstream.state.table import TEXT_KEY, Table
from orderstream.state.tables import ORDER_STATES
from orderstream.streams.ledger_commands import AwaitStock, Commit, Release, Reserve
from orderstream.streams.order_messages import (
    AllocationDecided,
    FulfilmentRequested,
    ShipmentTracked,
    StatusChanged,
)
from orderstream.streams.order_process import (
    OrderContext,
    OrderDecision,
    OrderVerdict,
    decide,
    order_id_of,
)
from orderstream.streams.order_state import OrderState, Output
from orderstream.streams.rejections import Rejected, RejectReason

from .dead_letters import UnusableInputError, position
from .order_batch import DeferredOutputs
from .retention_rules import order_lifetime, order_rule
from .retention_sweep import PartitionClock, register_sweep
from .topics import (
    DLQ_ORDERS,
    FULFILMENT_BUNDLING,
    FULFILMENT_REQUESTS,
    INVENTORY_COMMANDS,
    INVENTORY_REPLIES,
    ORDERS_ALLOCATIONS,
    ORDERS_EVENTS,
    ORDERS_STATUS,
    TRACKING_SHIPMENTS,
)
from .wiring import cause_of

if TYPE_CHECKING:
    from .wiring import Pipeline

STAGE = "orders"
BATCH_IDLE_S = 0.05
"""A batch whose next record has not come for this long settles without it."""


async def flushed(app: Any) -> None:
    """Every record the worker buffered is on the broker. (Faust's agent test harness never
    starts the producer, whose buffer then refuses to flush; nothing is sent there.)"""
    if app.producer.buffer.state == "running":
        await app.producer.flush()


def write_next(
    states: Table[str, OrderState], order_id: str, state: OrderState, decision: OrderDecision
) -> None:
    """The decision's next state into the table when it changed, or again on a replay.

    A replay's state may exist only in this worker's RocksDB: a SIGKILL after the local
    write and before the changelog record left loses the record, not the row. Written
    again, it reaches the changelog before the outbox is re-sent.
    """
    if decision.state is not state:
        states.put(order_id, decision.state)
    elif decision.verdict is OrderVerdict.REPLAY:
        states.put_again(order_id, decision.state)


def publisher(pipeline: Pipeline) -> Callable[[Output, Any], Awaitable[None]]:
    """Send one output of a decision to its topic, keyed for its reader."""
    metrics = pipeline.metrics
    status_topic = pipeline.flow(ORDERS_STATUS)
    allocations_topic = pipeline.flow(ORDERS_ALLOCATIONS)
    fulfilment_topic = pipeline.flow(FULFILMENT_REQUESTS)
    bundling_topic = pipeline.flow(FULFILMENT_BUNDLING)
    commands_topic = pipeline.flow(INVENTORY_COMMANDS)
    tracking_topic = pipeline.flow(TRACKING_SHIPMENTS)

    async def publish(output: Output, event: Any) -> None:
        # Records another agent's clock reads carry the deciding record's time (see
        # retention_sweep): the ledger's and the bundler's clocks stay the channel's. Public
        # topics keep the time they were published at.
        at, cause = event.message.timestamp, cause_of(event.message)
        if isinstance(output, StatusChanged):
            await status_topic.send(output, cause, key=output.key.encode())
            metrics.statuses.labels(status=output.status.value).inc()
        elif isinstance(output, AllocationDecided):
            await allocations_topic.send(output, cause, key=output.key.encode())
        elif isinstance(output, FulfilmentRequested):
            value = await fulfilment_topic.send(output, cause, key=output.key.encode())
            if output.bundle_key:
                await bundling_topic.send(
                    output, cause, key=output.bundle_key.encode(), timestamp=at, value=value
                )
        elif isinstance(output, (ShipmentTracked, Reserve, Release, Commit, AwaitStock)):
            # Commands go to their SKU's owner, registrations to the tracking table.
            topic, key = (
                (tracking_topic, output.key)
                if isinstance(output, ShipmentTracked)
                else (commands_topic, output.sku)
            )
            await topic.send(output, cause, key=key.encode(), timestamp=at)

    return publish


def register(pipeline: Pipeline) -> None:
    app, metrics, settings = pipeline.app, pipeline.metrics, pipeline.settings
    states = pipeline.port("order_id_to_state", TEXT_KEY, ORDER_STATES)
    inputs = app.topic(
        pipeline.names.name(ORDERS_EVENTS),
        pipeline.names.name(INVENTORY_REPLIES),
        key_type=bytes,
        value_type=bytes,
    )
    contained = pipeline.containment(STAGE, DLQ_ORDERS, "order_id_to_quarantine")
    reservation_ttl = timedelta(minutes=settings.reservation_ttl_minutes)
    lifetime = order_lifetime(settings, pipeline.dedupe_retention)
    clock = PartitionClock()
    register_sweep(
        pipeline, states.raw, clock, order_rule(lifetime, pipeline.flow(ORDERS_EVENTS)), STAGE
    )

    publish = publisher(pipeline)

    async def decide_record(message: Any) -> tuple[Output, ...]:
        """Decide one record and write the order's next state; its outputs are returned,
        for the batch to publish once the state is on the broker."""
        inbound = contained.decode(internal.order_inbound, message)
        order_id = order_id_of(inbound)
        state = contained.stored(states, order_id) or OrderState(order_id)
        context = OrderContext(
            now=datetime.fromtimestamp(message.timestamp, UTC),
            rules=pipeline.rules,
            atp=pipeline.replica.snapshot(),
            served=pipeline.served,
            retention=pipeline.dedupe_retention,
            reservation_ttl=reservation_ttl,
            position=position(message),
            bundle_secret=pipeline.bundle_secret,
            lifetime=lifetime,
        )
        started = time.perf_counter()
        decision = decide(state, inbound, context)
        metrics.decide_seconds.labels(stage=STAGE).observe(time.perf_counter() - started)
        metrics.count(STAGE, decision.verdict.value)
        if decision.verdict is OrderVerdict.TOO_MANY_INPUTS:
            detail = f"{lifetime.max_seen} live inputs already (ORDERSTREAM_ORDER_MAX_INPUTS)"
            raise UnusableInputError(Rejected(RejectReason.TOO_MANY_INPUTS, detail))
        write_next(states, order_id, state, decision)
        # Outputs wait for the batch's flush: a re-decision after a crash reads a rebuilt
        # replica and could differ, so the replay must find the state and re-send its outbox.
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
                clock.saw(event.message.partition, event.message.timestamp)
                outputs = await contained.handle(event.message, decide_record)
                await batch.add(event, outputs or ())
        finally:
            idle.cancel()
