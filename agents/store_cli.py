"""`orderstream orders show ID` and `orderstream kpis`: the API's order and KPI views as
rich tables for an operator at a shell.

They read the event store directly (ORDERSTREAM_POSTGRES_DSN) with the same queries the API
runs (state/queries.py, state/kpis.py), so the data is the API's to the row, and they work
when no API process is running and need no token: whoever can reach the store holds more
than the API would show anyway.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from orderstream.codecs.api import KpiReport, OrderView
from orderstream.streams.kpis import Rate
from orderstream.streams.money import Money

from .exits import HELP, ExitCode
from .settings import Settings, load_settings

orders_app = typer.Typer(
    help="Orders in the event store (ORDERSTREAM_POSTGRES_DSN).",
    no_args_is_help=True,
    epilog=HELP,
    add_completion=False,
)


async def _with_store(settings: Settings, work: Any) -> Any:
    from .postgres import connect, require_migrated

    conn = await connect(settings.postgres_dsn)
    try:
        await require_migrated(conn)
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            return await work(conn)
    finally:
        await conn.close()


def _money(money: Money | None) -> str:
    return "" if money is None else f"{money.to_decimal()} {money.currency}"


def _when(value: object) -> str:
    return "" if value is None else str(value)


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    return table


def render_order(view: OrderView, console: Console, *, contact: bool = True) -> None:
    """The order's record as tables; without `contact`, the customer's name, e-mail and
    phone are left out (for output that is no support view, such as the demo's)."""
    summary = _table(f"order {view.oms_order_id}", "field", "value")
    for name, value in (
        ("channel", view.channel),
        ("status", view.status or ""),
        ("seq", _when(view.seq)),
        ("updated", _when(view.updated_at)),
    ):
        summary.add_row(name, value)
    if view.details is not None:
        d = view.details
        for name, value in (
            ("channel order", f"{d.channel_order_id} {d.channel_order_name}".strip()),
            ("placed", str(d.placed_at)),
            ("total", _money(d.total)),
            ("service level", d.service_level),
            ("ship to", d.ship_country),
            ("ship by", _when(d.promised_ship_by)),
            ("deliver by", _when(d.promised_delivery_by)),
        ):
            summary.add_row(name, value)
        if contact:
            summary.add_row(
                "customer", d.contact.name or ("(erased)" if d.contact.erased_at else "")
            )
            summary.add_row("e-mail", d.contact.email or "")
            summary.add_row("phone", d.contact.phone or "")
    console.print(summary)
    events = _table("status events", "seq", "status", "previous", "occurred", "reason")
    for e in view.events:
        events.add_row(str(e.seq), e.status, e.previous or "", str(e.occurred_at), e.reason)
    console.print(events)
    shipments = _table(
        "shipments",
        "id",
        "location",
        "carrier",
        "tracking",
        "status",
        "ship date",
        "cost",
        "bundle",
    )
    for s in view.shipments:
        shipments.add_row(
            s.shipment_id,
            s.location,
            s.carrier,
            s.tracking_number,
            s.status,
            _when(s.ship_date),
            _money(s.cost),
            s.bundle_key,
        )
    console.print(shipments)
    holds = _table(
        "holds and exceptions",
        "kind",
        "shipment",
        "reason",
        "owner",
        "opened",
        "resolve by",
        "closed",
    )
    for x in view.exceptions:
        holds.add_row(
            x.kind,
            x.shipment_id,
            x.reason,
            f"{x.owner_kind}:{x.owner}",
            str(x.opened_at),
            str(x.resolve_by),
            _when(x.closed_at),
        )
    console.print(holds)
    allocations = _table("allocations", "seq", "decided", "by", "summary")
    for a in view.allocations:
        allocations.add_row(str(a.seq), str(a.decided_at), a.decided_by, a.summary)
    console.print(allocations)


def _percent(rate: Rate) -> str:
    shown = "n/a" if rate.percent is None else f"{rate.percent} %"
    return f"{shown} ({rate.numerator}/{rate.denominator})"


def render_kpis(report: KpiReport, console: Console) -> None:
    k = report.kpis
    title = f"KPIs of orders placed {report.window_from} to {report.window_to}"
    table = _table(
        title + (f", channel {report.channel}" if report.channel else ""), "KPI", "value"
    )
    lead = k.placement_to_shipped
    table.add_row("orders", str(k.orders))
    table.add_row("placement to shipped p50", _seconds(lead.p50_seconds))
    table.add_row("placement to shipped p95", _seconds(lead.p95_seconds))
    table.add_row("on-time shipping", _percent(k.on_time_shipping))
    table.add_row("first-attempt allocation", _percent(k.first_attempt_allocation))
    table.add_row("fulfilment accuracy", _percent(k.fulfilment_accuracy))
    for cost in k.cost_per_shipment:
        for label, summary in (("without", cost.without_bundling), ("with", cost.with_bundling)):
            per = summary.per_parcel_minor
            table.add_row(
                f"cost per shipment {label} bundling",
                f"{_money(Money(per, cost.currency)) if per is not None else 'n/a'} "
                f"({summary.parcels} parcels)",
            )
    table.add_row("shipments without a cost", str(k.unpriced_shipments))
    table.add_row("return rate", "not recorded yet" if k.return_rate is None else "see API")
    console.print(table)


def _seconds(value: int | None) -> str:
    if value is None:
        return "n/a"
    sign = "-" if value < 0 else ""  # a channel's clock ahead of ours
    hours, rest = divmod(abs(value), 3600)
    return f"{sign}{hours}h {rest // 60:02d}m ({value} s)"


@orders_app.command(epilog=HELP)
def show(oms_order_id: Annotated[str, typer.Argument(help="{channel}:{channel_order_id}")]) -> None:
    """Print one order's record: status events, shipments, holds, allocations."""
    from orderstream.state.queries import order_record

    async def work(conn: Any) -> OrderView | None:
        return await order_record(conn, oms_order_id)

    view = asyncio.run(_with_store(load_settings(), work))
    if view is None:
        typer.echo(f"error: no order {oms_order_id!r} in the event store", err=True)
        raise typer.Exit(ExitCode.REJECTED)
    render_order(view, Console())


def kpis(
    start: Annotated[
        str | None, typer.Option("--from", help="ISO 8601 time or date, or an age (7d).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="ISO 8601 time or date; now.")] = None,
    channel: Annotated[str | None, typer.Option(help="Only orders of this channel.")] = None,
) -> None:
    """Print the fulfilment KPIs of the orders placed in [--from, --to) (README, "API")."""
    from orderstream.state.kpis import gather_kpis

    from .api import pricing
    from .api_params import ParameterError, kpi_window
    from .exits import UnusableError

    settings = load_settings()
    query = {k: v for k, v in (("from", start), ("to", end), ("channel", channel)) if v}
    try:
        window_from, window_to, chosen = kpi_window(query, datetime.now(UTC))
    except ParameterError as error:
        raise UnusableError(f"--{error}") from None
    prices, zone = pricing(settings)

    async def work(conn: Any) -> KpiReport:
        found = await gather_kpis(conn, window_from, window_to, chosen, prices=prices, zone=zone)
        return KpiReport(window_from, window_to, chosen, found)

    render_kpis(asyncio.run(_with_store(settings, work)), Console())
