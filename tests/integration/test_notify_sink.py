"""The e-mail sink's channel on the shared delivery mechanism, with a real SMTP server
(aiosmtpd) and PostgreSQL's delivery log: a message that may have gone when the sink died is
sent again at the next start byte for byte, Message-ID included (SMTP cannot be asked); a
message inside quiet hours is logged at once and sent no earlier than the window's end; one
whose customer was erased meanwhile is not sent again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from orderstream.agents.notify.render import load_templates
from orderstream.agents.notify.smtp import SmtpSender, SmtpSettings
from orderstream.agents.sinks.delivery import Deliverer
from orderstream.agents.sinks.letters import KafkaLetters
from orderstream.agents.sinks.notify_sink import Composer, EmailChannel
from orderstream.agents.sinks.ports import Channel, RetryPolicy
from orderstream.benchmarks.channels.smtp_sink import SmtpSink
from orderstream.state import delivery_log
from orderstream.streams.delivery import Effect, EntryState
from orderstream.streams.notifications import Medium, NotificationRules, QuietHours, notice_for
from orderstream.streams.notify_plan import CustomerContact
from orderstream.streams.order_shipments import ShipmentStatus
from orderstream.streams.status import OrderStatus
from tests.builders import notify_event, parcel
from tests.integration.sink_channel import HangAfterSend, deliverer_for, scratch_pool, sink_letters

pytestmark = pytest.mark.integration

FAST = RetryPolicy(timeout_s=2.0, initial_s=0.05, max_s=0.2, retry_after_max_s=2.0)
SANNE = CustomerContact(email="sanne@example.nl", name="Sanne", country="NL", order_name="#1001")
SHIPPED = notify_event(
    OrderStatus.SHIPPED,
    OrderStatus.PACKED,
    shipments=[parcel("shopify:1001/1", ShipmentStatus.SHIPPED, tracking_number="3SABC123")],
)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
async def pool(postgres_dsn: str) -> AsyncIterator[Any]:
    async with scratch_pool(postgres_dsn, "notifysink") as connections:
        yield connections


@pytest.fixture
async def letters(kafka_bootstrap: str) -> AsyncIterator[KafkaLetters]:
    async with sink_letters(kafka_bootstrap, "email") as opened:
        yield opened


def composer(rules: NotificationRules) -> Composer:
    return Composer(Medium.EMAIL, rules, load_templates("Fietsen"), "Fietsen <orders@shop.nl>")


def email_effect(rules: NotificationRules, now: datetime) -> Effect:
    notice = notice_for(SHIPPED, rules)
    assert notice is not None
    return composer(rules).effect(notice, SANNE, now)


def channel_of(smtp: SmtpSink, quiet: QuietHours | None = None) -> EmailChannel:
    sender = SmtpSender(SmtpSettings("127.0.0.1", smtp.port, timeout_s=2.0))
    return EmailChannel(sender, quiet, lambda: datetime.now(UTC))


def deliverer(pool: Any, channel: Channel, letters: KafkaLetters) -> Deliverer:
    return deliverer_for("email", pool, channel, letters, retry=FAST)


async def test_a_pending_email_is_sent_again_at_start_byte_for_byte(
    pool: Any, letters: KafkaLetters, tmp_path: Path
) -> None:
    effect = email_effect(NotificationRules(), datetime.now(UTC))
    async with SmtpSink(directory=tmp_path) as smtp:
        dying = HangAfterSend(channel_of(smtp))
        task = asyncio.create_task(deliverer(pool, dying, letters).deliver(effect))
        await asyncio.wait_for(dying.sent.wait(), 5)
        task.cancel()
        entry = await delivery_log.get(pool, "email", effect.event_id)
        assert entry is not None and entry.state is EntryState.PENDING
        assert await deliverer(pool, channel_of(smtp), letters).start() == 1
    first, second = sorted(tmp_path.glob("*.eml"))
    assert first.read_bytes() == second.read_bytes() == effect.request
    ids = {r.message["Message-ID"] for r in smtp.received}
    assert len(ids) == 1  # the receiving side can drop the second as the same message
    entry = await delivery_log.get(pool, "email", effect.event_id)
    assert entry is not None and entry.state is EntryState.DONE and entry.attempts == 2


async def test_a_pending_email_of_a_customer_erased_meanwhile_is_withheld_at_start(
    pool: Any, letters: KafkaLetters
) -> None:
    effect = email_effect(NotificationRules(), datetime.now(UTC))
    async with SmtpSink() as smtp:
        dying = HangAfterSend(channel_of(smtp))
        task = asyncio.create_task(deliverer(pool, dying, letters).deliver(effect))
        await asyncio.wait_for(dying.sent.wait(), 5)
        task.cancel()
        assert await delivery_log.erase_requests(pool, [effect.oms_order_id]) == 1
        assert await deliverer(pool, channel_of(smtp), letters).start() == 1
    assert len(smtp.received) == 1  # the first attempt only: nothing left to send again
    entry = await delivery_log.get(pool, "email", effect.event_id)
    assert entry is not None and entry.state is EntryState.WITHHELD and not entry.request


async def test_a_message_inside_quiet_hours_is_logged_at_once_and_sent_at_the_windows_end(
    pool: Any, letters: KafkaLetters
) -> None:
    now = datetime.now(UTC)
    local = now.astimezone(AMSTERDAM)
    start = (local - timedelta(minutes=1)).time().replace(tzinfo=None)
    end = (local + timedelta(seconds=1.5)).time().replace(tzinfo=None)
    quiet = QuietHours(start, end, "Europe/Amsterdam", frozenset({Medium.EMAIL}))
    effect = email_effect(NotificationRules(quiet_hours=quiet), now)
    ends = datetime.combine(local.date(), end, tzinfo=AMSTERDAM)
    if end < start:  # the window crossed midnight: it ends tomorrow
        ends += timedelta(days=1)
    assert effect.not_before == ends
    assert "not before" in effect.summary
    async with SmtpSink() as smtp:
        task = asyncio.create_task(
            deliverer(pool, channel_of(smtp, quiet), letters).deliver(effect)
        )
        await asyncio.sleep(0.5)
        entry = await delivery_log.get(pool, "email", effect.event_id)
        assert entry is not None and entry.state is EntryState.PENDING
        assert entry.not_before == ends and smtp.received == []
        assert await asyncio.wait_for(task, 5) is EntryState.DONE
        sent_at = datetime.now(UTC)
    assert len(smtp.received) == 1
    assert sent_at >= ends


def test_a_customer_who_opted_out_of_a_kind_gets_an_entry_and_no_contact_read() -> None:
    rules = NotificationRules(
        email_kinds=frozenset(), sms_kinds=frozenset(NotificationRules().sms_kinds)
    )
    notice = notice_for(SHIPPED, rules)
    assert notice is not None
    made = composer(rules).effect(notice, None, datetime.now(UTC))
    assert made.withheld and made.request == b""
    assert (
        made.summary == "order_shipped for shopify:1001: no message, order_shipped is off for email"
    )
