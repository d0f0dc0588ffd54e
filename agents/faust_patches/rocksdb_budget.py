"""Every RocksDB database Faust opens shares the worker's one memory budget
(`agents/rocksdb_memory.py`, which wraps `RocksDBOptions.as_options`)."""

from __future__ import annotations

from typing import Any

from .. import rocksdb_memory
from ..settings import Settings
from ._replace import Target


def _options() -> Any:
    from faust.stores.rocksdb import RocksDBOptions

    return RocksDBOptions


def targets() -> list[Target]:
    return [Target(_options(), "as_options")]


def install(settings: Settings) -> None:
    rocksdb_memory.bound(settings.rocksdb_budget())
