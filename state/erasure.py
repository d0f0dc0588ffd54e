"""Erasing a customer's personal data from the event store (`orderstream db erase`).

Personal data lives only in `order_details`' contact columns (migration 0002). Erasure nulls
them on every order of the customer's email (matched lower-cased, as the writer stores it)
and stamps `erased_at`; the writer never writes an erased row's contact again, so a replay
of the order's events cannot bring it back. The sinks' delivery log keeps the exact requests
sent for those orders (a notification's holds the contact): they are nulled in the same
transaction. Erasing twice erases nothing the second time.
`orderstream db erase` first sends each order's `EraseContact` to the order process (its table
rows hold the contact too: streams/order_erasure.py), then erases here.
"""

from __future__ import annotations

from typing import Any

from .delivery_log import erase_requests
from .event_store import CONTACT_COLUMNS
from .record_rows import normalized_email

_ERASE = f"""
UPDATE order_details
   SET {", ".join(f"{column} = NULL" for column in CONTACT_COLUMNS)}, erased_at = now()
 WHERE customer_email = $1
RETURNING oms_order_id
"""


async def customer_orders(conn: Any, email: str) -> list[str]:
    """The orders whose contact has `email` (and is not erased yet)."""
    rows = await conn.fetch(
        "SELECT oms_order_id FROM order_details WHERE customer_email = $1", normalized_email(email)
    )
    return sorted(row[0] for row in rows)


async def erase_customer(conn: Any, email: str) -> list[str]:
    """Erase the contact of every order of `email`, in one transaction; the orders erased."""
    async with conn.transaction():
        rows = await conn.fetch(_ERASE, normalized_email(email))
        await erase_requests(conn, [row[0] for row in rows])
    return sorted(row[0] for row in rows)
