"""One memory budget for all of a worker's RocksDB databases.

Every database a worker opens (one per table partition) shares one block cache and one
write-buffer manager, and each memtable is small, so memory is capped per process rather than
growing with state. Applied once by `bound` before the first table opens, by wrapping
`RocksDBOptions.as_options`; workers reach it through `faust_patches.apply`, which checks it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MB = 1024 * 1024


@dataclass(frozen=True)
class Budget:
    memtable_mb: int
    """One memtable's size: a partition flushes to disk once its memtable holds this."""
    memtables_mb: int
    """All memtables of the process together."""
    cache_mb: int
    """The block cache all databases of the process share."""


_shared: dict[str, Any] = {}


def bound(budget: Budget) -> None:
    """Make every RocksDB database Faust opens from now on use `budget` (the first call's
    budget holds for the process: the cache and manager are shared by design)."""
    import rocksdict
    from faust.stores.rocksdb import RocksDBOptions

    if _shared:
        return
    _shared["cache"] = rocksdict.Cache(budget.cache_mb * MB)
    _shared["memtables"] = rocksdict.WriteBufferManager(budget.memtables_mb * MB, False)
    _shared["budget"] = budget
    original = RocksDBOptions.as_options

    def as_options(self: Any) -> Any:
        options = original(self)
        if not self.use_rocksdict:
            return options
        table = rocksdict.BlockBasedOptions()
        table.set_bloom_filter(self.bloom_filter_size, True)
        table.set_block_cache(_shared["cache"])
        table.set_index_type(rocksdict.BlockBasedIndexType.binary_search())
        options.set_block_based_table_factory(table)
        options.set_write_buffer_size(budget.memtable_mb * MB)
        options.set_max_write_buffer_number(2)
        options.set_write_buffer_manager(_shared["memtables"])
        return options

    RocksDBOptions.as_options = as_options  # type: ignore[method-assign]


def usage_bytes() -> dict[str, int]:
    """What the shared cache and memtables hold now (empty before `bound`)."""
    if not _shared:
        return {}
    return {
        "block_cache": _shared["cache"].get_usage(),
        "memtables": _shared["memtables"].get_usage(),
    }
