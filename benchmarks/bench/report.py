"""The bench's results: stable JSON keys, a printed table and a PNG chart."""

from __future__ import annotations

from pathlib import Path

import msgspec

from .floor import Floor, Hops
from .measure import PhaseResult


class Latency(msgspec.Struct, frozen=True):
    p50: int | None
    p95: int | None
    p99: int | None


class ContenderResult(msgspec.Struct, frozen=True):
    orders_per_s: float
    """Sustained, at saturation: orders done / (last done - first record produced)."""
    events_per_s: float
    """Raw records (orders, re-sends, stock, payments, cancellations, bad ones) per second."""
    latency_ms: Latency
    """Raw record produced -> ALLOCATED consumed, at the offered load."""
    latency_at_saturation_ms: Latency
    offered_orders_per_s: float
    achieved_orders_per_s_at_offered: float
    cpu_s_per_1000_orders: float
    """The contender's process, at saturation."""
    broker_cpu_s_per_1000_orders: float
    """The broker's process over the same phase (0 when it runs elsewhere)."""
    peak_rss_mb: float
    orders: int
    orders_done: int
    stock_events_per_s: float | None = None
    """Snapshots of distinct SKU x locations through the ATP ledger (orderstream only)."""


class Restart(msgspec.Struct, frozen=True):
    rows: int
    """SKU x location rows in the ledger table (one dedupe key each, too)."""
    ready_s: float
    """SIGTERM'd worker started again -> the first order sent after the start has an outcome."""
    peak_rss_mb: float
    """Of the restarted process, when ready."""
    rss_before_mb: float
    """Peak of the worker that built the state."""
    seeded_rows: int = 0
    """Of `rows`, written straight to the changelogs (`bench.seed`) while it was stopped."""
    cold_ready_s: float | None = None
    """The start before, which recovered the seeded rows from the changelogs: ready in."""
    cold_peak_rss_mb: float | None = None


class Ratios(msgspec.Struct, frozen=True):
    vs_limit: float | None
    """orderstream's orders/s over the limit's."""
    vs_peer: float | None
    """orderstream's orders/s over the peer's."""


class FaustFloor(msgspec.Struct, frozen=True):
    """Faust's own CPU per event (`bench.floor`), and what it makes of orderstream's hops."""

    modes: dict[str, Floor]
    per_order: Hops | None = None
    floor_ms_per_order: float | None = None
    floor_orders_per_s: float | None = None
    """One core's worth of that floor: the most any design over these hops could reach."""
    per_stock_event: Hops | None = None
    floor_ms_per_stock_event: float | None = None
    floor_stock_events_per_s: float | None = None

    @classmethod
    def of(
        cls, modes: dict[str, Floor], per_order: Hops | None, per_stock_event: Hops | None
    ) -> FaustFloor:
        order_ms = per_order.floor_ms(modes) if per_order else None
        stock_ms = per_stock_event.floor_ms(modes) if per_stock_event else None
        return cls(
            modes,
            per_order,
            order_ms,
            round(1000 / order_ms, 1) if order_ms else None,
            per_stock_event,
            stock_ms,
            round(1000 / stock_ms, 1) if stock_ms else None,
        )


class BenchResult(msgspec.Struct, frozen=True):
    started_at: str
    machine: dict[str, str | int | float]
    load: dict[str, str | int | float]
    contenders: dict[str, ContenderResult]
    ratios: Ratios
    restart: Restart | None = None
    floor: FaustFloor | None = None


def contender_result(
    offered: PhaseResult, saturation: PhaseResult, offered_rate: float, peak_rss_mb: float
) -> ContenderResult:
    per_1000 = 1000 / saturation.orders_done if saturation.orders_done else 0.0
    return ContenderResult(
        orders_per_s=round(saturation.orders_per_s, 1),
        events_per_s=round(saturation.events_per_s, 1),
        latency_ms=Latency(**offered.latency_ms),
        latency_at_saturation_ms=Latency(**saturation.latency_ms),
        offered_orders_per_s=offered_rate,
        achieved_orders_per_s_at_offered=round(offered.orders_per_s, 1),
        cpu_s_per_1000_orders=round(saturation.cpu_s * per_1000, 2),
        broker_cpu_s_per_1000_orders=round(saturation.broker_cpu_s * per_1000, 2),
        peak_rss_mb=round(peak_rss_mb, 1),
        orders=offered.orders + saturation.orders,
        orders_done=offered.orders_done + saturation.orders_done,
    )


