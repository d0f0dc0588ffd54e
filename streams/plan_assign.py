"""How the lines of one SKU take units from a set of locations, as the allocation policy allows.

No line takes beyond a location's stock. With `split_lines` a line may draw on several
locations (one that has it all first); otherwise each line comes from one location, chosen to
allocate the most units, exhaustively while the combinations are few and greedily beyond.
`partial: units` lets a line take less than it asked.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from .model import OrderLine
from .routing import PartialAllocation, RuleSet

MAX_EXHAUSTIVE_ASSIGNMENTS = 4_096
"""Line-to-location assignments tried exhaustively per SKU before falling back to greedy."""

Takes = list[list[tuple[int, int]]]
"""Per line, the (location index, units) it takes."""


def assign(lines: Sequence[OrderLine], stock: Sequence[int], rules: RuleSet) -> Takes:
    """Units per location index for each line of one SKU; `stock` is per location index."""
    partial = rules.allocation.partial is PartialAllocation.UNITS
    if rules.allocation.split_lines:
        return _assign_split(lines, list(stock), partial=partial)
    choices = len(stock) + 1  # every location, or none (index len(stock))
    if choices ** len(lines) > MAX_EXHAUSTIVE_ASSIGNMENTS:
        return _assign_greedy(lines, list(stock), partial=partial)
    best: Takes = [[] for _ in lines]
    best_units = -1
    # Lexicographic order visits preferred locations first, so the first maximum is kept.
    for picks in itertools.product(range(choices), repeat=len(lines)):
        remaining = list(stock)
        taken: Takes = []
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
    """Units a line takes from one location's stock: all it wants, or (if partial) what's there."""
    if stock >= wanted:
        return wanted
    return stock if partial else 0


def _assign_greedy(lines: Sequence[OrderLine], stock: list[int], *, partial: bool) -> Takes:
    taken: Takes = []
    for line in lines:
        whole = next((i for i, units in enumerate(stock) if units >= line.qty), None)
        index = whole if whole is not None else max(range(len(stock)), key=lambda i: stock[i])
        qty = _fit(line.qty, stock[index], partial=partial)
        stock[index] -= qty
        taken.append([(index, qty)] if qty else [])
    return taken


def _assign_split(lines: Sequence[OrderLine], stock: list[int], *, partial: bool) -> Takes:
    taken: Takes = []
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
