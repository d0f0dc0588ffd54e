"""Every RocksDB database a worker opens shares one cache and one memtable budget."""

from __future__ import annotations

import re
from pathlib import Path

from faust.stores.rocksdb import RocksDBOptions

from orderstream.agents import rocksdb_memory
from orderstream.agents.metrics import Metrics
from orderstream.agents.settings import load_settings

ROW = b"x" * 1024


def test_all_databases_share_one_budget_and_flush_small_memtables(tmp_path: Path) -> None:
    rocksdb_memory.bound(load_settings().rocksdb_budget())
    budget = rocksdb_memory._shared["budget"]
    first = RocksDBOptions().open(tmp_path / "first")
    second = RocksDBOptions().open(tmp_path / "second")
    try:
        before = rocksdb_memory.usage_bytes()["memtables"]
        for n in range(1000):
            first[b"k%06d" % n] = ROW
        after_first = rocksdb_memory.usage_bytes()["memtables"]
        for n in range(1000):
            second[b"k%06d" % n] = ROW
        assert before < after_first < rocksdb_memory.usage_bytes()["memtables"]

        # a memtable flushes at the budget's size (Faust's default would keep 64 MB)
        for n in range(2 * budget.memtable_mb * 1024):
            first[b"m%06d" % n] = ROW
        assert list((tmp_path / "first").glob("*.sst"))

        second.flush()
        cached = rocksdb_memory.usage_bytes()["block_cache"]
        assert all(second[b"k%06d" % n] == ROW for n in range(1000))
        assert rocksdb_memory.usage_bytes()["block_cache"] > cached

        exposed = Metrics().exposition().decode()
        line = re.search(
            r'^orderstream_rocksdb_memory_bytes\{kind="memtables"\} (\S+)$', exposed, re.M
        )
        assert line is not None and float(line.group(1)) > 0
    finally:
        first.close()
        second.close()
