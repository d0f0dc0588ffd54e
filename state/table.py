"""The table port: a partition-local key-value table of typed keys and values.

Key and value codecs are built once, with the table, so every writer writes the same bytes and
every reader decodes them alike. A stored value that does not decode is never taken for a missing
one: `get` raises `StateUndecodableError` (key and raw bytes) for the key's quarantine. A value
codec may refuse a value (`ValueRefusedError`, with the refusal) before anything is written.
`put_again` is a replay's write: the effect may be in the local store only, so it is written again;
`write_again` does so for every stored value under a key prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import msgspec

from orderstream.codecs import internal
from orderstream.streams.rejections import Rejected

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class QuarantinedKeyError(Exception):
    """The input is for a key whose stored value does not decode."""

    def __init__(self, key: bytes, detail: str) -> None:
        super().__init__(detail)
        self.key = key
        self.detail = detail


class StateUndecodableError(QuarantinedKeyError):
    """Found now: the key's stored value did not decode; it goes into quarantine."""

    def __init__(self, key: bytes, stored: bytes, detail: str) -> None:
        super().__init__(key, detail)
        self.stored = stored


class ValueRefusedError(Exception):
    """A value codec refuses to store the value (nothing is written); `rejected` says why."""

    def __init__(self, rejected: Rejected) -> None:
        super().__init__(rejected.describe())
        self.rejected = rejected


@dataclass(frozen=True)
class Codec(Generic[T]):
    """How one type becomes stored bytes and back. `decode` raises one of `failures` on
    bytes it cannot read."""

    encode: Callable[[T], bytes]
    decode: Callable[[bytes], T]
    failures: tuple[type[Exception], ...] = internal.DecodeFailure


def json_codec(
    decoder: msgspec.json.Decoder[T], encode: Callable[[T], bytes] = internal.encode
) -> Codec[T]:
    """A value codec from a pre-built msgspec decoder; encoded by the shared encoder (or a
    stricter `encode` that refuses some values, raising `ValueRefusedError` before anything
    is written)."""
    return Codec(encode, decoder.decode)


def _utf8(raw: bytes) -> str:
    return raw.decode()


TEXT_KEY: Codec[str] = Codec(str.encode, _utf8, (UnicodeDecodeError,))
"""Keys that are text (order ids, SKUs, idempotency and bundle keys), stored as UTF-8."""
BYTES_KEY: Codec[bytes] = Codec(bytes, bytes, ())
"""Keys stored as they are (a quarantine table's keys are the quarantined stored keys)."""


class Table(Protocol[K, V]):
    """One typed table of the worker's partitions."""

    def encode_key(self, key: K) -> bytes:
        """The key as stored (what a quarantine or a dead letter names)."""
        ...

    def get(self, key: K) -> V | None:
        """The value under `key`, or None; `StateUndecodableError` when it does not decode."""
        ...

    def put(self, key: K, value: V) -> None: ...

    def put_again(self, key: K, value: V) -> None:
        """Write `value` although it may be stored already: a replay's write."""
        ...

    def write_again(self, prefix: bytes) -> int:
        """Write every stored value whose key's stored form starts with `prefix` again, as it
        is (in a worker: of the current event's partition): a replay's repair, when writes
        may be in the local store only. How many were written."""
        ...

    def delete(self, key: K) -> None:
        """Remove `key`; nothing happens when it is not there."""
        ...

    def get_many(self, keys: Iterable[K]) -> dict[K, V]:
        """The stored values of `keys`; a key without a value is left out."""
        ...

    def put_many(self, items: Mapping[K, V]) -> None:
        """Write every item, in order (one settle's writes)."""
        ...

    def __contains__(self, key: K) -> bool: ...

    def __len__(self) -> int:
        """How many keys the store holds, whichever port wrote them (in a worker: those of
        its active partitions)."""
        ...


class CodecTable(Generic[K, V]):
    """A `Table` over a store of bytes: the codecs here, the bytes in `_read`, `_write`,
    `_remove`, `_has` and `_count` of the store's adapter."""

    def __init__(self, keys: Codec[K], values: Codec[V]) -> None:
        self.keys = keys
        self.values = values

    def _read(self, key: bytes) -> bytes | None:
        raise NotImplementedError

    def _write(self, key: bytes, value: bytes) -> None:
        raise NotImplementedError

    def _remove(self, key: bytes) -> None:
        raise NotImplementedError

    def _has(self, key: bytes) -> bool:
        raise NotImplementedError

    def _count(self) -> int:
        raise NotImplementedError

    def _scan(self, prefix: bytes) -> list[bytes]:
        """The stored keys that start with `prefix`."""
        raise NotImplementedError

    def encode_key(self, key: K) -> bytes:
        return self.keys.encode(key)

    def get(self, key: K) -> V | None:
        stored = self.encode_key(key)
        raw = self._read(stored)
        if raw is None:
            return None
        try:
            return self.values.decode(raw)
        except self.values.failures as error:
            raise StateUndecodableError(
                stored, raw, f"stored value of {len(raw)} bytes: {error}"
            ) from error

    def put(self, key: K, value: V) -> None:
        encoded = self.values.encode(value)  # first: a value the codec refuses writes nothing
        self._write(self.encode_key(key), encoded)

    def put_again(self, key: K, value: V) -> None:
        self.put(key, value)

    def write_again(self, prefix: bytes) -> int:
        written = 0
        for stored in self._scan(prefix):
            raw = self._read(stored)
            if raw is not None:
                self._write(stored, raw)
                written += 1
        return written

    def delete(self, key: K) -> None:
        stored = self.encode_key(key)
        if self._has(stored):
            self._remove(stored)

    def get_many(self, keys: Iterable[K]) -> dict[K, V]:
        found: dict[K, V] = {}
        for key in keys:
            value = self.get(key)
            if value is not None:
                found[key] = value
        return found

    def put_many(self, items: Mapping[K, V]) -> None:
        # One loop for every store: a Faust table has no batch write of its own (its `update`
        # sends a changelog record and writes the store key by key, as `put` does; RocksDB's
        # write batch serves only its changelog recovery, which sends nothing).
        for key, value in items.items():
            self.put(key, value)

    def __contains__(self, key: K) -> bool:
        return self._has(self.encode_key(key))

    def __len__(self) -> int:
        return self._count()
