"""The SMS webhook against a real aiohttp server on 127.0.0.1 that checks each request's
signature as a provider would (HMAC-SHA256 over timestamp, `.`, body) and refuses a bad one."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from orderstream.agents.notify.notifier import Notifier, build_notifier
from orderstream.agents.settings import load_settings
from orderstream.benchmarks.localrun import free_port
from orderstream.codecs.channel_outcomes import Delivered, Rejected, Retryable
from orderstream.streams.notify_plan import CustomerContact
from orderstream.streams.order_shipments import ShipmentStatus
from orderstream.streams.status import OrderStatus
from tests.builders import notify_event, parcel

pytestmark = pytest.mark.integration

SECRET = "a shared secret of the provider"
NOW = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
SANNE = CustomerContact(phone="06 1234 5678", name="Sanne", country="NL", order_name="#1001")
SHIPPED = notify_event(
    OrderStatus.SHIPPED,
    OrderStatus.PACKED,
    shipments=[
        parcel(
            "shopify:1001/1",
            ShipmentStatus.SHIPPED,
            tracking_number="3SABC123",
            tracking_url="https://track.example/3SABC123",
        )
    ],
)


@dataclass
class Provider:
    """A provider's webhook: checks the signature and the timestamp, then answers `answers`
    in turn (status, headers), 202 with an id once they run out."""

    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        stamp = request.headers.get("X-Orderstream-Timestamp", "")
        expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256)
        given = request.headers.get("X-Orderstream-Signature", "")
        if not hmac.compare_digest(given, "sha256=" + expected.hexdigest()):
            return web.Response(status=401, text="bad signature")
        if abs(int(stamp) - NOW.timestamp()) > 300:
            return web.Response(status=401, text="stale")
        if self.answers:
            status, headers = self.answers.pop(0)
            return web.Response(status=status, headers=headers)
        self.accepted.append(json.loads(body))
        self.keys.append(request.headers["Idempotency-Key"])
        return web.json_response({"id": f"msg-{len(self.accepted)}"}, status=202)


@pytest.fixture
async def provider() -> AsyncIterator[tuple[Provider, str]]:
    served = Provider()
    app = web.Application()
    app.router.add_post("/sms", served.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield served, f"http://127.0.0.1:{port}/sms"
    finally:
        await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


def notifier(url: str, session: aiohttp.ClientSession, secret: str = SECRET) -> Notifier:
    settings = load_settings(
        notify_webhook_url=url, notify_webhook_secret=secret, notify_shop_name="Fietsen"
    )
    return build_notifier(settings, session)


async def send_sms(chosen: Notifier) -> object:
    (outgoing,) = [o for o in chosen.messages(SHIPPED, SANNE, NOW) if o.dispatch.medium == "sms"]
    return await chosen.send(outgoing, SANNE, NOW)


async def test_a_signed_message_is_accepted_with_its_key_and_the_providers_id(
    provider: tuple[Provider, str], session: aiohttp.ClientSession
) -> None:
    served, url = provider
    outcome = await send_sms(notifier(url, session))
    assert outcome == Delivered(reference="msg-1")
    (body,) = served.accepted
    assert body["to"] == "+31612345678"
    assert (body["kind"], body["medium"], body["language"]) == ("order_shipped", "sms", "nl")
    assert "#1001" in body["text"] and "https://track.example/3SABC123" in body["text"]
    assert served.keys == ["shopify:1001:2/order_shipped/sms"]


async def test_a_request_signed_with_another_secret_is_refused(
    provider: tuple[Provider, str], session: aiohttp.ClientSession
) -> None:
    served, url = provider
    outcome = await send_sms(notifier(url, session, secret="not the providers secret"))
    assert outcome == Rejected("webhook http 401")
    assert served.accepted == []


async def test_busy_and_failing_providers_are_retryable_honouring_retry_after(
    provider: tuple[Provider, str], session: aiohttp.ClientSession
) -> None:
    served, url = provider
    later = "Thu, 03 Dec 2026 11:02:00 GMT"
    served.answers = [(429, {"Retry-After": "7"}), (503, {"Retry-After": later}), (502, {})]
    served.answers.append((400, {}))
    chosen = notifier(url, session)
    assert await send_sms(chosen) == Retryable("webhook http 429", 7.0)
    assert await send_sms(chosen) == Retryable("webhook http 503", 120.0)
    assert await send_sms(chosen) == Retryable("webhook http 502")
    assert await send_sms(chosen) == Rejected("webhook http 400")
    assert isinstance(await send_sms(chosen), Delivered)


async def test_no_provider_listening_is_retryable(session: aiohttp.ClientSession) -> None:
    outcome = await send_sms(notifier(f"http://127.0.0.1:{free_port()}/sms", session))
    assert isinstance(outcome, Retryable)
    assert outcome.reason.startswith("webhook ")
    assert "1234" not in outcome.reason
