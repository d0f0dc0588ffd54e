"""What sending one message came to, as a value the caller matches (an exception is a bug).

`Retryable` is worth another attempt (a timeout, a busy or down server, quiet hours),
not before `retry_after` when the other side said so; `Undeliverable` is not (an address or
request the other side refuses). Reasons name codes and kinds of failure, never an address,
a phone number or a message's text: callers may log them.
"""

from __future__ import annotations

from datetime import timedelta

import msgspec


class Sent(msgspec.Struct, frozen=True):
    """The other side accepted the message (`reference`: its id for it, if it gave one)."""

    key: str
    reference: str = ""


class Retryable(msgspec.Struct, frozen=True):
    reason: str
    retry_after: timedelta | None = None


class Undeliverable(msgspec.Struct, frozen=True):
    reason: str


SendOutcome = Sent | Retryable | Undeliverable
