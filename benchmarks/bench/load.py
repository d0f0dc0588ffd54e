"""The bench's load: one generated peak-season mix, cut into phases, each order's first record.

Every record carries a `bench-seq` header (its index in the load), so a contender that
passes records through without understanding them (the limit) can still be timed per order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import OrderPlaced

from ..loadgen import Mix, RawRecord, generate

SEQ_HEADER = "bench-seq"
PHASES = ("warmup", "offered", "saturation")


@dataclass(frozen=True)
class Phase:
    name: str
    records: list[RawRecord]
    orders: dict[str, int]
    """`oms_order_id` -> index (in `records`) of the order's first raw record."""


@dataclass(frozen=True)
class BenchLoad:
    phases: dict[str, Phase]
    order_at: dict[int, str]
    """`bench-seq` of an order's first record -> its `oms_order_id` (for the limit)."""
    lines: int
    orders: int

    @property
    def lines_per_order(self) -> float:
        return self.lines / self.orders if self.orders else 0.0


def placed_order(record: RawRecord) -> OrderPlaced | None:
    """The order a raw `order` record places, as orderstream's normalizers read it."""
    if record.kind != "order":
        return None
    headers = {name.lower(): value.decode("utf-8", "replace") for name, value in record.headers}
    event = normalize_payload(Source(record.topic.removeprefix("raw.")), record.value, headers)
    return event if isinstance(event, OrderPlaced) else None


def build_load(sizes: dict[str, int], *, seed: int, start: datetime, mix: Mix) -> BenchLoad:
    """`sizes`: distinct orders per phase, in `PHASES` order; the stock snapshot opens warm-up."""
    total = sum(sizes[name] for name in PHASES)
    records, _ = generate(replace(mix, orders=total), seed=seed, start=start)
    phases = {name: Phase(name, [], {}) for name in PHASES}
    order_at: dict[int, str] = {}
    placed_ids: set[str] = set()
    lines = seen = 0
    boundaries = [sum(sizes[name] for name in PHASES[: n + 1]) for n in range(len(PHASES))]
    for seq, record in enumerate(records):
        tagged = replace(record, headers=[*record.headers, (SEQ_HEADER, str(seq).encode())])
        placed = placed_order(record)
        phase_index = next(n for n, bound in enumerate(boundaries) if seen < bound or n == 2)
        phase = phases[PHASES[phase_index]]
        if placed is not None and placed.order.oms_order_id not in placed_ids:
            seen += 1
            placed_ids.add(placed.order.oms_order_id)
            order_at[seq] = placed.order.oms_order_id
            phase.orders[placed.order.oms_order_id] = len(phase.records)
            lines += len(placed.order.lines)
        phase.records.append(tagged)
    return BenchLoad(phases, order_at, lines, seen)
