"""Store POS transactions: sales and returns rung up at a till.

There is no one POS standard; this is the shape our store integration publishes, modelled
on what till systems export per receipt: store, register, transaction id, lines with unit
price, line discount and tax (decimal strings), and for a return the original receipt or
web order it refers to.

Idempotency: `pos:{store_id}:{register_id}:{transaction_id}`. A till numbers receipts per
register, so the triple is unique and a re-sent receipt maps to the same key.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

from orderstream.streams import keys
from orderstream.streams.events import OrderPlaced, ReturnLine, ReturnReceived
from orderstream.streams.model import (
    Channel,
    Customer,
    Delivery,
    FulfilmentMode,
    Order,
    PaymentState,
    ServiceLevel,
)
from orderstream.streams.normalize import (
    lines_present,
    money,
    never_raises,
    order_line,
    order_total,
    quantity,
    refuse,
    text,
    utc,
)
from orderstream.streams.rejections import RejectReason

from .common import AwareDatetime, ChannelCodec, Headers, Identifier, Normalized
from .references import order_reference

SOURCE = "pos"


class PosLine(msgspec.Struct, frozen=True):
    line_no: int
    sku: Identifier
    qty: int
    unit_price: Decimal
    ean: Identifier = ""
    description: str = ""
    discount: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)
    return_reason: str = ""


class PosPayment(msgspec.Struct, frozen=True):
    method: str
    amount: Decimal


class PosCustomer(msgspec.Struct, frozen=True):
    loyalty_id: Identifier = ""
    email: str = ""
    phone: str = ""


class PosTransaction(msgspec.Struct, frozen=True):
    store_id: Identifier
    register_id: Identifier
    transaction_id: Identifier
    type: Literal["sale", "return"]
    occurred_at: AwareDatetime
    currency: str
    lines: list[PosLine]
    cashier_id: str = ""
    payments: list[PosPayment] = []
    customer: PosCustomer | None = None
    # A return names what it returns: a receipt of any store (`original_transaction`, as
    # "{store}:{register}:{transaction}") or a web/marketplace order (`original_order_id`,
    # an oms_order_id such as "shopify:4523").
    original_transaction: Identifier = ""
    original_order_id: Identifier = ""


def _channel_order_id(tx: PosTransaction) -> str:
    return f"{tx.store_id}:{tx.register_id}:{tx.transaction_id}"


@never_raises
def normalize_pos(tx: PosTransaction, headers: Headers) -> Normalized:
    """A sale becomes an order handed over at the till; a return becomes units received."""
    store = text(tx.store_id, "store_id", required=True)
    text(tx.register_id, "register_id", required=True)
    text(tx.transaction_id, "transaction_id", required=True)
    channel_order_id = _channel_order_id(tx)
    key = keys.idempotency_key(SOURCE, channel_order_id)
    if tx.type == "return":
        return _normalize_return(tx, store, key)
    lines = lines_present(
        tuple(
            order_line(
                field=f"lines[{index}]",
                currency=tx.currency,
                line_id=str(line.line_no),
                sku=line.sku,
                qty=line.qty,
                unit_price=line.unit_price,
                tax=line.tax,
                discount=line.discount,
                title=line.description,
                ean=line.ean,
            )
            for index, line in enumerate(tx.lines)
        ),
        "lines",
    )
    customer = tx.customer or PosCustomer()
    currency = lines[0].unit_price.currency
    order = Order(
        oms_order_id=keys.oms_order_id(Channel.POS, channel_order_id),
        channel=Channel.POS,
        channel_order_id=channel_order_id,
        created_at=utc(tx.occurred_at),
        currency=currency,
        payment_state=PaymentState.PAID,
        lines=lines,
        customer=Customer(
            email=text(customer.email, "customer.email"),
            phone=text(customer.phone, "customer.phone"),
            channel_customer_id=text(customer.loyalty_id, "customer.loyalty_id"),
        ),
        delivery=Delivery(
            service_level=ServiceLevel.CARRY_OUT,
            fulfilment_mode=FulfilmentMode.STORE,
            pickup_location=store,
        ),
        total=order_total(lines, currency),
        store_id=store,
    )
    return OrderPlaced(
        idempotency_key=key, source=SOURCE, occurred_at=utc(tx.occurred_at), order=order
    )


def _normalize_return(tx: PosTransaction, store: str, key: str) -> Normalized:
    if tx.original_order_id:
        original = order_reference(tx.original_order_id, "original_order_id")
    elif tx.original_transaction:
        original = keys.oms_order_id(Channel.POS, tx.original_transaction)
    else:
        raise refuse(
            RejectReason.MISSING_FIELD,
            "a return names original_transaction or original_order_id",
            "original_transaction",
        )
    # Refund amounts are the credit flow's concern; validate them so bad money is caught here.
    for index, line in enumerate(tx.lines):
        money(line.unit_price, tx.currency, f"lines[{index}].unit_price")
    lines = lines_present(
        tuple(
            ReturnLine(
                sku=text(line.sku, f"lines[{index}].sku", required=True),
                qty=quantity(line.qty, f"lines[{index}].qty"),
                reason=text(line.return_reason, f"lines[{index}].return_reason"),
            )
            for index, line in enumerate(tx.lines)
        ),
        "lines",
    )
    return ReturnReceived(
        idempotency_key=key,
        source=SOURCE,
        occurred_at=utc(tx.occurred_at),
        rma_id=key,
        oms_order_id=original,
        location=store,
        lines=lines,
    )


CODEC = ChannelCodec(SOURCE, PosTransaction, normalize_pos)
