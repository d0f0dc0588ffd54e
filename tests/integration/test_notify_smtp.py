"""Customer e-mail through a real SMTP server (aiosmtpd on 127.0.0.1): one order's status events
give one message per customer-relevant event, in the customer's language, multipart, with the
Message-ID its key makes; refusals and an absent server come back as typed outcomes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from orderstream.agents.notify.notifier import Notifier, build_notifier
from orderstream.agents.notify.smtp import KIND_HEADER
from orderstream.agents.settings import load_settings
from orderstream.benchmarks.channels.smtp_sink import SmtpSink
from orderstream.benchmarks.localrun import free_port
from orderstream.codecs.channel_outcomes import Delivered, Rejected, Retryable
from orderstream.streams.money import Money
from orderstream.streams.notify_plan import CustomerContact, message_id
from orderstream.streams.order_shipments import ShipmentStatus
from orderstream.streams.status import OrderStatus
from tests.builders import notify_event, parcel

pytestmark = pytest.mark.integration

_O = OrderStatus
_P = ShipmentStatus
NOW = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
SANNE = CustomerContact(
    email="sanne@example.nl",
    name="Sanne de Vries",
    country="NL",
    order_name="#1001",
    total=Money(4999, "EUR"),
)
TRACKED = parcel(
    "shopify:1001/1",
    _P.SHIPPED,
    tracking_number="3SABC123",
    tracking_url="https://track.example/3SABC123",
)
LIFE = [
    notify_event(_O.PLACED, None, seq=1),
    notify_event(_O.ALLOCATED, _O.PLACED, shipments=[parcel("shopify:1001/1", _P.REQUESTED)]),
    notify_event(_O.PICKED, _O.ALLOCATED, shipments=[parcel("shopify:1001/1", _P.PICKED)], seq=3),
    notify_event(_O.PACKED, _O.PICKED, shipments=[parcel("shopify:1001/1", _P.PACKED)], seq=4),
    notify_event(_O.SHIPPED, _O.PACKED, shipments=[TRACKED], seq=5),
    notify_event(
        _O.IN_TRANSIT, _O.SHIPPED, shipments=[parcel("shopify:1001/1", _P.IN_TRANSIT)], seq=6
    ),
    notify_event(
        _O.DELIVERED, _O.IN_TRANSIT, shipments=[parcel("shopify:1001/1", _P.DELIVERED)], seq=7
    ),
]
"""One Shopify order from placed to delivered, every internal step included."""


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink(refuse={"gone@example.nl"}) as running:
        yield running


def notifier_for(port: int) -> Notifier:
    settings = load_settings(
        notify_smtp_port=port, notify_smtp_from="orders@shop.example", notify_shop_name="Fietsen"
    )
    return build_notifier(settings, session=None)


async def deliver(notifier: Notifier, contact: CustomerContact) -> list[object]:
    outcomes: list[object] = []
    for event in LIFE:
        for outgoing in notifier.messages(event, contact, NOW):
            outcomes.append(await notifier.send(outgoing, contact, NOW))
    return outcomes


async def test_an_orders_life_gives_one_email_per_customer_event_and_none_for_internal_ones(
    sink: SmtpSink,
) -> None:
    notifier = notifier_for(sink.port)
    outcomes = await deliver(notifier, SANNE)
    assert all(isinstance(o, Delivered) for o in outcomes)
    kinds = [r.message[KIND_HEADER] for r in sink.received]
    assert kinds == ["order_confirmed", "order_shipped", "order_delivered"]
    for received in sink.received:
        message = received.message
        assert received.rcpt_tos == ("sanne@example.nl",)
        assert message.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
        assert message["Content-Language"] == "nl"
        assert "bestelling #1001" in message["Subject"]
        assert message["From"] == "Fietsen <orders@shop.example>"
    shipped = sink.received[1].message
    assert shipped["Message-ID"] == message_id("shopify:1001:5/order_shipped/email", "shop.example")
    text = shipped.get_body(("plain",))
    html = shipped.get_body(("html",))
    assert text is not None and html is not None
    assert "Trackingnummer: 3SABC123" in text.get_content()
    assert 'href="https://track.example/3SABC123"' in html.get_content()


async def test_a_redelivered_event_sends_the_same_message_id_again(sink: SmtpSink) -> None:
    notifier = notifier_for(sink.port)
    for _ in range(2):  # the delivery log drops the second; if it is sent, mail clients can
        (outgoing,) = notifier.messages(LIFE[4], SANNE, NOW)
        assert isinstance(await notifier.send(outgoing, SANNE, NOW), Delivered)
    first, second = (r.message["Message-ID"] for r in sink.received)
    assert first == second


async def test_a_refused_mailbox_is_rejected_and_no_server_is_retryable(
    sink: SmtpSink,
) -> None:
    gone = CustomerContact(email="gone@example.nl", country="DE", order_name="#7")
    (outgoing,) = notifier_for(sink.port).messages(LIFE[0], gone, NOW)
    refused = await notifier_for(sink.port).send(outgoing, gone, NOW)
    assert refused == Rejected("smtp recipient_refused 550")
    assert "gone" not in str(refused)
    nobody = await notifier_for(free_port()).send(outgoing, gone, NOW)
    assert isinstance(nobody, Retryable)
    assert "gone" not in nobody.reason
    assert sink.received == []


async def test_quiet_hours_hold_a_message_back_without_sending_it(sink: SmtpSink) -> None:
    settings = load_settings(notify_smtp_port=sink.port, notify_quiet_email=True)
    notifier = build_notifier(settings, session=None)
    night = datetime(2026, 12, 3, 23, 0, tzinfo=UTC)  # midnight in Amsterdam
    (outgoing,) = notifier.messages(LIFE[0], SANNE, night)
    held = await notifier.send(outgoing, SANNE, night)
    assert isinstance(held, Retryable) and held.reason == "quiet_hours"
    assert held.retry_after is not None and held.retry_after == 8 * 3600
    assert sink.received == []
    assert isinstance(
        await notifier.send(outgoing, SANNE, night + timedelta(seconds=held.retry_after)), Delivered
    )
    assert len(sink.received) == 1
    # decided in the evening, sent once the window has begun: it waits all the same
    (evening,) = notifier.messages(LIFE[4], SANNE, datetime(2026, 12, 3, 19, 59, tzinfo=UTC))
    late = await notifier.send(evening, SANNE, night)
    assert isinstance(late, Retryable) and late.retry_after == held.retry_after
