"""What one call to a sales channel came to, as values a sink matches on.

Every answer from a channel is exactly one of three: `Delivered` (the effect exists at the
channel, made now or found already made), `Retryable` (nothing is known to have happened and
the same call may be sent again, after `retry_after` seconds when the channel said so), or
`Rejected` (the channel refused it and sending it again cannot change that: it belongs in a
dead-letter topic with the reason and the channel's answer). An exception is a bug.
"""

from __future__ import annotations

import msgspec


class Delivered(msgspec.Struct, frozen=True):
    """The effect is at the channel. `already` is true when it was found there rather than
    made by this call (a repeat after a crash, settled by reading the channel's state)."""

    reference: str = ""  # the channel's id of what was made (a fulfillment, a job, a hold)
    already: bool = False


class Retryable(msgspec.Struct, frozen=True):
    """Send the same call again later: a timeout, a 5xx, a 429 or a cost throttle."""

    reason: str
    retry_after: float | None = None  # seconds, when the channel named them


class Rejected(msgspec.Struct, frozen=True):
    """The channel refused the call for a reason retrying cannot fix; `response` is its answer
    (ids and error messages only: the documents we send select no personal data)."""

    reason: str
    response: str = ""


Outcome = Delivered | Retryable | Rejected
