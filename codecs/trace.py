"""The trace id of a record: taken from the input that caused it, never made up.

A trace id is W3C Trace Context's: 16 bytes as 32 lower-case hex digits, not all zero. A record
names its trace in a `trace-id` header (orderstream's own records, or a sender that sets it)
or a W3C `traceparent` header (`00-<trace id>-<parent id>-<flags>`). A record that names none,
or names it malformed, gets one derived from where it was read (topic, partition and offset,
through BLAKE2b), so a replay of the same record repeats it and two records never share one
by chance. No clock, no random number: the same input always gives the same trace.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

TRACE_ID_HEADER = "trace-id"
TRACEPARENT_HEADER = "traceparent"

_TRACE_ID = re.compile(rb"[0-9a-f]{32}")
_TRACEPARENT = re.compile(rb"([0-9a-f]{2})-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}(-.*)?", re.S)
_ZERO = b"0" * 32
_LONGEST = 512
"""A header value longer than this names no trace: nothing from outside is read unbounded."""


def position(topic: str, partition: int, offset: int) -> str:
    """Where a record was read: `topic:partition:offset` (dead letters say it the same way)."""
    return f"{topic}:{partition}:{offset}"


def derived_trace_id(origin: str) -> bytes:
    """The trace id of a record that brought none: a digest of its `origin` (its position)."""
    return hashlib.blake2b(origin.encode(), digest_size=16).hexdigest().encode()


def carried_trace_id(headers: Iterable[tuple[str, bytes]] | None) -> bytes | None:
    """The trace id the headers name: `trace-id` first, then `traceparent`; None when they
    name none that is well formed."""
    parent = None
    for name, value in headers or ():
        lowered = name.lower()
        if lowered == TRACE_ID_HEADER:
            carried = _trace_id(bytes(value))
            if carried is not None:
                return carried
        elif lowered == TRACEPARENT_HEADER and parent is None:
            parent = _from_traceparent(bytes(value))
    return parent


def trace_id(headers: Iterable[tuple[str, bytes]] | None, origin: str) -> bytes:
    """The trace id of the record read at `origin` with `headers`: the one it carries, or
    one derived from `origin`."""
    return carried_trace_id(headers) or derived_trace_id(origin)


def _trace_id(value: bytes) -> bytes | None:
    if len(value) > _LONGEST:
        return None
    candidate = value.strip().lower()
    if _TRACE_ID.fullmatch(candidate) and candidate != _ZERO:
        return candidate
    return None


def _from_traceparent(value: bytes) -> bytes | None:
    if len(value) > _LONGEST:
        return None
    match = _TRACEPARENT.fullmatch(value.strip().lower())
    # Version ff is forbidden; a later version may add fields after the flags, 00 may not.
    if match is None or match[1] == b"ff" or (match[1] == b"00" and match[3]):
        return None
    candidate = match[2]
    return candidate if candidate != _ZERO else None
