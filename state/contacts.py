"""How to reach a customer about one order, read from the store (never from a topic).

`contact_for` answers None while the store has no details of the order yet (the status event
came first: the caller waits and asks again), and a contact marked erased, with nothing to
reach, once the customer's data was erased (the caller sends nothing, and need not wait).
"""

from __future__ import annotations

from typing import Any

import msgspec

from orderstream.streams.money import Money
from orderstream.streams.notify_plan import CustomerContact

_CONTACT = """
SELECT channel_order_id, channel_order_name, currency, total_minor, ship_country,
       customer_email, customer_name, customer_phone, shipping_address::text AS shipping_address,
       erased_at
FROM order_details WHERE oms_order_id = $1
"""


async def contact_for(conn: Any, oms_order_id: str) -> CustomerContact | None:
    """The order's contact, or None when the store does not hold the order's details yet."""
    row = await conn.fetchrow(_CONTACT, oms_order_id)
    if row is None:
        return None
    order_name = row["channel_order_name"] or row["channel_order_id"]
    if row["erased_at"] is not None:
        return CustomerContact(country=row["ship_country"], order_name=order_name, erased=True)
    address = _address(row["shipping_address"])
    return CustomerContact(
        email=row["customer_email"] or "",
        phone=row["customer_phone"] or str(address.get("phone", "")),
        name=row["customer_name"] or str(address.get("name", "")),
        country=row["ship_country"] or str(address.get("country", "")),
        order_name=order_name,
        total=Money(row["total_minor"], row["currency"]),
    )


def _address(stored: str | None) -> dict[str, Any]:
    if stored is None:
        return {}
    address = msgspec.json.decode(stored)
    return address if isinstance(address, dict) else {}
