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

OS = OrderStatus
RS = ReturnStatus

LEGAL_ORDER = [(src, dst) for src, targets in ORDER_TRANSITIONS.items() for dst in targets]
LEGAL_RETURN = [(src, dst) for src, targets in RETURN_TRANSITIONS.items() for dst in targets]

# Illegal moves an OMS must never make, named one by one so the table cannot drift into them.
ILLEGAL_ORDER = [
    (None, OS.ALLOCATED),  # nothing is allocated before it is placed
    (None, OS.SHIPPED),
    (OS.PLACED, OS.SHIPPED),  # no shipping without allocation and picking
    (OS.PLACED, OS.PICKED),
    (OS.ON_HOLD, OS.PICKED),  # a held order is released through allocation
    (OS.BACKORDERED, OS.PICKED),
    (OS.ALLOCATED, OS.SHIPPED),  # pick and pack come first
    (OS.PICKED, OS.SHIPPED),
    (OS.SHIPPED, OS.CANCELLED),  # a parcel on its way is a return, not a cancellation
    (OS.IN_TRANSIT, OS.CANCELLED),
    (OS.DELIVERED, OS.CANCELLED),
    (OS.DELIVERED, OS.IN_TRANSIT),
    (OS.DELIVERED, OS.PARTIALLY_DELIVERED),  # a delivered order stays delivered
    (OS.PARTIALLY_DELIVERED, OS.CANCELLED),  # a delivered parcel is a return
    (OS.PARTIALLY_DELIVERED, OS.SHIPPED),
    (OS.PARTIALLY_DELIVERED, OS.IN_TRANSIT),
    (OS.PICKED, OS.PARTIALLY_DELIVERED),  # something has to ship first
    (OS.CANCELLED, OS.PLACED),
    (OS.CANCELLED, OS.ALLOCATED),
    (OS.SHIPPED, OS.PLACED),
    (OS.PLACED, OS.PLACED),  # no self loops: a repeated status is a duplicate, not a move
    (OS.ALLOCATED, OS.ALLOCATED),
]

ILLEGAL_RETURN = [
    (None, RS.RMA_RECEIVED),
    (None, RS.CREDITED),
    (RS.RMA_CREATED, RS.RMA_RECEIVED),  # approval first
    (RS.RMA_CREATED, RS.CREDITED),
    (RS.RMA_APPROVED, RS.CREDITED),  # no credit for goods we do not hold
    (RS.RMA_RECEIVED, RS.CREDITED),  # nor for goods nobody inspected
    (RS.RMA_REJECTED, RS.RMA_APPROVED),
    (RS.CREDITED, RS.RMA_CREATED),
    (RS.CREDITED, RS.CREDITED),
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
def test_every_listed_return_transition_moves(src: ReturnStatus | None, dst: ReturnStatus) -> None:
    assert transition_return(src, dst) == Moved(came_from=src, to=dst)


@pytest.mark.parametrize(("src", "dst"), ILLEGAL_RETURN, ids=str)
def test_illegal_return_transitions_are_refused(
    src: ReturnStatus | None, dst: ReturnStatus
) -> None:
    assert isinstance(transition_return(src, dst), Refused)


def test_the_tables_cover_every_status_and_only_final_ones_are_terminal() -> None:
    assert set(ORDER_TRANSITIONS) == {None, *OrderStatus}
    assert set(RETURN_TRANSITIONS) == {None, *ReturnStatus}
    assert {s for s in OrderStatus if is_terminal_order(s)} == {OS.DELIVERED, OS.CANCELLED}
    assert {s for s in ReturnStatus if is_terminal_return(s)} == {RS.CREDITED, RS.RMA_REJECTED}


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
    outcome = transition_order(OS.DELIVERED, OS.EXCEPTION)
    assert isinstance(outcome, Refused)
    assert "terminal" in outcome.reason
