"""The delivery mechanism on real parts: PostgreSQL's delivery log, a channel on 127.0.0.1,
the broker for the dead letters. Each effect reaches the channel once per event, through
redelivery, a crash between the channel's answer and the log, throttling, errors and outages.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiokafka import AIOKafkaProducer

from orderstream.agents.dlq_store import read_letters
from orderstream.agents.dlq_store import replay as dlq_replay
from orderstream.agents.kafka_admin import ensure_topics
from orderstream.agents.settings import load_settings
from orderstream.agents.sinks.cli import diff_lines
from orderstream.agents.sinks.delivery import Deliverer
from orderstream.agents.sinks.letters import KafkaLetters
from orderstream.agents.sinks.metrics import SinkMetrics
from orderstream.agents.sinks.ports import Channel, RateLimit, RetryPolicy, source_record
from orderstream.agents.topic_reader import read_topic
from orderstream.agents.topics import TopicNames
from orderstream.state import delivery_log
from orderstream.streams.delivery import EntryState, SinkMode, recorded
from tests.builders import SINK_EPOCH, sink_effect
from tests.integration.sink_channel import (
    LIFETIMES,
    ChannelServer,
    Fault,
    HangAfterSend,
    HttpChannel,
    deliverer_for,
    migrated_database,
    pool_on,
    sink_letters,
)

pytestmark = pytest.mark.integration

SINK = "generic"
FAST = RetryPolicy(timeout_s=1.0, initial_s=0.05, max_s=0.3, retry_after_max_s=5.0)


@pytest.fixture
async def log_dsn(postgres_dsn: str) -> AsyncIterator[str]:
    async with migrated_database(postgres_dsn, "sink") as dsn:
        yield dsn


@pytest.fixture
async def pool(log_dsn: str) -> AsyncIterator[Any]:
    async with pool_on(log_dsn) as connections:
        yield connections


@pytest.fixture
async def server() -> AsyncIterator[ChannelServer]:
    channel = ChannelServer()
    await channel.start()
    try:
        yield channel
    finally:
        await channel.stop()


@pytest.fixture
async def http(server: ChannelServer) -> AsyncIterator[HttpChannel]:
    async with aiohttp.ClientSession() as session:
        yield HttpChannel(server.url, session)


@pytest.fixture
async def letters(kafka_bootstrap: str) -> AsyncIterator[KafkaLetters]:
    async with sink_letters(kafka_bootstrap, SINK) as opened:
        yield opened


def deliverer(
    pool: Any,
    channel: Channel,
    letters: KafkaLetters,
    mode: SinkMode = SinkMode.WRITE,
    **options: Any,
) -> Deliverer:
    return deliverer_for(SINK, pool, channel, letters, retry=FAST, mode=mode, **options)


async def states(pool: Any) -> dict[str, EntryState]:
    rows = await pool.fetch("SELECT event_id, state FROM delivery_log WHERE sink = $1", SINK)
    return {row["event_id"]: EntryState(row["state"]) for row in rows}


async def test_each_event_has_one_effect_however_often_it_arrives(
    pool: Any, server: ChannelServer, http: HttpChannel, letters: KafkaLetters
) -> None:
    metrics = SinkMetrics()
    sink = deliverer(pool, http, letters, metrics=metrics)
    effects = [sink_effect(f"shopify:{n}", 1) for n in range(5)]
    await sink.deliver_all(effects)
    await sink.deliver_all(effects)
    await asyncio.gather(*(sink.deliver(effects[0]) for _ in range(3)))
    await deliverer(pool, http, letters).deliver_all(effects)  # another process, same log
    assert set(server.state.applied.values()) == {1}
    assert sorted(server.state.received.values()) == [1] * 5
    assert set((await states(pool)).values()) == {EntryState.DONE}
    assert metrics.value("orderstream_sink_effects_total", sink=SINK, outcome="delivered") == 5
    assert metrics.value("orderstream_sink_effects_total", sink=SINK, outcome="duplicate") == 8


async def test_a_crash_between_the_channel_s_2xx_and_the_log_is_settled_not_sent_again(
    pool: Any, server: ChannelServer, http: HttpChannel, letters: KafkaLetters
) -> None:
    hanging = HangAfterSend(http)
    effect = sink_effect("shopify:7", 3)
    crashed = asyncio.create_task(deliverer(pool, hanging, letters).deliver(effect))
    await asyncio.wait_for(hanging.sent.wait(), 5)
    crashed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await crashed
    assert await states(pool) == {effect.event_id: EntryState.PENDING}
    metrics = SinkMetrics()
    restarted = deliverer(pool, http, letters, metrics=metrics)
    assert await restarted.start() == 1
    assert await states(pool) == {effect.event_id: EntryState.DONE}
    assert await restarted.deliver(effect) is EntryState.DONE  # the event read again
    assert list(server.state.received.values()) == [1]
    assert metrics.value("orderstream_sink_settled_total", sink=SINK, answer="applied") == 1


async def test_a_pending_event_the_channel_never_got_is_sent_at_start(
    pool: Any, server: ChannelServer, http: HttpChannel, letters: KafkaLetters
) -> None:
    effect = sink_effect("shopify:8", 1)
    pending = recorded(
        SINK, effect, EntryState.PENDING, mode=SinkMode.WRITE, now=SINK_EPOCH, lifetimes=LIFETIMES
    )
    assert await delivery_log.put(pool, pending, None)  # recorded, then the process died
    assert await deliverer(pool, http, letters).start() == 1
    assert list(server.state.applied.values()) == [1]
    assert await states(pool) == {effect.event_id: EntryState.DONE}


async def test_a_429_is_retried_no_sooner_than_its_retry_after(
    pool: Any, server: ChannelServer, http: HttpChannel, letters: KafkaLetters
) -> None:
    server.state.faults.append(Fault(429, retry_after="1"))
    metrics = SinkMetrics()
    effect = sink_effect("shopify:9", 1)
    assert await deliverer(pool, http, letters, metrics=metrics).deliver(effect) is EntryState.DONE
    [times] = server.state.times.values()
    assert len(times) == 2
    assert times[1] - times[0] >= 0.95
    assert metrics.value("orderstream_sink_retries_total", sink=SINK) == 1
    assert metrics.value("orderstream_sink_failed_attempts_total", sink=SINK, reason="throttled")
    row = await pool.fetchrow(
        "SELECT attempts FROM delivery_log WHERE event_id = $1", "shopify:9:1"
    )
    assert row["attempts"] == 2


async def test_a_5xx_is_retried_and_one_the_channel_applied_is_not_sent_again(
    pool: Any, server: ChannelServer, http: HttpChannel, letters: KafkaLetters
) -> None:
    server.state.faults.extend([Fault(503), Fault(500, apply_first=True)])
    effect = sink_effect("shopify:10", 1)
    assert await deliverer(pool, http, letters).deliver(effect) is EntryState.DONE
    assert list(server.state.received.values()) == [2]  # the third attempt was a question
    assert list(server.state.applied.values()) == [1]


async def test_a_timeout_is_settled_before_the_request_goes_again(
    pool: Any, server: ChannelServer, http: HttpChannel, letters: KafkaLetters
) -> None:
    server.state.faults.append(Fault(201, apply_first=True, delay_s=1.5))  # past the 1 s limit
    effect = sink_effect("shopify:11", 1)
    assert await deliverer(pool, http, letters).deliver(effect) is EntryState.DONE
    assert list(server.state.received.values()) == [1]


async def test_a_lasting_4xx_ends_in_the_sink_s_dead_letters_with_request_and_response(
    pool: Any, server: ChannelServer, http: HttpChannel, letters: KafkaLetters, kafka_bootstrap: str
) -> None:
    server.state.faults.append(Fault(422, body='{"errors": "tracking number is not valid"}'))
    metrics = SinkMetrics()
    sink = deliverer(pool, http, letters, metrics=metrics)
    effect = sink_effect("shopify:12", 2)
    assert await sink.deliver(effect) is EntryState.DEAD_LETTERED
    assert await sink.deliver(effect) is EntryState.DEAD_LETTERED  # not sent again
    assert list(server.state.received.values()) == [1]
    prefix = letters.topic.removesuffix(f"dlq.sink.{SINK}")
    found = await read_letters(kafka_bootstrap, TopicNames(prefix))
    [stored] = found.stored
    assert str(stored.id).startswith(f"dlq.sink.{SINK}:")
    letter = stored.letter
    assert (letter.stage, letter.reason, letter.detail) == (
        f"sink.{SINK}",
        "channel_refused",
        "http_422",
    )
    assert letter.request == effect.request
    assert "tracking number is not valid" in letter.response
    assert metrics.value("orderstream_sink_effects_total", sink=SINK, outcome="dead_lettered") == 1


async def test_a_dead_letter_replayed_to_its_sink_goes_again_once(
    pool: Any, server: ChannelServer, http: HttpChannel, letters: KafkaLetters
) -> None:
    server.state.faults.append(Fault(409))
    sink = deliverer(pool, http, letters)
    effect = sink_effect("shopify:13", 1)
    assert await sink.deliver(effect) is EntryState.DEAD_LETTERED
    other = replace(effect, replay_of="dlq.sink.other:0:5")
    assert await sink.deliver(other) is EntryState.DEAD_LETTERED
    replayed = replace(effect, replay_of=f"dlq.sink.{SINK}:0:0")
    assert await sink.deliver(replayed) is EntryState.DONE
    assert await sink.deliver(replayed) is EntryState.DONE
    assert list(server.state.applied.values()) == [1]


async def test_a_channel_that_is_down_holds_the_sink_and_it_catches_up_losing_nothing(
    pool: Any, server: ChannelServer, http: HttpChannel, letters: KafkaLetters
) -> None:
    await server.stop()
    metrics = SinkMetrics()
    effects = [sink_effect(f"shopify:{20 + n}", 1) for n in range(4)]
    running = asyncio.create_task(
        deliverer(pool, http, letters, metrics=metrics).deliver_all(effects)
    )
    await asyncio.sleep(1.0)
    assert not running.done()
    assert metrics.value("orderstream_sink_failed_attempts_total", sink=SINK, reason="unreachable")
    assert metrics.value("orderstream_sink_waiting_effects", sink=SINK) == 4
    assert metrics.value("orderstream_sink_lag_seconds", sink=SINK) > 0
    await server.start()  # the same port, the same state
    assert await asyncio.wait_for(running, 10) == [EntryState.DONE] * 4
    assert sorted(server.state.applied.values()) == [1] * 4
    assert metrics.value("orderstream_sink_waiting_effects", sink=SINK) == 0


async def test_a_sink_stopped_while_its_channel_is_down_leaves_the_event_pending(
    pool: Any, server: ChannelServer, http: HttpChannel, letters: KafkaLetters
) -> None:
    from orderstream.agents.sinks.delivery import SinkStoppedError

    await server.stop()
    stop = asyncio.Event()
    running = asyncio.create_task(
        deliverer(pool, http, letters, stop=stop).deliver(sink_effect("shopify:30", 1))
    )
    await asyncio.sleep(0.5)
    stop.set()
    with pytest.raises(SinkStoppedError):
        await asyncio.wait_for(running, 5)
    assert await states(pool) == {"shopify:30:1": EntryState.PENDING}


async def test_shadow_mode_sends_nothing_logs_everything_and_write_sends_each_at_most_once(
    pool: Any, server: ChannelServer, http: HttpChannel, letters: KafkaLetters
) -> None:
    effects = [sink_effect(f"shopify:{40 + n}", 1) for n in range(3)]
    metrics = SinkMetrics()
    shadow = deliverer(pool, http, letters, SinkMode.SHADOW, metrics=metrics)
    assert await shadow.deliver_all(effects) == [EntryState.SHADOWED] * 3
    assert await shadow.deliver_all(effects) == [EntryState.SHADOWED] * 3
    assert not server.state.received
    assert metrics.value("orderstream_sink_effects_total", sink=SINK, outcome="shadowed") == 3
    started = datetime.now(UTC) - timedelta(minutes=5)
    assert await delivery_log.shadowed_since(pool, started + timedelta(minutes=10)) == []
    logged = await delivery_log.shadowed_since(pool, started)
    assert sorted(entry.request for entry in logged) == sorted(e.request for e in effects)
    lines = diff_lines(logged)
    assert lines[-1] == f"{SINK}: 3 requests shadow mode would have sent"
    assert all("TRK" not in line for line in lines)  # only with --show-requests
    assert any("TRK" in line for line in diff_lines(logged, show_requests=True))

    write = deliverer(pool, http, letters, SinkMode.WRITE)
    assert await write.deliver_all(effects) == [EntryState.SHADOWED] * 3  # no flag: not sent
    assert not server.state.received
    resend = deliverer(pool, http, letters, SinkMode.WRITE, resend_shadowed=True)
    assert await resend.deliver_all(effects) == [EntryState.DONE] * 3
    assert await resend.deliver_all(effects) == [EntryState.DONE] * 3
    assert sorted(server.state.received.values()) == [1] * 3
    assert await delivery_log.counts(pool) == {SINK: {"done": 3}}


async def test_an_order_s_later_event_never_overtakes_an_earlier_one(
    pool: Any, server: ChannelServer, http: HttpChannel, letters: KafkaLetters
) -> None:
    server.state.faults.extend([Fault(201, delay_s=0.3, apply_first=True), Fault(503)])
    ship, cancel = sink_effect("bol:1", 1, action="ship"), sink_effect("bol:1", 2, action="cancel")
    other = sink_effect("bol:2", 1, action="ship")
    sink = deliverer(pool, http, letters)
    await sink.deliver_all([cancel, other, ship])
    assert server.state.sequence["bol:1"] == ["ship", "cancel"]

    # An earlier event left pending by a crash goes before the order's next one.
    crashed = sink_effect("bol:3", 1, action="ship")
    pending = recorded(
        SINK, crashed, EntryState.PENDING, mode=SinkMode.WRITE, now=SINK_EPOCH, lifetimes=LIFETIMES
    )
    assert await delivery_log.put(pool, pending, None)
    await sink.deliver(sink_effect("bol:3", 2, action="cancel"))
    assert server.state.sequence["bol:3"] == ["ship", "cancel"]


async def test_requests_and_entries_end_with_their_lifetimes_pending_ones_never(pool: Any) -> None:
    old = SINK_EPOCH - timedelta(days=100)
    for seq, state in enumerate((EntryState.DONE, EntryState.PENDING, EntryState.SHADOWED), 1):
        entry = recorded(
            SINK,
            sink_effect("amazon:1", seq),
            state,
            mode=SinkMode.WRITE,
            now=old,
            lifetimes=LIFETIMES,
        )
        assert await delivery_log.put(pool, entry, None)
    recent = SINK_EPOCH - timedelta(days=40)
    entry = recorded(
        SINK,
        sink_effect("amazon:2", 1),
        EntryState.DONE,
        mode=SinkMode.WRITE,
        now=recent,
        lifetimes=LIFETIMES,
    )
    assert await delivery_log.put(pool, entry, None)
    pruned = await delivery_log.prune(pool, SINK_EPOCH)
    assert (pruned.requests, pruned.rows) == (3, 2)
    rows = await pool.fetch("SELECT event_id, request FROM delivery_log ORDER BY event_id")
    assert [(row["event_id"], row["request"] is None) for row in rows] == [
        ("amazon:1:2", False),  # pending: it still has to be settled, and maybe sent
        ("amazon:2:1", True),
    ]
    assert await delivery_log.erase_requests(pool, ["amazon:1", "amazon:2"]) == 1  # erasure
    assert await pool.fetchval("SELECT count(*) FROM delivery_log WHERE request IS NULL") == 2


async def test_dlq_replay_sends_a_sink_s_letter_back_and_only_that_sink_sends_it_again(
    pool: Any, server: ChannelServer, http: HttpChannel, letters: KafkaLetters, kafka_bootstrap: str
) -> None:
    prefix = letters.topic.removesuffix(f"dlq.sink.{SINK}")
    names = TopicNames(prefix)
    status_topic = names.name("orders.status")
    await ensure_topics(kafka_bootstrap, [status_topic], 1, 1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(status_topic, b'{"event": 1}', key=b"shopify:14")
    finally:
        await producer.stop()
    [record] = await read_topic(kafka_bootstrap, status_topic)
    source, replay_of = source_record(record)
    effect = replace(sink_effect("shopify:14", 1), source=source, replay_of=replay_of)
    other = Deliverer(
        "other", http, pool, letters, SinkMetrics(), mode=SinkMode.WRITE, lifetimes=LIFETIMES
    )
    assert await other.deliver(effect) is EntryState.DONE  # another sink of the same event
    server.state.faults.append(Fault(422, body="unknown carrier"))
    sink = deliverer(pool, http, letters)
    assert await sink.deliver(effect) is EntryState.DEAD_LETTERED

    found = await read_letters(kafka_bootstrap, names)
    [stored] = found.stored
    assert (stored.letter.source_topic, stored.letter.original) == (status_topic, b'{"event": 1}')
    run = await dlq_replay(
        kafka_bootstrap, names, found.stored, now=lambda: datetime.now(UTC), partitions=1,
        replication_factor=1, retention=load_settings().topic_retention(),
    )  # fmt: skip
    assert len(run.replayed) == 1
    replayed = (await read_topic(kafka_bootstrap, status_topic))[-1]
    source, replay_of = source_record(replayed)
    assert replay_of == str(stored.id)
    again = replace(effect, source=source, replay_of=replay_of)
    assert await other.deliver(again) is EntryState.DONE  # not its letter: nothing sent
    assert await sink.deliver(again) is EntryState.DONE  # its own letter: sent again, once
    assert await sink.deliver(again) is EntryState.DONE
    assert list(server.state.received.values()) == [3]  # the other's, the refused, the replay


async def test_a_sink_keeps_its_channel_s_rate_limit(
    pool: Any, server: ChannelServer, http: HttpChannel, letters: KafkaLetters
) -> None:
    effects = [sink_effect(f"amazon:{n}", 1) for n in range(10)]
    limited = deliverer(pool, http, letters, rate_limit=RateLimit(5, 1.0))
    started = time.monotonic()
    assert await limited.deliver_all(effects) == [EntryState.DONE] * 10
    assert time.monotonic() - started >= 0.8  # 5 at once, then 5 per second
    times = sorted(t for sent in server.state.times.values() for t in sent)
    assert times[-1] - times[0] >= 0.8


async def test_sinks_diff_prints_what_shadow_mode_would_have_sent(
    log_dsn: str, pool: Any, http: HttpChannel, letters: KafkaLetters
) -> None:
    effects = [sink_effect(f"shopify:{60 + n}", 1, tracking=f"jan{n}@example.nl") for n in range(2)]
    await deliverer(pool, http, letters, SinkMode.SHADOW).deliver_all(effects)
    env = {**os.environ, "ORDERSTREAM_POSTGRES_DSN": log_dsn}
    command = [sys.executable, "-m", "orderstream.agents", "sinks", "diff", "--since", "1h"]
    done = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert sorted(line.split()[2] for line in lines[:2]) == ["shopify:60:1", "shopify:61:1"]
    assert lines[-1] == f"{SINK}: 2 requests shadow mode would have sent"
    assert "example.nl" not in done.stdout
