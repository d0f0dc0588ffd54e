"""`orderstream sink email` and `orderstream sink sms`: customer notifications as sinks.

Each consumes `orders.status` in its own consumer group (`{app_id}.sink.email`, `.sink.sms`)
and delivers through the shared mechanism, at most one message per status event. For an
event the customer hears about (streams/notifications.py) the build reads the order's
contact from the store, waiting for it while the store writer has not written it, and
renders the whole message into the effect's request: for e-mail the exact RFC 5322 bytes
(dated when decided, its Message-ID made from the sink and the event id), for SMS the
webhook's exact JSON body. `sinks diff` thus shows what shadow mode would send, and a resend
is byte for byte the message logged. Quiet hours become the effect's not-before time. A
customer this medium does not reach (the kind switched off for it, no address, erased) gets
no message: the entry is recorded `withheld`, with the reason. Neither SMTP nor the webhook
can be read back, so a pending entry counts as not sent and goes again, with the same
Message-ID or Idempotency-Key, for the receiver to drop the duplicate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import msgspec

from orderstream.codecs import internal
from orderstream.codecs.channel_outcomes import Outcome, Rejected, Retryable
from orderstream.state.contacts import contact_for
from orderstream.streams.delivery import Effect
from orderstream.streams.notifications import (
    Medium,
    MessageKind,
    Notice,
    NotificationRules,
    QuietHours,
    notice_for,
)
from orderstream.streams.notify_plan import (
    CustomerContact,
    dispatches,
    quiet_until,
    withheld_because,
)

from ..notify.render import Templates
from ..notify.smtp import SmtpSender, email_for, message_bytes
from ..notify.webhook import WebhookSender, decode_body, message_body
from ..settings import Settings
from ..topics import ORDERS_STATUS
from .loop import Build, LoopCounts, from_store, run_sink
from .metrics import SinkMetrics
from .ports import source_record
from .setup import opened_deliverer

log = logging.getLogger(__name__)

NAMES: dict[Medium, str] = {Medium.EMAIL: "email", Medium.SMS: "sms"}
"""Each medium's sink name: its delivery log entries, consumer group and `dlq.sink.<name>`."""

Contacts = Callable[[str], Awaitable[CustomerContact | None]]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Composer:
    """One medium's messages: the rules that pick them, the templates that write them."""

    medium: Medium
    rules: NotificationRules
    templates: Templates
    sender: str  # the From of e-mail
    webhook_medium: str = "sms"  # named in each webhook request: sms, whatsapp...

    def kinds(self) -> frozenset[MessageKind]:
        return self.rules.email_kinds if self.medium is Medium.EMAIL else self.rules.sms_kinds

    def effect(self, notice: Notice, contact: CustomerContact | None, now: datetime) -> Effect:
        """The message `notice` gives `contact` by this medium, rendered whole, as the
        effect to log and send (without its source record); `withheld` when it gives none.
        `contact` is None only when the kind is off for this medium (it is not read then)."""
        made = Effect(
            event_id=notice.event_id,
            oms_order_id=notice.oms_order_id,
            seq=0,
            request=b"",
            summary="",
            occurred_at=notice.occurred_at,
        )
        why = (
            f"{notice.kind} is off for {self.medium}"
            if contact is None
            else withheld_because(notice, contact, self.rules, self.medium)
        )
        if why or contact is None:
            summary = f"{notice.kind} for {notice.oms_order_id}: no message, {why}"
            return replace(made, summary=summary, withheld=True)
        (dispatch,) = (
            d for d in dispatches(notice, contact, self.rules, now) if d.medium is self.medium
        )
        rendered = self.templates.render(dispatch, contact)
        if self.medium is Medium.EMAIL:
            message = email_for(dispatch, rendered, contact, sender=self.sender, now=now)
            request: bytes | None = message_bytes(message)
        else:
            request = message_body(dispatch, rendered, contact, self.webhook_medium)
        assert request is not None  # a contact the medium reaches has a number in E.164
        held = dispatch.not_before if dispatch.not_before > now else None
        summary = f"{notice.kind} in {dispatch.language} for {notice.oms_order_id}"
        if held is not None:
            summary += f", not before {held.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
        return replace(made, request=request, summary=summary, not_before=held)


