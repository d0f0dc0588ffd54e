"""The dead-letter policy: whatever goes wrong with one record ends as that record's letter.

Each record goes through its stage's `Containment.handle` (DESIGN invariants 3 and 7): an
undecodable input or stored value, a refusal or a bug ends in `dlq.<stage>` (original bytes and
headers, reason, exception, position), a metric and a payload-free log line; then it is acked.
An undecodable stored value quarantines its key (raw bytes kept) until `orderstream dlq release`.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec

from orderstream.codecs import internal
from orderstream.codecs.deadletter import (
    QuarantinedState,
    dead_letter,
    decode_quarantined,
    encode_dead_letter,
    encode_quarantined,
)
from orderstream.state.table import (
    BYTES_KEY,
    Codec,
    QuarantinedKeyError,
    StateUndecodableError,
    Table,
    ValueRefusedError,
)
from orderstream.streams.rejections import Rejected, RejectReason

from .metrics import Metrics

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")
log = logging.getLogger(__name__)

CONTROL_HEADER = "orderstream-control"
"""A record carrying this header is an operator's instruction to the stage, not an input."""
RELEASE = b"release-quarantine"
STATE_KEY_HEADER = "orderstream-state-key"
"""The stored key a control record is about."""
MAX_DETAIL = 500
"""A letter's detail is cut here: an exception's text is for a reader, not a payload copy."""

__all__ = [  # the stored-value errors are the table port's; agents name them from here
    "Containment",
    "QuarantinedKeyError",
    "StateUndecodableError",
    "UnusableInputError",
]

QUARANTINE_KEYS = BYTES_KEY
"""A `<key>_to_quarantine` table is keyed by the stored key it holds back."""
QUARANTINED: Codec[QuarantinedState] = Codec(encode_quarantined, decode_quarantined)


class UnusableInputError(Exception):
    """The input itself cannot be used; the letter carries the refusal."""

    def __init__(self, rejected: Rejected) -> None:
        super().__init__(rejected.describe())
        self.rejected = rejected


def header(message: Any, name: str) -> bytes | None:
    for key, value in message.headers or ():
        if key.lower() == name:
            return bytes(value)
    return None


def position(message: Any) -> str:
    return f"{message.topic}:{message.partition}:{message.offset}"


async def send_dead_letter(
    topic: Any,
    stage: str,
    message: Any,
    rejected: Rejected,
    *,
    exception: str = "",
    state_key: bytes = b"",
) -> None:
    """Publish the record behind `message` (Faust or aiokafka) to the stage's letters."""
    letter = dead_letter(
        stage=stage,
        rejected=rejected,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        value=message.value or b"",
        key=message.key,
        headers=[(name, bytes(value)) for name, value in (message.headers or ())],
        now=datetime.now(UTC),
        exception=exception,
        state_key=state_key.decode("utf-8", "replace"),
    )
    await topic.send(key=message.key, value=encode_dead_letter(letter))


