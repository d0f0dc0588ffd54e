"""The table port's contract, held by the in-memory table and by a Faust table on RocksDB.

The Faust side is a real Faust app with a real table on the `rocksdb://` store in a tmp
directory; its operations run inside a real agent event (Faust's agent test context), as a
table write must: the store takes the partition from the current event. Its one partition is
the worker's active one, as after an assignment: the store counts the keys of those only.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol
from unittest import mock

import faust
import msgspec
import pytest
from faust.stores.rocksdb import Store as RocksDBStore
from faust.types import TP

from orderstream.codecs import internal
from orderstream.state.faust_table import FaustTable
from orderstream.state.memory import MemoryTable
from orderstream.state.table import (
    BYTES_KEY,
    TEXT_KEY,
    Codec,
    StateUndecodableError,
    Table,
    json_codec,
)
from tests.builders import close_unstarted_consumer


class Row(msgspec.Struct, frozen=True, tag="test.row.v1"):
    count: int
    note: str = ""


ROWS = json_codec(msgspec.json.Decoder(Row))
RAW: Codec[bytes] = Codec(bytes, bytes, ())


class Backend(Protocol):
    def table(self, keys: Codec[Any], values: Codec[Any]) -> Table[Any, Any]:
        """A port over the backend's one store (ports made here share it)."""
        ...

    async def run(self, body: Callable[[], object]) -> None:
        """`body` where a table may be written (inside an event for Faust)."""
        ...

    def changelog(self) -> list[tuple[bytes, bytes | None]]:
        """The changelog records the store's writes sent, in order."""
        ...


class MemoryBackend:
    def __init__(self) -> None:
        self.rows: dict[bytes, bytes] = {}
        self.tables: list[MemoryTable[Any, Any]] = []

    def table(self, keys: Codec[Any], values: Codec[Any]) -> Table[Any, Any]:
        table: MemoryTable[Any, Any] = MemoryTable(keys, values, self.rows)
        self.tables.append(table)
        return table

    async def run(self, body: Callable[[], object]) -> None:
        body()

    def changelog(self) -> list[tuple[bytes, bytes | None]]:
        return [record for table in self.tables for record in table.changelog]


class FaustBackend:
    def __init__(self, raw: Any, context: Any, jobs: list[Callable[[], object]]) -> None:
        self.raw = raw
        self.context = context
        self.jobs = jobs
        self.failure: BaseException | None = None
        self.sent: list[tuple[bytes, bytes | None]] = []

    def table(self, keys: Codec[Any], values: Codec[Any]) -> Table[Any, Any]:
        return FaustTable(self.raw, keys, values)

    async def run(self, body: Callable[[], object]) -> None:
        def job() -> None:
            try:
                body()
            except BaseException as error:  # handed back to the test, not to the agent
                self.failure = error

        self.jobs.append(job)
        await self.context.put(b"run")
        failure, self.failure = self.failure, None
        if failure is not None:
            raise failure

    def changelog(self) -> list[tuple[bytes, bytes | None]]:
        return self.sent