def builder(
    composer: Composer,
    contacts: Contacts,
    stop: asyncio.Event,
    *,
    poll_s: float = 0.5,
    clock: Clock = lambda: datetime.now(UTC),
) -> Build:
    """`run_sink`'s build: the record's one message (or none), once the store holds the
    order's contact (`SinkStoppedError` when the sink stops while it waits)."""
    name = NAMES[composer.medium]

    async def build(record: Any) -> list[Effect]:
        event = internal.status_changed.decode(record.value or b"")
        notice = notice_for(event, composer.rules)
        if notice is None:
            return []
        contact = None
        if notice.kind in composer.kinds():
            contact = await from_store(
                contacts, event.oms_order_id, sink=name, stop=stop, poll_s=poll_s
            )
        source, replay_of = source_record(record)
        made = composer.effect(notice, contact, clock())
        return [replace(made, seq=event.seq, source=source, replay_of=replay_of)]

    return build


def store_contacts(pool: Any) -> Contacts:
    async def read(oms_order_id: str) -> CustomerContact | None:
        return await contact_for(pool, oms_order_id)

    return read


class EmailChannel:
    """The logged message to the SMTP server, as it is. SMTP has no read-back: a message
    that may have gone counts as not sent (`settle`), and goes again with its Message-ID."""

    def __init__(self, sender: SmtpSender, quiet: QuietHours | None, clock: Clock) -> None:
        self._sender, self._quiet, self._clock = sender, quiet, clock

    async def send(self, effect: Effect) -> Outcome:
        held = _quiet(self._clock(), self._quiet, Medium.EMAIL)
        return held or await self._sender.send_bytes(effect.request)

    async def settle(self, effect: Effect) -> bool:
        return False


class SmsChannel:
    """The logged webhook body to the provider, as it is, signed when sent and keyed by its
    message key (`Idempotency-Key`); no read-back either, so `settle` says not sent."""

    def __init__(self, sender: WebhookSender, quiet: QuietHours | None, clock: Clock) -> None:
        self._sender, self._quiet, self._clock = sender, quiet, clock

    async def send(self, effect: Effect) -> Outcome:
        now = self._clock()
        held = _quiet(now, self._quiet, Medium.SMS)
        if held is not None:
            return held
        try:
            message = decode_body(effect.request)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return Rejected("not a webhook message")
        return await self._sender.post(effect.request, message.message_key, now)

    async def settle(self, effect: Effect) -> bool:
        return False


def _quiet(now: datetime, quiet: QuietHours | None, medium: Medium) -> Retryable | None:
    """A message decided before quiet hours and sent inside them waits for their end."""
    until = quiet_until(now, quiet, medium)
    return None if until is None else Retryable("quiet_hours", (until - now).total_seconds())


async def run_notify_sink(settings: Settings, medium: Medium, stop: asyncio.Event) -> LoopCounts:
    """The medium's sink until `stop` is set (settings checked by the command first)."""
    import aiohttp
    import asyncpg

    from ..notify.notifier import build_notifier

    name = NAMES[medium]
    clock: Clock = lambda: datetime.now(UTC)  # noqa: E731 - one clock for the sink's parts
    pool = await asyncpg.create_pool(settings.postgres_dsn, min_size=1, max_size=2)
    try:
        async with aiohttp.ClientSession() as session:
            notifier = build_notifier(settings, session if medium is Medium.SMS else None)
            quiet = notifier.rules.quiet_hours
            channel: EmailChannel | SmsChannel
            if medium is Medium.EMAIL:
                assert notifier.email is not None
                channel = EmailChannel(notifier.email, quiet, clock)
            else:
                assert notifier.sms is not None
                channel = SmsChannel(notifier.sms, quiet, clock)
            composer = Composer(
                medium,
                notifier.rules,
                notifier.templates,
                notifier.sender,
                settings.notify_webhook_medium,
            )
            async with opened_deliverer(
                settings, name, channel, SinkMetrics(), stop=stop
            ) as deliverer:
                log.info("%s sink: %s mode", name, deliverer.mode)
                build = builder(
                    composer, store_contacts(pool), stop, poll_s=settings.sink_store_poll_s,
                    clock=clock,
                )  # fmt: skip
                return await run_sink(settings, deliverer, [ORDERS_STATUS], build, stop)
    finally:
        await pool.close()
