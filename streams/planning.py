"""The order planner: which location ships which units, by which carrier, and why.

`plan` works on a replica of ATP (possibly stale: the SKU's ledger confirms or refuses the
reservations afterwards) and a rule set, at an instant `now` it is handed. The same inputs
give the same plan. Every line ends allocated, backordered, held or external, with quantities
summing to what was ordered. Marketplace-fulfilled orders and lines are not routed, store
orders are handed over at their store, and every other order goes to the best candidate of
the search (`plan_search`) among the eligible locations (`eligibility`).
"""

from __future__ import annotations

from datetime import datetime

from .eligibility import assess_location, delivery_deadline
from .model import FulfilmentMode, Order, ServiceLevel
from .money import zero
from .plan_explain import deciding_rule, finish_plan
from .plan_inputs import LocationOption, PlanInputs, plan_currency
from .plan_priority import priority_of
from .plan_search import LineAssignment, assign_lines, search
from .plan_types import (
    Atp,
    DecidingRule,
    LocationAssessment,
    LocationVerdict,
    Plan,
    PlanKind,
    PlannedLine,
    Shipment,
    ShortReason,
    available,
)
from .routing import PartialAllocation, RuleSet, preference_rank
from .routing_calendar import local_time
from .shipments import build_shipments
from .shortages import classify, ship_complete, short_all


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

    Store orders go to their pickup location (`delivery.pickup_location`, else `store_id`).
    `replenishing` marks a re-plan of a backorder, which the priority rules may boost.
    `bundle_secret` keys the bundle keys; required when the rules enable bundling.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    marketplace = order.delivery.fulfilment_mode is FulfilmentMode.MARKETPLACE
    ordered = sorted(order.lines, key=lambda line: line.line_id)
    inputs = PlanInputs(
        order=order,
        atp=atp,
        rules=rules,
        now=now,
        priority=priority_of(order, rules, replenishing=replenishing),
        lines=tuple(ln for ln in ordered if not (marketplace or ln.marketplace_fulfilled)),
        external=tuple(
            PlannedLine(ln.line_id, ln.sku, ln.qty)
            for ln in ordered
            if marketplace or ln.marketplace_fulfilled
        ),
        bundle_secret=bundle_secret,
    )
    if not inputs.lines:
        return finish_plan(
            inputs,
            PlanKind.MARKETPLACE,
            decided_by=DecidingRule.MARKETPLACE_FULFILLED,
            why="the marketplace fulfils every line; nothing is routed",
        )
    level = order.delivery.service_level
    if order.delivery.fulfilment_mode is FulfilmentMode.STORE or level is ServiceLevel.CARRY_OUT:
        return _plan_store(inputs)
    return _plan_routed(inputs)


def _plan_store(inputs: PlanInputs) -> Plan:
    """A store sale is handed over at its store; no routing, no carrier.

    A carry-out sale already left the shop with the customer, so all of it is allocated even
    where the (possibly stale) replica shows less; the ledger reports the shortage. Other store
    orders (reserve and collect) take what the store's ATP has, like any allocation.
    """
    order, rules = inputs.order, inputs.rules
    location_id = order.delivery.pickup_location or order.store_id
    location = next((n for n in rules.locations if n.id == location_id), None)
    if location is None:
        return finish_plan(
            inputs,
            PlanKind.STORE,
            decided_by=DecidingRule.NO_CANDIDATE,
            why=f"pickup node {location_id!r} is not in the rule set",
            short=short_all(inputs.lines, ShortReason.UNKNOWN_PICKUP_LOCATION),
        )
    today = local_time(location, inputs.now).date()
    option = LocationOption(location, "", today, today, zero(plan_currency(inputs)), False, True, 0)
    if order.delivery.service_level is ServiceLevel.CARRY_OUT:
        assignment: LineAssignment = {ln.line_id: ((location.id, ln.qty),) for ln in inputs.lines}
        why = f"carry-out sale handed over at {location.id}"
    else:
        assignment = assign_lines(inputs, (option,))
        why = f"store order collected at {location.id}"
    shipments, short = build_shipments(inputs, (option,), assignment, bundle=False)
    if short and rules.allocation.partial is PartialAllocation.NONE:
        shipments, short = (), ship_complete(inputs, assignment)
    stock = sum(min(ln.qty, available(inputs.atp, ln.sku, location.id)) for ln in inputs.lines)
    assessment = LocationAssessment(
        location.id,
        LocationVerdict.ELIGIBLE,
        "the order's store",
        ship_date=today,
        stock_units=stock,
    )
    return finish_plan(
        inputs,
        PlanKind.STORE,
        decided_by=DecidingRule.STORE_HANDOVER,
        why=why,
        shipments=shipments,
        short=short,
        assessed=(assessment,),
    )


def _plan_routed(inputs: PlanInputs) -> Plan:
    order, rules = inputs.order, inputs.rules
    address = order.customer.shipping_address
    level = order.delivery.service_level
    sla = rules.service_levels.get(level)
    if address is None or sla is None:
        reason, why = (
            (ShortReason.NO_DESTINATION, "the order has no shipping address")
            if address is None
            else (ShortReason.UNKNOWN_SERVICE_LEVEL, f"no rule for service level {level.value}")
        )
        return finish_plan(
            inputs,
            PlanKind.ROUTED,
            decided_by=DecidingRule.NO_CANDIDATE,
            why=why,
            short=short_all(inputs.lines, reason),
        )
    deadline = delivery_deadline(order, rules, sla)
    pairs = [
        assess_location(inputs, location, address.country, deadline, sla)
        for location in rules.locations
    ]
    pairs.sort(key=lambda pair: (preference_rank(rules, pair[0].location), pair[0].location))
    assessed = [assessment for assessment, _ in pairs]
    options = [option for _, option in pairs if option is not None]
    results = search(inputs, options)
    best = results[0] if results else None
    decided_by, why = deciding_rule(results, inputs)
    if best is None:
        shipments: tuple[Shipment, ...] = ()
        short = short_all(inputs.lines, ShortReason.INSUFFICIENT_STOCK)
    else:
        shipments, short = build_shipments(inputs, best.options, best.assignment, bundle=True)
    if short and best is not None and rules.allocation.partial is PartialAllocation.NONE:
        shipments, short = (), ship_complete(inputs, best.assignment)
        decided_by, why = DecidingRule.SHIP_COMPLETE, "the order ships complete or not at all"
    short = classify(inputs, short, assessed)
    return finish_plan(
        inputs,
        PlanKind.ROUTED,
        decided_by=decided_by,
        why=why,
        shipments=shipments,
        short=short,
        deadline=deadline,
        assessed=assessed,
        results=results,
    )
