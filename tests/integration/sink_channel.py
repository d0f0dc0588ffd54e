"""A generic channel on 127.0.0.1 (aiohttp) for the delivery mechanism's tests, the adapter a
sink would write for it, and the sink tests' shared setup: a migrated scratch database, the
sink's dead letters under a topic prefix of their own, a deliverer in write mode, an adapter
that hangs between the channel's answer and the log, a channel simulator served and driven
through its `/_simulator` paths, the sample carrier codes, a value read on a connection of
its own.

The channel identifies an effect by its own identity (order, action, tracking number), never
by an id we send: a repeated request is answered as already applied (200) and applies nothing
again, as a real channel's idempotent endpoint does. It counts what it applied and every
request it received per identity, and plays a script of faults: a 429 with `Retry-After`, a
5xx (optionally after applying), a 4xx, a slow answer.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

import aiohttp
import asyncpg
from aiohttp import web

from orderstream.agents.api import listening
from orderstream.agents.samples import sample_carrier_codes_path
from orderstream.agents.settings import load_settings
from orderstream.agents.sinks.delivery import Deliverer
from orderstream.agents.sinks.letters import KafkaLetters, open_letters
from orderstream.agents.sinks.metrics import SinkMetrics
from orderstream.agents.sinks.ports import Channel, RetryPolicy
from orderstream.benchmarks.scratch_db import scratch_database
from orderstream.codecs.carrier_codes import CarrierCodes, load_carrier_codes
from orderstream.codecs.channel_outcomes import Delivered, Outcome, Rejected, Retryable
from orderstream.state.schema import migrate
from orderstream.streams.delivery import Effect, Lifetimes, SinkMode, parse_retry_after

Identity = tuple[str, str, str]


@dataclass(frozen=True)
class Fault:
    status: int
    retry_after: str = ""
    apply_first: bool = False  # apply the effect, then answer `status` all the same
    delay_s: float = 0.0
    body: str = ""


@dataclass
class ChannelState:
    applied: Counter[Identity] = field(default_factory=Counter)
    received: Counter[Identity] = field(default_factory=Counter)
    times: dict[Identity, list[float]] = field(default_factory=lambda: defaultdict(list))
    sequence: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    """Per order, the actions in the order they were applied."""
    faults: deque[Fault] = field(default_factory=deque)


def _identity(document: dict[str, Any]) -> Identity:
    return (str(document["order"]), str(document["action"]), str(document["tracking"]))


def channel_app(state: ChannelState) -> web.Application:
    async def apply(request: web.Request) -> web.Response:
        document = await request.json()
        identity = _identity(document)
        state.received[identity] += 1
        state.times[identity].append(time.monotonic())
        fault = state.faults.popleft() if state.faults else None
        if fault is not None and fault.apply_first:
            _apply(state, identity)
        if fault is not None and fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        if fault is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return web.Response(status=fault.status, text=fault.body, headers=headers)
        if state.applied[identity]:
            return web.json_response({"id": "/".join(identity), "repeated": True}, status=200)
        _apply(state, identity)
        return web.json_response({"id": "/".join(identity)}, status=201)

    async def look(request: web.Request) -> web.Response:
        identity = (request.query["order"], request.query["action"], request.query["tracking"])
        return web.json_response({"applied": bool(state.applied[identity])})

    app = web.Application()
    app.router.add_post("/effects", apply)
    app.router.add_get("/effects", look)
    return app


def _apply(state: ChannelState, identity: Identity) -> None:
    if not state.applied[identity]:
        state.sequence[identity[0]].append(identity[1])
    state.applied[identity] += 1


class ChannelServer:
    """The channel on a fixed port, which can go down and come back with its state."""

    def __init__(self, state: ChannelState | None = None) -> None:
        self.state = state or ChannelState()
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(channel_app(self.state), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/effects"


class HttpChannel:
    """The sink's adapter for that channel: its answers as outcomes."""

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.session = session

    async def send(self, effect: Effect) -> Outcome:
        headers = {"Content-Type": "application/json"}
        async with self.session.post(self.url, data=effect.request, headers=headers) as answer:
            text = await answer.text()
            if answer.status in (200, 201):
                return Delivered(reference=text[:100], already=answer.status == 200)
            if answer.status == 429:
                after = parse_retry_after(answer.headers.get("Retry-After"), datetime.now(UTC))
                return Retryable("429 throttled", retry_after=after)
            if answer.status >= 500:
                return Retryable(f"{answer.status} from the channel")
            return Rejected(f"http_{answer.status}", f"{answer.status} {text}")

    async def settle(self, effect: Effect) -> bool:
        document = json.loads(effect.request)
        query = {key: str(document[key]) for key in ("order", "action", "tracking")}
        async with self.session.get(self.url, params=query) as answer:
            answer.raise_for_status()
            return bool((await answer.json())["applied"])


