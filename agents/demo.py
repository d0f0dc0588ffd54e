"""`orderstream demo`: one payload of every channel through its normalizer over real topics.

Starts the embedded stack (or uses the services it finds), writes one sample payload per
source to `raw.<source>` plus one malformed payload, runs a normalize stage that consumes
the raw topics and writes canonical events to `orders.events` / `inventory.commands` and
rejects to `dlq.ingest`, then reads those topics back, prints what they hold and stops
everything it started. The streaming pipeline (dedupe, ATP, allocation) replaces the
normalize stage in a later step.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import json
from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec
import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from orderstream.codecs.deadletter import dead_letter, decode_dead_letter, encode_dead_letter
from orderstream.codecs.events import decode_event, encode_event
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.rejections import Rejected

from .topic_reader import read_values
from .topics import (
    DLQ_INGEST,
    INVENTORY_COMMANDS,
    ORDERS_EVENTS,
    canonical_topic,
    raw_topic,
    source_of,
)

MALFORMED = b'{"AmazonOrderId": "302-1234567-1234567", "PurchaseDate": '  # truncated on purpose
SAMPLE_HEADERS: dict[Source, list[tuple[str, bytes]]] = {
    Source.SHOPIFY: [("x-shopify-topic", b"orders/create")],
}


def _samples() -> list[tuple[Source, bytes]]:
    folder = importlib.resources.files("orderstream.agents.samples")
    return [(source, folder.joinpath(f"{source.value}.json").read_bytes()) for source in Source]


async def _create_topics(bootstrap: str, names: Iterable[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(n, num_partitions=3, replication_factor=1) for n in names if n not in existing
        ]
        if missing:
            await admin.create_topics(missing)
    finally:
        await admin.close()


async def _produce_samples(producer: AIOKafkaProducer, samples: list[tuple[Source, bytes]]) -> int:
    for source, raw in samples:
        await producer.send_and_wait(raw_topic(source), raw, headers=SAMPLE_HEADERS.get(source, []))
    await producer.send_and_wait(raw_topic(Source.AMAZON), MALFORMED)
    return len(samples) + 1


async def _normalize_stage(bootstrap: str, producer: AIOKafkaProducer, expected: int) -> None:
    """Consume the raw topics, normalize, and route each outcome to its topic."""
    consumer = AIOKafkaConsumer(
        *(raw_topic(source) for source in Source),
        bootstrap_servers=bootstrap,
        group_id="orderstream-demo-normalize",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        handled = 0
        while handled < expected:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    await _route(producer, record)
                    handled += 1
            await consumer.commit()
    finally:
        await consumer.stop()


async def _route(producer: AIOKafkaProducer, record: object) -> None:
    topic: str = record.topic  # type: ignore[attr-defined]
    value: bytes = record.value  # type: ignore[attr-defined]
    headers = [(name, bytes(raw)) for name, raw in record.headers]  # type: ignore[attr-defined]
    source = source_of(topic)
    outcome = normalize_payload(
        source, value, {n: v.decode("utf-8", "replace") for n, v in headers}
    )
    if isinstance(outcome, Rejected):
        letter = dead_letter(
            stage="ingest",
            rejected=outcome,
            topic=topic,
            partition=record.partition,  # type: ignore[attr-defined]
            offset=record.offset,  # type: ignore[attr-defined]
            value=value,
            key=record.key,  # type: ignore[attr-defined]
            headers=headers,
            now=datetime.now(UTC),
        )
        await producer.send_and_wait(DLQ_INGEST, encode_dead_letter(letter))
        return
    await producer.send_and_wait(
        canonical_topic(source), encode_event(outcome), key=outcome.key.encode()
    )


async def run_demo(bootstrap: str) -> dict[str, int]:
    """Send the samples through the normalize stage; print and count what comes out."""
    samples = _samples()
    await _create_topics(
        bootstrap, [*(raw_topic(s) for s in Source), ORDERS_EVENTS, INVENTORY_COMMANDS, DLQ_INGEST]
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sent = await _produce_samples(producer, samples)
        typer.echo(f"sent {sent} raw payloads ({len(samples)} sources + 1 malformed)")
        await _normalize_stage(bootstrap, producer, sent)
    finally:
        await producer.stop()
    counts: dict[str, int] = {}
    for topic in (ORDERS_EVENTS, INVENTORY_COMMANDS):
        events = [decode_event(raw) for raw in await read_values(bootstrap, topic)]
        counts[topic] = len(events)
        typer.echo(f"\n== {topic}: {len(events)} canonical events")
        for event in events:
            typer.echo(json.dumps(msgspec.to_builtins(event), indent=2, ensure_ascii=False))
    letters = [decode_dead_letter(raw) for raw in await read_values(bootstrap, DLQ_INGEST)]
    counts[DLQ_INGEST] = len(letters)
    typer.echo(f"\n== {DLQ_INGEST}: {len(letters)} dead letters")
    for letter in letters:
        typer.echo(
            f"{letter.source_topic}[{letter.partition}]@{letter.offset}: {letter.reason} "
            f"{letter.detail} ({len(letter.original)} original bytes kept)"
        )
    return counts


def demo() -> None:
    """Start the embedded stack, normalize one payload of every channel over real topics."""
    from .devstack import DevStack

    with DevStack() as urls:
        typer.echo(
            f"kafka {urls.kafka_bootstrap}  postgres {urls.postgres_dsn}  redis {urls.redis_url}"
        )
        counts = asyncio.run(run_demo(urls.kafka_bootstrap))
    expected_events = len(Source)
    got = counts[ORDERS_EVENTS] + counts[INVENTORY_COMMANDS]
    if got != expected_events or counts[DLQ_INGEST] != 1:
        typer.echo(
            f"demo failed: {got}/{expected_events} events, {counts[DLQ_INGEST]} dead letters"
        )
        raise typer.Exit(1)
    typer.echo(f"\ndemo ok: {got} canonical events, 1 dead letter; stopped what was started")
