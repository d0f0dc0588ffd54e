"""`orderstream rules check FILE` and `orderstream rules explain ORDER.json`.

`check` validates a routing rule set: exit 0 with a one-line summary, or exit 1 with one
`file:line: field: message` per problem (anchors, aliases and deep nesting included). `explain`
plans one order against a rule set and an ATP snapshot (`{"SKU": {"LOCATION": units}}`) and
prints the plan with its explanation, for people by default or as JSON with `--json`; it
reserves nothing and writes nothing. Unusable input (a missing or oversized file, bad JSON, an
invalid rule set for `explain`) is one line on stderr and exit 2 (`agents/exits.py`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import msgspec
import typer

from orderstream.codecs.rules import MAX_RULES_BYTES, RuleSetInvalid, load_rules
from orderstream.codecs.sources import MAX_PAYLOAD_BYTES
from orderstream.streams.events import CanonicalEvent, OrderPlaced, OrderUpdated
from orderstream.streams.model import Order
from orderstream.streams.money import Money
from orderstream.streams.plan_types import Plan
from orderstream.streams.planning import plan
from orderstream.streams.routing import RuleSet

from .exits import HELP, ExitCode, UnusableError
from .input_files import read_limited

PREVIEW_BUNDLE_SECRET = b"orderstream rules explain"
"""`explain` shows which shipments would bundle; its keys are keyed with this, not with a
deployment's secret, so they group alike but never equal a live bundle key."""

rules_app = typer.Typer(
    name="rules",
    help="Routing rule sets: validate one, or explain the plan an order would get.",
    epilog=HELP,
    no_args_is_help=True,
    add_completion=False,
)

# An order or a stock snapshot is a payload: the ingest limit bounds it.
_MAX_JSON_BYTES = MAX_PAYLOAD_BYTES


@rules_app.command(epilog=HELP)
def check(
    path: Annotated[Path, typer.Argument(help="Rule set, YAML or JSON.")],
) -> None:
    """Validate a rule set: exit 0 with a summary, or 1 with one error per line."""
    outcome = load_rules(read_limited(path, MAX_RULES_BYTES), source=str(path))
    if isinstance(outcome, RuleSetInvalid):
        for line in outcome.describe():
            typer.echo(line)
        raise typer.Exit(ExitCode.REJECTED)
    typer.echo(f"{path}: ok: {_describe_rules(outcome)}")


def _describe_rules(rules: RuleSet) -> str:
    revision = f" revision {rules.revision}" if rules.revision else ""
    return (
        f"{rules.name}{revision} (version {rules.version}): {len(rules.locations)} nodes, "
        f"{len(rules.zones)} zones, {len(rules.service_levels)} service levels, "
        f"max_splits {rules.max_splits}"
    )


