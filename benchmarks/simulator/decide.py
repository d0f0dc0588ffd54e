"""What a location and its carrier do with a parcel: the simulator's pure decisions.

A parcel is one fulfilment request, or the members of a bundle that ship together. Every
decision is a pure function of the seed and an id: the location's fate for each member (ship,
reject, short pick) of its request id, the parcel's timings, carrier leg, exception and labels
of the parcel's key (the bundle key, or the request id). Each decision has its own draw, so
changing one share moves no other decision. Times come from the requests (`requested_at`),
never from a clock: a redelivered request plans the same events, with the same ids and times,
which the pipeline drops as duplicates.

Delays are realistic (minutes to pick, hours to the carrier's pickup, a day in transit) and
divided by `time_scale`, so a run with a large scale lives through days in seconds. Each
planned event is a raw record in the shape `codecs/wms.py` and `codecs/carrier.py` accept.

The order process understands a rejection of a whole shipment and no partial shipment (a ship
confirmation commits every unit of the shipment): a short pick is therefore reported as the
location rejecting its shipment at pick time, with the short SKU in the reason, and the order
re-plans those units elsewhere; the location's count takes the missing units off its stock on
`raw.stock`, so they are not promised again.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from orderstream.streams.order_messages import FulfilmentRequested

from ..loadgen.generator import RawRecord
from ..loadgen.payloads import local, stock_adjustment

WMS_TOPIC = "raw.wms"
STOCK_TOPIC = "raw.stock"
COUNT_FEED = "count"
"""A short pick's stock correction comes from the location's count feed of its own
(`{provider}-count`): its sequence is the count's time, which must not mix with the
numbering of the location's stock feed."""
CARRIER_TOPIC = "raw.carrier"
DEFAULT_CARRIER = "postnl"

_encode = msgspec.json.Encoder().encode


class Fate(enum.StrEnum):
    """What the location does with one shipment."""

    SHIPPED = "shipped"
    REJECTED = "rejected"  # declined when it arrived: no capacity, a blocked location
    SHORT_PICK = "short_pick"  # a unit was not on the shelf when picked


@dataclass(frozen=True)
class Behaviour:
    """How often things go wrong, and how fast simulated time runs."""

    seed: int = 1
    reject_share: float = 0.02
    short_pick_share: float = 0.02
    exception_share: float = 0.05
    """Parcels the carrier reports an exception for (then back in its network, delivered)."""
    tracking_only_share: float = 0.3
    """Single-shipment parcels whose scans name only the tracking number."""
    time_scale: float = 60.0
    """Simulated seconds per wall second: 60 makes a minute of a warehouse's work a second."""

    def __post_init__(self) -> None:
        shares = (self.reject_share, self.short_pick_share, self.exception_share)
        if any(not 0 <= share <= 1 for share in (*shares, self.tracking_only_share)):
            raise ValueError("every share must be between 0 and 1")
        if self.reject_share + self.short_pick_share > 1:
            raise ValueError("reject and short-pick shares add up to more than 1")
        if self.time_scale <= 0:
            raise ValueError("time scale must be more than 0")


@dataclass(frozen=True)
class Planned:
    """One raw record to send once `at` (its event time) has come, about one request."""

    at: datetime
    request_id: str
    record: RawRecord
    follows: str = ""
    """A scan naming its shipment: the shipment whose ship confirmation it must follow (the
    order process refuses a scan of a shipment not yet shipped)."""


# (lowest, highest) simulated minutes of each step.
PICK_MINUTES = (10, 90)
PACK_MINUTES = (5, 25)
PICKUP_MINUTES = (30, 240)  # packed -> handed to the carrier at its next collection
FIRST_SCAN_MINUTES = (60, 300)
TRANSIT_MINUTES = (480, 1440)  # in transit -> out for delivery
DELIVERY_MINUTES = (60, 420)
EXCEPTION_MINUTES = (120, 600)
RECOVERY_MINUTES = (600, 1440)  # exception -> back in the network
DECLINE_MINUTES = (2, 20)
_STEPS = (
    PICK_MINUTES,
    PACK_MINUTES,
    PICKUP_MINUTES,
    FIRST_SCAN_MINUTES,
    EXCEPTION_MINUTES,
    RECOVERY_MINUTES,
    TRANSIT_MINUTES,
    DELIVERY_MINUTES,
)
LONGEST_MINUTES = sum(high for _, high in _STEPS)
"""The longest a parcel takes from its request to its delivery, in simulated minutes."""

