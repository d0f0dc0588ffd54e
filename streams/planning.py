"""The order planner: which node ships which units, by which carrier, and why.

`plan` works on a replica of ATP (`{sku: {location: units}}`, possibly stale: the SKU's
ledger confirms or refuses the reservations afterwards) and a rule set, at an instant `now`
it is handed. It is pure and deterministic: the same inputs give the same plan, because
every choice ends in a total order (node ids last).

The order of the rules, as a score compared left to right:

1. allocate as many units as the eligible nodes hold (coverage);
2. keep the service level's promise (late shipments only where the SLA rule allows them);
3. fewest shipments (one node that has everything beats two that share it);
4. lowest total cost (per shipment per carrier, late-pick surcharges included);
5. earliest ETA (of the last parcel);
6. node preference, then node id.

A node is eligible for an order when it serves the order's channel and destination (country
or zone), has a working day to pick on and a carrier offering the service level there.
Units no eligible node can supply are backordered or held as the rules say for the channel.
Store sales are handed over at their store without routing; marketplace-fulfilled orders
and lines are not routed at all.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from .model import MARKETPLACE_LINE_TAG, FulfilmentMode, Order, OrderLine, ServiceLevel
from .money import Money, zero
from .routing import (
    Node,
    PartialAllocation,
    RuleSet,
    ServiceLevelRule,
    ShortageAction,
    SlaMiss,
    cost_currency,
    delivery_date,
    dispatch_options,
    local_time,
    preference_rank,
    serves_destination,
    transit_days,
)

Atp = Mapping[str, Mapping[str, int]]
"""The planning replica: units available to promise per SKU, then per location."""

_Allocation = dict[str, tuple[tuple[str, int], ...]]
"""Line id -> the (node, units) it takes from each node."""

MAX_SEARCH_NODES = 10
"""Nodes that enter the combination search, best first; keeps the search small and bounded."""

MAX_SEARCH_SETS = 2_000
"""Node sets evaluated at most per order (10 nodes up to 4 splits is 385)."""

MAX_EXHAUSTIVE_ASSIGNMENTS = 4_096
"""Line-to-node assignments tried exhaustively per SKU before falling back to greedy."""

MAX_CANDIDATES_SHOWN = 10
"""Candidates kept in an explanation; the count of all evaluated ones is kept too."""


class PlanKind(enum.StrEnum):
    ROUTED = "routed"
    STORE = "store"  # handed over (or collected) at the order's store
    MARKETPLACE = "marketplace"  # the marketplace ships it; nothing to route


class Decision(enum.StrEnum):
    """The rule that decided the plan: the first score on which the winner beat the runner-up."""

    COVERAGE = "coverage"
    SLA = "sla"
    FEWEST_SHIPMENTS = "fewest_shipments"
    LOWEST_COST = "lowest_cost"
    EARLIEST_ETA = "earliest_eta"
    NODE_PREFERENCE = "node_preference"
    NODE_ID = "node_id"
    ONLY_CANDIDATE = "only_candidate"
    NO_CANDIDATE = "no_candidate"
    SHIP_COMPLETE = "ship_complete"
    STORE_HANDOVER = "store_handover"
    MARKETPLACE_FULFILLED = "marketplace_fulfilled"


_SCORE_RULES = (
    Decision.COVERAGE,
    Decision.SLA,
    Decision.FEWEST_SHIPMENTS,
    Decision.LOWEST_COST,
    Decision.EARLIEST_ETA,
    Decision.NODE_PREFERENCE,
    Decision.NODE_ID,
)


class ShortReason(enum.StrEnum):
    """Why units were not allocated; stable strings, consumers match on them."""

    INSUFFICIENT_STOCK = "insufficient_stock"
    SPLIT_LIMIT = "split_limit"  # stock exists, but only in more shipments than allowed
    SHIP_COMPLETE = "ship_complete"  # coverable, but the order ships complete or not at all
    SLA_UNACHIEVABLE = "sla_unachievable"
    NO_ELIGIBLE_NODE = "no_eligible_node"
    NO_DESTINATION = "no_destination"
    UNKNOWN_SERVICE_LEVEL = "unknown_service_level"
    UNKNOWN_PICKUP_NODE = "unknown_pickup_node"


# Waiting for stock cannot fix these, so they are held whatever the backorder policy says.
_ALWAYS_HELD = frozenset(
    {
        ShortReason.SLA_UNACHIEVABLE,
        ShortReason.NO_ELIGIBLE_NODE,
        ShortReason.NO_DESTINATION,
        ShortReason.UNKNOWN_SERVICE_LEVEL,
        ShortReason.UNKNOWN_PICKUP_NODE,
    }
)


class NodeVerdict(enum.StrEnum):
    ELIGIBLE = "eligible"
    WRONG_CHANNEL = "wrong_channel"
    OUT_OF_AREA = "out_of_area"
    CLOSED = "closed"
    NO_CARRIER = "no_carrier"
    MISSES_SLA = "misses_sla"
    NO_STOCK = "no_stock"


class PlannedLine(msgspec.Struct, frozen=True):
    line_id: str
    sku: str
    qty: int


class ShortLine(msgspec.Struct, frozen=True):
    """Units of a line that were not allocated, and why."""

    line_id: str
    sku: str
    qty: int
    reason: ShortReason


class Shipment(msgspec.Struct, frozen=True, omit_defaults=True):
    """One parcel (or one store handover, `carrier` empty) from one node."""

    node: str
    lines: tuple[PlannedLine, ...]
    ship_date: date
    eta: date
    cost: Money
    on_time: bool
    carrier: str = ""
    late_pick: bool = False
    bundle_key: str = ""


class PriorityPart(msgspec.Struct, frozen=True):
    rule: str
    points: int


class NodeAssessment(msgspec.Struct, frozen=True, omit_defaults=True):
    """How one node fared for the order: its verdict and, if it could ship, its best option."""

    node: str
    verdict: NodeVerdict
    detail: str = ""
    carrier: str = ""
    ship_date: date | None = None
    eta: date | None = None
    cost: Money | None = None
    late_pick: bool = False
    on_time: bool = False
    stock_units: int = 0


class CandidateScore(msgspec.Struct, frozen=True, omit_defaults=True):
    """A set of nodes that could ship the order, with its score in rule order."""

    rank: int
    nodes: tuple[str, ...]
    allocated_units: int
    short_units: int
    late_shipments: int
    shipments: int
    cost: Money
    eta: date
    preference: tuple[int, ...]


class Explanation(msgspec.Struct, frozen=True, omit_defaults=True):
    """Why the plan is what it is: for people (`summary`) and machines (everything else)."""

    decided_by: Decision
    summary: str
    rules: str
    rules_revision: str = ""
    deadline: date | None = None
    priority: tuple[PriorityPart, ...] = ()
    nodes: tuple[NodeAssessment, ...] = ()
    candidates: tuple[CandidateScore, ...] = ()
    candidates_evaluated: int = 0


class Plan(msgspec.Struct, frozen=True, omit_defaults=True):
    """Where every unit of an order goes: shipped, backordered, held, or the marketplace's."""

    oms_order_id: str
    kind: PlanKind
    priority: int
    explanation: Explanation
    shipments: tuple[Shipment, ...] = ()
    backordered: tuple[ShortLine, ...] = ()
    held: tuple[ShortLine, ...] = ()
    external: tuple[PlannedLine, ...] = ()


