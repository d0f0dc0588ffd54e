"""`contact_for` on a real PostgreSQL: the customer's contact as the store writer wrote it,
None before the order's details are there, and nothing to reach once it was erased."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from orderstream.benchmarks.scratch_db import scratch_database
from orderstream.state.contacts import contact_for
from orderstream.state.erasure import erase_customer
from orderstream.state.event_store import StoreBatch, write_batch
from orderstream.state.schema import migrate
from orderstream.streams.money import Money
from orderstream.streams.notify_plan import CustomerContact
from tests.builders import exception_rules, placed_shopify_order

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(postgres_dsn: str) -> AsyncIterator[Any]:
    async with scratch_database(postgres_dsn, "test") as dsn:
        await migrate(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            yield conn
        finally:
            await conn.close()


async def test_the_contact_comes_from_the_order_details_the_writer_stored(store: Any) -> None:
    placed = placed_shopify_order()
    order_id = placed.order.oms_order_id
    assert await contact_for(store, order_id) is None  # not written yet: the caller waits
    await write_batch(store, StoreBatch(orders=[placed]), exception_rules())
    contact = await contact_for(store, order_id)
    assert contact is not None
    assert (contact.email, contact.country, contact.order_name) == (
        "sanne.devries@example.nl",
        "NL",
        "#1042",
    )
    assert contact.total == Money(26496, "EUR")
    assert contact.phone.replace(" ", "") == "+31612345678"  # the shipping address's
    assert contact.name.startswith("Sanne")
    assert not contact.erased


async def test_an_erased_contact_has_nothing_to_reach_and_says_so(store: Any) -> None:
    placed = placed_shopify_order()
    await write_batch(store, StoreBatch(orders=[placed]), exception_rules())
    assert await erase_customer(store, "sanne.devries@example.nl") == [placed.order.oms_order_id]
    contact = await contact_for(store, placed.order.oms_order_id)
    assert contact == CustomerContact(country="NL", order_name="#1042", erased=True)
