"""The Kafka headers of every flow record: what it is, which contract, its id, its trace.

- `event-type`: the value's msgspec tag (`order.status_changed.v1`);
- `schema-version`: its topic's contract version (`codecs.contract.TOPICS`);
- `event-id`: the value's own deterministic id where it has one (`event_id`: a status change,
  a bundle instruction; `request_id`: a fulfilment request), else `<position>/<digest>`: the
  position of the input that caused it and a BLAKE2b digest of its bytes, so a replay of that
  input repeats the id and two records from one input differ;
- `trace-id`: the trace of the input that caused it (`codecs.trace`), carried from the raw
  record through every record caused by it.

What does not change from record to record (the names, each type's tag, the topic's version)
is built once per topic as bytes; a record costs a list of four pairs and, without an id of its
own, one digest.
"""

from __future__ import annotations

import hashlib
import typing
from collections.abc import Iterable
from typing import Any, NamedTuple

import msgspec

from .contract import TopicContract, by_topic
from .trace import TRACE_ID_HEADER, derived_trace_id, position, trace_id

EVENT_TYPE_HEADER = "event-type"
SCHEMA_VERSION_HEADER = "schema-version"
EVENT_ID_HEADER = "event-id"
HEADER_NAMES = (EVENT_TYPE_HEADER, SCHEMA_VERSION_HEADER, EVENT_ID_HEADER, TRACE_ID_HEADER)
"""Every flow record carries these, in this order."""

OWN_ID_FIELDS = ("event_id", "request_id")
"""A value with one of these fields is identified by it (the first one it has)."""

Headers = list[tuple[str, bytes]]

DERIVED_ID = (
    "`<position>/<digest>`: the topic:partition:offset of the input record that caused it and "
    "16 hex digits of a BLAKE2b digest of its value, the same when that input is replayed"
)
TRACE_ID_MEANING = (
    "The trace of the raw input record this record comes from, as W3C Trace Context's 32 "
    "lower-case hex digits: its `trace-id` or `traceparent` header where it had one, else "
    "derived from its topic, partition and offset; every record caused by another carries "
    "the other's. A record no input caused (an order's timeout, from the retention sweep) "
    "has one derived from what it is about."
)


class Cause(NamedTuple):
    """What a record inherits from what caused it: the cause's origin (an input's position)
    and its trace id; `prefix` starts the derived event ids. (A named tuple: one is made for
    every input record, and a tuple is the cheapest immutable value to make.)"""

    origin: str
    trace_id: bytes
    prefix: bytes

    @classmethod
    def of(
        cls, topic: str, partition: int, offset: int, headers: Iterable[tuple[str, bytes]] | None
    ) -> Cause:
        """The cause of the records made from the input read at topic, partition, offset."""
        origin = position(topic, partition, offset)
        return cls(origin, trace_id(headers, origin), f"{origin}/".encode())

    @classmethod
    def root(cls, origin: str) -> Cause:
        """A cause that is no record (the retention sweep's timeout of an order): the trace
        starts at `origin`, a deterministic name of what it is about."""
        return cls(origin, derived_trace_id(origin), f"{origin}/".encode())


def tag_of(kind: type[msgspec.Struct]) -> str:
    tag = kind.__struct_config__.tag
    if not isinstance(tag, str):
        raise TypeError(f"{kind.__name__} has no string tag")
    return tag


def own_id_field(kind: type[msgspec.Struct]) -> str | None:
    return next((name for name in OWN_ID_FIELDS if name in kind.__struct_fields__), None)


def value_types(value: Any) -> tuple[type[msgspec.Struct], ...]:
    """The Structs a contract's value type is (a tagged union) or holds (one Struct)."""
    return typing.get_args(value) or (value,)


def headers_schema(contract: TopicContract) -> dict[str, Any]:
    """The topic's headers as a schema (AsyncAPI's message `headers`): each value is UTF-8."""
    kinds = value_types(contract.value)
    owns = {own_id_field(kind) for kind in kinds}
    named = sorted(name for name in owns if name is not None)
    if None not in owns:
        event_id = "The value's " + " or ".join(f"`{name}`" for name in named) + "."
    elif not named:
        event_id = f"{DERIVED_ID[0].upper()}{DERIVED_ID[1:]}."
    else:  # some types have an id of their own, some not
        event_id = f"The value's own id where it has one, else {DERIVED_ID}."
    version = str(contract.version)
    return {
        "type": "object",
        "required": list(HEADER_NAMES),
        "properties": {
            EVENT_TYPE_HEADER: {
                "type": "string",
                "description": "The value's versioned tag, its `type` field.",
                "enum": [tag_of(kind) for kind in kinds],
            },
            SCHEMA_VERSION_HEADER: {
                "type": "string",
                "description": "The version of the topic's payload schema.",
                "const": version,
            },
            EVENT_ID_HEADER: {
                "type": "string",
                "description": f"Deterministic: a consumer drops an id it has seen. {event_id}",
            },
            TRACE_ID_HEADER: {
                "type": "string",
                "description": TRACE_ID_MEANING,
                "pattern": "^[0-9a-f]{32}$",
            },
        },
    }


class TopicHeaders:
    """The headers of one topic's records, their fixed part built once from its contract."""

    __slots__ = ("_kinds", "_version")

    def __init__(self, contract: TopicContract) -> None:
        self._version = (SCHEMA_VERSION_HEADER, str(contract.version).encode())
        self._kinds = {
            kind: ((EVENT_TYPE_HEADER, tag_of(kind).encode()), own_id_field(kind))
            for kind in value_types(contract.value)
        }

    @classmethod
    def for_topic(cls, base: str) -> TopicHeaders:
        """The headers of the topic with this base name (no deployment prefix)."""
        return cls(by_topic()[base])

    def of(self, record: msgspec.Struct, value: bytes, cause: Cause) -> Headers:
        """The headers of `record` (encoded as `value`), caused by `cause`. A type the topic's
        contract does not name is a bug: KeyError."""
        event_type, own = self._kinds[type(record)]
        if own is not None:
            event_id = getattr(record, own).encode()
        else:
            event_id = cause.prefix + hashlib.blake2b(value, digest_size=8).hexdigest().encode()
        return [
            event_type,
            self._version,
            (EVENT_ID_HEADER, event_id),
            (TRACE_ID_HEADER, cause.trace_id),
        ]
