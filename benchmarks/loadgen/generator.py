"""The run: a seeded, deterministic stream of raw channel records for a peak-season load.

Same mix, seed, start and network: the same records, byte for byte (`random.Random(seed)` is the
only chance; no clock, environment or set iteration). In event-time order: an opening stock
snapshot per SKU x location at `start`; orders at `mix.orders_per_second` (exponential gaps) with
stock adjustments and malformed records between; follow-ups when due (retries and overlapping
polls, payment captures, Shopify cancellations). Keys: orders and payments by `oms_order_id`,
stock by SKU; a malformed record has no key.
"""

from __future__ import annotations

import bisect
import dataclasses
import heapq
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec

from orderstream.streams.routing import LocationKind

from . import payloads as p
from .catalogue import Catalogue, build_catalogue
from .malformed import corrupt, pick_fault
from .mix import CHANNELS, Mix
from .network import Network, sample_network
from .people import COUNTRIES, person
from .stock import opening_stock

Kind = Literal[
    "order", "duplicate", "malformed", "payment", "cancel", "stock", "adjustment", "wms", "carrier"
]
"""What a raw record is; `wms` and `carrier` come from the fulfilment simulator."""

OPENING_LEAD = timedelta(seconds=1)
"""Orders start this long after the opening snapshot."""
POLL_INTERVAL_MS = 60_000
"""Bol.com and Amazon pollers run once a minute; an overlap re-reads the last window."""


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record for a raw topic, as a channel adapter would produce it."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    kind: Kind
    offset_ms: int = 0
    """Event time: milliseconds after the run's `start` (for paced replay)."""
    timestamp_ms: int | None = None
    """The Kafka record timestamp to send (ms since the epoch): `start + offset_ms` in a run
    made with `event_time=True`; None lets the producer stamp its own clock."""


@dataclass(frozen=True)
class Expected:
    """What a run holds, for checking what the pipeline made of it."""

    orders: int
    """Distinct valid orders."""
    duplicates: int
    malformed: int
    order_ids: dict[str, tuple[str, ...]]
    """`oms_order_id`s per channel, in the order they were placed."""
    payment_holds: tuple[str, ...]
    """Shopify orders placed with a pending payment."""
    payments: tuple[str, ...]
    """Pending orders whose payment capture was sent."""
    cancellations: tuple[str, ...]
    lines: int
    units: int
    stock_snapshots: int
    adjustments: int
    records: int
    per_topic: dict[str, int]

    @property
    def all_order_ids(self) -> set[str]:
        """Every `oms_order_id` of the run, whatever its channel."""
        return {order_id for ids in self.order_ids.values() for order_id in ids}


@dataclass
class _Tally:
    order_ids: dict[str, list[str]] = field(default_factory=lambda: {c: [] for c in CHANNELS})
    payment_holds: list[str] = field(default_factory=list)
    payments: list[str] = field(default_factory=list)
    cancellations: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)
    per_topic: dict[str, int] = field(default_factory=dict)
    lines: int = 0
    units: int = 0

    def count(self, record: RawRecord) -> RawRecord:
        self.kinds[record.kind] = self.kinds.get(record.kind, 0) + 1
        self.per_topic[record.topic] = self.per_topic.get(record.topic, 0) + 1
        return record

    def expected(self) -> Expected:
        return Expected(
            orders=self.kinds.get("order", 0),
            duplicates=self.kinds.get("duplicate", 0),
            malformed=self.kinds.get("malformed", 0),
            order_ids={channel: tuple(ids) for channel, ids in self.order_ids.items()},
            payment_holds=tuple(self.payment_holds),
            payments=tuple(self.payments),
            cancellations=tuple(self.cancellations),
            lines=self.lines,
            units=self.units,
            stock_snapshots=self.kinds.get("stock", 0),
            adjustments=self.kinds.get("adjustment", 0),
            records=sum(self.kinds.values()),
            per_topic=dict(sorted(self.per_topic.items())),
        )


