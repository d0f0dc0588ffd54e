"""The candidate search: every location set worth shipping from, scored and ranked.

A candidate's score is compared left to right, smaller first: units short (coverage), late
shipments (SLA), shipments, total cost, ETA of the last parcel, location preference, then
location ids, so every ranking is a total order and the plan deterministic. Within a set, a
line goes to the location that delivers it soonest (then preference, id). The search is
bounded: the best `MAX_SEARCH_LOCATIONS`, at most `max_splits` per set, `MAX_SEARCH_SETS` sets.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date

import msgspec

from .model import OrderLine
from .plan_assign import assign
from .plan_inputs import LocationOption, PlanInputs, stock_units
from .plan_types import available

MAX_SEARCH_LOCATIONS = 10
"""Locations that enter the combination search, best first; keeps the search small."""

MAX_SEARCH_SETS = 2_000
"""Location sets evaluated at most per order (10 locations up to 4 splits is 385)."""

LineAssignment = dict[str, tuple[tuple[str, int], ...]]
"""Line id -> the (location id, units) it takes from each location."""


class CandidateSet(msgspec.Struct, frozen=True):
    """One evaluated location set: who ships what, and its score in rule order (`key`)."""

    options: tuple[LocationOption, ...]
    assignment: LineAssignment
    allocated: int
    short: int
    late: int
    cost: int
    eta: date
    preference: tuple[int, ...]

    @property
    def locations(self) -> tuple[str, ...]:
        return tuple(option.location.id for option in self.options)

    @property
    def key(self) -> tuple[int, int, int, int, date, tuple[int, ...], tuple[str, ...]]:
        """Compared left to right in `plan_explain.SCORE_RULES` order; smaller is better."""
        return (
            self.short,
            self.late,
            len(self.options),
            self.cost,
            self.eta,
            self.preference,
            self.locations,
        )


def search(inputs: PlanInputs, options: Sequence[LocationOption]) -> list[CandidateSet]:
    """Every distinct location set worth shipping from, best first, up to `max_splits` of them.

    Sets grow one location at a time; once a set ships everything on time, bigger sets cannot
    win (they need more shipments), so the search stops one size later. Sets that end up
    using fewer locations than they hold are the same candidate as that smaller set, counted
    once.
    """
    ranked = sorted(
        options,
        key=lambda o: (
            -stock_units(inputs, o.location.id),
            not o.on_time,
            o.cost.amount_minor,
            o.eta,
            o.rank,
            o.location.id,
        ),
    )[:MAX_SEARCH_LOCATIONS]
    results: dict[tuple[str, ...], CandidateSet] = {}
    evaluated = 0
    last_size = min(inputs.rules.max_splits, len(ranked))
    for size in range(1, last_size + 1):
        for group in itertools.combinations(ranked, size):
            evaluated += 1
            if evaluated > MAX_SEARCH_SETS:
                break
            result = _evaluate(inputs, group)
            if result is not None:
                results.setdefault(result.locations, result)
        best = min(results.values(), key=lambda r: r.key, default=None)
        if best is not None and best.short == 0 and best.late == 0:
            # Bigger sets cannot win now; one size more is kept so the explanation can show
            # the split alternative the winner beat on fewest shipments.
            last_size = min(last_size, size + 1)
        if size >= last_size:
            break
    return sorted(results.values(), key=lambda r: r.key)


def _evaluate(inputs: PlanInputs, group: Sequence[LocationOption]) -> CandidateSet | None:
    """Allocate the order within a location set and score what it actually uses."""
    group = sorted(group, key=lambda o: (not o.on_time, o.eta, o.rank, o.location.id))
    assignment = assign_lines(inputs, group)
    used_ids = {location for takes in assignment.values() for location, _ in takes}
    used = tuple(
        sorted((o for o in group if o.location.id in used_ids), key=lambda o: o.location.id)
    )
    if not used:
        return None
    allocated = sum(qty for takes in assignment.values() for _, qty in takes)
    return CandidateSet(
        options=used,
        assignment=assignment,
        allocated=allocated,
        short=sum(line.qty for line in inputs.lines) - allocated,
        late=sum(1 for o in used if not o.on_time),
        cost=sum(o.cost.amount_minor for o in used),
        eta=max(o.eta for o in used),
        preference=tuple(sorted(o.rank for o in used)),
    )


def assign_lines(inputs: PlanInputs, group: Sequence[LocationOption]) -> LineAssignment:
    """Line id -> (location id, units) taken, within `group`, never beyond the replica's ATP."""
    by_sku: dict[str, list[OrderLine]] = {}
    for line in inputs.lines:
        by_sku.setdefault(line.sku, []).append(line)
    assignment: LineAssignment = {}
    for sku in sorted(by_sku):
        stock = [available(inputs.atp, sku, o.location.id) for o in group]
        taken = assign(by_sku[sku], stock, inputs.rules)
        for line, takes in zip(by_sku[sku], taken, strict=True):
            assignment[line.line_id] = tuple(
                (group[index].location.id, qty) for index, qty in takes if qty > 0
            )
    return assignment
