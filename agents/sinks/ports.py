"""What a sink plugs into the delivery mechanism: its channel adapter, where its dead letters
go, its published rate limit, the retry policy; and how a failed call reads as an outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from orderstream.codecs.deadletter import DeadLetter
from orderstream.codecs.replays import REPLAY_OF
from orderstream.streams.delivery import Effect, Outcome, Retryable, SourceRecord


class Channel(Protocol):
    """A channel adapter: turns an effect into the channel's call and its answer into an
    outcome; `settle` reads the channel's own state (by the channel's identity: order, line
    items, tracking number) to say whether the effect is there already."""

    async def send(self, effect: Effect) -> Outcome: ...

    async def settle(self, effect: Effect) -> bool: ...


class Letters(Protocol):
    """Where a sink's dead letters go (`dlq.sink.<name>`)."""

    async def send(self, letter: DeadLetter, key: bytes | None) -> None: ...


@dataclass(frozen=True)
class RateLimit:
    """A channel's published limit: `requests` per `period_s`."""

    requests: float
    period_s: float = 1.0


@dataclass(frozen=True)
class RetryPolicy:
    timeout_s: float = 10.0
    initial_s: float = 0.5
    max_s: float = 30.0
    retry_after_max_s: float = 300.0


def source_record(message: Any) -> tuple[SourceRecord, str]:
    """The record behind an event (Faust or aiokafka) and the dead-letter id it replays
    ("" when it is no replay)."""
    headers = tuple((name, bytes(value)) for name, value in (message.headers or ()))
    replay_of = next((v.decode("utf-8", "replace") for n, v in headers if n == REPLAY_OF), "")
    source = SourceRecord(
        message.topic, message.partition, message.offset, message.key, message.value or b"", headers
    )
    return source, replay_of


def failure(error: BaseException) -> Retryable:
    """An exception from a call as a retryable outcome: whether it may have reached the
    channel decides whether the channel is asked before the request goes again."""
    import aiohttp

    if isinstance(error, TimeoutError):
        return Retryable("timeout", maybe_applied=True)
    if isinstance(error, aiohttp.ClientConnectorError | ConnectionRefusedError):
        return Retryable("unreachable", maybe_applied=False)
    if isinstance(error, aiohttp.ClientError | OSError):
        return Retryable("unreachable", maybe_applied=True, response=type(error).__name__)
    raise error
