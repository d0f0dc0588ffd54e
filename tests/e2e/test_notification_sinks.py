"""The notification sinks as processes (`orderstream sink email`, `orderstream sink sms`) on
the run's broker and a real PostgreSQL store: every status event a customer hears about is
one e-mail, in the customer's language, to a real SMTP server (aiosmtpd) and none for an
internal status, also for an order whose contact the store writes only after its events
arrived; an erased customer's messages are recorded as withheld; shadow mode sends nothing
and logs each whole message; a shipped parcel is one signed SMS at a real webhook on
127.0.0.1, with its Idempotency-Key. (Each sink process waits about 3 s for the embedded
broker to form its group, so the sinks of the second test run side by side.)"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any

import asyncpg
import msgspec
import pytest
from aiohttp import web

from orderstream.agents.api import listening
from orderstream.agents.notify.smtp import KIND_HEADER
from orderstream.agents.sinks.cli import diff_lines
from orderstream.benchmarks.channels.smtp_sink import SmtpSink
from orderstream.benchmarks.localrun import Run, Worker
from orderstream.state.delivery_log import shadowed_since
from orderstream.streams.notify_plan import message_id
from orderstream.streams.order_messages import StatusChanged
from tests.builders import status_events
from tests.e2e.support import produce_status, start_sink_edge, until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SECRET = "a webhook secret of at least 32 characters"
# Order n ships to COUNTRIES[n]; its events: placed, allocated, shipped, delivered.
COUNTRIES = ("NL", "DE", "FR", "GB", "NL")
ERASED = 4  # the customer of order 4 was erased: nothing goes, the log says why
LATE = 3  # the store writes order 3's contact only after its events reached the sink
SUBJECTS = {"NL": "bestelling", "DE": "Bestellung", "FR": "commande", "GB": "order"}
LANGUAGES = {"NL": "nl", "DE": "de", "FR": "fr", "GB": "en"}
CUSTOMER_KINDS = ["order_confirmed", "order_shipped", "order_delivered"]


def events() -> list[StatusChanged]:
    made = [e for n in range(len(COUNTRIES)) for e in status_events(n)]
    return [*made, *status_events(9, channel="bol")]  # bol mails its own customers


async def write_contacts(dsn: str, numbers: range) -> None:
    """The order rows the store writer makes, with the contact the sinks read."""
    conn = await asyncpg.connect(dsn)
    try:
        for number in numbers:
            await conn.execute(
                "INSERT INTO order_details (oms_order_id, channel, channel_order_id,"
                " channel_order_name, placed_at, currency, total_minor, service_level,"
                " ship_country, customer_email, customer_name, customer_phone, erased_at,"
                " version) VALUES ($1, 'shopify', $2, $3, now(), 'EUR', 2495, 'standard', $4,"
                " $5, $6, $7, $8, now())",
                f"shopify:{number}",
                str(7_000_000 + number),
                f"#{1000 + number}",
                COUNTRIES[number],
                None if number == ERASED else f"customer{number}@example.org",
                None if number == ERASED else f"Klant {number}",
                None if number == ERASED else f"+3161234567{number}",
                datetime.now(UTC) if number == ERASED else None,
            )
    finally:
        await conn.close()


def start_sink(run: Run, medium: str, dsn: str, mode: str, **env: str) -> Worker:
    settings = {
        "ORDERSTREAM_SINK_STORE_POLL_S": "0.2",
        "ORDERSTREAM_SINK_RETRY_INITIAL_S": "0.05",
        "ORDERSTREAM_SINK_RETRY_MAX_S": "0.5",
        "ORDERSTREAM_NOTIFY_SMTP_FROM": "orders@fietsen.example",
        "ORDERSTREAM_NOTIFY_SHOP_NAME": "Fietsen",
        **env,
    }
    return start_sink_edge(run, medium, dsn, mode, settings)


async def entries(dsn: str, sink: str) -> dict[str, str]:
    """Event id -> state of the sink's delivery log."""
    conn = await asyncpg.connect(dsn)
    try:
        query = "SELECT event_id, state FROM delivery_log WHERE sink = $1"
        return {row["event_id"]: row["state"] for row in await conn.fetch(query, sink)}
    finally:
        await conn.close()


def provider(received: list[tuple[dict[str, Any], str]]) -> web.Application:
    """An SMS provider's webhook: refuses a request whose signature does not check out,
    keeps each accepted body with its Idempotency-Key, answers 202 with its id."""

    async def accept(request: web.Request) -> web.Response:
        body = await request.read()
        stamp = request.headers.get("X-Orderstream-Timestamp", "")
        expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256)
        given = request.headers.get("X-Orderstream-Signature", "")
        if not hmac.compare_digest(given, "sha256=" + expected.hexdigest()):
            return web.json_response({"error": "bad signature"}, status=401)
        received.append((msgspec.json.decode(body), request.headers["Idempotency-Key"]))
        return web.json_response({"id": f"sms-{len(received)}"}, status=202)

    app = web.Application()
    app.router.add_post("/messages", accept)
    return app


