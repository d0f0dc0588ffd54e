"""Payment status updates from the payment service provider (PSP) of our own webshops.

Marketplaces collect their own payments; this feed concerns webshop orders whose payment was
pending or authorized when the order arrived. The shape follows what PSP notification
webhooks carry (Adyen, Stripe, Mollie): the PSP's event id, the merchant reference (our
oms_order_id), the new status and the amount as a decimal string with its currency.

Idempotency: `payment:{provider}:{event_id}`. PSPs re-deliver a notification with the same
event id until it is acknowledged.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

from orderstream.streams import keys
from orderstream.streams.events import PaymentUpdated
from orderstream.streams.model import PaymentState
from orderstream.streams.normalize import money, never_raises, text, utc

from .common import AwareDatetime, ChannelCodec, Headers, Identifier, Normalized
from .references import order_reference

SOURCE = "payment"

PspStatus = Literal[
    "authorized",
    "captured",
    "partially_captured",
    "refused",
    "cancelled",
    "refunded",
    "partially_refunded",
    "chargeback",
    "expired",
]

# A chargeback takes the money back like a refund; a refusal, expiry or cancellation of the
# authorization leaves the order unpaid.
_STATES: dict[str, PaymentState] = {
    "authorized": PaymentState.AUTHORIZED,
    "captured": PaymentState.PAID,
    "partially_captured": PaymentState.PARTIALLY_PAID,
    "refused": PaymentState.FAILED,
    "cancelled": PaymentState.VOIDED,
    "expired": PaymentState.VOIDED,
    "refunded": PaymentState.REFUNDED,
    "partially_refunded": PaymentState.PARTIALLY_REFUNDED,
    "chargeback": PaymentState.REFUNDED,
}


class PspAmount(msgspec.Struct, frozen=True):
    value: Decimal
    currency: str


class PaymentEvent(msgspec.Struct, frozen=True):
    provider: Identifier
    event_id: Identifier
    merchant_reference: Identifier
    status: PspStatus
    occurred_at: AwareDatetime
    amount: PspAmount | None = None
    psp_reference: Identifier = ""
    payment_method: str = ""


@never_raises
def normalize_payment(event: PaymentEvent, headers: Headers) -> Normalized:
    """The PSP status mapped onto the order's payment state, with the exact amount."""
    provider = text(event.provider, "provider", required=True).lower()
    amount = (
        money(event.amount.value, event.amount.currency, "amount.value")
        if event.amount is not None
        else None
    )
    return PaymentUpdated(
        idempotency_key=keys.idempotency_key(
            SOURCE, provider, text(event.event_id, "event_id", required=True)
        ),
        source=SOURCE,
        occurred_at=utc(event.occurred_at),
        oms_order_id=order_reference(event.merchant_reference, "merchant_reference"),
        payment_state=_STATES[event.status],
        amount=amount,
        provider_reference=text(event.psp_reference, "psp_reference"),
    )


CODEC = ChannelCodec(SOURCE, PaymentEvent, normalize_payment)