@rules_app.command(epilog=HELP)
def explain(
    order_path: Annotated[
        Path, typer.Argument(help="A canonical order.placed event, or a bare canonical order.")
    ],
    rules_path: Annotated[Path, typer.Option("--rules", help="Rule set, YAML or JSON.")],
    stock_path: Annotated[
        Path, typer.Option("--stock", help='ATP snapshot: {"SKU": {"LOCATION": units}}.')
    ],
    now: Annotated[
        str | None,
        typer.Option("--now", help="Plan as of this ISO 8601 instant (with offset); default now."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Show the plan an order would get, and why; reserves nothing."""
    rules = load_rules(read_limited(rules_path, MAX_RULES_BYTES), source=str(rules_path))
    if isinstance(rules, RuleSetInvalid):
        raise UnusableError(rules.summary())
    order = _order(order_path)
    atp = _stock(stock_path)
    at = _instant(now) if now is not None else datetime.now(UTC)
    result = plan(order, atp, rules, at, bundle_secret=PREVIEW_BUNDLE_SECRET)
    if as_json:
        typer.echo(msgspec.json.format(msgspec.json.encode(result), indent=2).decode())
    else:
        typer.echo(render(result, order, rules, at))


def _order(path: Path) -> Order:
    """The order of an order.placed / order.updated event, or a bare canonical order."""
    raw = read_limited(path, _MAX_JSON_BYTES)
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        raise UnusableError(f"{path} is not valid JSON: {error}") from None
    except RecursionError:
        raise UnusableError(f"{path} is nested too deeply to be an order") from None
    try:
        if isinstance(document, dict) and "type" in document:
            event = msgspec.json.decode(raw, type=CanonicalEvent)
            if not isinstance(event, OrderPlaced | OrderUpdated):
                raise UnusableError(f"{path} is a {document['type']} event, not an order")
            return event.order
        return msgspec.json.decode(raw, type=Order)
    except msgspec.ValidationError as error:
        raise UnusableError(f"{path} is not a canonical order: {error}") from None


def _stock(path: Path) -> dict[str, dict[str, int]]:
    raw = read_limited(path, _MAX_JSON_BYTES)
    try:
        stock = msgspec.json.decode(raw, type=dict[str, dict[str, int]])
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as error:
        shape = '{"SKU": {"LOCATION": units}}'
        raise UnusableError(f"{path} is not a stock snapshot {shape}: {error}") from None
    for sku, locations in stock.items():
        for location, units in locations.items():
            if units < 0:
                raise UnusableError(
                    f"{path}: {sku} at {location} has {units} units; ATP is never negative"
                )
    return stock


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UnusableError(f"--now {text!r} is not an ISO 8601 instant") from None
    if moment.tzinfo is None:
        raise UnusableError(f"--now {text!r} has no UTC offset; add Z or +01:00")
    return moment


# Rendering for people.


def render(result: Plan, order: Order, rules: RuleSet, now: datetime) -> str:
    """The plan and its explanation as aligned text."""
    why = result.explanation
    address = order.customer.shipping_address
    destination = f" to {address.country}" if address is not None else ""
    units = sum(line.qty for line in order.lines)
    routed = units - sum(line.qty for line in result.external)
    priority = ", ".join(f"{part.rule} +{part.points}" for part in why.priority) or "no boosts"
    out = [
        f"order     {order.oms_order_id} ({order.channel.value}, "
        f"{order.delivery.service_level.value}{destination}, {len(order.lines)} lines, "
        f"{units} units)",
        f"rules     {rules.name} {rules.revision}".rstrip(),
        f"now       {now.isoformat()}",
        f"plan      {result.kind.value}, priority {result.priority} ({priority})",
    ]
    if why.deadline is not None:
        out.append(f"deadline  {why.deadline}")
    out += [f"decision  {why.decided_by.value}", f"summary   {why.summary}", "", "shipments"]
    if not result.shipments:
        out.append("  none")
    for shipment in result.shipments:
        via = f" via {shipment.carrier}" if shipment.carrier else " (handover)"
        flags = ("on time" if shipment.on_time else "LATE") + (
            ", late pick" if shipment.late_pick else ""
        )
        bundle = f", bundle {shipment.bundle_key}" if shipment.bundle_key else ""
        out.append(
            f"  {shipment.location}{via}: ships {shipment.ship_date}, ETA {shipment.eta}, "
            f"{_money(shipment.cost)}, {flags}{bundle}"
        )
        out += [f"    {ln.line_id}  {ln.sku} x{ln.qty}" for ln in shipment.lines]
    for title, short in (("backordered", result.backordered), ("held", result.held)):
        out.append(title)
        out += [f"  {s.line_id}  {s.sku} x{s.qty}  {s.reason.value}" for s in short] or ["  none"]
    if result.external:
        out.append("fulfilled by the marketplace")
        out += [f"  {ln.line_id}  {ln.sku} x{ln.qty}" for ln in result.external]
    if why.locations:
        out += ["", "nodes"]
        width = max(len(a.location) for a in why.locations)
        for a in why.locations:
            option = (
                f"{a.carrier} ships {a.ship_date} ETA {a.eta} "
                f"{_money(a.cost) if a.cost else ''}  stock {a.stock_units}/{routed}"
                if a.carrier
                else ""
            )
            detail = "  ".join(part for part in (option, a.detail) if part)
            out.append(f"  {a.location:<{width}}  {a.verdict.value:<13} {detail}".rstrip())
    if why.candidates:
        out += ["", f"candidates ({why.candidates_evaluated} evaluated, best first)"]
        for c in why.candidates:
            out.append(
                f"  {c.rank}. {'+'.join(c.locations)}: {c.allocated_units}/{routed} units, "
                f"{c.late_shipments} late, {c.shipments} shipment(s), {_money(c.cost)}, "
                f"ETA {c.eta}"
            )
    return "\n".join(out)


def _money(amount: Money) -> str:
    return f"{amount.to_decimal()} {amount.currency}"
