"""The peer: the order flow as a user would first write it with Faust, for `orderstream bench`.

Idiomatic on purpose: `faust.Record` JSON models, one `await topic.send` per output, default
table serializers and settings (RocksDB store). It parses payloads with orderstream's codecs
(`normalize_payload`), so the comparison measures the stream design. Four hops: raw -> orders ->
reservations (by SKU) -> replies (by order) -> status, one stock count per SKU, no routing.

Run as `python -m orderstream.benchmarks.bench.peer` with `BENCH_BOOTSTRAP`, `BENCH_PREFIX` and
`BENCH_DATA_DIR` set.
"""

from __future__ import annotations

import os
from typing import Any

import faust

from orderstream.agents.worker import execute
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import OrderPlaced, StockAdjusted, StockSnapshotted
from orderstream.streams.rejections import Rejected

STATUS_TOPIC = "peer.status"


class Line(faust.Record, serializer="json"):
    line_id: str
    sku: str
    qty: int


class Order(faust.Record, serializer="json"):
    order_id: str
    lines: list[Line]


class StockLevel(faust.Record, serializer="json"):
    sku: str
    on_hand: int = 0
    delta: int = 0


class Reservation(faust.Record, serializer="json"):
    order_id: str
    line_id: str
    sku: str
    qty: int


class Reply(faust.Record, serializer="json"):
    order_id: str
    line_id: str
    reserved: int


class Status(faust.Record, serializer="json"):
    order_id: str
    status: str


def _normalized(message: Any, prefix: str) -> Any:
    """The raw record through orderstream's normalizer for its channel."""
    source = Source(message.topic.removeprefix(f"{prefix}raw."))
    headers = {k.lower(): bytes(v).decode() for k, v in message.headers or []}
    return normalize_payload(source, message.value, headers)


def build(bootstrap: str, prefix: str, data_dir: str) -> faust.App:
    app = faust.App(
        f"{prefix}peer",
        broker=f"kafka://{bootstrap}",
        store="rocksdb://",
        datadir=data_dir,
        topic_partitions=4,
        web_enabled=False,
    )
    raw = app.topic(*(f"{prefix}raw.{source.value}" for source in Source), value_serializer="raw")
    orders = app.topic(f"{prefix}peer.orders", value_type=Order)
    stock_levels = app.topic(f"{prefix}peer.stock", value_type=StockLevel)
    reservations = app.topic(f"{prefix}peer.reservations", value_type=Reservation)
    replies = app.topic(f"{prefix}peer.replies", value_type=Reply)
    status = app.topic(f"{prefix}{STATUS_TOPIC}", value_type=Status)
    dead_letters = app.topic(f"{prefix}peer.dlq", value_serializer="raw")

    seen = app.Table("seen", default=bool)
    stock = app.Table("stock", default=int)
    open_orders = app.Table("open_orders", default=dict)

    @app.agent(raw)
    async def normalize(stream: Any) -> None:
        async for event in stream.events():
            outcome = _normalized(event.message, prefix)
            if isinstance(outcome, Rejected):
                await dead_letters.send(value=event.value)
            elif isinstance(outcome, OrderPlaced):
                if seen[outcome.idempotency_key]:
                    continue
                seen[outcome.idempotency_key] = True
                lines = [Line(line.line_id, line.sku, line.qty) for line in outcome.order.lines]
                order_id = outcome.order.oms_order_id
                await orders.send(key=order_id, value=Order(order_id, lines))
            elif isinstance(outcome, StockSnapshotted):
                await stock_levels.send(
                    key=outcome.sku, value=StockLevel(outcome.sku, on_hand=outcome.on_hand)
                )
            elif isinstance(outcome, StockAdjusted):
                await stock_levels.send(
                    key=outcome.sku, value=StockLevel(outcome.sku, delta=outcome.delta)
                )

    @app.agent(stock_levels)
    async def count_stock(levels: Any) -> None:
        async for level in levels:
            stock[level.sku] = level.on_hand if not level.delta else stock[level.sku] + level.delta

    @app.agent(orders)
    async def place(placed: Any) -> None:
        async for order in placed:
            if order.order_id in open_orders:
                continue
            open_orders[order.order_id] = {line.line_id: None for line in order.lines}
            await status.send(key=order.order_id, value=Status(order.order_id, "PLACED"))
            for line in order.lines:
                reservation = Reservation(order.order_id, line.line_id, line.sku, line.qty)
                await reservations.send(key=line.sku, value=reservation)

    @app.agent(reservations)
    async def reserve(asked: Any) -> None:
        async for reservation in asked:
            granted = min(reservation.qty, max(stock[reservation.sku], 0))
            stock[reservation.sku] -= granted
            reply = Reply(reservation.order_id, reservation.line_id, granted)
            await replies.send(key=reservation.order_id, value=reply)

    @app.agent(replies)
    async def settle(answers: Any) -> None:
        async for reply in answers:
            lines = dict(open_orders[reply.order_id])
            lines[reply.line_id] = reply.reserved
            open_orders[reply.order_id] = lines
            if any(reserved is None for reserved in lines.values()):
                continue
            reserved = sum(1 for units in lines.values() if units)
            outcome = (
                "ALLOCATED"
                if reserved == len(lines)
                else "PARTIALLY_ALLOCATED"
                if reserved
                else "BACKORDERED"
            )
            await status.send(key=reply.order_id, value=Status(reply.order_id, outcome))

    return app


def main() -> None:
    app = build(
        os.environ["BENCH_BOOTSTRAP"], os.environ["BENCH_PREFIX"], os.environ["BENCH_DATA_DIR"]
    )
    execute(app, "warning")  # Faust's own worker, its spinner off as for orderstream


if __name__ == "__main__":
    main()
