"""Key builders: the identities that decide partitioning and deduplication.

`oms_order_id` is deterministic from the channel's own order id, so a retried webhook, a
poll and a cancellation of the same order all land on the same partition and table key.
Idempotency keys are built from parts that identify the *event at the source* (never from
the raw bytes), so re-serializing a payload keeps its key and a genuine update changes it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)

_SEPARATOR = ":"


def oms_order_id(channel: str, channel_order_id: str) -> str:
    """`{channel}:{channel_order_id}`; the one id every order-keyed topic and table uses."""
    return f"{channel}{_SEPARATOR}{channel_order_id}"


def instant(moment: datetime) -> str:
    """A timestamp as UTC epoch milliseconds, so `+01:00` and `Z` spellings key the same."""
    return str((moment - _EPOCH) // _MILLISECOND)


def idempotency_key(source: str, *parts: str | int) -> str:
    """`{source}:{part}:{part}...`; parts are the source's own event identity, in order."""
    return _SEPARATOR.join((source, *(str(part) for part in parts)))


def tracking_key(carrier: str, tracking_number: str) -> str:
    """`{carrier}:{tracking_number}`, the carrier case-folded: one parcel, whoever reports it
    (tracking numbers are unique per carrier, not across carriers)."""
    return f"{carrier.strip().casefold()}{_SEPARATOR}{tracking_number.strip()}"
