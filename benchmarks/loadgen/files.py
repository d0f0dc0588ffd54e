"""A run on disk: one JSON-lines file per topic, and a manifest naming them.

Each line is one record: `seq` (its place in the whole run, across topics), `offset_ms`,
`kind`, `key`, `headers`, `value`, and `timestamp_ms` when the run stamps event times. Key
and value are text when they are UTF-8 (always, for generated records: a truncated payload
is cut between characters) and base64 otherwise (`key_base64`, `value_base64`). Header
values must be UTF-8 text. `read_files` merges the topics back into run order by `seq`,
reading only the files the manifest lists, so a directory written twice holds exactly the
second run.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import msgspec

from .generator import Kind, RawRecord

MANIFEST = "manifest.json"


class _Line(msgspec.Struct, frozen=True, omit_defaults=True):
    seq: int
    offset_ms: int
    kind: Kind
    headers: list[tuple[str, str]]
    key: str | None = None
    value: str | None = None
    key_base64: bytes | None = None
    value_base64: bytes | None = None
    timestamp_ms: int | None = None


class Manifest(msgspec.Struct, frozen=True):
    files: dict[str, str]
    """Topic -> file name, relative to the manifest."""
    records: dict[str, int]
    """Topic -> records written."""


def _text(raw: bytes | None) -> tuple[str | None, bytes | None]:
    if raw is None:
        return None, None
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, raw


def write_files(records: Iterable[RawRecord], directory: Path | str) -> Manifest:
    """Write `records` as `<topic>.jsonl` files in `directory` (created if missing)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    encoder = msgspec.json.Encoder()
    handles: dict[str, IO[bytes]] = {}
    counts: dict[str, int] = {}
    try:
        for seq, record in enumerate(records):
            handle = handles.get(record.topic)
            if handle is None:
                handle = handles[record.topic] = (folder / f"{record.topic}.jsonl").open("wb")
            key, key_raw = _text(record.key)
            value, value_raw = _text(record.value)
            line = _Line(
                seq=seq,
                offset_ms=record.offset_ms,
                kind=record.kind,
                headers=[(name, raw.decode("utf-8")) for name, raw in record.headers],
                key=key,
                value=value,
                key_base64=key_raw,
                value_base64=value_raw,
                timestamp_ms=record.timestamp_ms,
            )
            handle.write(encoder.encode(line) + b"\n")
            counts[record.topic] = counts.get(record.topic, 0) + 1
    finally:
        for handle in handles.values():
            handle.close()
    manifest = Manifest(
        files={topic: f"{topic}.jsonl" for topic in sorted(counts)},
        records=dict(sorted(counts.items())),
    )
    (folder / MANIFEST).write_bytes(msgspec.json.format(msgspec.json.encode(manifest)) + b"\n")
    return manifest


def read_files(directory: Path | str) -> Iterator[RawRecord]:
    """The records `write_files` wrote, in the order they were generated."""
    folder = Path(directory)
    manifest = msgspec.json.decode((folder / MANIFEST).read_bytes(), type=Manifest)
    streams = [_read(topic, folder / name) for topic, name in manifest.files.items()]
    for _, record in heapq.merge(*streams, key=lambda pair: pair[0]):
        yield record


def _read(topic: str, path: Path) -> Iterator[tuple[int, RawRecord]]:
    decoder = msgspec.json.Decoder(_Line)
    with path.open("rb") as handle:
        for raw in handle:
            line = decoder.decode(raw)
            key = line.key.encode() if line.key is not None else line.key_base64
            value = line.value.encode() if line.value is not None else line.value_base64
            yield (
                line.seq,
                RawRecord(
                    topic=topic,
                    key=key,
                    value=value or b"",
                    headers=[(name, text.encode()) for name, text in line.headers],
                    kind=line.kind,
                    offset_ms=line.offset_ms,
                    timestamp_ms=line.timestamp_ms,
                ),
            )