class HangAfterSend:
    """An adapter, stalled between the channel's 2xx and the log's commit: the test cancels
    the delivery there, as a crash would end it."""

    def __init__(self, inner: Channel) -> None:
        self.inner = inner
        self.sent = asyncio.Event()

    async def send(self, effect: Effect) -> Outcome:
        outcome = await self.inner.send(effect)
        self.sent.set()
        await asyncio.Event().wait()  # never returns: cancelled here
        return outcome

    async def settle(self, effect: Effect) -> bool:
        return await self.inner.settle(effect)


LIFETIMES = Lifetimes(request=timedelta(days=30), entry=timedelta(days=90))


@asynccontextmanager
async def migrated_database(postgres_dsn: str, label: str) -> AsyncIterator[str]:
    """A scratch database of the test's own with every migration applied: the delivery log
    and the store."""
    async with scratch_database(postgres_dsn, label) as dsn:
        await migrate(dsn)
        yield dsn


@asynccontextmanager
async def pool_on(dsn: str, max_size: int = 4) -> AsyncIterator[Any]:
    connections = await asyncpg.create_pool(dsn, min_size=1, max_size=max_size)
    try:
        yield connections
    finally:
        await connections.close()


@asynccontextmanager
async def scratch_pool(postgres_dsn: str, label: str, max_size: int = 4) -> AsyncIterator[Any]:
    """A pool on a migrated scratch database (`migrated_database`)."""
    async with migrated_database(postgres_dsn, label) as dsn, pool_on(dsn, max_size) as pool:
        yield pool


@asynccontextmanager
async def sink_letters(kafka_bootstrap: str, sink: str) -> AsyncIterator[KafkaLetters]:
    """The sink's dead letters under a topic prefix of the test's own."""
    settings = load_settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:8]}.",
        topic_partitions=1,
    )
    opened = await open_letters(settings, sink)
    try:
        yield opened
    finally:
        await opened.stop()


def deliverer_for(
    sink: str,
    pool: Any,
    channel: Channel,
    letters: KafkaLetters,
    *,
    retry: RetryPolicy,
    mode: SinkMode = SinkMode.WRITE,
    **options: Any,
) -> Deliverer:
    """The sink's deliverer on `pool`'s delivery log (`LIFETIMES`), in write mode unless
    `mode` says otherwise; `options` as `Deliverer` takes them (`metrics` too)."""
    return Deliverer(
        sink, channel, pool, letters, options.pop("metrics", SinkMetrics()),
        mode=mode, lifetimes=LIFETIMES, retry=retry, **options,
    )  # fmt: skip


async def fetch_value(dsn: str, query: str, *args: object) -> Any:
    """The first value of `query`'s first row, on a connection of its own."""
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


class Simulator(Protocol):
    def app(self) -> web.Application: ...


S = TypeVar("S", bound=Simulator)


class SimulatorPaths(Generic[S]):
    """A channel simulator on 127.0.0.1 as a test drives it: its own `/_simulator` paths."""

    def __init__(self, simulator: S, url: str) -> None:
        self.simulator, self.url = simulator, url

    async def call(self, method: str, path: str, body: object = None) -> Any:
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, f"{self.url}/_simulator/{path}", json=body) as reply,
        ):
            assert reply.status < 300, await reply.text()
            return await reply.json()

    async def seed(self, *orders: object) -> None:
        """`orders` in the simulator's own order JSON."""
        await self._post("orders", list(orders), 201)

    async def faults(self, **changes: object) -> None:
        await self._post("faults", changes, 200)

    async def effects(self) -> dict[str, Any]:
        report: dict[str, Any] = await self.call("GET", "effects")
        return report

    async def _post(self, path: str, body: object, status: int) -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.url}/_simulator/{path}", json=body) as reply,
        ):
            assert reply.status == status, await reply.text()


P = TypeVar("P", bound=SimulatorPaths[Any])


@asynccontextmanager
async def simulating(
    simulator: S, orders: list[Any], paths: Callable[[S, str], P]
) -> AsyncIterator[P]:
    """`simulator` listening on 127.0.0.1, seeded with `orders`, driven through `paths`."""
    async with listening(simulator.app(), "127.0.0.1", 0) as url:
        opened = paths(simulator, url)
        await opened.seed(*orders)
        yield opened


def sample_carriers() -> CarrierCodes:
    """The sample carrier codes (agents/samples) the channel clients map carriers with."""
    codes = load_carrier_codes(sample_carrier_codes_path().read_text(), "carrier_codes.yaml")
    assert isinstance(codes, CarrierCodes)
    return codes
