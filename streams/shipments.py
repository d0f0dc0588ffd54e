"""Shipments from an assignment: one per used location, with its bundle key.

A bundle key is equal for shipments that may travel as one parcel (same customer, address,
location, carrier and ship date), empty when the customer or address is unknown (strangers
are never bundled), and carries no personal data: the customer and address enter an
HMAC-SHA256 keyed with the deployment's secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import date

from .model import Order
from .plan_inputs import LocationOption, PlanInputs
from .plan_search import LineAssignment
from .plan_types import PlannedLine, Shipment, ShortLine, ShortReason


def bundle_key(order: Order, location: str, carrier: str, ship_date: date, secret: bytes) -> str:
    """The bundle key of a shipment of `order` from `location` by `carrier` on `ship_date`.

    Without the deployment's `secret` it cannot be recomputed from a guessed e-mail and
    address; an empty secret is a bug.
    """
    if not secret:
        raise ValueError("a bundle key needs the deployment's secret")
    customer = order.customer
    identity = customer.email.strip().casefold() or (
        f"{order.channel.value}:{customer.channel_customer_id}"
        if customer.channel_customer_id
        else ""
    )
    address = customer.shipping_address
    if not identity or address is None:
        return ""
    parts = [identity, address.country, address.postcode.replace(" ", "").upper()]
    parts += [
        " ".join(value.casefold().split())
        for value in (address.name, address.line1, address.line2, address.house_number)
    ]
    parts += [" ".join(address.city.casefold().split()), location, carrier, ship_date.isoformat()]
    digest = hmac.new(secret, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()[:20]
    return f"{location}:{ship_date.isoformat()}:{digest}"


def build_shipments(
    inputs: PlanInputs,
    options: Sequence[LocationOption],
    assignment: LineAssignment,
    *,
    bundle: bool,
) -> tuple[tuple[Shipment, ...], tuple[ShortLine, ...]]:
    """Shipments per used location, and the units of each line left over (insufficient stock)."""
    shipments = []
    for option in options:
        lines = tuple(
            PlannedLine(line.line_id, line.sku, qty)
            for line in inputs.lines
            for location, qty in assignment.get(line.line_id, ())
            if location == option.location.id
        )
        if not lines:
            continue
        key = ""
        if bundle and inputs.rules.bundling.enabled:
            key = bundle_key(
                inputs.order,
                option.location.id,
                option.carrier,
                option.ship_date,
                inputs.bundle_secret,
            )
        shipments.append(
            Shipment(
                location=option.location.id,
                carrier=option.carrier,
                lines=lines,
                ship_date=option.ship_date,
                eta=option.eta,
                cost=option.cost,
                on_time=option.on_time,
                late_pick=option.late_pick,
                bundle_key=key,
            )
        )
    short = []
    for line in inputs.lines:
        missing = line.qty - sum(qty for _, qty in assignment.get(line.line_id, ()))
        if missing > 0:
            short.append(ShortLine(line.line_id, line.sku, missing, ShortReason.INSUFFICIENT_STOCK))
    return tuple(shipments), tuple(short)
