"""The in-memory table: a dict of stored bytes behind the same port and codecs.

It keeps the changelog a Faust table would send (every write and tombstone, in order), so a
test can see that a replay's write reached it.
"""

from __future__ import annotations

from .table import Codec, CodecTable, K, V


class MemoryTable(CodecTable[K, V]):
    def __init__(
        self, keys: Codec[K], values: Codec[V], rows: dict[bytes, bytes] | None = None
    ) -> None:
        super().__init__(keys, values)
        self.rows: dict[bytes, bytes] = {} if rows is None else rows
        """The stored bytes; two tables over one dict share a store (as two views of one
        Faust table do)."""
        self.changelog: list[tuple[bytes, bytes | None]] = []

    def _read(self, key: bytes) -> bytes | None:
        return self.rows.get(key)

    def _write(self, key: bytes, value: bytes) -> None:
        self.rows[key] = value
        self.changelog.append((key, value))

    def _remove(self, key: bytes) -> None:
        del self.rows[key]
        self.changelog.append((key, None))

    def _has(self, key: bytes) -> bool:
        return key in self.rows

    def _count(self) -> int:
        return len(self.rows)

    def _scan(self, prefix: bytes) -> list[bytes]:
        return sorted(key for key in self.rows if key.startswith(prefix))
