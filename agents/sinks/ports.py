"""What a sink plugs into the delivery mechanism: its channel adapter, where its dead letters
go, its published rate limit, the retry policy; and how a failed call reads as an outcome.

An adapter answers with the sinks' shared outcomes (`codecs/channel_outcomes.py`): `Delivered`,
`Retryable(reason, retry_after)` or `Rejected(reason, response)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from orderstream.codecs.channel_outcomes import Outcome, Retryable
from orderstream.codecs.deadletter import DeadLetter
from orderstream.codecs.replays import REPLAY_OF
from orderstream.streams.delivery import Effect, SourceRecord


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


class ChannelBusyError(ConnectionError):
    """Raised by a settle read: the channel still runs an earlier change of the same thing,
    so whether the effect is there cannot be told yet. Asked again after a backoff."""


@dataclass(frozen=True)
class Failed:
    """A failed attempt: retry it; `maybe_applied` when the channel may have acted on it all
    the same, so it is asked before the request goes again."""

    outcome: Retryable
    maybe_applied: bool
    kind: str
    """For the metrics: timeout, unreachable, throttled, server_error, pending or error."""


def failed(outcome: Retryable) -> Failed:
    """An adapter's retryable answer. Its reason is free text, so whether the channel acted
    is unknown: it is asked first (one read per retry, never a second effect)."""
    return Failed(outcome, maybe_applied=True, kind=failure_kind(outcome.reason))


def failure_kind(reason: str) -> str:
    text = reason.lower()
    if "429" in text or "throttl" in text or "too many" in text:
        return "throttled"
    if "timeout" in text or "timed out" in text:
        return "timeout"
    if any(f"{code}" in text for code in range(500, 600)) or "internal error" in text:
        return "server_error"
    return "error"


def failure(error: BaseException) -> Failed:
    """An exception from a call as a failed attempt: whether it may have reached the channel
    decides whether the channel is asked before the request goes again; anything but a
    timeout or a network error is a bug and raised."""
    import aiohttp

    if isinstance(error, ChannelBusyError):
        return Failed(Retryable(str(error)), maybe_applied=True, kind="pending")
    if isinstance(error, TimeoutError):
        return Failed(Retryable("timeout"), maybe_applied=True, kind="timeout")
    if isinstance(error, aiohttp.ClientConnectorError | ConnectionRefusedError):
        return Failed(Retryable("unreachable"), maybe_applied=False, kind="unreachable")
    if isinstance(error, aiohttp.ClientError | OSError):
        reason = f"connection lost ({type(error).__name__})"
        return Failed(Retryable(reason), maybe_applied=True, kind="unreachable")
    raise error
