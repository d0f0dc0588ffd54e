"""Bundling: a customer's open shipments from one location on one ship date travel as one parcel.

Each fulfilment request with a `bundle_key` (see `shipments.bundle_key`) reaches the bundle's
single writer, which keeps the members and, once a second shipment joins, tells the location to ship
them together (`ShipmentsBundled`, a new version as more join). Idempotent by request id. Pure:
the shell gathers the bundle value and sends what `join` returns.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from .order_messages import FulfilmentRequested, LineQty


class Member(msgspec.Struct, frozen=True, array_like=True):
    request_id: str
    oms_order_id: str
    lines: tuple[LineQty, ...]


class Bundle(msgspec.Struct, frozen=True, omit_defaults=True):
    """The value of the `bundle_key_to_bundle` table: the shipments that travel together."""

    bundle_key: str
    location: str = msgspec.field(name="node")
    carrier: str = ""
    ship_date: date | None = None
    eta: date | None = None
    members: tuple[Member, ...] = ()
    opened_at: datetime | None = None  # the first request's time: the lifetime of a dateless one


class ShipmentsBundled(msgspec.Struct, frozen=True, tag="fulfilment.bundled.v1", tag_field="type"):
    """Ship these requests (from several orders of one customer) as one parcel.

    `version` counts the members; the location acts on the highest version it has seen.
    `event_id` is deterministic, so a re-emission is recognisable downstream.
    """

    event_id: str
    bundle_key: str
    version: int
    location: str = msgspec.field(name="node")
    request_ids: tuple[str, ...]
    oms_order_ids: tuple[str, ...]
    lines: tuple[LineQty, ...]
    carrier: str = ""
    ship_date: date | None = None
    eta: date | None = None

    @property
    def key(self) -> str:
        return self.bundle_key


def join(
    bundle: Bundle | None, request: FulfilmentRequested
) -> tuple[Bundle, ShipmentsBundled | None]:
    """Add one shipment's request to its bundle; the instruction to publish, if any."""
    if bundle is None:
        bundle = Bundle(
            bundle_key=request.bundle_key,
            location=request.location,
            carrier=request.carrier,
            ship_date=request.ship_date,
            eta=request.eta,
            opened_at=request.requested_at,
        )
    if any(member.request_id == request.request_id for member in bundle.members):
        return bundle, None
    member = Member(request.request_id, request.oms_order_id, request.lines)
    bundle = msgspec.structs.replace(bundle, members=(*bundle.members, member))
    orders = {m.oms_order_id for m in bundle.members}
    if len(orders) < 2:  # one order's own shipments are already one shipment per location
        return bundle, None
    version = len(bundle.members)
    return bundle, ShipmentsBundled(
        event_id=f"{bundle.bundle_key}:{version}",
        bundle_key=bundle.bundle_key,
        version=version,
        location=bundle.location,
        request_ids=tuple(m.request_id for m in bundle.members),
        oms_order_ids=tuple(dict.fromkeys(m.oms_order_id for m in bundle.members)),
        lines=tuple(line for m in bundle.members for line in m.lines),
        carrier=bundle.carrier,
        ship_date=bundle.ship_date,
        eta=bundle.eta,
    )
