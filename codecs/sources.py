"""The registry of inbound sources and the one entry point from raw bytes to an outcome."""

from __future__ import annotations

import enum
from typing import Any

import msgspec

from orderstream.streams.rejections import Rejected, RejectReason

from . import amazon, bol, carrier, payment, pos, returns, shopify, stock, wms
from .common import ChannelCodec, Headers, Normalized


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


def normalize_payload(source: Source, raw: bytes, headers: Headers | None = None) -> Normalized:
    """Decode `raw` with the source's codec and normalize it; never raises on bad input.

    Undecodable bytes (bad JSON, wrong types, missing fields, naive timestamps) are
    `Rejected(UNDECODABLE)` with msgspec's message and the JSON path of the offending field.
    """
    codec = CODECS[source]
    try:
        payload = codec.decoder.decode(raw)
    except msgspec.ValidationError as error:
        message = str(error)
        path = message.rpartition(" - at `")[2].rstrip("`") if " - at `" in message else ""
        return Rejected(RejectReason.UNDECODABLE, message, path)
    except msgspec.DecodeError as error:
        return Rejected(RejectReason.UNDECODABLE, str(error))
    return codec.normalize(
        payload, {name.lower(): value for name, value in (headers or {}).items()}
    )
