"""Which message, if any, a customer gets for one status change.

At most one notice per `orders.status` event, and only for what a customer cares about:

- the order placed (None -> PLACED): order confirmed;
- backordered, or part of the first allocation backordered: delayed; an order planned again
  (after a backorder or a location's rejection) with units still waiting or with a
  date: delayed, with the new promised date when the event carries one (the latest `eta` of
  its parcels, once no unit waits any more);
- a parcel leaving (a shipment of the event at `shipped`): shipped, with carrier and
  track-and-trace per parcel; parcels the marketplace ships or a till hands over are not ours
  to announce;
- the whole order delivered: delivered; the order cancelled: cancelled.

Everything else (holds, picking, packing, scans in transit, a parcel delivered while others
are on the way, exceptions) is internal and gives nothing. Neither does an order of a channel
whose marketplace mails its own customers (`NotificationRules.silent_channels`, data), nor a
kind switched off for every medium. The notice's `key` is the event id and the kind: the same
event always gives the same key, so a re-sent message is recognisable as the same one.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time

import msgspec

from .order_messages import AllocatedShipment, StatusChanged
from .order_shipments import ShipmentStatus
from .status import OrderStatus


class MessageKind(enum.StrEnum):
    """A message a customer can get; its value names the template."""

    CONFIRMED = "order_confirmed"
    DELAYED = "order_delayed"
    SHIPPED = "order_shipped"
    DELIVERED = "order_delivered"
    CANCELLED = "order_cancelled"


class Medium(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"  # or WhatsApp: whatever the provider behind the webhook sends


class QuietHours(msgspec.Struct, frozen=True):
    """A local time window (`start` to `end`, across midnight when `start` is later) in which
    messages by `media` wait until it ends; `start == end` is no window."""

    start: time
    end: time
    time_zone: str = "Europe/Amsterdam"
    media: frozenset[Medium] = frozenset({Medium.SMS})


ALL_KINDS = frozenset(MessageKind)


class NotificationRules(msgspec.Struct, frozen=True):
    """What customers hear and how: the settings' notification part, as a value."""

    silent_channels: frozenset[str] = frozenset({"bol", "amazon"})
    email_kinds: frozenset[MessageKind] = ALL_KINDS
    sms_kinds: frozenset[MessageKind] = frozenset({MessageKind.SHIPPED})
    quiet_hours: QuietHours | None = None
    default_language: str = "en"


class TrackedParcel(msgspec.Struct, frozen=True):
    """One parcel as the customer follows it."""

    shipment_id: str
    carrier: str
    tracking_number: str = ""
    tracking_url: str = ""


class Notice(msgspec.Struct, frozen=True):
    """What one status event tells the customer (no contact data: that comes from the store)."""

    kind: MessageKind
    event_id: str
    oms_order_id: str
    channel: str
    occurred_at: datetime
    parcels: tuple[TrackedParcel, ...] = ()
    promised_date: date | None = None

    @property
    def key(self) -> str:
        """The same for every delivery of the same event: `{event_id}/{kind}`."""
        return f"{self.event_id}/{self.kind}"


_S = OrderStatus
FIRST_ALLOCATION_FROM = frozenset({_S.PLACED, _S.ON_HOLD})
"""Statuses an order's first allocation moves from (a hold for payment or review comes first)."""
ALLOCATED = frozenset({_S.ALLOCATED, _S.PARTIALLY_ALLOCATED})


def notice_for(event: StatusChanged, rules: NotificationRules) -> Notice | None:
    """The notice `event` gives under `rules`, or None (see the module's rule)."""
    if event.channel in rules.silent_channels:
        return None
    kind = _kind(event)
    if kind is None or kind not in rules.email_kinds | rules.sms_kinds:
        return None
    return Notice(
        kind=kind,
        event_id=event.event_id,
        oms_order_id=event.oms_order_id,
        channel=event.channel,
        occurred_at=event.occurred_at,
        parcels=_leaving(event.shipments) if kind is MessageKind.SHIPPED else (),
        promised_date=_promised(event) if kind is MessageKind.DELAYED else None,
    )


def _kind(event: StatusChanged) -> MessageKind | None:  # noqa: PLR0911 - one return per rule
    status, previous = event.status, event.previous
    if status is _S.CANCELLED:
        return MessageKind.CANCELLED
    if status is _S.DELIVERED:
        return MessageKind.DELIVERED
    if _leaving(event.shipments):
        return MessageKind.SHIPPED
    if status is _S.PLACED and previous is None:
        return MessageKind.CONFIRMED
    if status is _S.BACKORDERED:
        return MessageKind.DELAYED
    if status not in ALLOCATED:
        return None
    if previous in FIRST_ALLOCATION_FROM:  # confirmed when placed: news only if units wait
        return MessageKind.DELAYED if event.backordered else None
    # planned again: news when units still wait or the new parcels carry a date
    return MessageKind.DELAYED if event.backordered or _promised(event) else None


def _leaving(shipments: tuple[AllocatedShipment, ...]) -> tuple[TrackedParcel, ...]:
    return tuple(
        TrackedParcel(s.shipment_id, s.carrier, s.tracking_number, s.tracking_url)
        for s in shipments
        if s.status is ShipmentStatus.SHIPPED and not s.external
    )


def _promised(event: StatusChanged) -> date | None:
    """The date the whole order is now promised by: the latest `eta` of the event's parcels,
    only when no unit still waits (a date for some parcels is no promise for the rest) and
    the order was planned again (a first allocation's date is no news)."""
    if event.backordered or event.held or event.previous in FIRST_ALLOCATION_FROM:
        return None
    dates = [s.eta for s in event.shipments if s.eta is not None and not s.external]
    return max(dates, default=None)
