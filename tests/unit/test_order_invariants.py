"""Invariants over many orders competing for stock, in memory (DESIGN invariants 1, 2, 4)."""

from __future__ import annotations

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderstream.benchmarks.pipeline_sim import Simulation
from orderstream.streams.events import OrderPlaced
from orderstream.streams.model import Address, OrderLine
from orderstream.streams.money import Money
from orderstream.streams.status import ORDER_TRANSITIONS, OrderStatus
from tests.builders import NOW, RULES
from tests.builders import placed_shopify_order as shopify_order

SKUS = ["TSHIRT-BLK-M", "SOCKS-3PK", "MUG-STONE-GRN", "BEANIE-WOOL-RED", "GLOVES-LTHR-L"]
LOCATIONS = ["WH-AMS", "WH-DUS", "3PL-ANR"]
ADDRESSES = [
    Address(country="NL", line1="Prinsengracht 263", postcode="1016 GV", city="Amsterdam"),
    Address(country="DE", line1="Königsallee 1", postcode="40212", city="Düsseldorf"),
    Address(country="BE", line1="Meir 50", postcode="2000", city="Antwerpen"),
]
OUTCOMES = {
    OrderStatus.ALLOCATED,
    OrderStatus.PARTIALLY_ALLOCATED,
    OrderStatus.BACKORDERED,
    OrderStatus.ON_HOLD,
}

TEMPLATE = shopify_order()


@st.composite
def orders(draw: st.DrawFn, number: int) -> OrderPlaced:
    count = draw(st.integers(1, 3))
    skus = draw(st.lists(st.sampled_from(SKUS), min_size=count, max_size=count, unique=True))
    price = Money(1000, "EUR")
    lines = tuple(
        OrderLine(
            str(i), sku, draw(st.integers(1, 4)), price, price, Money(0, "EUR"), Money(0, "EUR")
        )
        for i, sku in enumerate(skus)
    )
    address = draw(st.sampled_from(ADDRESSES))
    order_id = f"shopify:{number}"
    order = msgspec.structs.replace(
        TEMPLATE.order,
        oms_order_id=order_id,
        channel_order_id=str(number),
        lines=lines,
        customer=msgspec.structs.replace(TEMPLATE.order.customer, shipping_address=address),
    )
    return msgspec.structs.replace(TEMPLATE, idempotency_key=f"{order_id}:v1", order=order)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[tuple[str, str], int], list[OrderPlaced]]:
    stock = {(sku, location): draw(st.integers(0, 6)) for sku in SKUS for location in LOCATIONS}
    placed = [draw(orders(number)) for number in range(draw(st.integers(1, 25)))]
    return stock, placed


@given(scenarios())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_contested_stock_is_never_oversold_and_every_line_gets_one_outcome(
    scenario: tuple[dict[tuple[str, str], int], list[OrderPlaced]],
) -> None:
    stock, placed = scenario
    sim = Simulation(RULES, NOW)
    for (sku, location), qty in stock.items():
        sim.stock(sku, location, qty)
    sim.send(placed, stale_replica=True)
    snapshot = sim.stored_orders()
    ledgers = sim.stored_ledgers()
    sim.send(placed, stale_replica=True, replay=True)  # redelivered after a crash
    sim.send(placed, stale_replica=True)  # and sent again by the channel
    assert sim.stored_orders() == snapshot
    assert sim.stored_ledgers() == ledgers
    for ledger in ledgers.values():
        for stock_at in ledger.locations.values():
            assert 0 <= stock_at.reserved <= stock_at.on_hand - stock_at.safety_stock
    for event in placed:
        order_id = event.order.oms_order_id
        history = [s for s in sim.statuses if s.oms_order_id == order_id]
        previous = None
        for change in history:
            assert change.status in ORDER_TRANSITIONS[previous]
            previous = change.status
        outcomes = [s for s in history if s.status in OUTCOMES]
        assert outcomes, [s.status for s in history]
        # Released units reach backordered orders, so an outcome can be followed by a
        # better one; the last outcome's short units plus every distinct shipment so far
        # cover each line exactly once.
        final = outcomes[-1]
        shipments = {sh.shipment_id: sh for s in outcomes for sh in s.shipments}
        covered: dict[str, int] = {}
        for line in (
            *final.backordered,
            *final.held,
            *(ln for sh in shipments.values() for ln in sh.lines),
        ):
            covered[line.line_id] = covered.get(line.line_id, 0) + line.qty
        assert covered == {ln.line_id: ln.qty for ln in event.order.lines}
    reserved = sum(s.reserved for ledger in ledgers.values() for s in ledger.locations.values())
    allocated = sum(
        ln.qty for s in sim.statuses for sh in s.shipments if not sh.external for ln in sh.lines
    )
    assert reserved == allocated