class LoadRun:
    """One load: iterate it for the records (each iteration starts over, identically);
    `expected` describes them once an iteration has finished.

    With `event_time`, each record carries its event time as its Kafka timestamp, so a
    pipeline whose clock is the record time lives through the run's `start` to its last
    event (months, at a low `orders_per_second`) however fast the records are sent. A
    re-send is stamped when it is sent again, not when its payload says the order was made.
    """

    def __init__(
        self,
        mix: Mix | None = None,
        *,
        seed: int,
        start: datetime,
        network: Network | None = None,
        event_time: bool = False,
    ) -> None:
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("start must carry an offset")
        self.mix = mix or Mix()
        self.seed = seed
        self.start = start
        self.network = network or sample_network()
        self.event_time = event_time
        self._expected: Expected | None = None
        _Generation(self.mix, seed, start, self.network, _Tally())  # refuses what cannot run

    @property
    def expected(self) -> Expected:
        if self._expected is None:
            raise RuntimeError("iterate the run to the end before asking what it holds")
        return self._expected

    def __iter__(self) -> Iterator[RawRecord]:
        tally = _Tally()
        epoch_ms = int(self.start.timestamp() * 1000)
        for made in _Generation(self.mix, self.seed, self.start, self.network, tally).run():
            record = (
                dataclasses.replace(made, timestamp_ms=epoch_ms + made.offset_ms)
                if self.event_time
                else made
            )
            yield tally.count(record)
        self._expected = tally.expected()


def generate(
    mix: Mix | None = None,
    *,
    seed: int,
    start: datetime,
    network: Network | None = None,
    event_time: bool = False,
) -> tuple[list[RawRecord], Expected]:
    """Every record of a run in a list, and what they hold (for tests and small runs)."""
    run = LoadRun(mix, seed=seed, start=start, network=network, event_time=event_time)
    records = list(run)
    return records, run.expected


def line_count_weights(mix: Mix) -> tuple[float, ...]:
    """Weights of 1..lines_max lines (0 below lines_min): a Poisson shifted to `lines_min`
    and cut at `lines_max`, its rate solved so the mean is `lines_mean`."""
    low, high = mix.lines_min, mix.lines_max

    def weights(rate: float) -> list[float]:
        terms = [rate**k / math.factorial(k) for k in range(high - low + 1)]
        return [0.0] * (low - 1) + terms

    def mean(rate: float) -> float:
        w = weights(rate)
        return sum((n + 1) * x for n, x in enumerate(w)) / sum(w)

    if mix.lines_mean <= low:
        return tuple(weights(0.0))
    lo, hi = 0.0, 1.0
    while mean(hi) < mix.lines_mean and hi < 1e6:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mean(mid) < mix.lines_mean else (lo, mid)
    return tuple(weights((lo + hi) / 2))


class _Sampler:
    """Draws from fixed weights by bisecting their running sum."""

    def __init__(self, items: list[Any], weights: list[float]) -> None:
        self.items = items
        running = 0.0
        self.cumulative: list[float] = []
        for weight in weights:
            running += weight
            self.cumulative.append(running)

    def __call__(self, rng: random.Random) -> Any:
        index = bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
        return self.items[min(index, len(self.items) - 1)]


@dataclass(order=True)
class _FollowUp:
    at: int
    order: int
    record: RawRecord = field(compare=False)


