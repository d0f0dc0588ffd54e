"""The Faust table adapter: a Faust table of raw bytes (RocksDB in a worker) behind the port.

Every write goes through the Faust table, which stores it in the partition's RocksDB and
sends the changelog record; so a write must happen inside an agent's event, as before. The
Faust table is `Any`: this module is the one seam where untyped Faust meets the port.
"""

from __future__ import annotations

from typing import Any

from .table import Codec, CodecTable, K, V


class FaustTable(CodecTable[K, V]):
    def __init__(self, raw: Any, keys: Codec[K], values: Codec[V]) -> None:
        super().__init__(keys, values)
        self.raw = raw
        """The Faust table (key and value type bytes); the retention sweep walks it."""

    def _read(self, key: bytes) -> bytes | None:
        value: bytes | None = self.raw.get(key)
        return value

    def _write(self, key: bytes, value: bytes) -> None:
        self.raw[key] = value

    def _remove(self, key: bytes) -> None:
        del self.raw[key]

    def _has(self, key: bytes) -> bool:
        return bool(key in self.raw)

    def _count(self) -> int:
        return len(self.raw)

    def _scan(self, prefix: bytes) -> list[bytes]:
        """From the current event's partition's RocksDB, seeking to `prefix`; a store
        without partitions (Faust's memory store, in tests) is read whole."""
        from faust.streams import current_event

        store, event = self.raw.data, current_event()
        if event is None or not hasattr(store, "_db_for_partition"):
            return sorted(key for key in self.raw if key.startswith(prefix))
        keys: list[bytes] = []
        for key in store._db_for_partition(event.message.partition).keys(from_key=prefix):
            if not key.startswith(prefix):
                break
            keys.append(key)
        return keys
