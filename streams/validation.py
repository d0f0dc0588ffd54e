"""Validation before allocation: payment, address, fraud.

The rule: an order is planned only when its money is secured (authorized, paid, or collected
by the marketplace), it can be delivered (a complete address in a format the destination
country uses, to a country the network serves) and nothing flags it as fraud. Payment and
address problems put the order ON_HOLD until an update fixes them; a fraud flag is a hard
stop that only a person releases.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping

import msgspec

from .model import Address, FulfilmentMode, Order, PaymentState, ServiceLevel
from .routing import RuleSet


class HoldReason(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAYMENT_FAILED = "payment_failed"
    ADDRESS_MISSING = "address_missing"
    ADDRESS_INCOMPLETE = "address_incomplete"
    POSTCODE_FORMAT = "postcode_format"
    UNSUPPORTED_COUNTRY = "unsupported_country"
    FRAUD = "fraud"
    STALE_ORDER = "stale_order"  # open past ORDER_MAX_OPEN_DAYS; the channel's rule holds it


SECURED_PAYMENT = frozenset({PaymentState.AUTHORIZED, PaymentState.PAID, PaymentState.NOT_REQUIRED})
_FAILED_PAYMENT = frozenset({PaymentState.FAILED, PaymentState.VOIDED, PaymentState.REFUNDED})

# Postcode shapes per country (after upper-casing and trimming). A country missing here is
# accepted with any non-empty postcode; a country listed with None uses no postcodes.
POSTCODE_FORMATS: Mapping[str, re.Pattern[str] | None] = {
    "NL": re.compile(r"\d{4} ?[A-Z]{2}"),
    "BE": re.compile(r"\d{4}"),
    "LU": re.compile(r"(L-)?\d{4}"),
    "DE": re.compile(r"\d{5}"),
    "AT": re.compile(r"\d{4}"),
    "CH": re.compile(r"\d{4}"),
    "FR": re.compile(r"\d{5}"),
    "ES": re.compile(r"\d{5}"),
    "IT": re.compile(r"\d{5}"),
    "DK": re.compile(r"\d{4}"),
    "SE": re.compile(r"\d{3} ?\d{2}"),
    "PL": re.compile(r"\d{2}-\d{3}"),
    "GB": re.compile(r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}"),
    "US": re.compile(r"\d{5}(-\d{4})?"),
    "JP": re.compile(r"\d{3}-?\d{4}"),
    "IE": None,  # Eircodes exist but are optional on parcels
    "HK": None,
}


class Hold(msgspec.Struct, frozen=True):
    """Why an order may not be planned yet; `hard_stop` holds are released by a person only."""

    reason: HoldReason
    detail: str
    hard_stop: bool = False


def needs_address(order: Order) -> bool:
    """Store hand-overs and marketplace-fulfilled orders travel without our address check."""
    return not (
        order.delivery.fulfilment_mode in (FulfilmentMode.STORE, FulfilmentMode.MARKETPLACE)
        or order.delivery.service_level in (ServiceLevel.CARRY_OUT, ServiceLevel.PICKUP)
    )


def check_address(address: Address | None, served: frozenset[str]) -> Hold | None:
    """A complete address, in its country's postcode format, to a country we deliver to."""
    if address is None:
        return Hold(HoldReason.ADDRESS_MISSING, "no shipping address")
    missing = [name for name in ("line1", "city") if not getattr(address, name).strip()]
    pattern = POSTCODE_FORMATS.get(address.country, re.compile(r".+"))
    if pattern is not None and not address.postcode:
        missing.append("postcode")
    if missing:
        return Hold(HoldReason.ADDRESS_INCOMPLETE, "missing " + ", ".join(missing))
    if pattern is not None and not pattern.fullmatch(address.postcode.strip().upper()):
        return Hold(
            HoldReason.POSTCODE_FORMAT,
            f"{address.postcode!r} is not a {address.country} postcode",
        )
    if address.country not in served:
        return Hold(HoldReason.UNSUPPORTED_COUNTRY, f"no node delivers to {address.country}")
    return None


def validate(order: Order, served: frozenset[str]) -> Hold | None:
    """The first reason the order may not be planned, or None; fraud is checked first."""
    if order.risk.hard_stop:
        reasons = ", ".join(order.risk.reasons) or "flagged by the channel"
        return Hold(HoldReason.FRAUD, reasons, hard_stop=True)
    if order.payment_state in _FAILED_PAYMENT:
        return Hold(HoldReason.PAYMENT_FAILED, f"payment {order.payment_state.value}")
    if order.payment_state not in SECURED_PAYMENT:
        return Hold(HoldReason.AWAITING_PAYMENT, f"payment {order.payment_state.value}")
    if needs_address(order):
        return check_address(order.customer.shipping_address, served)
    return None


def served_countries(rules: RuleSet) -> frozenset[str]:
    """Every country some location of the network delivers to (zones expanded)."""
    countries: set[str] = set()
    for location in rules.locations:
        for target in location.serves:
            countries.update(rules.zones.get(target, (target,)))
    return frozenset(countries)
