"""Why units are short, and whether they wait for stock (backorder) or for a person (hold).

Short units wait for stock only where the channel's backorder policy says so and waiting can
help: a missing destination, service level or pickup store, no eligible location, or a promise
no location can keep are held whatever the policy says.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from .model import OrderLine
from .plan_inputs import PlanInputs
from .plan_search import LineAssignment
from .plan_types import LocationAssessment, LocationVerdict, ShortLine, ShortReason, available
from .routing import ShortageAction

# Waiting for stock cannot fix these, so they are held whatever the backorder policy says.
ALWAYS_HELD = frozenset(
    {
        ShortReason.SLA_UNACHIEVABLE,
        ShortReason.NO_ELIGIBLE_LOCATION,
        ShortReason.NO_DESTINATION,
        ShortReason.UNKNOWN_SERVICE_LEVEL,
        ShortReason.UNKNOWN_PICKUP_LOCATION,
    }
)


def split_short(
    inputs: PlanInputs, short: Iterable[ShortLine]
) -> tuple[tuple[ShortLine, ...], tuple[ShortLine, ...]]:
    """Short units as (backordered, held), each sorted by line id and reason."""
    action = inputs.rules.backorders.action_for(inputs.order.channel)
    ordered = tuple(sorted(short, key=lambda s: (s.line_id, s.reason)))
    waits = [action is ShortageAction.BACKORDER and s.reason not in ALWAYS_HELD for s in ordered]
    backordered = tuple(s for s, wait in zip(ordered, waits, strict=True) if wait)
    held = tuple(s for s, wait in zip(ordered, waits, strict=True) if not wait)
    return backordered, held


def ship_complete(inputs: PlanInputs, assignment: LineAssignment) -> tuple[ShortLine, ...]:
    """Ship complete: nothing leaves; allocatable units wait with the short ones."""
    short = []
    for line in inputs.lines:
        allocated = sum(qty for _, qty in assignment.get(line.line_id, ()))
        if allocated:
            short.append(ShortLine(line.line_id, line.sku, allocated, ShortReason.SHIP_COMPLETE))
        if line.qty > allocated:
            missing = line.qty - allocated
            short.append(ShortLine(line.line_id, line.sku, missing, ShortReason.INSUFFICIENT_STOCK))
    return tuple(short)


def classify(
    inputs: PlanInputs, short: Sequence[ShortLine], assessed: Sequence[LocationAssessment]
) -> tuple[ShortLine, ...]:
    """Say why short units are short, so that waiting for stock is only chosen where it helps.

    No location can ship there at all: no eligible location (held). The stock sits only where the
    promise cannot be kept: SLA unachievable (held). The eligible locations hold enough but
    not within the split rules: split limit. Otherwise: insufficient stock.
    """
    reachable = (LocationVerdict.ELIGIBLE, LocationVerdict.NO_STOCK)
    usable = [a.location for a in assessed if a.verdict in reachable]
    too_late = [a.location for a in assessed if a.verdict is LocationVerdict.MISSES_SLA]
    # Units of each SKU the plan takes (or would take, when it ships complete or not at all).
    taken: dict[str, int] = {}
    for line in inputs.lines:
        taken[line.sku] = taken.get(line.sku, 0) + line.qty
    for item in short:
        if item.reason is not ShortReason.SHIP_COMPLETE:
            taken[item.sku] -= item.qty
    classified = []
    for item in short:
        reason = item.reason
        if reason is ShortReason.INSUFFICIENT_STOCK:
            reach = sum(available(inputs.atp, item.sku, loc) for loc in usable)
            late = sum(available(inputs.atp, item.sku, loc) for loc in too_late)
            if not usable and not too_late:
                reason = ShortReason.NO_ELIGIBLE_LOCATION
            elif reach - taken[item.sku] >= item.qty:
                reason = ShortReason.SPLIT_LIMIT
            elif late >= item.qty or not usable:
                reason = ShortReason.SLA_UNACHIEVABLE
        classified.append(msgspec.structs.replace(item, reason=reason))
    return tuple(classified)


def short_all(lines: Iterable[OrderLine], reason: ShortReason) -> tuple[ShortLine, ...]:
    return tuple(ShortLine(line.line_id, line.sku, line.qty, reason) for line in lines)
