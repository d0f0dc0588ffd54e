"""Which locations may ship an order, and each one's best option.

A location is eligible when it serves the order's channel and destination (country or zone),
has a working day to pick on and a carrier offering the service level there. Its best option
is on time first, then cheapest, then soonest: a late pick's surcharge is only paid when the
next day's regular pick would miss the promise. A location whose best option is late is
excluded only where the SLA rule holds on a miss.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from .model import Order
from .money import Money
from .plan_inputs import LocationOption, PlanInputs, stock_units
from .plan_types import LocationAssessment, LocationVerdict
from .routing import (
    Location,
    RuleSet,
    ServiceLevelRule,
    SlaMiss,
    preference_rank,
    serves_destination,
    transit_days,
)
from .routing_calendar import delivery_date, dispatch_options, local_time


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


def assess_location(
    inputs: PlanInputs, location: Location, country: str, deadline: date, sla: ServiceLevelRule
) -> tuple[LocationAssessment, LocationOption | None]:
    """A location's verdict for the order, and its best option when it is eligible."""
    order, rules = inputs.order, inputs.rules
    level = order.delivery.service_level
    if order.channel not in location.channels:
        detail = f"does not serve {order.channel.value}"
        return _excluded(location, LocationVerdict.WRONG_CHANNEL, detail)
    if not serves_destination(rules, location, country):
        return _excluded(location, LocationVerdict.OUT_OF_AREA, f"does not deliver to {country}")
    dispatches = dispatch_options(location, inputs.now)
    if not dispatches:
        return _excluded(location, LocationVerdict.CLOSED, "has no working day within a year")
    ship_by = order.delivery.cut_off
    latest_ship = local_time(location, ship_by).date() if ship_by is not None else None
    choices: list[LocationOption] = []
    for offer in sorted(location.carriers, key=lambda o: o.carrier):
        transit = transit_days(rules, offer, country)
        if level not in offer.service_levels or transit is None:
            continue
        for dispatch in dispatches:
            eta = delivery_date(offer, dispatch.ship_date, transit)
            if eta is None:
                continue
            cost = offer.cost.amount_minor
            if dispatch.late_pick and location.late_pick and location.late_pick.surcharge:
                cost += location.late_pick.surcharge.amount_minor
            on_time = eta <= deadline and (latest_ship is None or dispatch.ship_date <= latest_ship)
            choices.append(
                LocationOption(
                    location=location,
                    carrier=offer.carrier,
                    ship_date=dispatch.ship_date,
                    eta=eta,
                    cost=Money(cost, offer.cost.currency),
                    late_pick=dispatch.late_pick,
                    on_time=on_time,
                    rank=preference_rank(rules, location.id),
                )
            )
    if not choices:
        detail = f"no carrier offers {level.value} to {country}"
        return _excluded(location, LocationVerdict.NO_CARRIER, detail)
    best = min(choices, key=lambda o: (not o.on_time, o.cost.amount_minor, o.eta, o.carrier))
    stock = stock_units(inputs, location.id)
    late = "" if best.on_time else f"ETA {best.eta} is after {deadline}"
    usable: LocationOption | None = None
    if late and sla.on_miss is SlaMiss.HOLD:
        verdict = LocationVerdict.MISSES_SLA
    elif stock == 0:
        verdict = LocationVerdict.NO_STOCK
    else:
        verdict, usable = LocationVerdict.ELIGIBLE, best
    no_stock = verdict is LocationVerdict.NO_STOCK
    assessment = LocationAssessment(
        location=location.id,
        verdict=verdict,
        detail="holds none of the order's SKUs" if no_stock else late,
        carrier=best.carrier,
        ship_date=best.ship_date,
        eta=best.eta,
        cost=best.cost,
        late_pick=best.late_pick,
        on_time=best.on_time,
        stock_units=stock,
    )
    return assessment, usable


def _excluded(
    location: Location, verdict: LocationVerdict, detail: str
) -> tuple[LocationAssessment, None]:
    return LocationAssessment(location=location.id, verdict=verdict, detail=detail), None