_REJECT_REASONS = (
    "no_capacity: the ship date's picking waves are full",
    "location_blocked: inventory count in progress",
)
_EXCEPTIONS = (
    ("address_unknown", "Recipient not at this address, parcel back at the depot"),
    ("damaged", "Parcel damaged in sorting, repacked"),
    ("delayed", "Parcel missed its sorting connection"),
)
_TRACKING_PREFIX = {"postnl": "3S", "dhl": "JJD", "dpd": "0522", "bpost": "3232"}


def longest_gap_wall_seconds(behaviour: Behaviour) -> float:
    """The longest wall time between two events of one parcel (or its request and the first)."""
    return max(high for _, high in _STEPS) * 60 / behaviour.time_scale


def longest_wall_seconds(behaviour: Behaviour) -> float:
    """The longest wall time from a request to its last planned event."""
    return LONGEST_MINUTES * 60 / behaviour.time_scale


def draw(seed: int, key: str, decision: str) -> float:
    """A number in [0, 1) that depends only on the seed, the id and the decision's name."""
    digest = hashlib.blake2b(f"{seed}|{key}|{decision}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def fate(behaviour: Behaviour, request_id: str) -> Fate:
    """The location's answer to one shipment."""
    u = draw(behaviour.seed, request_id, "fate")
    if u < behaviour.reject_share:
        return Fate.REJECTED
    if u < behaviour.reject_share + behaviour.short_pick_share:
        return Fate.SHORT_PICK
    return Fate.SHIPPED


def tracking_number(seed: int, carrier: str, parcel_key: str) -> str:
    """The parcel's number in its carrier's style: unique per parcel key and seed."""
    digits = int.from_bytes(
        hashlib.blake2b(f"{seed}|{parcel_key}|tracking".encode(), digest_size=9).digest(), "big"
    )
    prefix = _TRACKING_PREFIX.get(carrier.split("-", maxsplit=1)[0], "")
    return f"{prefix}{digits:021d}"[:22]


class _Clock:
    """Simulated minutes after a base time, compressed by the time scale."""

    def __init__(self, base: datetime, behaviour: Behaviour, key: str) -> None:
        self.base = base
        self.behaviour = behaviour
        self.key = key

    def minutes(self, decision: str, bounds: tuple[int, int]) -> float:
        low, high = bounds
        return low + (high - low) * draw(self.behaviour.seed, self.key, decision)

    def at(self, minutes: float) -> datetime:
        wall = timedelta(seconds=minutes * 60 / self.behaviour.time_scale)
        return self.base + timedelta(milliseconds=wall // timedelta(milliseconds=1))


def _record(topic: str, key: str, payload: Mapping[str, Any], at: datetime) -> RawRecord:
    return RawRecord(
        topic=topic,
        key=key.encode(),
        value=_encode(payload),
        headers=[],
        kind="wms" if topic == WMS_TOPIC else "carrier",
        timestamp_ms=int(at.timestamp() * 1000),
    )


def carrier_record(number: str, scan: Mapping[str, Any], at: datetime) -> RawRecord:
    return _record(CARRIER_TOPIC, number, scan, at)


def _wms(
    request: FulfilmentRequested, provider: str, kind: str, at: datetime, **extra: Any
) -> Planned:
    payload = {
        "event_id": f"{request.request_id}:{kind}",
        "provider": provider,
        "type": kind,
        "order_reference": request.oms_order_id,
        "shipment_id": request.request_id,
        "node": request.location,
        "occurred_at": local(at, "milliseconds"),
        "lines": [{"sku": line.sku, "qty": line.qty} for line in request.lines],
        **extra,
    }
    return Planned(at, request.request_id, _record(WMS_TOPIC, request.oms_order_id, payload, at))


def _declined(request: FulfilmentRequested, behaviour: Behaviour, provider: str) -> list[Planned]:
    """A rejection; a short pick's comes with the stock correction the picker's count makes
    (the missing units off the location's stock), sent first so the ledger has it before
    the rejection gives the shipment's units back."""
    clock = _Clock(request.requested_at, behaviour, request.request_id)
    if fate(behaviour, request.request_id) is Fate.REJECTED:
        at = clock.at(clock.minutes("decline", DECLINE_MINUTES))
        pick = int(draw(behaviour.seed, request.request_id, "reason") * len(_REJECT_REASONS))
        return [_wms(request, provider, "rejected", at, reason=_REJECT_REASONS[pick])]
    at = clock.at(clock.minutes("pick", PICK_MINUTES))
    pick = int(draw(behaviour.seed, request.request_id, "short") * len(request.lines))
    line = request.lines[pick]
    found = int(draw(behaviour.seed, request.request_id, "found") * line.qty)
    reason = f"short_pick: {line.sku} {found} of {line.qty} on the shelf"
    moment = int(at.timestamp() * 1000)
    count = stock_adjustment(
        system=f"{provider}-{COUNT_FEED}",
        location=request.location,
        sku=line.sku,
        sequence=moment,  # the count's time: later counts of this feed number higher
        delta=found - line.qty,
        reason="cycle_count",
        at=at,
    )
    adjustment = RawRecord(
        STOCK_TOPIC, line.sku.encode(), _encode(count), [], "adjustment", timestamp_ms=moment
    )
    return [
        Planned(at, request.request_id, adjustment),
        _wms(request, provider, "rejected", at, reason=reason),
    ]


def plan_parcel(
    members: Sequence[FulfilmentRequested],
    parcel_key: str,
    behaviour: Behaviour,
    provider: str,
) -> tuple[Planned, ...]:
    """Every event of one parcel, by event time: each member's rejection, or the picked,
    packed and shipped reports of the members that ship (one carrier, one tracking number)
    and the carrier's scans. Scans name each member's order and shipment; those of a parcel
    of one shipment name only its tracking number at `tracking_only_share`."""
    if not members:
        return ()
    planned: list[Planned] = []
    shipping = []
    for request in members:
        if fate(behaviour, request.request_id) is Fate.SHIPPED:
            shipping.append(request)
        else:
            planned += _declined(request, behaviour, provider)
    if shipping:
        planned += _shipped(shipping, parcel_key, behaviour, provider)
    return tuple(sorted(planned, key=lambda p: p.at))  # stable: a count before its rejection


def _shipped(
    members: Sequence[FulfilmentRequested], key: str, behaviour: Behaviour, provider: str
) -> list[Planned]:
    clock = _Clock(max(r.requested_at for r in members), behaviour, key)
    picked = clock.minutes("pick", PICK_MINUTES)
    packed = picked + clock.minutes("pack", PACK_MINUTES)
    shipped = packed + clock.minutes("pickup", PICKUP_MINUTES)
    carrier = members[0].carrier or DEFAULT_CARRIER
    number = tracking_number(behaviour.seed, carrier, key)
    planned: list[Planned] = []
    for request in members:
        planned += [
            _wms(request, provider, "picked", clock.at(picked)),
            _wms(request, provider, "packed", clock.at(packed)),
            _wms(
                request,
                provider,
                "shipped",
                clock.at(shipped),
                carrier=carrier,
                tracking_number=number,
            ),
        ]
    scans: list[tuple[float, str, str, str]] = []  # (minutes, status, code, description)
    at = shipped + clock.minutes("first_scan", FIRST_SCAN_MINUTES)
    scans.append((at, "in_transit", "PU", "Parcel collected by the carrier"))
    if draw(behaviour.seed, key, "exception") < behaviour.exception_share:
        at += clock.minutes("exception", EXCEPTION_MINUTES)
        pick = int(draw(behaviour.seed, key, "exception_kind") * len(_EXCEPTIONS))
        code, description = _EXCEPTIONS[pick]
        scans.append((at, "exception", code, description))
        at += clock.minutes("recovery", RECOVERY_MINUTES)
        scans.append((at, "in_transit", "RS", "Parcel back in the network"))
    at += clock.minutes("transit", TRANSIT_MINUTES)
    scans.append((at, "out_for_delivery", "OD", "Out for delivery"))
    at += clock.minutes("delivery", DELIVERY_MINUTES)
    scans.append((at, "delivered", "DL", "Delivered"))
    labelled = len(members) > 1 or draw(behaviour.seed, key, "labels") >= (
        behaviour.tracking_only_share
    )
    for minutes, status, code, description in scans:
        moment = clock.at(minutes)
        scan = {
            "carrier": carrier,
            "tracking_number": number,
            "status": status,
            "occurred_at": _zulu_ms(moment),
            "carrier_status_code": code,
            "description": description,
        }
        if not labelled:
            planned.append(
                Planned(moment, members[0].request_id, carrier_record(number, scan, moment))
            )
            continue
        for request in members:
            named = {
                **scan,
                "order_reference": request.oms_order_id,
                "shipment_reference": request.request_id,
            }
            planned.append(
                Planned(
                    moment,
                    request.request_id,
                    carrier_record(number, named, moment),
                    follows=request.request_id,
                )
            )
    return planned


def _zulu_ms(moment: datetime) -> str:
    """UTC with milliseconds, as tracking APIs that keep them write it."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