@pytest.fixture(params=["memory", "rocksdb"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "memory":
        yield MemoryBackend()
        return
    app = faust.App(
        f"table-contract-{uuid.uuid4().hex[:8]}",
        broker="kafka://127.0.0.1:1",
        store="rocksdb://",
        datadir=str(tmp_path),
        web_enabled=False,
    )
    raw = app.Table("key_to_value", key_type=bytes, value_type=bytes, partitions=1)
    jobs: list[Callable[[], object]] = []

    @app.agent()
    async def run_jobs(stream: Any) -> None:
        async for _ in stream.events():
            jobs.pop(0)()

    app.finalize()
    async with run_jobs.test_context() as context:
        faust_backend = FaustBackend(raw, context, jobs)
        send_changelog = raw.send_changelog

        def sent(partition: int, key: bytes, value: bytes | None, *args: Any, **kw: Any) -> Any:
            faust_backend.sent.append((key, value))
            return send_changelog(partition, key, value, *args, **kw)

        actives = {TP(raw.changelog_topic_name, 0)}
        with (
            mock.patch.object(raw, "send_changelog", sent),
            mock.patch.object(app.assignor, "assigned_actives", lambda: actives),
        ):
            yield faust_backend
        if faust_backend.sent:
            assert list(tmp_path.rglob("key_to_value-0.db")), "no RocksDB database was written"
    assert isinstance(raw.data, RocksDBStore), "the table was not on the RocksDB store"
    close_unstarted_consumer(app)


async def test_a_missing_key_reads_as_none(backend: Backend) -> None:
    table = backend.table(TEXT_KEY, ROWS)
    seen: list[object] = []
    await backend.run(lambda: seen.extend([table.get("absent"), "absent" in table]))
    assert seen == [None, False]


async def test_a_value_put_reads_back_equal_and_is_stored_as_the_shared_encoding(
    backend: Backend,
) -> None:
    table = backend.table(TEXT_KEY, ROWS)
    raw = backend.table(TEXT_KEY, RAW)
    seen: list[object] = []

    def body() -> None:
        table.put("a", Row(3, "three"))
        seen.extend([table.get("a"), "a" in table, raw.get("a")])

    await backend.run(body)
    assert seen == [Row(3, "three"), True, internal.encode(Row(3, "three"))]
    assert backend.changelog() == [(b"a", internal.encode(Row(3, "three")))]


async def test_a_later_put_replaces_the_value(backend: Backend) -> None:
    table = backend.table(TEXT_KEY, ROWS)
    seen: list[object] = []

    def body() -> None:
        table.put("a", Row(1))
        table.put("a", Row(2))
        seen.append(table.get("a"))

    await backend.run(body)
    assert seen == [Row(2)]


async def test_a_deleted_key_is_gone_and_deleting_a_missing_one_does_nothing(
    backend: Backend,
) -> None:
    table = backend.table(TEXT_KEY, ROWS)
    seen: list[object] = []

    def body() -> None:
        table.put("a", Row(1))
        table.delete("a")
        table.delete("never-there")
        seen.extend([table.get("a"), "a" in table])

    await backend.run(body)
    assert seen == [None, False]
    assert backend.changelog() == [(b"a", internal.encode(Row(1))), (b"a", None)]


async def test_get_many_returns_the_stored_values_and_leaves_out_missing_keys(
    backend: Backend,
) -> None:
    table = backend.table(TEXT_KEY, ROWS)
    seen: list[object] = []

    def body() -> None:
        table.put_many({"a": Row(1), "b": Row(2), "c": Row(3)})
        seen.append(table.get_many(["c", "missing", "a"]))

    await backend.run(body)
    assert seen == [{"c": Row(3), "a": Row(1)}]
    assert [key for key, _ in backend.changelog()] == [b"a", b"b", b"c"]


async def test_a_write_again_keeps_the_value_and_reaches_the_changelog(
    backend: Backend,
) -> None:
    table = backend.table(TEXT_KEY, ROWS)
    seen: list[object] = []

    def body() -> None:
        table.put("a", Row(5))
        table.put_again("a", Row(5))
        seen.append(table.get("a"))

    await backend.run(body)
    assert seen == [Row(5)]
    assert backend.changelog() == [(b"a", internal.encode(Row(5)))] * 2


async def test_writing_a_prefix_again_sends_exactly_the_stored_values_under_it(
    backend: Backend,
) -> None:
    table = backend.table(TEXT_KEY, ROWS)
    counts: list[int] = []

    def body() -> None:
        for key, count in (("s\x00b", 2), ("s", 9), ("s\x00a", 1), ("t\x00a", 3), ("sa", 4)):
            table.put(key, Row(count))
        counts.append(table.write_again(b"s\x00"))
        counts.append(table.write_again(b"u\x00"))

    await backend.run(body)
    assert counts == [2, 0]
    again = backend.changelog()[5:]
    assert again == [(b"s\x00a", internal.encode(Row(1))), (b"s\x00b", internal.encode(Row(2)))]


async def test_a_stored_value_that_does_not_decode_raises_state_undecodable(
    backend: Backend,
) -> None:
    table = backend.table(TEXT_KEY, ROWS)
    raw = backend.table(TEXT_KEY, RAW)
    await backend.run(lambda: raw.put("a", b'{"count": "seven"}'))
    with pytest.raises(StateUndecodableError) as raised:
        await backend.run(lambda: table.get("a"))
    assert raised.value.key == b"a"
    assert raised.value.stored == b'{"count": "seven"}'
    assert raised.value.detail.startswith("stored value of 18 bytes: ")


async def test_a_value_the_codec_refuses_writes_nothing(backend: Backend) -> None:
    def refuse(row: Row) -> bytes:
        raise ValueError("too large")

    strict = backend.table(TEXT_KEY, Codec(refuse, ROWS.decode))
    table = backend.table(TEXT_KEY, ROWS)
    await backend.run(lambda: table.put("a", Row(1)))
    with pytest.raises(ValueError, match="too large"):
        await backend.run(lambda: strict.put("a", Row(2)))
    seen: list[object] = []
    await backend.run(lambda: seen.append(table.get("a")))
    assert seen == [Row(1)]
    assert len(backend.changelog()) == 1


async def test_ports_with_other_key_codecs_share_one_store(backend: Backend) -> None:
    text = backend.table(TEXT_KEY, ROWS)
    exact = backend.table(BYTES_KEY, ROWS)
    seen: list[object] = []

    def body() -> None:
        text.put("sku-1", Row(1))
        seen.extend([exact.get(b"sku-1"), exact.encode_key(b"k"), text.encode_key("k")])

    await backend.run(body)
    assert seen == [Row(1), b"k", b"k"]


async def test_the_size_counts_each_stored_key_once_whichever_port_wrote_it(
    backend: Backend,
) -> None:
    heads = backend.table(TEXT_KEY, ROWS)
    rows = backend.table(BYTES_KEY, ROWS)
    seen: list[int] = []

    def body() -> None:
        seen.append(len(heads))
        heads.put_many({"a": Row(1), "b": Row(2)})
        heads.put("a", Row(3))  # written again: still one key
        rows.put(b"a\x00r1", Row(4))  # another port, the same store
        seen.extend([len(heads), len(rows)])
        heads.delete("b")
        heads.delete("never-there")
        seen.append(len(rows))

    await backend.run(body)
    assert seen == [0, 3, 3, 2]
