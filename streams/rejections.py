"""Business refusals as values.

A normalizer or a rule that cannot accept its input returns a `Rejected` value with a
machine-readable `reason`; it never raises. An exception inside the core means a bug.
"""

from __future__ import annotations

import enum

import msgspec


class RejectReason(enum.StrEnum):
    """Machine-readable reasons; stable strings, consumers match on them."""

    UNDECODABLE = "undecodable"
    MISSING_FIELD = "missing_field"
    UNKNOWN_CURRENCY = "unknown_currency"
    CURRENCY_MISMATCH = "currency_mismatch"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_COUNTRY = "invalid_country"
    INVALID_TIMESTAMP = "invalid_timestamp"
    NO_LINES = "no_lines"
    UNSUPPORTED_EVENT = "unsupported_event"
    INVALID_REFERENCE = "invalid_reference"
    OVERSIZE = "oversize"  # the raw payload is larger than the ingest stage decodes
    ORDER_TOO_LARGE = "order_too_large"  # too many lines, or a state too big for a table value
    TOO_DEEP = "too_deep"  # arrays and objects nest deeper than the codecs decode
    TOO_MANY_INPUTS = "too_many_inputs"  # an order's dedupe set is full of live keys
    INTERNAL_ERROR = "internal_error"  # a bug in a decision; the record is kept, not retried
    STATE_UNDECODABLE = "state_undecodable"  # the key's stored value does not decode: quarantined
    CHANNEL_REFUSED = "channel_refused"  # a sink's request the channel refused (a lasting 4xx)


class Rejected(msgspec.Struct, frozen=True, tag="rejected.v1"):
    """An input the core refuses, with the reason and where in the input it applies."""

    reason: RejectReason
    detail: str
    field: str = ""

    def describe(self) -> str:
        """One line for operators: reason, field and detail."""
        where = f" at {self.field}" if self.field else ""
        return f"{self.reason.value}{where}: {self.detail}"
