"""The one delivery mechanism every sink uses: each effect outside once per (sink, event id).

`deliver(effect)` records the entry `pending` in the delivery log, calls the channel, and
records `done`; a crash in between leaves `pending`, which is settled by asking the channel
(`Channel.settle`: has it applied this already?) before anything is sent again: at `start`
for every pending entry, and for an event that arrives again. A timeout, a 429, a 5xx or an
unreachable channel is retried with exponential backoff and jitter (tenacity), never sooner
than the channel's `Retry-After`, and a request that may have reached the channel is settled
before it goes again. A channel that stays down holds `deliver` (the sink pauses; the caller
commits nothing, so nothing is lost and it catches up after). A refusal that sending again
cannot fix (a lasting 4xx) ends in `dlq.sink.<name>` with the request, the response and
the reason. Requests go through the channel's rate limit (aiolimiter). An order's later
event waits until the earlier ones are finished. An effect with a not-before time (quiet
hours) is recorded `pending` at once and sent no earlier (the sink holds it as it holds a
channel that is down); a withheld one (an opt-out) is recorded and never sent.
Decisions: streams/delivery.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, RetryCallState, RetryError, retry_if_result
from tenacity.wait import wait_exponential, wait_random

from orderstream.codecs.channel_outcomes import Delivered, Outcome, Rejected, Retryable
from orderstream.codecs.deadletter import dead_letter
from orderstream.codecs.replays import REPLAY_OF
from orderstream.state import delivery_log as log_rows
from orderstream.streams.delivery import (
    Action,
    Effect,
    Entry,
    EntryState,
    Lifetimes,
    SinkMode,
    SourceRecord,
    after_settle,
    confirmed,
    due_in_s,
    effect_of,
    finished,
    in_order,
    on_arrival,
    recorded,
    retried,
    retry_wait_s,
)
from orderstream.streams.rejections import Rejected as LetterReason
from orderstream.streams.rejections import RejectReason

from ..topics import sink_dead_letters
from .metrics import SinkMetrics
from .ports import Channel, Failed, Letters, RateLimit, RetryPolicy, failed, failure

log = logging.getLogger(__name__)


class SinkStoppedError(Exception):
    """The sink was stopped while it waited for its channel: the effect is not finished."""


class _Tries:
    """What the attempts of one send have learnt so far."""

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
        self.maybe_applied = False
        self.last: Failed | None = None


class Deliverer:
    """One sink's delivery: its channel, its log, its letters, its limits and its mode."""

    def __init__(
        self,
        name: str,
        channel: Channel,
        store: Any,
        letters: Letters,
        metrics: SinkMetrics,
        *,
        mode: SinkMode,
        lifetimes: Lifetimes,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimit | None = None,
        resend_shadowed: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        stop: asyncio.Event | None = None,
    ) -> None:
        self.name = name
        self.mode = mode
        self._channel = channel
        self._store = store  # an asyncpg pool or connection
        self._letters = letters
        self._metrics = metrics
        self._lifetimes = lifetimes
        self._retry = retry or RetryPolicy()
        self._limiter = (
            AsyncLimiter(rate_limit.requests, rate_limit.period_s) if rate_limit else None
        )
        self._resend_shadowed = resend_shadowed
        self._clock = clock
        self._stop = stop or asyncio.Event()
        self._busy: dict[str, datetime] = {}
        self._orders: dict[str, tuple[asyncio.Lock, int]] = {}
        # Exponential from the initial wait up to the longest, plus up to one initial wait of
        # jitter, so sinks that failed together do not all come back at once.
        self._backoff = wait_exponential(
            multiplier=self._retry.initial_s, max=self._retry.max_s
        ) + wait_random(0, self._retry.initial_s)
        metrics.watch(name, self._lag_s, lambda: len(self._busy))

    def _lag_s(self) -> float:
        if not self._busy:
            return 0.0
        return max(0.0, (self._clock() - min(self._busy.values())).total_seconds())

    async def start(self) -> int:
        """Settle every pending entry of this sink, by order and seq, before anything new;
        how many there were. Those the channel does not have are sent now."""
        entries = await log_rows.pending(self._store, self.name)
        await self.deliver_all(effect_of(entry) for entry in entries)
        if entries:
            log.info("%s: settled %d pending deliveries at start", self.name, len(entries))
        return len(entries)

    async def deliver_all(self, effects: Iterable[Effect]) -> list[EntryState]:
        """Deliver `effects`: one order's one after another by seq, the orders side by side."""
        groups = in_order(effects)
        results = await asyncio.gather(*(self._deliver_group(g) for g in groups))
        return [state for group in results for state in group]

    async def _deliver_group(self, effects: list[Effect]) -> list[EntryState]:
        return [await self.deliver(effect) for effect in effects]

    async def deliver(self, effect: Effect) -> EntryState:
        """Deliver one effect once; the state its entry ends in. `SinkStoppedError` when
        stopped while the channel was away (the entry stays pending, settled next time).
        One order's deliveries in this process go one at a time (a second call for the same
        event finds it finished)."""
        lock, users = self._orders.get(effect.oms_order_id, (asyncio.Lock(), 0))
        self._orders[effect.oms_order_id] = (lock, users + 1)
        try:
            async with lock:
                return await self._deliver(effect)
        finally:
            lock, users = self._orders[effect.oms_order_id]
            if users == 1:
                del self._orders[effect.oms_order_id]
            else:
                self._orders[effect.oms_order_id] = (lock, users - 1)

    async def _deliver(self, effect: Effect) -> EntryState:
        self._busy.setdefault(effect.event_id, effect.occurred_at)
        try:
            while True:
                state = await self._step(effect)
                if state is not None:
                    return state
        finally:
            self._busy.pop(effect.event_id, None)

    async def _step(self, effect: Effect) -> EntryState | None:
        """One decision on the entry as it is now; None when another writer moved it first."""
        entry = await log_rows.get(self._store, self.name, effect.event_id)
        own_letter = effect.replay_of.startswith(f"{sink_dead_letters(self.name)}:")
        action = on_arrival(
            entry,
            self.mode,
            resend_shadowed=self._resend_shadowed,
            replays_own_letter=own_letter,
            withheld=effect.withheld,
        )
        if action is Action.SETTLE:
            assert entry is not None
            applied = await self._settled(effect)
            action = after_settle(applied, self.mode, effect.withheld)
        if action is Action.SKIP:
            assert entry is not None
            self._metrics.count(self.name, "duplicate")
            return entry.state
        return await self._act(action, effect, entry)

    async def _act(self, action: Action, effect: Effect, entry: Entry | None) -> EntryState | None:
        now = self._clock()
        if action is Action.CONFIRM:
            assert entry is not None
            if not await log_rows.put(self._store, confirmed(entry, now), entry):
                return None
            self._delivered(effect)
            return EntryState.DONE
        if entry is not None and entry.state is EntryState.PENDING and entry.request:
            # Settled as not applied: what goes again is what was logged (and maybe sent),
            # byte for byte, not a request built again from the event.
            effect = replace(
                effect, request=entry.request, summary=entry.summary, not_before=entry.not_before
            )
        state = {
            Action.SHADOW: EntryState.SHADOWED,
            Action.WITHHOLD: EntryState.WITHHELD,
        }.get(action, EntryState.PENDING)
        if state is EntryState.PENDING:
            await self._earlier_first(effect)
        new = recorded(
            self.name, effect, state, mode=self.mode, now=now, lifetimes=self._lifetimes,
            previous=entry,
        )  # fmt: skip
        if not await log_rows.put(self._store, new, entry):
            return None
        if state is not EntryState.PENDING:
            self._metrics.count(self.name, state.value)
            return state
        return await self._send(effect, new)

    async def _earlier_first(self, effect: Effect) -> None:
        """Finish the order's earlier pending entries (left by a crash or another process)."""
        for earlier in await log_rows.open_before(
            self._store, self.name, effect.oms_order_id, effect.seq
        ):
            await self._deliver(effect_of(earlier))

    async def _send(self, effect: Effect, pending: Entry) -> EntryState:
        await self._due(effect)
        tries = _Tries(pending)
        retrying = AsyncRetrying(
            retry=retry_if_result(lambda result: isinstance(result, Failed)),
            wait=self._wait,
            stop=lambda _: self._stop.is_set(),
            sleep=self._sleep,
            before_sleep=lambda _: self._metrics.retried.labels(sink=self.name).inc(),
        )
        try:
            outcome: Outcome | Failed = await retrying(self._attempt, effect, tries)
        except RetryError:
            raise SinkStoppedError(f"{self.name}: stopped before {effect.event_id} went") from None
        assert isinstance(outcome, Delivered | Rejected)
        now = self._clock()
        if isinstance(outcome, Rejected):
            await self._dead_letter(effect, outcome)
            why = f"{outcome.reason}: {outcome.response}" if outcome.response else outcome.reason
            done = finished(tries.entry, EntryState.DEAD_LETTERED, why, now)
        else:
            answer = "already at the channel" if outcome.already else "delivered"
            done = finished(tries.entry, EntryState.DONE, f"{answer} {outcome.reference}", now)
        if not await log_rows.put(self._store, done, tries.entry):
            log.warning("%s: the entry of %s moved meanwhile", self.name, effect.event_id)
        if isinstance(outcome, Rejected):
            self._metrics.count(self.name, "dead_lettered")
            return EntryState.DEAD_LETTERED
        self._delivered(effect)
        return EntryState.DONE

    async def _attempt(self, effect: Effect, tries: _Tries) -> Outcome | Failed:
        """One attempt; a request that may have reached the channel is settled first."""
        if self._stop.is_set() and tries.last is not None:
            return tries.last  # stopped while waiting: no new attempt, the entry stays pending
        if tries.maybe_applied:
            try:
                applied = await self._channel.settle(effect)
            except Exception as error:  # cannot ask: ask again later, before sending
                cannot = failure(error)
                return await self._failed(tries, replace(cannot, maybe_applied=True))
            answer = "applied" if applied else "not_applied"
            self._metrics.settled.labels(sink=self.name, answer=answer).inc()
            if applied:
                return Delivered(already=True)
            tries.maybe_applied = False
        outcome = await self._call(effect)
        if isinstance(outcome, Failed):
            return await self._failed(tries, outcome)
        return outcome

    async def _call(self, effect: Effect) -> Outcome | Failed:
        if self._limiter is not None:
            await self._limiter.acquire()
        try:
            async with asyncio.timeout(self._retry.timeout_s):
                outcome = await self._channel.send(effect)
        except Exception as error:
            return failure(error)
        return failed(outcome) if isinstance(outcome, Retryable) else outcome

    async def _failed(self, tries: _Tries, attempt: Failed) -> Failed:
        self._metrics.failure(self.name, attempt.kind)
        tries.maybe_applied = attempt.maybe_applied
        tries.last = attempt
        later = retried(tries.entry, attempt.outcome.reason, self._clock())
        if await log_rows.put(self._store, later, tries.entry):
            tries.entry = later
        return attempt

    async def _settled(self, effect: Effect) -> bool:
        """Ask the channel whether it has the effect, until it answers (or the sink stops)."""
        attempt = 0
        while True:
            try:
                applied = await self._channel.settle(effect)
                answer = "applied" if applied else "not_applied"
                self._metrics.settled.labels(sink=self.name, answer=answer).inc()
                return applied
            except Exception as error:
                self._metrics.failure(self.name, failure(error).kind)
            attempt += 1
            await self._sleep(min(self._retry.initial_s * 2**attempt, self._retry.max_s))
            if self._stop.is_set():
                raise SinkStoppedError(f"{self.name}: stopped before {effect.event_id} settled")

    async def _due(self, effect: Effect) -> None:
        """Wait for the effect's not-before time (it is pending meanwhile, in the log)."""
        wait_s = due_in_s(effect.not_before, self._clock())
        if wait_s <= 0:
            return
        log.info("%s: %s held for %.0f s (not before)", self.name, effect.event_id, wait_s)
        await self._sleep(wait_s)
        if self._stop.is_set() and due_in_s(effect.not_before, self._clock()) > 0:
            raise SinkStoppedError(f"{self.name}: stopped before {effect.event_id} was due")

    def _wait(self, state: RetryCallState) -> float:
        last = state.outcome.result() if state.outcome is not None else None
        after = last.outcome.retry_after if isinstance(last, Failed) else None
        return retry_wait_s(self._backoff(state), after, self._retry.retry_after_max_s)

    async def _sleep(self, seconds: float) -> None:
        """Wait `seconds`, or less when the sink is stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    def _delivered(self, effect: Effect) -> None:
        self._metrics.count(self.name, "delivered")
        latency = (self._clock() - effect.occurred_at).total_seconds()
        self._metrics.latency.labels(sink=self.name).observe(max(0.0, latency))

    async def _dead_letter(self, effect: Effect, refused: Rejected) -> None:
        """The event in `dlq.sink.<name>`: its record (for `dlq replay`), request, response."""
        source = effect.source or SourceRecord("", 0, 0, effect.oms_order_id.encode(), b"")
        letter = dead_letter(
            stage=f"sink.{self.name}",
            rejected=LetterReason(RejectReason.CHANNEL_REFUSED, refused.reason[:500]),
            topic=source.topic,
            partition=source.partition,
            offset=source.offset,
            value=source.value,
            key=source.key,
            headers=[(n, v) for n, v in source.headers if n != REPLAY_OF],
            now=self._clock(),
            request=effect.request,
            response=refused.response[:500],
        )
        await self._letters.send(letter, source.key)
        # No request or response in the log line: either may quote personal data.
        log.warning(
            "%s: %s refused (%s), dead-lettered", self.name, effect.event_id, refused.reason[:80]
        )
