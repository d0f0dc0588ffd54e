"""The order and return lifecycles accept exactly the transitions their tables list."""

from __future__ import annotations

import itertools

import pytest

from orderstream.streams.status import (
    ORDER_TRANSITIONS,
    RETURN_TRANSITIONS,
    Moved,
    OrderStatus,
    Refused,
    ReturnStatus,
    is_terminal_order,
    is_terminal_return,
    transition_order,
    transition_return,
)

O = OrderStatus
R = ReturnStatus

LEGAL_ORDER = [(src, dst) for src, targets in ORDER_TRANSITIONS.items() for dst in targets]
LEGAL_RETURN = [(src, dst) for src, targets in RETURN_TRANSITIONS.items() for dst in targets]

# Illegal moves an OMS must never make, named one by one so the table cannot drift into them.
ILLEGAL_ORDER = [
    (None, O.ALLOCATED),  # nothing is allocated before it is placed
    (None, O.SHIPPED),
    (O.PLACED, O.SHIPPED),  # no shipping without allocation and picking
    (O.PLACED, O.PICKED),
    (O.ON_HOLD, O.PICKED),  # a held order is released through allocation
    (O.BACKORDERED, O.PICKED),
    (O.ALLOCATED, O.SHIPPED),  # pick and pack come first
    (O.PICKED, O.SHIPPED),
    (O.SHIPPED, O.CANCELLED),  # a parcel on its way is a return, not a cancellation
    (O.IN_TRANSIT, O.CANCELLED),
    (O.DELIVERED, O.CANCELLED),
    (O.DELIVERED, O.IN_TRANSIT),
    (O.CANCELLED, O.PLACED),
    (O.CANCELLED, O.ALLOCATED),
    (O.SHIPPED, O.PLACED),
    (O.PLACED, O.PLACED),  # no self loops: a repeated status is a duplicate, not a move
    (O.ALLOCATED, O.ALLOCATED),
]

ILLEGAL_RETURN = [
    (None, R.RMA_RECEIVED),
    (None, R.CREDITED),
    (R.RMA_CREATED, R.RMA_RECEIVED),  # approval first
    (R.RMA_CREATED, R.CREDITED),
    (R.RMA_APPROVED, R.CREDITED),  # no credit for goods we do not hold
    (R.RMA_RECEIVED, R.CREDITED),  # nor for goods nobody inspected
    (R.RMA_REJECTED, R.RMA_APPROVED),
    (R.CREDITED, R.RMA_CREATED),
    (R.CREDITED, R.CREDITED),
]


@pytest.mark.parametrize(("src", "dst"), LEGAL_ORDER, ids=str)
def test_every_listed_order_transition_moves(src: OrderStatus | None, dst: OrderStatus) -> None:
    assert transition_order(src, dst) == Moved(came_from=src, to=dst)


@pytest.mark.parametrize(("src", "dst"), ILLEGAL_ORDER, ids=str)
def test_illegal_order_transitions_are_refused(src: OrderStatus | None, dst: OrderStatus) -> None:
    outcome = transition_order(src, dst)
    assert isinstance(outcome, Refused)
    assert outcome.current == src
    assert outcome.requested == dst


@pytest.mark.parametrize(("src", "dst"), LEGAL_RETURN, ids=str)
def test_every_listed_return_transition_moves(
    src: ReturnStatus | None, dst: ReturnStatus
) -> None:
    assert transition_return(src, dst) == Moved(came_from=src, to=dst)


@pytest.mark.parametrize(("src", "dst"), ILLEGAL_RETURN, ids=str)
def test_illegal_return_transitions_are_refused(
    src: ReturnStatus | None, dst: ReturnStatus
) -> None:
    assert isinstance(transition_return(src, dst), Refused)


def test_the_tables_cover_every_status_and_only_final_ones_are_terminal() -> None:
    assert set(ORDER_TRANSITIONS) == {None, *OrderStatus}
    assert set(RETURN_TRANSITIONS) == {None, *ReturnStatus}
    assert {s for s in OrderStatus if is_terminal_order(s)} == {O.DELIVERED, O.CANCELLED}
    assert {s for s in ReturnStatus if is_terminal_return(s)} == {R.CREDITED, R.RMA_REJECTED}


def test_every_status_is_reachable_from_the_start() -> None:
    for table in (ORDER_TRANSITIONS, RETURN_TRANSITIONS):
        seen: set[object] = set()
        frontier: list[object] = [None]
        while frontier:
            current = frontier.pop()
            for nxt in table[current]:  # type: ignore[index]
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        assert seen == {s for s in table if s is not None}


def test_the_transition_function_agrees_with_the_table_for_every_pair() -> None:
    for src, dst in itertools.product([None, *OrderStatus], OrderStatus):
        moved = isinstance(transition_order(src, dst), Moved)
        assert moved == (dst in ORDER_TRANSITIONS[src])
    for rsrc, rdst in itertools.product([None, *ReturnStatus], ReturnStatus):
        moved = isinstance(transition_return(rsrc, rdst), Moved)
        assert moved == (rdst in RETURN_TRANSITIONS[rsrc])


def test_a_refusal_from_a_terminal_status_says_so() -> None:
    outcome = transition_order(O.DELIVERED, O.EXCEPTION)
    assert isinstance(outcome, Refused)
    assert "terminal" in outcome.reason
