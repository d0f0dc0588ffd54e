"""Types shared by the inbound channel Structs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Generic, TypeVar

import msgspec

from orderstream.streams.events import CanonicalEvent
from orderstream.streams.rejections import Rejected

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
"""A timestamp that must carry an offset: a naive time is ambiguous across a network."""

Identifier = Annotated[str, msgspec.Meta(pattern=r"\A[^\x00-\x1f\x7f]*\Z")]
"""An id, reference or SKU: text without C0 control characters or DEL, checked when decoding.

Ids end up in keys, topics and PostgreSQL text, which cannot hold NUL; a control character in
an id is corruption, never data. Free text (titles, notes) is not restricted.
"""

T = TypeVar("T")

Headers = Mapping[str, str]
"""Transport headers (HTTP or Kafka), names lower-cased."""

Normalized = CanonicalEvent | Rejected

Normalizer = Callable[[T, Headers], Normalized]


@dataclass(frozen=True)
class ChannelCodec(Generic[T]):
    """How one source's raw bytes become a canonical event: decode, then normalize."""

    source: str
    payload_type: type[T]
    normalize: Normalizer[T]
    decoder: msgspec.json.Decoder[T] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "decoder", msgspec.json.Decoder(self.payload_type))