# Small pure helpers, public because the shell and tests use them on their own.


def priority_of(
    order: Order, rules: RuleSet, *, replenishing: bool = False
) -> tuple[PriorityPart, ...]:
    """The points that put an order ahead in the queue (sum them for the priority).

    VIP customers (by customer tag, case-insensitive), faster service levels, the channel's
    own priority flag, and a backorder being replenished each add their rule's points.
    """
    points = rules.priority
    parts: list[PriorityPart] = []
    vip = {tag.casefold() for tag in points.vip_tags}
    if points.vip and any(tag.casefold() in vip for tag in order.customer.tags):
        parts.append(PriorityPart("vip", points.vip))
    level = order.delivery.service_level
    if points.service_levels.get(level):
        parts.append(PriorityPart(f"service_level:{level.value}", points.service_levels[level]))
    if points.channel_priority and order.delivery.priority:
        parts.append(
            PriorityPart("channel_priority", points.channel_priority * order.delivery.priority)
        )
    if replenishing and points.backorder_replenishment:
        parts.append(PriorityPart("backorder_replenishment", points.backorder_replenishment))
    return tuple(parts)


def delivery_deadline(order: Order, rules: RuleSet, sla: ServiceLevelRule) -> date:
    """The last day delivery keeps the promise, on the rule set's calendar.

    The SLA counts calendar days from the day the order was placed; a channel's own
    `latest_delivery` (a marketplace promise) wins when it is earlier.
    """
    calendar = ZoneInfo(rules.time_zone)
    deadline = order.created_at.astimezone(calendar).date() + timedelta(days=sla.max_days)
    promised = order.delivery.latest_delivery
    if promised is not None:
        deadline = min(deadline, promised.astimezone(calendar).date())
    return deadline


