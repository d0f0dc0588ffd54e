"""The dead-letter topics as the `orderstream dlq` commands see them: read, look up, replay.

A replay sends each letter's original bytes, key and headers (plus the replay marker) to its
source topic and partition, waits for every acknowledgement (acks=all), and only then records
the acknowledged ones on `dlq.replays`. A crash in between can replay a letter twice, never
lose one: the pipeline's dedupe (first sighting at ingest, the order's and SKU's applied keys)
keeps a second copy from applying again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import msgspec
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord, TopicPartition

from orderstream.codecs.deadletter import decode_dead_letter
from orderstream.codecs.replays import (
    LetterId,
    decode_replayed,
    encode_replayed,
    replay_headers,
    replayed,
)

from .dead_letters import CONTROL_HEADER, RELEASE, STATE_KEY_HEADER
from .dlq_view import ReleaseTarget, Replays, Stored
from .kafka_admin import ensure_topics, partitions_of
from .topic_reader import READ_FETCH_WAIT_MS, read_topic, true_end_offsets
from .topics import (
    DEAD_LETTER_MAX_BYTES,
    DEAD_LETTER_TOPICS,
    DLQ_REPLAYS,
    SINK_DEAD_LETTERS,
    TopicNames,
    TopicRetention,
)

_LOOKUP_TIMEOUT_S = 30


@dataclass(frozen=True)
class Letters:
    """Every dead letter of a deployment, and how many records did not decode as one."""

    stored: list[Stored]
    unreadable: int


async def existing_topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def read_letters(bootstrap: str, names: TopicNames) -> Letters:
    """The letters of every dead-letter topic that exists (each sink's `dlq.sink.<name>`
    included), in topic and partition order."""
    existing = await existing_topics(bootstrap)
    stored: list[Stored] = []
    unreadable = 0
    sinks = sorted(
        name.removeprefix(names.prefix)
        for name in existing
        if name.startswith(names.name(SINK_DEAD_LETTERS))
    )
    for base in [*DEAD_LETTER_TOPICS, *sinks]:
        if names.name(base) not in existing:
            continue
        for record in await read_topic(bootstrap, names.name(base)):
            entry = _stored(base, record)
            if entry is None:
                unreadable += 1
            else:
                stored.append(entry)
    stored.sort(key=lambda entry: entry.id)
    return Letters(stored, unreadable)


async def read_replayed(bootstrap: str, names: TopicNames) -> Replays:
    """What `dlq.replays` says was replayed: each key's last record, unless a tombstone
    (deleting a letter's record makes it replayable again)."""
    topic = names.name(DLQ_REPLAYS)
    if topic not in await existing_topics(bootstrap):
        return Replays()
    last: dict[str, bytes | None] = {}
    for record in await read_topic(bootstrap, topic):
        if record.key is not None:
            last[record.key.decode("utf-8", "replace")] = record.value
    replays = Replays()
    for letter_id, value in last.items():
        if value is None:
            continue
        replays.ids.add(letter_id)
        try:
            done = decode_replayed(value)
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue  # the id alone still keeps its letter from going twice
        replays.sources.add((done.source_topic, done.source_partition, done.source_offset))
    return replays


async def read_letter(bootstrap: str, names: TopicNames, wanted: LetterId) -> Stored | None:
    """The one letter at `wanted`, fetched from its position; None if there is none."""
    topic = names.name(wanted.topic)
    if topic not in await existing_topics(bootstrap):
        return None
    if wanted.partition not in await partitions_of(bootstrap, topic):
        return None
    tp = TopicPartition(topic, wanted.partition)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=READ_FETCH_WAIT_MS
    )
    await consumer.start()
    try:
        end = (await true_end_offsets(bootstrap, await consumer.end_offsets([tp])))[tp]
        if wanted.offset >= end:
            return None
        consumer.assign([tp])
        consumer.seek(tp, wanted.offset)
        deadline = asyncio.get_running_loop().time() + _LOOKUP_TIMEOUT_S
        while asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(tp, timeout_ms=500, max_records=1)
            for record in batches.get(tp, []):
                # A record before the wanted offset is still in its batch; one after means
                # the wanted offset is gone (compacted away or never a record).
                if record.offset == wanted.offset:
                    return _stored(wanted.topic, record)
                if record.offset > wanted.offset:
                    return None
        raise TimeoutError(f"{wanted} not served within {_LOOKUP_TIMEOUT_S} s")
    finally:
        await consumer.stop()


@dataclass(frozen=True)
class Replayed:
    entry: Stored
    offset: int
    """Where the replay landed in the letter's source topic and partition."""


@dataclass(frozen=True)
class ReplayRun:
    replayed: list[Replayed]
    failed: list[tuple[Stored, str]]
    """Letters whose send was not acknowledged, with the error; not recorded as replayed."""
    unrecorded: list[tuple[Replayed, str]]
    """Sent, but their replay record was not acknowledged: a later run sends them again."""


async def replay(
    bootstrap: str,
    names: TopicNames,
    entries: list[Stored],
    *,
    now: Callable[[], datetime],
    partitions: int,
    replication_factor: int,
    retention: TopicRetention,
) -> ReplayRun:
    """Send `entries` back to their sources, then record the acknowledged ones."""
    replays_topic = names.name(DLQ_REPLAYS)
    configs = names.configs(retention)
    await ensure_topics(bootstrap, [replays_topic], partitions, replication_factor, configs)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_request_size=DEAD_LETTER_MAX_BYTES
    )
    await producer.start()
    try:
        sends = [
            await producer.send(
                entry.letter.source_topic,
                entry.letter.original,
                key=entry.letter.original_key,
                headers=replay_headers(entry.id, entry.letter),
                partition=entry.letter.partition,
            )
            for entry in entries
        ]
        results = await asyncio.gather(*sends, return_exceptions=True)
        done: list[Replayed] = []
        failed: list[tuple[Stored, str]] = []
        for entry, result in zip(entries, results, strict=True):
            if isinstance(result, BaseException):
                failed.append((entry, describe(result)))
            else:
                done.append(Replayed(entry, result.offset))
        marks = [
            await producer.send(
                replays_topic,
                encode_replayed(replayed(one.entry.id, one.entry.letter, one.offset, now())),
                key=str(one.entry.id).encode(),
            )
            for one in done
        ]
        marked = await asyncio.gather(*marks, return_exceptions=True)
    finally:
        await producer.stop()
    unrecorded = [
        (one, describe(result))
        for one, result in zip(done, marked, strict=True)
        if isinstance(result, BaseException)
    ]
    return ReplayRun(done, failed, unrecorded)


async def release(bootstrap: str, targets: list[ReleaseTarget], key: bytes) -> list[int]:
    """Send the quarantine release for `key` to each target partition (acks=all); the
    offsets the releases landed at. The owning agent lifts the quarantine when it reads one."""
    headers = [(CONTROL_HEADER, RELEASE), (STATE_KEY_HEADER, key)]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sends = [
            await producer.send(
                target.topic,
                b"",
                key=target.record_key,
                headers=headers,
                partition=target.partition,
            )
            for target in targets
        ]
        return [(await sent).offset for sent in sends]
    finally:
        await producer.stop()


def _stored(base: str, record: ConsumerRecord[bytes, bytes]) -> Stored | None:
    if not record.value:
        return None
    try:
        letter = decode_dead_letter(record.value)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return Stored(LetterId(base, record.partition, record.offset), letter)


def describe(error: BaseException) -> str:
    """One line for an error: its type, then its message unless that already names it."""
    name, text = type(error).__name__, str(error)
    return text if text.startswith(name) else f"{name}: {text}" if text else name
