"""Checks for references that point back at orderstream's own ids."""

from __future__ import annotations

from orderstream.streams.model import Channel
from orderstream.streams.normalize import refuse, text
from orderstream.streams.rejections import RejectReason

_CHANNELS = tuple(f"{channel.value}:" for channel in Channel)


def order_reference(value: str, field: str) -> str:
    """An `oms_order_id` we issued (`{channel}:{channel_order_id}`), or a refusal.

    Fulfilment, carrier, payment and return events are keyed by the order they concern; a
    reference that is not one of our order ids cannot be routed to its order's partition.
    """
    reference = text(value, field, required=True)
    if not reference.startswith(_CHANNELS) or reference.endswith(":"):
        raise refuse(
            RejectReason.INVALID_REFERENCE,
            f"{reference!r} is not an order id of the form channel:channel_order_id",
            field,
        )
    return reference


def tracking_url(value: str, field: str) -> str:
    """A carrier's tracking page as given (empty: none), or a refusal: only an `https://`
    address without spaces, since it reaches customers' e-mails and shop pages."""
    url = text(value, field)
    if url and (not url.startswith("https://") or len(url) == len("https://") or " " in url):
        raise refuse(RejectReason.INVALID_REFERENCE, "must be an https:// address", field)
    return url