def bundle_key(order: Order, node: str, carrier: str, ship_date: date, secret: bytes) -> str:
    """Equal for shipments that may travel as one parcel: same customer, address, node,
    carrier and ship date. Empty when the customer or address is unknown (never bundle
    strangers). The customer and address enter an HMAC-SHA256 keyed with the deployment's
    `secret`, so the key carries no personal data and cannot be recomputed from a guessed
    e-mail and address without it.
    """
    if not secret:
        raise ValueError("a bundle key needs the deployment's secret")
    customer = order.customer
    identity = customer.email.strip().casefold() or (
        f"{order.channel.value}:{customer.channel_customer_id}"
        if customer.channel_customer_id
        else ""
    )
    address = customer.shipping_address
    if not identity or address is None:
        return ""
    parts = [identity, address.country, address.postcode.replace(" ", "").upper()]
    parts += [
        " ".join(value.casefold().split())
        for value in (address.name, address.line1, address.line2, address.house_number)
    ]
    parts += [" ".join(address.city.casefold().split()), node, carrier, ship_date.isoformat()]
    digest = hmac.new(secret, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()[:20]
    return f"{node}:{ship_date.isoformat()}:{digest}"


def available(atp: Atp, sku: str, location: str) -> int:
    """Units of `sku` the replica promises at `location` (absent or negative counts as 0)."""
    return max(0, atp.get(sku, {}).get(location, 0))


# The planner.


class _Option(msgspec.Struct, frozen=True):
    """A node's best way to ship this order: carrier, dispatch, ETA, cost, on time or not."""

    node: Node
    carrier: str
    ship_date: date
    eta: date
    cost: Money
    late_pick: bool
    on_time: bool
    rank: int


class _Result(msgspec.Struct, frozen=True):
    """One evaluated node set: who ships what, and its score in rule order (`key`)."""

    options: tuple[_Option, ...]
    allocation: _Allocation
    allocated: int
    short: int
    late: int
    cost: int
    eta: date
    preference: tuple[int, ...]

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(option.node.id for option in self.options)

    @property
    def key(self) -> tuple[int, int, int, int, date, tuple[int, ...], tuple[str, ...]]:
        """Compared left to right in `_SCORE_RULES` order; smaller is better."""
        return (
            self.short,
            self.late,
            len(self.options),
            self.cost,
            self.eta,
            self.preference,
            self.nodes,
        )


class _Context(msgspec.Struct, frozen=True):
    order: Order
    atp: Atp
    rules: RuleSet
    now: datetime
    priority: tuple[PriorityPart, ...]
    lines: tuple[OrderLine, ...]
    external: tuple[PlannedLine, ...]
    bundle_secret: bytes


def plan(
    order: Order,
    atp: Atp,
    rules: RuleSet,
    now: datetime,
    *,
    replenishing: bool = False,
    bundle_secret: bytes = b"",
) -> Plan:
    """Plan an order against an ATP replica and a rule set at `now` (timezone-aware).

    Marketplace-fulfilled orders are not routed; store orders go to their pickup node
    (`delivery.pickup_node`, else `store_id`); every other order is routed by the rules.
    `replenishing` marks a re-plan of a backorder, which the priority rules may boost.
    `bundle_secret` keys the bundle keys; required when the rules enable bundling.
    Every line ends allocated, backordered, held or external, with quantities summing to
    what was ordered.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    marketplace = order.delivery.fulfilment_mode is FulfilmentMode.MARKETPLACE
    external_ids = {
        tag.removeprefix(MARKETPLACE_LINE_TAG)
        for tag in order.tags
        if tag.startswith(MARKETPLACE_LINE_TAG)
    }
    ordered = sorted(order.lines, key=lambda line: line.line_id)
    context = _Context(
        order=order,
        atp=atp,
        rules=rules,
        now=now,
        priority=priority_of(order, rules, replenishing=replenishing),
        lines=tuple(ln for ln in ordered if not marketplace and ln.line_id not in external_ids),
        external=tuple(
            PlannedLine(ln.line_id, ln.sku, ln.qty)
            for ln in ordered
            if marketplace or ln.line_id in external_ids
        ),
        bundle_secret=bundle_secret,
    )
    if not context.lines:
        return _finish(
            context,
            PlanKind.MARKETPLACE,
            decided_by=Decision.MARKETPLACE_FULFILLED,
            why="the marketplace fulfils every line; nothing is routed",
        )
    level = order.delivery.service_level
    if order.delivery.fulfilment_mode is FulfilmentMode.STORE or level is ServiceLevel.CARRY_OUT:
        return _plan_store(context)
    return _plan_routed(context)


def _finish(
    context: _Context,
    kind: PlanKind,
    *,
    decided_by: Decision,
    why: str,
    shipments: Iterable[Shipment] = (),
    short: Iterable[ShortLine] = (),
    deadline: date | None = None,
    nodes: Sequence[NodeAssessment] = (),
    results: Sequence[_Result] = (),
) -> Plan:
    """Assemble the plan: short units go to backorder or hold, and the summary is written."""
    shipments = tuple(sorted(shipments, key=lambda s: (s.node, s.carrier)))
    action = context.rules.backorders.action_for(context.order.channel)
    short = tuple(sorted(short, key=lambda s: (s.line_id, s.reason)))
    waits = [action is ShortageAction.BACKORDER and s.reason not in _ALWAYS_HELD for s in short]
    backordered = tuple(s for s, wait in zip(short, waits, strict=True) if wait)
    held = tuple(s for s, wait in zip(short, waits, strict=True) if not wait)
    units = sum(line.qty for line in context.lines)
    allocated = sum(line.qty for shipment in shipments for line in shipment.lines)
    summary = (
        f"{allocated} of {units} units in {len(shipments)} shipment(s)"
        + "".join(f", {s.node}" + (f" via {s.carrier}" if s.carrier else "") for s in shipments)
        + f"; {sum(s.qty for s in backordered)} backordered, {sum(s.qty for s in held)} held"
        + (f", {len(context.external)} line(s) external" if context.external else "")
        + f"; decided by {decided_by.value}: {why}"
    )
    return Plan(
        oms_order_id=context.order.oms_order_id,
        kind=kind,
        priority=sum(part.points for part in context.priority),
        shipments=shipments,
        backordered=backordered,
        held=held,
        external=context.external,
        explanation=Explanation(
            decided_by=decided_by,
            summary=summary,
            rules=context.rules.name,
            rules_revision=context.rules.revision,
            deadline=deadline,
            priority=context.priority,
            nodes=tuple(nodes),
            candidates=tuple(
                _candidate(rank, result, context)
                for rank, result in enumerate(results[:MAX_CANDIDATES_SHOWN], start=1)
            ),
            candidates_evaluated=len(results),
        ),
    )


def _currency(context: _Context) -> str:
    return cost_currency(context.rules) or context.order.currency


def _candidate(rank: int, result: _Result, context: _Context) -> CandidateScore:
    return CandidateScore(
        rank=rank,
        nodes=result.nodes,
        allocated_units=result.allocated,
        short_units=result.short,
        late_shipments=result.late,
        shipments=len(result.options),
        cost=Money(result.cost, _currency(context)),
        eta=result.eta,
        preference=result.preference,
    )


# Store orders.


def _plan_store(context: _Context) -> Plan:
    """A store sale is handed over at its store; no routing, no carrier.

    A carry-out sale already left the shop with the customer, so all of it is allocated even
    where the (possibly stale) replica shows less; the ledger reports the shortage. Other store
    orders (reserve and collect) take what the store's ATP has, like any allocation.
    """
    order, rules = context.order, context.rules
    node_id = order.delivery.pickup_node or order.store_id
    node = next((n for n in rules.nodes if n.id == node_id), None)
    if node is None:
        return _finish(
            context,
            PlanKind.STORE,
            decided_by=Decision.NO_CANDIDATE,
            why=f"pickup node {node_id!r} is not in the rule set",
            short=_short_all(context.lines, ShortReason.UNKNOWN_PICKUP_NODE),
        )
    today = local_time(node, context.now).date()
    option = _Option(node, "", today, today, zero(_currency(context)), False, True, 0)
    if order.delivery.service_level is ServiceLevel.CARRY_OUT:
        allocation: _Allocation = {ln.line_id: ((node.id, ln.qty),) for ln in context.lines}
        why = f"carry-out sale handed over at {node.id}"
    else:
        allocation = _allocate(context, (option,))
        why = f"store order collected at {node.id}"
    shipments, short = _shipments(context, (option,), allocation, bundle=False)
    if short and rules.allocation.partial is PartialAllocation.NONE:
        shipments, short = (), _ship_complete(context, allocation)
    stock = sum(min(ln.qty, available(context.atp, ln.sku, node.id)) for ln in context.lines)
    assessment = NodeAssessment(
        node.id, NodeVerdict.ELIGIBLE, "the order's store", ship_date=today, stock_units=stock
    )
    return _finish(
        context,
        PlanKind.STORE,
        decided_by=Decision.STORE_HANDOVER,
        why=why,
        shipments=shipments,
        short=short,
        nodes=(assessment,),
    )


# Routed orders.


def _plan_routed(context: _Context) -> Plan:
    order, rules = context.order, context.rules
    address = order.customer.shipping_address
    level = order.delivery.service_level
    sla = rules.service_levels.get(level)
    if address is None or sla is None:
        reason, why = (
            (ShortReason.NO_DESTINATION, "the order has no shipping address")
            if address is None
            else (ShortReason.UNKNOWN_SERVICE_LEVEL, f"no rule for service level {level.value}")
        )
        return _finish(
            context,
            PlanKind.ROUTED,
            decided_by=Decision.NO_CANDIDATE,
            why=why,
            short=_short_all(context.lines, reason),
        )
    deadline = delivery_deadline(order, rules, sla)
    assessed = [_assess(context, node, address.country, deadline, sla) for node in rules.nodes]
    assessed.sort(key=lambda pair: (preference_rank(rules, pair[0].node), pair[0].node))
    nodes = [assessment for assessment, _ in assessed]
    options = [option for _, option in assessed if option is not None]
    results = _search(context, options)
    best = results[0] if results else None
    decided_by, why = _decide(results, context)
    if best is None:
        shipments: tuple[Shipment, ...] = ()
        short = _short_all(context.lines, ShortReason.INSUFFICIENT_STOCK)
    else:
        shipments, short = _shipments(context, best.options, best.allocation, bundle=True)
    if short and best is not None and rules.allocation.partial is PartialAllocation.NONE:
        shipments, short = (), _ship_complete(context, best.allocation)
        decided_by, why = Decision.SHIP_COMPLETE, "the order ships complete or not at all"
    short = _classify(context, short, nodes)
    return _finish(
        context,
        PlanKind.ROUTED,
        decided_by=decided_by,
        why=why,
        shipments=shipments,
        short=short,
        deadline=deadline,
        nodes=nodes,
        results=results,
    )


def _assess(
    context: _Context, node: Node, country: str, deadline: date, sla: ServiceLevelRule
) -> tuple[NodeAssessment, _Option | None]:
    """A node's verdict for the order, and its best option when it is eligible.

    The best option is on time first, then cheapest, then soonest: a late pick's surcharge
    is only paid when the next day's regular pick would miss the promise.
    """
    order, rules = context.order, context.rules
    level = order.delivery.service_level
    if order.channel not in node.channels:
        return _excluded(node, NodeVerdict.WRONG_CHANNEL, f"does not serve {order.channel.value}")
    if not serves_destination(rules, node, country):
        return _excluded(node, NodeVerdict.OUT_OF_AREA, f"does not deliver to {country}")
    dispatches = dispatch_options(node, context.now)
    if not dispatches:
        return _excluded(node, NodeVerdict.CLOSED, "has no working day within a year")
    ship_by = order.delivery.cut_off
    latest_ship = local_time(node, ship_by).date() if ship_by is not None else None
    choices: list[_Option] = []
    for offer in sorted(node.carriers, key=lambda o: o.carrier):
        transit = transit_days(rules, offer, country)
        if level not in offer.service_levels or transit is None:
            continue
        for dispatch in dispatches:
            eta = delivery_date(offer, dispatch.ship_date, transit)
            if eta is None:
                continue
            cost = offer.cost.amount_minor
            if dispatch.late_pick and node.late_pick and node.late_pick.surcharge:
                cost += node.late_pick.surcharge.amount_minor
            on_time = eta <= deadline and (latest_ship is None or dispatch.ship_date <= latest_ship)
            choices.append(
                _Option(
                    node=node,
                    carrier=offer.carrier,
                    ship_date=dispatch.ship_date,
                    eta=eta,
                    cost=Money(cost, offer.cost.currency),
                    late_pick=dispatch.late_pick,
                    on_time=on_time,
                    rank=preference_rank(rules, node.id),
                )
            )
    if not choices:
        detail = f"no carrier offers {level.value} to {country}"
        return _excluded(node, NodeVerdict.NO_CARRIER, detail)
    best = min(choices, key=lambda o: (not o.on_time, o.cost.amount_minor, o.eta, o.carrier))
    stock = _stock_units(context, node.id)
    late = "" if best.on_time else f"ETA {best.eta} is after {deadline}"
    usable: _Option | None = None
    if late and sla.on_miss is SlaMiss.HOLD:
        verdict = NodeVerdict.MISSES_SLA
    elif stock == 0:
        verdict = NodeVerdict.NO_STOCK
    else:
        verdict, usable = NodeVerdict.ELIGIBLE, best
    assessment = NodeAssessment(
        node=node.id,
        verdict=verdict,
        detail=late if verdict is not NodeVerdict.NO_STOCK else "holds none of the order's SKUs",
        carrier=best.carrier,
        ship_date=best.ship_date,
        eta=best.eta,
        cost=best.cost,
        late_pick=best.late_pick,
        on_time=best.on_time,
        stock_units=stock,
    )
    return assessment, usable


def _excluded(node: Node, verdict: NodeVerdict, detail: str) -> tuple[NodeAssessment, None]:
    return NodeAssessment(node=node.id, verdict=verdict, detail=detail), None


def _stock_units(context: _Context, node_id: str) -> int:
    """Units of the order this node alone could supply (lines of one SKU share its stock)."""
    demand: dict[str, int] = {}
    for line in context.lines:
        demand[line.sku] = demand.get(line.sku, 0) + line.qty
    return sum(min(qty, available(context.atp, sku, node_id)) for sku, qty in demand.items())


def _search(context: _Context, options: Sequence[_Option]) -> list[_Result]:
    """Every distinct node set worth shipping from, best first, up to `max_splits` nodes.

    Sets grow one node at a time; once a set ships everything on time, bigger sets cannot
    win (they need more shipments), so the search stops one size later. Sets that end up
    using fewer nodes than they hold are the same candidate as that smaller set, counted once.
    """
    ranked = sorted(
        options,
        key=lambda o: (
            -_stock_units(context, o.node.id),
            not o.on_time,
            o.cost.amount_minor,
            o.eta,
            o.rank,
            o.node.id,
        ),
    )[:MAX_SEARCH_NODES]
    results: dict[tuple[str, ...], _Result] = {}
    evaluated = 0
    last_size = min(context.rules.max_splits, len(ranked))
    for size in range(1, last_size + 1):
        for group in itertools.combinations(ranked, size):
            evaluated += 1
            if evaluated > MAX_SEARCH_SETS:
                break
            result = _evaluate(context, group)
            if result is not None:
                results.setdefault(result.nodes, result)
        best = min(results.values(), key=lambda r: r.key, default=None)
        if best is not None and best.short == 0 and best.late == 0:
            # Bigger sets cannot win now; one size more is kept so the explanation can show
            # the split alternative the winner beat on fewest shipments.
            last_size = min(last_size, size + 1)
        if size >= last_size:
            break
    return sorted(results.values(), key=lambda r: r.key)


def _evaluate(context: _Context, group: Sequence[_Option]) -> _Result | None:
    """Allocate the order within a node set and score what it actually uses."""
    # Within a set, a line goes to the node that delivers it soonest (then preference, id).
    group = sorted(group, key=lambda o: (not o.on_time, o.eta, o.rank, o.node.id))
    allocation = _allocate(context, group)
    used_ids = {node for takes in allocation.values() for node, _ in takes}
    used = tuple(sorted((o for o in group if o.node.id in used_ids), key=lambda o: o.node.id))
    if not used:
        return None
    allocated = sum(qty for takes in allocation.values() for _, qty in takes)
    return _Result(
        options=used,
        allocation=allocation,
        allocated=allocated,
        short=sum(line.qty for line in context.lines) - allocated,
        late=sum(1 for o in used if not o.on_time),
        cost=sum(o.cost.amount_minor for o in used),
        eta=max(o.eta for o in used),
        preference=tuple(sorted(o.rank for o in used)),
    )


def _allocate(context: _Context, group: Sequence[_Option]) -> _Allocation:
    """Line id -> (node, units) taken, within `group`, never beyond the replica's ATP."""
    by_sku: dict[str, list[OrderLine]] = {}
    for line in context.lines:
        by_sku.setdefault(line.sku, []).append(line)
    allocation: _Allocation = {}
    for sku in sorted(by_sku):
        stock = [available(context.atp, sku, o.node.id) for o in group]
        taken = _assign(by_sku[sku], stock, context.rules)
        for line, takes in zip(by_sku[sku], taken, strict=True):
            allocation[line.line_id] = tuple(
                (group[index].node.id, qty) for index, qty in takes if qty > 0
            )
    return allocation


def _assign(
    lines: Sequence[OrderLine], stock: Sequence[int], rules: RuleSet
) -> list[list[tuple[int, int]]]:
    """Units per node index for each line of one SKU, as the allocation policy allows.

    With `split_lines` a line may draw on several nodes (one node that has it all first);
    otherwise each line comes from one node, chosen to allocate the most units, exhaustively
    while the combinations are few. `partial: units` lets a line take less than it asked.
    """
    partial = rules.allocation.partial is PartialAllocation.UNITS
    if rules.allocation.split_lines:
        return _assign_split(lines, list(stock), partial=partial)
    choices = len(stock) + 1  # every node, or none (index len(stock))
    if choices ** len(lines) > MAX_EXHAUSTIVE_ASSIGNMENTS:
        return _assign_greedy(lines, list(stock), partial=partial)
    best: list[list[tuple[int, int]]] = [[] for _ in lines]
    best_units = -1
    # Lexicographic order visits preferred nodes first, so the first maximum is kept.
    for picks in itertools.product(range(choices), repeat=len(lines)):
        remaining = list(stock)
        taken: list[list[tuple[int, int]]] = []
        for line, pick in zip(lines, picks, strict=True):
            qty = 0 if pick == len(stock) else _fit(line.qty, remaining[pick], partial=partial)
            if qty:
                remaining[pick] -= qty
            taken.append([(pick, qty)] if qty else [])
        units = sum(qty for takes in taken for _, qty in takes)
        if units > best_units:
            best, best_units = taken, units
    return best


def _fit(wanted: int, stock: int, *, partial: bool) -> int:
    """Units a line takes from one node's stock: all it wants, or (if partial) what there is."""
    if stock >= wanted:
        return wanted
    return stock if partial else 0


def _assign_greedy(
    lines: Sequence[OrderLine], stock: list[int], *, partial: bool
) -> list[list[tuple[int, int]]]:
    taken: list[list[tuple[int, int]]] = []
    for line in lines:
        whole = next((i for i, units in enumerate(stock) if units >= line.qty), None)
        index = whole if whole is not None else max(range(len(stock)), key=lambda i: stock[i])
        qty = _fit(line.qty, stock[index], partial=partial)
        stock[index] -= qty
        taken.append([(index, qty)] if qty else [])
    return taken


def _assign_split(
    lines: Sequence[OrderLine], stock: list[int], *, partial: bool
) -> list[list[tuple[int, int]]]:
    taken: list[list[tuple[int, int]]] = []
    for line in lines:
        whole = next((i for i, units in enumerate(stock) if units >= line.qty), None)
        takes: list[tuple[int, int]] = []
        if whole is not None:
            takes = [(whole, line.qty)]
        elif partial or sum(stock) >= line.qty:
            need = line.qty
            for index, units in enumerate(stock):
                if need and units:
                    takes.append((index, min(need, units)))
                    need -= min(need, units)
        for index, qty in takes:
            stock[index] -= qty
        taken.append(takes)
    return taken


def _shipments(
    context: _Context,
    options: Sequence[_Option],
    allocation: _Allocation,
    *,
    bundle: bool,
) -> tuple[tuple[Shipment, ...], tuple[ShortLine, ...]]:
    """Shipments per used node, and the units of each line left over."""
    shipments = []
    for option in options:
        lines = tuple(
            PlannedLine(line.line_id, line.sku, qty)
            for line in context.lines
            for node, qty in allocation.get(line.line_id, ())
            if node == option.node.id
        )
        if not lines:
            continue
        key = ""
        if bundle and context.rules.bundling.enabled:
            key = bundle_key(
                context.order,
                option.node.id,
                option.carrier,
                option.ship_date,
                context.bundle_secret,
            )
        shipments.append(
            Shipment(
                node=option.node.id,
                carrier=option.carrier,
                lines=lines,
                ship_date=option.ship_date,
                eta=option.eta,
                cost=option.cost,
                on_time=option.on_time,
                late_pick=option.late_pick,
                bundle_key=key,
            )
        )
    short = []
    for line in context.lines:
        missing = line.qty - sum(qty for _, qty in allocation.get(line.line_id, ()))
        if missing > 0:
            short.append(ShortLine(line.line_id, line.sku, missing, ShortReason.INSUFFICIENT_STOCK))
    return tuple(shipments), tuple(short)


def _ship_complete(context: _Context, allocation: _Allocation) -> tuple[ShortLine, ...]:
    """Ship complete: nothing leaves; allocatable units wait with the short ones."""
    short = []
    for line in context.lines:
        allocated = sum(qty for _, qty in allocation.get(line.line_id, ()))
        if allocated:
            short.append(ShortLine(line.line_id, line.sku, allocated, ShortReason.SHIP_COMPLETE))
        if line.qty > allocated:
            missing = line.qty - allocated
            short.append(ShortLine(line.line_id, line.sku, missing, ShortReason.INSUFFICIENT_STOCK))
    return tuple(short)


def _classify(
    context: _Context, short: Sequence[ShortLine], nodes: Sequence[NodeAssessment]
) -> tuple[ShortLine, ...]:
    """Say why short units are short, so that waiting for stock is only chosen where it helps.

    No node can ship there at all: no eligible node (held). The stock sits only where the
    promise cannot be kept: SLA unachievable (held). The eligible nodes hold enough but not
    within the split rules: split limit. Otherwise: insufficient stock.
    """
    usable = [n.node for n in nodes if n.verdict in (NodeVerdict.ELIGIBLE, NodeVerdict.NO_STOCK)]
    too_late = [n.node for n in nodes if n.verdict is NodeVerdict.MISSES_SLA]
    # Units of each SKU the plan takes (or would take, when it ships complete or not at all).
    taken: dict[str, int] = {}
    for line in context.lines:
        taken[line.sku] = taken.get(line.sku, 0) + line.qty
    for item in short:
        if item.reason is not ShortReason.SHIP_COMPLETE:
            taken[item.sku] -= item.qty
    classified = []
    for item in short:
        reason = item.reason
        if reason is ShortReason.INSUFFICIENT_STOCK:
            reach = sum(available(context.atp, item.sku, n) for n in usable)
            late = sum(available(context.atp, item.sku, n) for n in too_late)
            if not usable and not too_late:
                reason = ShortReason.NO_ELIGIBLE_NODE
            elif reach - taken[item.sku] >= item.qty:
                reason = ShortReason.SPLIT_LIMIT
            elif late >= item.qty or not usable:
                reason = ShortReason.SLA_UNACHIEVABLE
        classified.append(msgspec.structs.replace(item, reason=reason))
    return tuple(classified)


def _short_all(lines: Iterable[OrderLine], reason: ShortReason) -> tuple[ShortLine, ...]:
    return tuple(ShortLine(line.line_id, line.sku, line.qty, reason) for line in lines)


def _decide(results: Sequence[_Result], context: _Context) -> tuple[Decision, str]:
    """The deciding rule: the first score where the winner beats the runner-up."""
    if not results:
        return Decision.NO_CANDIDATE, "no eligible node holds any of the order's units"
    best = results[0]
    if len(results) == 1:
        return Decision.ONLY_CANDIDATE, f"{_name(best)} is the only node set that can ship"
    runner = results[1]
    index = next(i for i, (a, b) in enumerate(zip(best.key, runner.key, strict=True)) if a != b)
    rule = _SCORE_RULES[index]
    won, lost = _name(best), _name(runner)
    currency = _currency(context)
    why = {
        Decision.COVERAGE: f"{won} allocates {best.allocated} units, {lost} {runner.allocated}",
        Decision.SLA: f"{won} has {best.late} late shipment(s), {lost} {runner.late}",
        Decision.FEWEST_SHIPMENTS: f"{won} needs {len(best.options)} shipment(s), "
        f"{lost} {len(runner.options)}",
        Decision.LOWEST_COST: f"{won} costs {_money(best.cost, currency)}, "
        f"{lost} {_money(runner.cost, currency)}",
        Decision.EARLIEST_ETA: f"{won} delivers by {best.eta}, {lost} by {runner.eta}",
        Decision.NODE_PREFERENCE: f"node preference ranks {won} before {lost}",
        Decision.NODE_ID: f"equal on every rule; {won} sorts before {lost} by node id",
    }[rule]
    return rule, why


def _name(result: _Result) -> str:
    return "+".join(result.nodes)


def _money(amount_minor: int, currency: str) -> str:
    return f"{Money(amount_minor, currency).to_decimal()} {currency}"
