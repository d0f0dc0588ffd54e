"""The dead-letter policy: a record a stage cannot use goes to `dlq.<stage>`, whole.

No agent crash-loops on a bad record (DESIGN invariant 3): decoding failures, refusals and
even bugs in a decision are turned into a dead letter carrying the original bytes, headers,
reason and position, and the stream moves on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec

from orderstream.codecs import internal
from orderstream.codecs.deadletter import dead_letter, encode_dead_letter
from orderstream.streams.rejections import Rejected, RejectReason

from .metrics import Metrics

T = TypeVar("T")


async def send_dead_letter(topic: Any, stage: str, message: Any, rejected: Rejected) -> None:
    """Publish the record behind Faust `message` to the stage's dead-letter topic."""
    headers = [(name, bytes(value)) for name, value in (message.headers or [])]
    letter = dead_letter(
        stage=stage,
        rejected=rejected,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        value=message.value or b"",
        key=message.key,
        headers=headers,
        now=datetime.now(UTC),
    )
    await topic.send(key=message.key, value=encode_dead_letter(letter))


async def decode_or_dead_letter(
    decoder: msgspec.json.Decoder[T], message: Any, dlq: Any, stage: str, metrics: Metrics
) -> T | None:
    """The decoded value, or None after the record went to the stage's dead-letter topic."""
    try:
        return decoder.decode(message.value or b"")
    except internal.DecodeFailure as error:
        rejected = Rejected(RejectReason.UNDECODABLE, str(error))
        await send_dead_letter(dlq, stage, message, rejected)
        metrics.count(stage, "dead_letter")
        return None


async def decoded(
    stream: Any, decoder: msgspec.json.Decoder[T], dlq: Any, stage: str, metrics: Metrics
) -> AsyncIterator[tuple[Any, T]]:
    """Each record of a Faust agent's `stream` with its decoded value; one that does not
    decode goes to the stage's dead-letter topic instead. A record is acknowledged when the
    next one is asked for, as with `stream.events()`."""
    async for event in stream.events():
        value = await decode_or_dead_letter(decoder, event.message, dlq, stage, metrics)
        if value is not None:
            yield event.message, value
