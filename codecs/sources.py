"""The registry of inbound sources and the one entry point from raw bytes to an outcome."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import msgspec

from orderstream.streams.rejections import Rejected, RejectReason

from . import amazon, bol, carrier, payment, pos, returns, shopify, stock, wms
from .bounds import MAX_JSON_DEPTH, admit
from .common import IDENTIFIER_PATTERN, ChannelCodec, Headers, Normalized


class Source(enum.StrEnum):
    """Every raw input the ingest stage accepts; `raw.<source>` is its topic."""

    SHOPIFY = "shopify"
    BOL = "bol"
    AMAZON = "amazon"
    POS = "pos"
    STOCK = "stock"
    WMS = "wms"
    CARRIER = "carrier"
    PAYMENT = "payment"
    RETURNS = "returns"


CODECS: dict[Source, ChannelCodec[Any]] = {
    Source.SHOPIFY: shopify.CODEC,
    Source.BOL: bol.CODEC,
    Source.AMAZON: amazon.CODEC,
    Source.POS: pos.CODEC,
    Source.STOCK: stock.CODEC,
    Source.WMS: wms.CODEC,
    Source.CARRIER: carrier.CODEC,
    Source.PAYMENT: payment.CODEC,
    Source.RETURNS: returns.CODEC,
}


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""An event's `occurred_at` must fall in [EARLIEST, LATEST): a year-1 or year-9999 stamp is a
broken export, and it would sit at either end of every time-ordered view (fixed bounds: the
codecs never read the clock)."""

MAX_PAYLOAD_BYTES = 512 * 1024
"""Largest raw payload decoded. A real order, even with hundreds of lines, is a few tens of KB;
anything larger is a broken export or an attack, and decoding it would stall the stage."""


def normalize_payload(source: Source, raw: bytes, headers: Headers | None = None) -> Normalized:
    """Decode `raw` with the source's codec and normalize it; never raises on bad input.

    In this order, the first check that fails decides the reason: a body over
    `MAX_PAYLOAD_BYTES` is `Rejected(OVERSIZE)`; bytes that are not UTF-8 anywhere are
    `Rejected(UNDECODABLE)`; arrays and objects nested deeper than `MAX_JSON_DEPTH` anywhere
    are `Rejected(TOO_DEEP)` (see `bounds`; a leading UTF-8 BOM is dropped first). Then the
    source's codec decodes: bad JSON, a top-level array or scalar, wrong types, missing fields,
    naive timestamps, control, bidi or invisible characters in ids are `Rejected(UNDECODABLE)`
    with the JSON path of the offending field where msgspec knows it. A known field given twice
    in an object is decoded each time (each value must be valid) and keeps its last value; an
    unknown one is skipped each time. A timestamp with no UTC equivalent (year 1 ahead of UTC,
    year 9999 behind it), or an `occurred_at` outside [EARLIEST, LATEST), is
    `Rejected(INVALID_TIMESTAMP)`.
    """
    if len(raw) > MAX_PAYLOAD_BYTES:
        return Rejected(
            RejectReason.OVERSIZE,
            f"payload of {len(raw)} bytes exceeds the limit of {MAX_PAYLOAD_BYTES} bytes",
        )
    admitted = admit(raw)
    if isinstance(admitted, Rejected):
        return admitted
    codec = CODECS[source]
    payload = _decode(codec, admitted)
    if isinstance(payload, Rejected):
        return payload
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    try:
        return _in_time_range(codec.normalize(payload, lowered))
    except OverflowError as error:
        # The only arithmetic a normalizer does that can overflow is moving a decoded aware
        # datetime to UTC (money refuses huge amounts before scaling).
        return Rejected(
            RejectReason.INVALID_TIMESTAMP, f"a timestamp has no UTC equivalent: {error}"
        )


def _decode(codec: ChannelCodec[Any], raw: bytes) -> Any:
    """The codec's payload Struct, or `Rejected` with msgspec's reason and the field's path."""
    try:
        return codec.decoder.decode(raw)
    except msgspec.ValidationError as error:
        message = str(error)
        path = message.rpartition(" - at `")[2].rstrip("`") if " - at `" in message else ""
        if f"regex {IDENTIFIER_PATTERN!r}" in message:  # say what is wrong, not the regex
            message = f"an id holds a control, bidi or invisible character - at `{path}`"
        return Rejected(RejectReason.UNDECODABLE, message, path)
    except RecursionError:  # a backstop: `admit` bounds the nesting far below this
        return Rejected(
            RejectReason.TOO_DEEP,
            f"nesting ran out of stack below the limit of {MAX_JSON_DEPTH} levels",
        )
    except msgspec.DecodeError as error:
        return Rejected(RejectReason.UNDECODABLE, str(error))
    except UnicodeDecodeError as error:  # msgspec decodes the text of a string field lazily
        return Rejected(RejectReason.UNDECODABLE, f"a string is not UTF-8: {error}")


def _in_time_range(outcome: Normalized) -> Normalized:
    if isinstance(outcome, Rejected) or EARLIEST <= outcome.occurred_at < LATEST:
        return outcome
    return Rejected(
        RejectReason.INVALID_TIMESTAMP,
        f"occurred_at {outcome.occurred_at.isoformat()} is outside "
        f"[{EARLIEST.date()}, {LATEST.date()})",
        "occurred_at",
    )