class _Generation:
    """The state of one pass over a run."""

    def __init__(
        self, mix: Mix, seed: int, start: datetime, network: Network, tally: _Tally
    ) -> None:
        self.mix, self.start, self.network, self.tally = mix, start, network, tally
        self.rng = random.Random(seed)
        self.ids = p.Ids(run=self.rng.randrange(1_000_000))
        self.catalogue: Catalogue = build_catalogue(
            network.skus, mix.catalogue_size, mix.zipf_exponent, self.rng
        )
        self.encode = msgspec.json.Encoder(decimal_format="number").encode
        self.channel = _Sampler(list(CHANNELS), [mix.shares()[c] for c in CHANNELS])
        self.line_count = _Sampler(list(range(1, mix.lines_max + 1)), list(line_count_weights(mix)))
        self.units = _Sampler([u for u, _ in mix.units], [w for _, w in mix.units])
        self.countries = {
            "shopify": self._countries(None),
            "bol": self._countries(p.BOL_COUNTRIES),
            "amazon": self._countries(tuple(p.AMAZON_MARKETPLACES)),
        }
        self.service_level = _Sampler(
            [level for level, _ in mix.service_levels], [w for _, w in mix.service_levels]
        )
        shipping = [i for i, n in enumerate(network.locations) if n.reservable]
        # Trucks unload at warehouses and 3PLs; a network of stores only restocks its stores.
        self.receiving = [
            i for i in shipping if network.locations[i].kind is not LocationKind.STORE
        ]
        self.receiving = self.receiving or shipping
        self.till_only = [i for i, n in enumerate(network.locations) if not n.reservable]
        if not shipping:
            raise ValueError("the network has no node that orders reserve stock from")
        if mix.shares()["pos"] > 0 and not network.stores:
            raise ValueError("the mix sells at tills but the network has no store with a till")
        self.sequences: dict[tuple[str, str], int] = {}
        self.on_hand: dict[tuple[int, int], int] = {}
        self.follow_ups: list[_FollowUp] = []
        self.scheduled = 0
        self.number = 0

    def _countries(self, allowed: tuple[str, ...] | None) -> _Sampler:
        pairs = [
            (country, weight)
            for country, weight in self.mix.countries
            if allowed is None or country in allowed
        ]
        unserved = [country for country, _ in pairs if country not in self.network.served]
        if unserved:
            raise ValueError(f"the network serves no node in {', '.join(unserved)}")
        unknown = [country for country, _ in pairs if country not in COUNTRIES]
        if unknown:
            raise ValueError(f"no addresses to draw in {', '.join(unknown)}")
        if not pairs or sum(weight for _, weight in pairs) <= 0:
            # A channel whose countries the mix leaves out still ships somewhere it can.
            pairs = [(allowed[0] if allowed else "NL", 1.0)]
        return _Sampler([c for c, _ in pairs], [w for _, w in pairs])

    # -- the stream --------------------------------------------------------------------

    def run(self) -> Iterator[RawRecord]:
        yield from self.snapshot()
        now = int(OPENING_LEAD / timedelta(milliseconds=1))
        rate_per_ms = self.mix.orders_per_second / 1000.0
        for _ in range(self.mix.orders):
            now += int(self.rng.expovariate(rate_per_ms))
            yield from self.due(now)
            if self.rng.random() < self.mix.adjustment_rate:
                yield self.adjustment(now)
            if self.rng.random() < self.mix.malformed_rate:
                yield self.malformed(now)
            yield self.order(now)
        yield from self.due(None)

    def due(self, now: int | None) -> Iterator[RawRecord]:
        while self.follow_ups and (now is None or self.follow_ups[0].at <= now):
            yield heapq.heappop(self.follow_ups).record

    def later(self, at: int, record: RawRecord) -> None:
        self.scheduled += 1
        heapq.heappush(self.follow_ups, _FollowUp(at, self.scheduled, record))

    def moment(self, offset_ms: int) -> datetime:
        return self.start + timedelta(milliseconds=offset_ms)

    # -- stock -------------------------------------------------------------------------

    def next_sequence(self, system: str, location: str) -> int:
        sequence = self.sequences.get((system, location), 0) + 1
        self.sequences[(system, location)] = sequence
        return sequence

    def snapshot(self) -> Iterator[RawRecord]:
        levels = opening_stock(self.catalogue, self.network, self.mix)
        at = self.moment(0)
        for index, product in enumerate(self.catalogue.products):
            key = product.sku.encode()
            for slot, location in enumerate(self.network.locations):
                units = levels[index][slot]
                self.on_hand[(index, slot)] = units
                value = p.stock_snapshot(
                    system=location.source_system,
                    location=location.id,
                    sku=product.sku,
                    sequence=self.next_sequence(location.source_system, location.id),
                    on_hand=units,
                    at=at,
                )
                yield RawRecord("raw.stock", key, self.encode(value), [], "stock", 0)

    def adjustment(self, now: int) -> RawRecord:
        """A receipt at a location orders reserve from, or a few units lost at a till-only store.

        Losses are counted only where no order reserves (a store that sells at its till
        only): a feed's shrinkage there can never undercut a reservation the pipeline rightly
        granted, so the no-oversell check stays meaningful. A loss never takes more than the
        generator's own count of the shelf (a feed does not count below zero).
        """
        rng = self.rng
        index = self.catalogue.pick(rng)
        delta = -rng.randint(1, 3)
        reason = rng.choice(("damaged", "shrinkage", "cycle_count"))
        store = self.till_only[rng.randrange(len(self.till_only))] if self.till_only else None
        shrink = rng.random() < self.mix.shrink_share
        if shrink and store is not None and self.on_hand[(index, store)] >= -delta:
            slot = store
        else:
            slot = self.receiving[rng.randrange(len(self.receiving))]
            delta, reason = rng.randint(6, 48), "received"
        location = self.network.locations[slot]
        self.on_hand[(index, slot)] += delta
        product = self.catalogue.products[index]
        value = p.stock_adjustment(
            system=location.source_system,
            location=location.id,
            sku=product.sku,
            sequence=self.next_sequence(location.source_system, location.id),
            delta=delta,
            reason=reason,
            at=self.moment(now),
        )
        return RawRecord(
            "raw.stock", product.sku.encode(), self.encode(value), [], "adjustment", now
        )

    # -- orders ------------------------------------------------------------------------

    def draft(self, channel: str, now: int) -> p.Draft:
        rng = self.rng
        self.number += 1
        count = self.line_count(rng)
        picked: list[int] = []
        for _ in range(count * 8):  # distinct SKUs per order; the best seller repeats often
            index = self.catalogue.pick(rng)
            if index not in picked:
                picked.append(index)
                if len(picked) == count:
                    break
        lines = tuple(p.Line(self.catalogue.products[i], self.units(rng)) for i in picked)
        buyer = None
        level = "carry_out"
        if channel != "pos":
            country = self.countries[channel](rng)
            buyer = person(rng, country, self.number, _MAIL_DOMAINS[channel])
            level = self.service_level(rng)
            if level == "same_day" and country != "NL":
                level = "next_day"  # only the Amsterdam store's courier rides the same day
        return p.Draft(self.number, self.moment(now), lines, buyer, level)

    def order(self, now: int) -> RawRecord:
        channel = self.channel(self.rng)
        draft = self.draft(channel, now)
        self.tally.lines += len(draft.lines)
        self.tally.units += sum(line.qty for line in draft.lines)
        if channel == "shopify":
            return self.shopify(draft, now)
        if channel == "bol":
            return self.bol(draft, now)
        if channel == "amazon":
            return self.amazon(draft, now)
        return self.pos(draft, now)

    def duplicate_of(self, record: RawRecord, now: int) -> None:
        """An exact re-send a few seconds later (a webhook retry, a till's re-upload)."""
        if self.rng.random() < self.mix.duplicate_rate:
            at = now + self.rng.randint(2_000, 60_000)
            self.later(
                at,
                RawRecord(record.topic, record.key, record.value, record.headers, "duplicate", at),
            )

    def webhook_id(self) -> str:
        bits = f"{self.rng.getrandbits(128):032x}"
        return f"{bits[:8]}-{bits[8:12]}-{bits[12:16]}-{bits[16:20]}-{bits[20:]}"

    def shopify(self, draft: p.Draft, now: int) -> RawRecord:
        rng = self.rng
        roll = rng.random()
        pending = roll < self.mix.payment_hold_rate
        cancel = not pending and roll < self.mix.payment_hold_rate + self.mix.cancel_rate
        order = p.shopify_order(
            draft,
            self.ids,
            financial_status="pending" if pending else rng.choice(("paid", "authorized")),
            discount_percent=10 if rng.random() < 0.2 else 0,
            vip=rng.random() < 0.02,
        )
        oms = f"shopify:{order['id']}"
        key = oms.encode()
        headers = p.shopify_headers("orders/create", self.webhook_id(), draft.at)
        record = RawRecord("raw.shopify", key, self.encode(order), headers, "order", now)
        self.tally.order_ids["shopify"].append(oms)
        self.duplicate_of(record, now)
        if pending:
            self.tally.payment_holds.append(oms)
            if rng.random() < self.mix.payment_capture_rate:
                at = now + rng.randint(10_000, 300_000)
                event_id = f"WHK-{self.ids.run:06d}{draft.number:07d}-CAPTURE"
                value = p.payment_captured(oms, event_id, order["total_price"], self.moment(at))
                self.later(at, RawRecord("raw.payment", key, self.encode(value), [], "payment", at))
                self.tally.payments.append(oms)
        if cancel:
            at = now + rng.randint(60_000, 1_800_000)
            moment = self.moment(at)
            value = p.shopify_cancellation(order, moment)
            headers = p.shopify_headers("orders/cancelled", self.webhook_id(), moment)
            self.later(at, RawRecord("raw.shopify", key, self.encode(value), headers, "cancel", at))
            self.tally.cancellations.append(oms)
        return record

    def bol(self, draft: p.Draft, now: int) -> RawRecord:
        order = p.bol_order(draft, self.ids)
        oms = f"bol:{order['orderId']}"
        value = self.encode(order)
        poll = now // POLL_INTERVAL_MS
        record = RawRecord(
            "raw.bol", oms.encode(), value, p.poll_headers("bol", poll), "order", now
        )
        self.tally.order_ids["bol"].append(oms)
        if self.rng.random() < self.mix.duplicate_rate:
            # The next poll overlaps this one and reads the still-open order again.
            at = (poll + 1) * POLL_INTERVAL_MS + self.rng.randint(0, 5_000)
            headers = p.poll_headers("bol", poll + 1)
            self.later(at, RawRecord("raw.bol", oms.encode(), value, headers, "duplicate", at))
        return record

    def amazon(self, draft: p.Draft, now: int) -> RawRecord:
        document = p.amazon_order(draft, self.ids, prime=self.rng.random() < 0.3)
        oms = f"amazon:{document['order']['AmazonOrderId']}"
        poll = now // POLL_INTERVAL_MS
        headers = p.poll_headers("amazon", poll)
        record = RawRecord("raw.amazon", oms.encode(), self.encode(document), headers, "order", now)
        self.tally.order_ids["amazon"].append(oms)
        if self.rng.random() < self.mix.duplicate_rate:
            # The same order version from the next, overlapping poll: same LastUpdateDate,
            # so the same idempotency key, though the bytes differ.
            at = (poll + 1) * POLL_INTERVAL_MS + self.rng.randint(0, 5_000)
            value = self.encode(p.amazon_repoll(document))
            headers = p.poll_headers("amazon", poll + 1)
            self.later(at, RawRecord("raw.amazon", oms.encode(), value, headers, "duplicate", at))
        return record

    def pos(self, draft: p.Draft, now: int) -> RawRecord:
        rng = self.rng
        store = self.network.stores[rng.randrange(len(self.network.stores))]
        sale = p.pos_sale(
            draft, self.ids, store=store, register=rng.randint(1, 4), loyalty=rng.random() < 0.3
        )
        oms = f"pos:{store}:{sale['register_id']}:{sale['transaction_id']}"
        record = RawRecord("raw.pos", oms.encode(), self.encode(sale), [], "order", now)
        self.tally.order_ids["pos"].append(oms)
        self.duplicate_of(record, now)
        return record

    def malformed(self, now: int) -> RawRecord:
        """A fresh order of some channel, with one fault; it is not one of the run's orders."""
        rng = self.rng
        channel = self.channel(rng)
        draft = self.draft(channel, now)
        headers: list[tuple[str, bytes]] = []
        if channel == "shopify":
            payload = p.shopify_order(
                draft, self.ids, financial_status="paid", discount_percent=0, vip=False
            )
            headers = p.shopify_headers("orders/create", self.webhook_id(), draft.at)
        elif channel == "bol":
            payload = p.bol_order(draft, self.ids)
            headers = p.poll_headers("bol", now // POLL_INTERVAL_MS)
        elif channel == "amazon":
            payload = p.amazon_order(draft, self.ids, prime=False)
            headers = p.poll_headers("amazon", now // POLL_INTERVAL_MS)
        else:
            store = self.network.stores[rng.randrange(len(self.network.stores))]
            payload = p.pos_sale(draft, self.ids, store=store, register=1, loyalty=False)
        value = corrupt(channel, payload, pick_fault(channel, rng), self.encode)
        return RawRecord(f"raw.{channel}", None, value, headers, "malformed", now)


_MAIL_DOMAINS = {
    "shopify": "example.nl",
    "bol": "verkopen.bol.com",
    "amazon": "marketplace.amazon.eu",
}