def ratios(contenders: dict[str, ContenderResult]) -> Ratios:
    def over(other: str) -> float | None:
        ours, theirs = contenders.get("orderstream"), contenders.get(other)
        if ours is None or theirs is None or not theirs.orders_per_s:
            return None
        return round(ours.orders_per_s / theirs.orders_per_s, 3)

    return Ratios(vs_limit=over("limit"), vs_peer=over("peer"))


def render(result: BenchResult) -> str:
    rows = [
        f"{'contender':<12} {'orders/s':>9} {'events/s':>9} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'CPU s/1k':>9} {'broker s/1k':>11} {'peak RSS MB':>11}"
    ]
    for name, c in result.contenders.items():
        rows.append(
            f"{name:<12} {c.orders_per_s:>9.1f} {c.events_per_s:>9.1f} "
            f"{_ms(c.latency_ms.p50):>8} {_ms(c.latency_ms.p95):>8} {_ms(c.latency_ms.p99):>8} "
            f"{c.cpu_s_per_1000_orders:>9.2f} {c.broker_cpu_s_per_1000_orders:>11.2f} "
            f"{c.peak_rss_mb:>11.1f}"
        )
    rows.append(
        f"latency at an offered {result.load['offered_orders_per_s']} orders/s; "
        f"orders/s at saturation; ratios: vs limit {result.ratios.vs_limit}, "
        f"vs peer {result.ratios.vs_peer}"
    )
    stock = result.contenders.get("orderstream")
    if stock is not None and stock.stock_events_per_s is not None:
        rows.append(f"stock events through the ATP ledger: {stock.stock_events_per_s:.0f}/s")
    if result.restart is not None:
        r = result.restart
        rows.append(
            f"restart with {r.rows:,} SKU x location rows and as many dedupe keys: ready in "
            f"{r.ready_s} s, peak RSS {r.peak_rss_mb} MB (the worker that built it: "
            f"{r.rss_before_mb} MB)"
        )
        if r.cold_ready_s is not None:
            rows.append(
                f"  the start before it recovered {r.seeded_rows:,} seeded rows from the "
                f"changelogs: ready in {r.cold_ready_s} s, peak RSS {r.cold_peak_rss_mb} MB"
            )
    if result.floor is not None:
        rows.extend(floor_rows(result.floor))
    return "\n".join(rows)


def floor_rows(floor: FaustFloor) -> list[str]:
    rows = [
        "Faust floor (one agent on orderstream's app settings, CPU ms per event): "
        + ", ".join(
            f"{mode} {f.cpu_ms_per_event} ms ({f.events_per_s:.0f}/s)"
            for mode, f in floor.modes.items()
        )
    ]
    for what, hops, ms, rate in (
        ("order", floor.per_order, floor.floor_ms_per_order, floor.floor_orders_per_s),
        (
            "stock event",
            floor.per_stock_event,
            floor.floor_ms_per_stock_event,
            floor.floor_stock_events_per_s,
        ),
    ):
        if hops is not None:
            rows.append(
                f"  per {what} orderstream consumes {hops.consumed}, sends {hops.sent}, writes "
                f"{hops.table_writes} table rows: at least {ms} ms of Faust CPU, so at most "
                f"{rate:.0f}/s on one core"
            )
    return rows


def _ms(value: int | None) -> str:
    return "-" if value is None else str(value)


def write_json(result: BenchResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.format(msgspec.json.encode(result)) + b"\n")


def write_chart(result: BenchResult, path: Path) -> None:
    """Throughput and latency per contender, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(result.contenders)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.bar(names, [result.contenders[n].orders_per_s for n in names], color="#4477aa")
    left.set_title("sustained orders/s (saturation)")
    width = 0.25
    for offset, (label, key) in enumerate((("p50", "p50"), ("p95", "p95"), ("p99", "p99"))):
        values = [getattr(result.contenders[n].latency_ms, key) or 0 for n in names]
        right.bar([i + (offset - 1) * width for i in range(len(names))], values, width, label=label)
    right.set_xticks(range(len(names)), names)
    right.set_yscale("log")
    right.set_title(
        f"raw -> ALLOCATED ms at {result.load['offered_orders_per_s']} orders/s offered"
    )
    right.legend()
    figure.suptitle(f"orderstream bench {result.started_at} ({result.machine['cpus']} cores)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
