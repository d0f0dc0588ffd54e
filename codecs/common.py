"""Types shared by the inbound channel Structs; ids are plain printable text (`Identifier`)."""

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

INVISIBLE = r"\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
"""Characters that change how text looks, or where it breaks, without being visible: soft
hyphen, the Arabic letter mark, the Mongolian vowel separator, zero-width space and joiners,
left-to-right and right-to-left marks, line and paragraph separators, bidi embeddings,
overrides and isolates, the word joiner and invisible operators, and U+FEFF."""

IDENTIFIER_PATTERN = r"\A[^\x00-\x1f\x7f-\x9f" + INVISIBLE + r"]*\Z"

Identifier = Annotated[str, msgspec.Meta(pattern=IDENTIFIER_PATTERN)]
"""An id, reference or SKU, checked when decoding: no C0 or C1 control characters, no DEL, and
none of the `INVISIBLE` characters.

Ids end up in keys, topics and PostgreSQL text, which cannot hold NUL; a control character in
an id is corruption, never data. An invisible or bidi character makes two ids that print the
same differ (`A-1` and `A-\\u200b1` would be two orders, two SKUs), or makes one id print as
another (an override reverses what follows it), so such an id is refused rather than cleaned:
cleaning would merge ids the channel keeps apart. Free text (titles, notes) is not restricted.
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
