"""The fulfilment simulator as a process: consume requests, schedule their events, produce them.

Reads `fulfilment.requests` in a consumer group of its own and `fulfilment.bundles` whole
(every partition, from the beginning, without a group: instructions are few, and a restarted
simulator needs them all). Each request is planned by `decide.plan_parcel`, alone or with
the members of the bundle that names it; a bundled request waits `BUNDLE_WAIT_MINUTES` of
simulated time (the location's next picking wave, `BUNDLE_WAIT_MIN_S` at least) for its
bundle's instruction, and a member
already planned when a later version arrives ships as it was planned. Planned records go
to `raw.wms` and `raw.carrier` when their event time comes, each stamped with that time.

Compressed time lets a scan overtake its parcel's ship confirmation in a pipeline that lags
(hours apart in a warehouse, milliseconds apart here), and the order process refuses a scan
of a shipment it has not seen ship. So with `follow_pipeline` a scan that names its
shipment is held until `orders.status` (read whole, like the bundles) shows that shipment
shipped, at most `HOLD_LIMIT_S`; its payload and time stay as planned.

At-least-once, like the pipeline: a request's offset is committed only once every record it
planned has been acknowledged by the broker, so a simulator stopped or killed mid-plan reads
the request again at its next start and sends the same records (same ids, times and
payloads), which ingest and the order agent drop as duplicates.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import ConsumerRecord

from orderstream.agents.kafka_admin import partitions_of
from orderstream.agents.topics import FULFILMENT_BUNDLES, FULFILMENT_REQUESTS, ORDERS_STATUS
from orderstream.codecs import internal
from orderstream.streams.bundling import ShipmentsBundled
from orderstream.streams.order_messages import FulfilmentRequested
from orderstream.streams.order_shipments import LEFT

from ..loadgen.send import Destination, producer_for, send_record
from .decide import Behaviour, Planned, plan_parcel

log = logging.getLogger("orderstream.simulator")

BUNDLE_WAIT_MINUTES = 60
"""Simulated minutes a bundled request waits for its bundle's instruction."""
BUNDLE_WAIT_MIN_S = 2.0
"""And at least this much wall time: the instruction takes one more hop (the bundling agent)
than the request, which a large time scale would otherwise not wait for."""
COMMIT_INTERVAL_S = 1.0
HOLD_LIMIT_S = 60.0
"""Longest a scan waits for its shipment's ship confirmation (a cancelled order's never
shows): then it is sent, and the order process decides what it means."""


_SYSTEMS = {"wh": "wms", "3pl": "3pl", "store": "pos"}
"""The system that answers for a location, by the prefix of its id (the sample network's)."""


def default_provider(location: str) -> str:
    """The system that answers for a location: its WMS, 3PL or store system."""
    system = _SYSTEMS.get(location.split("-", 1)[0].lower(), "wms")
    return f"{system}-{location.lower()}"


@dataclass
class Counts:
    requests: int = 0
    redelivered: int = 0
    undecodable: int = 0
    bundles: int = 0
    parcels: int = 0
    sent: int = 0


@dataclass
class _Offsets:
    """Per partition: the offsets read, and which of them are settled."""

    open: dict[int, str] = field(default_factory=dict)  # offset -> request id
    next: int | None = None  # one past the highest offset read

    def position(self) -> int | None:
        """The offset to commit: the lowest unsettled one, else one past the last read."""
        return min(self.open) if self.open else self.next


