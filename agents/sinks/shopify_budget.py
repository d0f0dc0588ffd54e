"""The app's query-cost bucket at Shopify, as the client knows it: a call waits until it fits.

Shopify charges each GraphQL call its requested cost from a leaky bucket (size, what is left,
restore rate per second) and reports the bucket in every answer's `extensions.cost`. A call is
sent only once the last reported bucket, refilled at its restore rate since, minus the cost of
every call still in flight, holds the call's requested cost; so the client waits before a
query would be throttled instead of learning it from a THROTTLED answer. The estimate only
errs on the safe side: a call in flight that Shopify has already charged counts twice, and a
report from a call sent before the last accepted one is ignored (it is older). Until the first
report, one call at a time goes out. A `Retry-After` holds every call until it has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping

from orderstream.codecs.shopify_admin import ThrottleStatus


class CostBudget:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        first_guess: Mapping[str, float] | None = None,
        default_guess: float = 10.0,
    ) -> None:
        self._clock = clock
        self._guesses = dict(first_guess or {})
        self._default = default_guess
        self._costs: dict[str, float] = {}
        self._status: ThrottleStatus | None = None
        self._reported_at = 0.0
        self._in_flight = 0.0
        self._calls = 0  # calls started, numbering each
        self._accepted = -1  # the number of the call whose report is the current one
        self._blocked_until = 0.0
        self._changed = asyncio.Condition()

    def delay(self, cost: float) -> float | None:
        """Seconds until a call of `cost` fits: 0 now, None until an answer comes in."""
        now = self._clock()
        if now < self._blocked_until:
            return self._blocked_until - now
        status = self._status
        if status is None:
            return 0.0 if self._in_flight == 0 else None
        need = min(cost, status.maximum_available)
        refilled = status.currently_available + status.restore_rate * (now - self._reported_at)
        available = min(status.maximum_available, refilled) - self._in_flight
        if available >= need:
            return 0.0
        if status.restore_rate <= 0:
            return None
        return (need - available) / status.restore_rate

    def cost(self, operation: str) -> float:
        """What `operation` will ask for: what Shopify last requested for it, else a guess."""
        return self._costs.get(operation, self._guesses.get(operation, self._default))

    def learn(self, operation: str, requested: float) -> None:
        self._costs[operation] = requested

    async def acquire(self, operation: str) -> tuple[int, float]:
        """Wait until a call of `operation` fits, reserve its cost, and return the call's
        number and the cost reserved. The cost is looked up again after every wait: the
        answer that woke the call may have taught what the operation really costs."""
        async with self._changed:
            while True:
                cost = self.cost(operation)
                wait = self.delay(cost)
                if wait == 0:
                    self._in_flight += cost
                    self._calls += 1
                    return self._calls, cost
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=wait)

    async def release(self, call: int, cost: float, status: ThrottleStatus | None) -> None:
        """The call is answered; `status` is the bucket it reported (None: no answer)."""
        async with self._changed:
            self._in_flight = max(0.0, self._in_flight - cost)
            if status is not None and call > self._accepted:
                self._status = status
                self._reported_at = self._clock()
                self._accepted = call
            self._changed.notify_all()

    async def hold_off(self, seconds: float) -> None:
        """Send nothing for `seconds` (a `Retry-After`)."""
        async with self._changed:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)
            self._changed.notify_all()

    @property
    def status(self) -> ThrottleStatus | None:
        return self._status
