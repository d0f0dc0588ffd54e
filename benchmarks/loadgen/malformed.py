"""Broken payloads, each of a kind the ingest stage must dead-letter rather than accept.

A malformed record starts as a valid order of its channel and gets exactly one fault. Every
fault is one `orderstream.codecs.sources.normalize_payload` refuses: undecodable bytes, a
type msgspec will not coerce, a required field missing, a naive timestamp (decoding), or a
negative quantity or unknown currency (normalization).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .payloads import Payload

Fault = Literal[
    "truncated_json",
    "wrong_type",
    "missing_field",
    "negative_quantity",
    "unknown_currency",
    "naive_timestamp",
]

UNKNOWN_CURRENCY = "ZZZ"
"""Not an ISO 4217 code (reserved for user assignment: no standard will take it)."""


@dataclass(frozen=True)
class _Paths:
    """Where, in one channel's payload, each fault is planted."""

    order_id: Callable[[Payload], tuple[Payload, str]]
    quantity: Callable[[Payload], tuple[Payload, str]]
    timestamp: Callable[[Payload], tuple[Payload, str]]
    currency: Callable[[Payload], tuple[Payload, str]] | None


_PATHS: dict[str, _Paths] = {
    "shopify": _Paths(
        order_id=lambda p: (p, "id"),
        quantity=lambda p: (p["line_items"][0], "quantity"),
        timestamp=lambda p: (p, "created_at"),
        currency=lambda p: (p, "currency"),
    ),
    "bol": _Paths(
        order_id=lambda p: (p, "orderId"),
        quantity=lambda p: (p["orderItems"][0], "quantity"),
        timestamp=lambda p: (p, "orderPlacedDateTime"),
        currency=None,  # Bol.com states no currency: everything is EUR
    ),
    "amazon": _Paths(
        order_id=lambda p: (p["order"], "AmazonOrderId"),
        quantity=lambda p: (p["items"]["OrderItems"][0], "QuantityOrdered"),
        timestamp=lambda p: (p["order"], "LastUpdateDate"),
        currency=lambda p: (p["order"]["OrderTotal"], "CurrencyCode"),
    ),
    "pos": _Paths(
        order_id=lambda p: (p, "store_id"),
        quantity=lambda p: (p["lines"][0], "qty"),
        timestamp=lambda p: (p, "occurred_at"),
        currency=lambda p: (p, "currency"),
    ),
}

FAULTS: tuple[Fault, ...] = (
    "truncated_json",
    "wrong_type",
    "missing_field",
    "negative_quantity",
    "unknown_currency",
    "naive_timestamp",
)


def faults_of(channel: str) -> tuple[Fault, ...]:
    """The faults a channel's payload can carry (Bol.com has no currency to get wrong)."""
    if _PATHS[channel].currency is None:
        return tuple(fault for fault in FAULTS if fault != "unknown_currency")
    return FAULTS


def corrupt(channel: str, payload: Payload, fault: Fault, encode: Callable[[Any], bytes]) -> bytes:
    """`payload` (changed in place) with `fault`, as the bytes a channel would send."""
    paths = _PATHS[channel]
    if fault == "truncated_json":
        whole = encode(payload)
        cut = len(whole) // 2
        while whole[cut] >= 0x80:  # cut between characters: still UTF-8, never JSON
            cut -= 1
        return whole[:cut]
    if fault == "wrong_type":
        parent, name = paths.quantity(payload)
        parent[name] = str(parent[name])  # "2": msgspec does not coerce text to int
    elif fault == "missing_field":
        parent, name = paths.order_id(payload)
        del parent[name]
    elif fault == "negative_quantity":
        parent, name = paths.quantity(payload)
        parent[name] = -parent[name]
    elif fault == "unknown_currency":
        if paths.currency is None:
            raise ValueError(f"{channel} payloads state no currency")
        parent, name = paths.currency(payload)
        parent[name] = UNKNOWN_CURRENCY
    else:
        parent, name = paths.timestamp(payload)
        parent[name] = naive(parent[name])
    return encode(payload)


def naive(stamp: str) -> str:
    """The same wall time without its offset: `...T10:15:32+01:00` -> `...T10:15:32`."""
    return stamp[:-1] if stamp.endswith("Z") else stamp[:-6]


def pick_fault(channel: str, rng: random.Random) -> Fault:
    faults = faults_of(channel)
    return faults[rng.randrange(len(faults))]
