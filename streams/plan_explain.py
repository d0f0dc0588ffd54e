"""The plan and its explanation: which rule decided, for people and for machines.

The deciding rule is the first score on which the winning candidate beats the runner-up, in
the order of `SCORE_RULES`. The summary counts allocated, backordered, held and external
units; the explanation keeps every location's verdict and the best `MAX_CANDIDATES_SHOWN`
candidates with the count of all evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from .money import Money
from .plan_inputs import PlanInputs, plan_currency
from .plan_search import CandidateSet
from .plan_types import (
    CandidateScore,
    DecidingRule,
    Explanation,
    LocationAssessment,
    Plan,
    PlanKind,
    Shipment,
    ShortLine,
)
from .shortages import split_short

MAX_CANDIDATES_SHOWN = 10
"""Candidates kept in an explanation; the count of all evaluated ones is kept too."""

SCORE_RULES = (
    DecidingRule.COVERAGE,
    DecidingRule.SLA,
    DecidingRule.FEWEST_SHIPMENTS,
    DecidingRule.LOWEST_COST,
    DecidingRule.EARLIEST_ETA,
    DecidingRule.LOCATION_PREFERENCE,
    DecidingRule.LOCATION_ID,
)
"""The rules in the order of `CandidateSet.key`."""


def deciding_rule(results: Sequence[CandidateSet], inputs: PlanInputs) -> tuple[DecidingRule, str]:
    """The deciding rule and why: the first score where the winner beats the runner-up."""
    if not results:
        return DecidingRule.NO_CANDIDATE, "no eligible node holds any of the order's units"
    best = results[0]
    if len(results) == 1:
        return DecidingRule.ONLY_CANDIDATE, f"{_name(best)} is the only node set that can ship"
    runner = results[1]
    index = next(i for i, (a, b) in enumerate(zip(best.key, runner.key, strict=True)) if a != b)
    rule = SCORE_RULES[index]
    won, lost = _name(best), _name(runner)
    currency = plan_currency(inputs)
    why = {
        DecidingRule.COVERAGE: f"{won} allocates {best.allocated} units, {lost} {runner.allocated}",
        DecidingRule.SLA: f"{won} has {best.late} late shipment(s), {lost} {runner.late}",
        DecidingRule.FEWEST_SHIPMENTS: f"{won} needs {len(best.options)} shipment(s), "
        f"{lost} {len(runner.options)}",
        DecidingRule.LOWEST_COST: f"{won} costs {_money(best.cost, currency)}, "
        f"{lost} {_money(runner.cost, currency)}",
        DecidingRule.EARLIEST_ETA: f"{won} delivers by {best.eta}, {lost} by {runner.eta}",
        DecidingRule.LOCATION_PREFERENCE: f"node preference ranks {won} before {lost}",
        DecidingRule.LOCATION_ID: f"equal on every rule; {won} sorts before {lost} by node id",
    }[rule]
    return rule, why


def finish_plan(
    inputs: PlanInputs,
    kind: PlanKind,
    *,
    decided_by: DecidingRule,
    why: str,
    shipments: Iterable[Shipment] = (),
    short: Iterable[ShortLine] = (),
    deadline: date | None = None,
    assessed: Sequence[LocationAssessment] = (),
    results: Sequence[CandidateSet] = (),
) -> Plan:
    """Assemble the plan: short units go to backorder or hold, and the summary is written."""
    shipments = tuple(sorted(shipments, key=lambda s: (s.location, s.carrier)))
    backordered, held = split_short(inputs, short)
    units = sum(line.qty for line in inputs.lines)
    allocated = sum(line.qty for shipment in shipments for line in shipment.lines)
    summary = (
        f"{allocated} of {units} units in {len(shipments)} shipment(s)"
        + "".join(f", {s.location}" + (f" via {s.carrier}" if s.carrier else "") for s in shipments)
        + f"; {sum(s.qty for s in backordered)} backordered, {sum(s.qty for s in held)} held"
        + (f", {len(inputs.external)} line(s) external" if inputs.external else "")
        + f"; decided by {decided_by.value}: {why}"
    )
    return Plan(
        oms_order_id=inputs.order.oms_order_id,
        kind=kind,
        priority=sum(part.points for part in inputs.priority),
        shipments=shipments,
        backordered=backordered,
        held=held,
        external=inputs.external,
        explanation=Explanation(
            decided_by=decided_by,
            summary=summary,
            rules=inputs.rules.name,
            rules_revision=inputs.rules.revision,
            deadline=deadline,
            priority=inputs.priority,
            locations=tuple(assessed),
            candidates=tuple(
                _candidate(rank, result, inputs)
                for rank, result in enumerate(results[:MAX_CANDIDATES_SHOWN], start=1)
            ),
            candidates_evaluated=len(results),
        ),
    )


def _candidate(rank: int, result: CandidateSet, inputs: PlanInputs) -> CandidateScore:
    return CandidateScore(
        rank=rank,
        locations=result.locations,
        allocated_units=result.allocated,
        short_units=result.short,
        late_shipments=result.late,
        shipments=len(result.options),
        cost=Money(result.cost, plan_currency(inputs)),
        eta=result.eta,
        preference=result.preference,
    )


def _name(result: CandidateSet) -> str:
    return "+".join(result.locations)


def _money(amount_minor: int, currency: str) -> str:
    return f"{Money(amount_minor, currency).to_decimal()} {currency}"
