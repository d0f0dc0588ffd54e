"""A published allocation stays backed by the ledger (DESIGN invariants 1 and 2).

When an order's state lags what it already published (a SIGKILL kept its status events and
lost its state), the ledger's answers are delivered again before the input that asked: they
are kept until the order asks again (`order_replies.early_answers`), then applied, since the
ledger answers the repeated ask as a duplicate the order has seen already. Before, the order
gave the grants back as unknown and the ledger ended up holding nothing behind the
allocation.
"""

from __future__ import annotations

import msgspec

from orderstream.streams.ledger_commands import Release
from orderstream.streams.order_state import LineState
from orderstream.streams.status import OrderStatus
from tests.builders import placed_shopify_order, split_order


def reserved(sim) -> dict[tuple[str, str], int]:  # type: ignore[no-untyped-def]
    return {
        (sku, location): stock.reserved
        for sku, ledger in sim.stored_ledgers().items()
        for location, stock in ledger.locations.items()
    }


def test_grants_redelivered_to_a_lost_order_state_keep_its_published_allocation() -> None:
    sim, order_id, _ = split_order()
    allocated = {
        (line.sku, shipment.location): line.qty
        for event in sim.statuses
        if event.status is OrderStatus.ALLOCATED
        for shipment in event.shipments
        for line in shipment.lines
    }
    assert reserved(sim) == allocated
    grants = [answer for answer in sim.answers if answer.granted]
    sim.orders.delete(order_id)  # the state is lost; its published events are not
    sim.send(grants)  # redelivered before the order
    sim.send([placed_shopify_order()])
    assert reserved(sim) == allocated
    state = sim.order(order_id)
    assert state.status is OrderStatus.ALLOCATED
    assert state.early_answers == {}
    assert not [c for c in sim.commands if isinstance(c, Release)]


def test_an_early_grant_the_order_never_asks_for_is_given_back() -> None:
    sim, order_id, _ = split_order()
    grant = next(answer for answer in sim.answers if answer.granted)
    stray = msgspec.structs.replace(grant, reservation_id=f"{order_id}|1|{grant.line_id}|7")
    sim.orders.delete(order_id)
    sim.send([stray])
    assert set(sim.order(order_id).early_answers) == {stray.reservation_id}
    sim.send([placed_shopify_order()])
    (release,) = [c for c in sim.commands if isinstance(c, Release)]
    assert (release.reservation_id, release.reason) == (stray.reservation_id, "unknown_reservation")
    assert sim.order(order_id).early_answers == {}


def test_an_early_refusal_is_applied_when_the_order_asks() -> None:
    sim, order_id, _ = split_order()
    grant = next(answer for answer in sim.answers if answer.granted)
    refusal = msgspec.structs.replace(grant, granted=False, reason="insufficient_stock")
    sim.orders.delete(order_id)
    sim.statuses.clear()  # this history differs from the first: the refusal is made up
    sim.send([refusal])
    sim.send([placed_shopify_order()])
    state = sim.order(order_id)
    assert state.reservations[refusal.reservation_id].state is LineState.REFUSED
    assert state.attempt > 1  # the refused line was planned again
    assert state.early_answers == {}


def test_an_early_grant_is_given_back_once_the_order_can_plan_no_more() -> None:
    """A grant of a later attempt is kept while the order may still plan again; once it is
    delivered (or cancelled) it never will, and the next input gives the grant back."""
    sim, order_id, _ = split_order()
    grant = next(answer for answer in sim.answers if answer.granted)
    later = msgspec.structs.replace(grant, reservation_id=f"{order_id}|9|{grant.line_id}|0")
    sim.send([later])
    assert set(sim.order(order_id).early_answers) == {later.reservation_id}
    delivered = msgspec.structs.replace(sim.order(order_id), status=OrderStatus.DELIVERED)
    sim.orders.put(order_id, delivered)
    after = msgspec.structs.replace(later, reservation_id=f"{order_id}|9|{grant.line_id}|1")
    sim.send([after])  # given back at once, and the kept one with it
    released = {c.reservation_id for c in sim.commands if isinstance(c, Release)}
    assert released == {later.reservation_id, after.reservation_id}
    assert sim.order(order_id).early_answers == {}
