"""Erasing a customer's contact from the order's state: email and ids go at once, the shipping
address when nothing is left to ship, and an update after the erasure brings none of it back."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from orderstream.benchmarks.pipeline_sim import Simulation
from orderstream.streams.events import OrderPlaced, OrderUpdated
from orderstream.streams.model import Address, Customer
from orderstream.streams.order_erasure import EraseContact
from orderstream.streams.order_messages import FulfilmentRequested
from orderstream.streams.status import OrderStatus
from tests.builders import NOW, RULES, STOCKED
from tests.builders import placed_shopify_order as shopify_order


def stocked() -> Simulation:
    sim = Simulation(RULES, NOW)
    for sku, places in STOCKED.items():
        for location, qty in places.items():
            sim.stock(sku.replace("_", "-"), location, qty)
    return sim


def erase(order_id: str, run: str = "r1") -> EraseContact:
    return EraseContact(oms_order_id=order_id, request_id=f"{run}:{order_id}", requested_at=NOW)


def test_an_open_order_loses_its_email_and_ids_and_keeps_the_address_it_ships_to() -> None:
    sim = stocked()
    placed = shopify_order()
    order_id = placed.order.oms_order_id
    sim.send([placed])
    assert sim.order(order_id).status is OrderStatus.ALLOCATED
    sim.send([erase(order_id)])
    state = sim.order(order_id)
    assert state.erased_at == NOW
    assert state.order is not None
    customer = state.order.customer
    assert (customer.email, customer.channel_customer_id, customer.tags) == ("", "", ())
    assert customer.shipping_address == placed.order.customer.shipping_address
    assert placed.order.customer.email not in msgspec.json.encode(state).decode()


def test_a_closed_order_keeps_only_the_country_also_in_its_outbox() -> None:
    sim = stocked()
    placed = shopify_order()
    order_id = placed.order.oms_order_id
    sim.send([placed])
    before = sim.order(order_id)
    closed = msgspec.structs.replace(before, status=OrderStatus.DELIVERED)
    sim.orders.put(order_id, closed)
    sim.send([erase(order_id)])
    state = sim.order(order_id)
    assert state.order is not None
    shipping = placed.order.customer.shipping_address
    assert shipping is not None and shipping.line1
    country = Address(country=shipping.country)
    assert state.order.customer == Customer(shipping_address=country)
    requests = [
        o for outs in state.outbox.values() for o in outs if isinstance(o, FulfilmentRequested)
    ]
    assert requests and all(r.address == country for r in requests)
    assert shipping.line1 not in msgspec.json.encode(state).decode()


def test_an_update_after_the_erasure_and_an_order_after_it_bring_no_contact_back() -> None:
    sim = stocked()
    placed = shopify_order()
    order_id = placed.order.oms_order_id
    sim.send([erase(order_id)])  # the erasure came first: the order is erased as it arrives
    sim.send([placed])
    state = sim.order(order_id)
    assert state.order is not None and state.order.customer.email == ""
    update = OrderUpdated(
        "u1", placed.source, placed.occurred_at + timedelta(minutes=1), placed.order
    )
    sim.send([update])
    assert sim.order(order_id).order.customer.email == ""  # type: ignore[union-attr]


def test_an_erasure_sent_twice_is_a_duplicate_and_changes_nothing() -> None:
    sim = stocked()
    placed: OrderPlaced = shopify_order()
    order_id = placed.order.oms_order_id
    sim.send([placed, erase(order_id)])
    once = sim.order(order_id)
    sim.send([erase(order_id)])
    assert sim.order(order_id) == once