class Containment:
    """One stage's containment: its letters topic, its metrics and its quarantined keys.

    `dlq` None keeps no letters (the availability follower: every worker reads every record
    of that derived topic, so a letter would be written once per worker); the record is then
    counted and logged only. `quarantine` is the stage's `<key>_to_quarantine` table.
    """

    def __init__(
        self,
        stage: str,
        metrics: Metrics,
        dlq: Any = None,
        quarantine: Table[bytes, QuarantinedState] | None = None,
    ) -> None:
        self.stage = stage
        self.metrics = metrics
        self.dlq = dlq
        self.quarantine = quarantine
        if quarantine is not None:
            kept = quarantine
            metrics.quarantined.labels(stage=stage).set_function(lambda: len(kept))

    def decode(self, decoder: msgspec.json.Decoder[T], message: Any) -> T:
        """The record's value, decoded; `UnusableInputError` when it does not decode."""
        try:
            return decoder.decode(message.value or b"")
        except internal.DecodeFailure as error:
            raise UnusableInputError(Rejected(RejectReason.UNDECODABLE, str(error))) from error

    def stored(self, table: Table[K, V], key: K, owner: bytes = b"") -> V | None:
        """The value stored under `key`, or None when there is none.

        `owner` (default: `key` as stored) is the key quarantined when the value does not
        decode; it is refused at once when it is in quarantine already.
        """
        owner = owner or table.encode_key(key)
        if self.quarantine is not None and owner in self.quarantine:
            raise QuarantinedKeyError(
                owner, "the key is in quarantine: its stored value did not decode"
            )
        try:
            return table.get(key)
        except StateUndecodableError as error:
            if error.key == owner:
                raise
            raise StateUndecodableError(owner, error.stored, error.detail) from error.__cause__

    async def each(
        self,
        stream: Any,
        work: Callable[[Any], Awaitable[object]],
        saw: Callable[[int, float], None],
    ) -> None:
        """Every record of a Faust agent's `stream` through `handle`, once `saw` (the
        retention sweep's partition clock) has its time; acknowledged as with `events()`."""
        async for event in stream.events():
            message = event.message
            saw(message.partition, message.timestamp)
            await self.handle(message, work)

    async def handle(self, message: Any, work: Callable[[Any], Awaitable[R]]) -> R | None:
        """`work(message)`'s result, or None when the record ended as a letter or was a control."""
        if header(message, CONTROL_HEADER) is not None:
            self._control(message)
            return None
        try:
            return await work(message)
        except (UnusableInputError, ValueRefusedError) as refused:  # the input, or what it made
            await self._letter(message, refused.rejected, "dead_letter")
        except QuarantinedKeyError as held:
            if isinstance(held, StateUndecodableError):
                self._put_in_quarantine(message, held)
            rejected = Rejected(RejectReason.STATE_UNDECODABLE, held.detail[:MAX_DETAIL])
            await self._letter(message, rejected, "state_undecodable", state_key=held.key)
        except Exception as error:  # a bug, or a failure the input caused: never crash-loop
            name = type(error).__name__
            rejected = Rejected(RejectReason.INTERNAL_ERROR, f"{name}: {error}"[:MAX_DETAIL])
            # No exception text in the log: it may quote the input. The frames say where.
            log.error("%s: %s on %s, dead-lettered", self.stage, name, position(message))
            log.debug(
                "%s: %s at\n%s", self.stage, name, "".join(traceback.format_tb(error.__traceback__))
            )
            await self._letter(message, rejected, "internal_error", exception=name)
        return None

    async def _letter(
        self,
        message: Any,
        rejected: Rejected,
        outcome: str,
        *,
        exception: str = "",
        state_key: bytes = b"",
    ) -> None:
        self.metrics.count(self.stage, outcome)
        if self.dlq is None:
            log.warning("%s: skipped %s (%s)", self.stage, position(message), rejected.reason.value)
            return
        await send_dead_letter(
            self.dlq, self.stage, message, rejected, exception=exception, state_key=state_key
        )

    def _put_in_quarantine(self, message: Any, held: StateUndecodableError) -> None:
        if self.quarantine is None:
            return
        entry = QuarantinedState(
            stored=held.stored,
            detail=held.detail[:MAX_DETAIL],
            since=datetime.fromtimestamp(message.timestamp, UTC),
            position=position(message),
        )
        self.quarantine.put(held.key, entry)
        log.error(
            "%s: a stored value does not decode; key quarantined at %s",
            self.stage,
            position(message),
        )

    def _control(self, message: Any) -> None:
        command, key = header(message, CONTROL_HEADER), header(message, STATE_KEY_HEADER)
        if command != RELEASE or not key or self.quarantine is None:
            self.metrics.count(self.stage, "control_ignored")
            return
        if key in self.quarantine:
            self.quarantine.delete(key)
            self.metrics.count(self.stage, "quarantine_released")
            log.info("%s: quarantine released at %s", self.stage, position(message))