async def test_each_customer_event_is_one_email_in_the_customers_language(
    run: Run, store_dsn: str
) -> None:
    await asyncio.to_thread(run.create_topics)
    await produce_status(run, events())
    await write_contacts(store_dsn, range(LATE))
    await write_contacts(store_dsn, range(LATE + 1, len(COUNTRIES)))
    async with SmtpSink() as smtp:
        sink = start_sink(
            run, "email", store_dsn, "write", ORDERSTREAM_NOTIFY_SMTP_PORT=str(smtp.port)
        )

        async def waiting() -> bool:
            return "waiting for the store" in sink.log.read_text()

        assert await until(waiting, 30, every=0.1), run.logs()
        assert not any(r.rcpt_tos == ("customer3@example.org",) for r in smtp.received)
        await write_contacts(store_dsn, range(LATE, LATE + 1))

        async def all_logged() -> bool:
            return len(await entries(store_dsn, "email")) == 3 * len(COUNTRIES)

        assert await until(all_logged, 30, every=0.1), run.logs()
        logged = await entries(store_dsn, "email")
        await asyncio.to_thread(sink.stop)
    by_order: dict[str, list[Any]] = {}
    for received in smtp.received:
        by_order.setdefault(received.rcpt_tos[0], []).append(received.message)
    assert sorted(by_order) == [f"customer{n}@example.org" for n in range(ERASED)]
    for number in range(ERASED):
        messages = by_order[f"customer{number}@example.org"]
        assert [m[KIND_HEADER] for m in messages] == CUSTOMER_KINDS  # none for "allocated"
        country = COUNTRIES[number]
        assert {m["Content-Language"] for m in messages} == {LANGUAGES[country]}
        assert all(SUBJECTS[country] in m["Subject"] for m in messages)
        shipped = messages[1]
        key = f"shopify:{number}:3/order_shipped/email"
        assert shipped["Message-ID"] == message_id(key, "fietsen.example")
        assert f"3S{number:010d}" in shipped.get_body(("plain",)).get_content()
    assert {s for e, s in logged.items() if e.startswith("shopify:4:")} == {"withheld"}
    assert {s for e, s in logged.items() if not e.startswith("shopify:4:")} == {"done"}
    assert not any(e.startswith("bol:") for e in logged)


async def test_in_shadow_mode_no_email_goes_while_each_shipped_parcel_is_one_signed_sms(
    run: Run, store_dsn: str
) -> None:
    """One deployment, two modes: e-mail in shadow mode logs each whole message and sends
    none; SMS in write mode (`ORDERSTREAM_SINK_MODE_SMS`) sends each shipped parcel once,
    signed, with its Idempotency-Key. Both sinks run side by side on the same events."""
    await asyncio.to_thread(run.create_topics)
    await produce_status(run, events())
    await write_contacts(store_dsn, range(len(COUNTRIES)))
    since = datetime.now(UTC) - timedelta(minutes=1)
    received: list[tuple[dict[str, Any], str]] = []
    async with SmtpSink() as smtp, listening(provider(received), "127.0.0.1", 0) as url:
        modes = {"ORDERSTREAM_SINK_MODE_SMS": "write"}
        email = start_sink(
            run, "email", store_dsn, "shadow", ORDERSTREAM_NOTIFY_SMTP_PORT=str(smtp.port)
        )
        sms = start_sink(
            run,
            "sms",
            store_dsn,
            "shadow",
            ORDERSTREAM_NOTIFY_WEBHOOK_URL=f"{url}/messages",
            ORDERSTREAM_NOTIFY_WEBHOOK_SECRET=SECRET,
            ORDERSTREAM_NOTIFY_QUIET_START="00:00",  # no quiet hours: the test runs any time
            ORDERSTREAM_NOTIFY_QUIET_END="00:00",
            **modes,
        )

        async def all_logged() -> bool:
            counts = [len(await entries(store_dsn, name)) for name in ("email", "sms")]
            return counts == [3 * len(COUNTRIES)] * 2

        assert await until(all_logged, 30, every=0.1), run.logs()
        logged = await entries(store_dsn, "sms")
        await asyncio.gather(asyncio.to_thread(email.stop), asyncio.to_thread(sms.stop))
    assert smtp.received == []
    conn = await asyncpg.connect(store_dsn)
    try:
        shadowed = await shadowed_since(conn, since)
    finally:
        await conn.close()
    assert {e.sink for e in shadowed} == {"email"}
    assert len(shadowed) == 3 * ERASED
    (shipped,) = (e for e in shadowed if e.event_id == "shopify:1:3")
    assert shipped.request is not None
    message = message_from_bytes(shipped.request, policy=policy.default)
    assert message["To"] == "Klant 1 <customer1@example.org>"
    assert message["Content-Language"] == "de"
    assert message["Message-ID"] == message_id("shopify:1:3/order_shipped/email", "fietsen.example")
    assert "customer1" not in shipped.summary  # what `sinks diff` prints without the flag
    assert diff_lines(shadowed)[-1] == f"email: {3 * ERASED} requests shadow mode would have sent"

    keys = sorted(key for _, key in received)
    assert keys == [f"shopify:{n}:3/order_shipped/sms" for n in range(ERASED)]
    assert all(body["message_key"] == key for body, key in received)
    first = next(body for body, key in received if key.startswith("shopify:0:"))
    assert first["to"] == "+31612345670"
    assert first["language"] == "nl"
    assert "3S0000000000" in first["text"]
    done = sorted(e for e, s in logged.items() if s == "done")
    assert done == [f"shopify:{n}:3" for n in range(ERASED)]  # the rest: off for SMS, erased
    assert {s for e, s in logged.items() if e not in done} == {"withheld"}