@dataclass
class Simulator:
    """One simulator run: `await run(stop)` until `stop` is set."""

    destination: Destination
    behaviour: Behaviour
    group_id: str
    provider: Callable[[str], str] = default_provider
    follow_pipeline: bool = True
    counts: Counts = field(default_factory=Counts)
    _requests: dict[str, FulfilmentRequested] = field(default_factory=dict)  # not planned yet
    _bundle_of: dict[str, ShipmentsBundled] = field(default_factory=dict)
    _outstanding: dict[str, int] = field(default_factory=dict)  # request id -> unsent records
    _offsets: dict[TopicPartition, _Offsets] = field(default_factory=dict)
    _where: dict[str, list[tuple[TopicPartition, int]]] = field(default_factory=dict)
    _due: list[tuple[datetime, int, str, Planned | None]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)
    _left: set[str] = field(default_factory=set)  # shipments orders.status shows shipped
    _held: dict[str, list[tuple[float, Planned]]] = field(default_factory=dict)

    async def run(self, stop: asyncio.Event) -> None:
        requests = AIOKafkaConsumer(
            self.destination.topic(FULFILMENT_REQUESTS),
            bootstrap_servers=self.destination.bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=100,
        )
        # Instructions and statuses: every partition from the start, no group.
        followed = AIOKafkaConsumer(
            bootstrap_servers=self.destination.bootstrap,
            enable_auto_commit=False,
            fetch_max_wait_ms=100,
        )
        producer = producer_for(self.destination.bootstrap)
        await producer.start()
        await followed.start()
        await requests.start()
        try:
            bundles = self.destination.topic(FULFILMENT_BUNDLES)
            topics = [bundles]
            if self.follow_pipeline:
                topics.append(self.destination.topic(ORDERS_STATUS))
            parts = [
                TopicPartition(topic, number)
                for topic in topics
                for number in await partitions_of(self.destination.bootstrap, topic)
            ]
            followed.assign(parts)
            await followed.seek_to_beginning(*parts)
            committed = time.monotonic()
            while not stop.is_set():
                for tp, records in (await followed.getmany(timeout_ms=10)).items():
                    for record in records:
                        if tp.topic == bundles:
                            self._bundle(record)
                        else:
                            self._status(record)
                for tp, records in (await requests.getmany(timeout_ms=50)).items():
                    for record in records:
                        self._request(tp, record)
                await self._send_due(producer)
                if time.monotonic() - committed >= COMMIT_INTERVAL_S:
                    await self._commit(requests)
                    committed = time.monotonic()
            await producer.flush()
            await self._commit(requests)
        finally:
            await requests.stop()
            await followed.stop()
            await producer.stop()

    def _bundle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            bundled = internal.shipments_bundled.decode(record.value or b"")
        except internal.DecodeFailure:
            self.counts.undecodable += 1
            return
        self.counts.bundles += 1
        for request_id in bundled.request_ids:
            known = self._bundle_of.get(request_id)
            if known is None or known.version < bundled.version:
                self._bundle_of[request_id] = bundled

    def _status(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            event = internal.status_changed.decode(record.value or b"")
        except internal.DecodeFailure:
            return
        for shipment in event.shipments:
            if shipment.status in LEFT and shipment.shipment_id not in self._left:
                self._left.add(shipment.shipment_id)
                for _, planned in self._held.pop(shipment.shipment_id, []):
                    self._push(planned.at, planned.request_id, planned)

    def _release_overdue(self) -> None:
        limit = time.monotonic() - HOLD_LIMIT_S
        for shipment_id in [sid for sid, held in self._held.items() if held[0][0] < limit]:
            log.warning("sending scans whose shipment orders.status never showed shipped")
            for _, planned in self._held.pop(shipment_id):
                self._push(planned.at, planned.request_id, planned)

    def _request(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes]) -> None:
        offsets = self._offsets.setdefault(tp, _Offsets())
        offsets.next = record.offset + 1
        try:
            request = internal.fulfilment_requested.decode(record.value or b"")
        except internal.DecodeFailure:
            self.counts.undecodable += 1
            return
        request_id = request.request_id
        if request_id in self._outstanding:
            self.counts.redelivered += 1
            if self._outstanding[request_id] == 0:
                return  # its records are out already
        else:
            self.counts.requests += 1
            self._requests[request_id] = request
            self._outstanding[request_id] = -1  # not planned yet
            wait = (
                max(BUNDLE_WAIT_MINUTES * 60 / self.behaviour.time_scale, BUNDLE_WAIT_MIN_S)
                if request.bundle_key
                else 0
            )
            self._push(request.requested_at + timedelta(seconds=wait), request_id, None)
        offsets.open[record.offset] = request_id
        self._where.setdefault(request_id, []).append((tp, record.offset))

    def _push(self, at: datetime, request_id: str, planned: Planned | None) -> None:
        heapq.heappush(self._due, (at, next(self._order), request_id, planned))

    def _plan(self, request_id: str) -> None:
        """Plan the parcel this request ships in, once."""
        request = self._requests.get(request_id)
        if request is None:
            return  # planned with its bundle already
        bundled = self._bundle_of.get(request_id)
        members = [request]
        key = request_id
        if bundled is not None:
            others = [
                self._requests[rid]
                for rid in bundled.request_ids
                if rid != request_id and rid in self._requests
            ]
            if others:
                members = sorted([*members, *others], key=lambda r: r.request_id)
                key = bundled.bundle_key
        self.counts.parcels += 1
        location = members[0].location
        plan = plan_parcel(members, key, self.behaviour, self.provider(location))
        for member in members:
            del self._requests[member.request_id]
            self._outstanding[member.request_id] = 0
        for planned in plan:
            self._outstanding[planned.request_id] += 1
            self._push(planned.at, planned.request_id, planned)
        for member in members:
            if self._outstanding[member.request_id] == 0:
                self._settle(member.request_id)

    async def _send_due(self, producer: AIOKafkaProducer) -> None:
        self._release_overdue()
        now = datetime.now(UTC)
        sent: list[tuple[asyncio.Future[object], str]] = []
        while self._due and self._due[0][0] <= now:
            _, _, request_id, planned = heapq.heappop(self._due)
            if planned is None:
                self._plan(request_id)
                continue
            if self.follow_pipeline and planned.follows and planned.follows not in self._left:
                held = self._held.setdefault(planned.follows, [])
                held.append((time.monotonic(), planned))
                continue
            future = await send_record(producer, self.destination, planned.record)
            sent.append((future, request_id))
        if not sent:
            return
        for future, request_id in sent:
            await future
            self.counts.sent += 1
            self._outstanding[request_id] -= 1
            if self._outstanding[request_id] == 0:
                self._settle(request_id)

    def _settle(self, request_id: str) -> None:
        for tp, offset in self._where.pop(request_id, []):
            self._offsets[tp].open.pop(offset, None)

    async def _commit(self, consumer: AIOKafkaConsumer) -> None:
        owned = consumer.assignment()
        positions = {
            tp: position
            for tp, offsets in self._offsets.items()
            if tp in owned and (position := offsets.position()) is not None
        }
        if not positions:
            return
        try:
            await consumer.commit(positions)
        except (CommitFailedError, IllegalStateError) as error:  # a rebalance: read again
            log.warning("commit skipped: %s", type(error).__name__)
