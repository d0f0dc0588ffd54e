"""Customer messages as rendered: every kind in nl, de, fr and en, as text and HTML, escaped,
with the locale's money and dates, and built into one multipart e-mail."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from orderstream.agents.notify.render import TEMPLATES, Templates, load_templates
from orderstream.agents.notify.smtp import KIND_HEADER, email_for
from orderstream.agents.settings import load_settings
from orderstream.streams.money import Money
from orderstream.streams.notifications import Medium, MessageKind, Notice, TrackedParcel
from orderstream.streams.notify_plan import LANGUAGES, CustomerContact, Dispatch, message_id

NOW = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
ORDER_WORD = {"nl": "bestelling", "de": "Bestellung", "fr": "commande", "en": "order"}
COUNTRY = {"nl": "NL", "de": "DE", "fr": "FR", "en": "GB"}
PARCEL = TrackedParcel("shopify:1001/1", "postnl", "3SABC123", "https://track.example/3SABC123")


@pytest.fixture(scope="module")
def templates() -> Templates:
    return load_templates("Fietsenwinkel")


def dispatch(kind: MessageKind, language: str, **notice: object) -> Dispatch:
    made = Notice(
        kind=kind,
        event_id="shopify:1001:4",
        oms_order_id="shopify:1001",
        channel="shopify",
        occurred_at=NOW,
        **notice,  # type: ignore[arg-type]
    )
    return Dispatch(made, Medium.EMAIL, language, NOW)


def contact(language: str, **changes: object) -> CustomerContact:
    values: dict[str, object] = {
        "email": "sanne@example.nl",
        "phone": "+31612345678",
        "name": "Sanne de Vries",
        "country": COUNTRY[language],
        "order_name": "#1001",
        "total": Money(123450, "EUR"),
    }
    return CustomerContact(**{**values, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_kind_renders_in_every_language_as_text_html_and_sms(
    templates: Templates, kind: MessageKind, language: str
) -> None:
    parcels = (PARCEL,) if kind is MessageKind.SHIPPED else ()
    rendered = templates.render(dispatch(kind, language, parcels=parcels), contact(language))
    word = ORDER_WORD[language]
    assert rendered.language == language
    assert word in rendered.subject.lower() or word in rendered.subject
    assert "#1001" in rendered.subject and "#1001" in rendered.text and "#1001" in rendered.sms
    assert "Sanne de Vries" in rendered.text and "Fietsenwinkel" in rendered.text
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{language}">' in rendered.html
    for text in (rendered.text, rendered.html, rendered.sms):
        assert "{" not in text and "None" not in text
    if kind is MessageKind.SHIPPED:
        assert "PostNL" in rendered.text and "3SABC123" in rendered.text
        assert '<a href="https://track.example/3SABC123"' in rendered.html
        assert "https://track.example/3SABC123" in rendered.sms


def test_names_from_the_order_are_escaped_in_html_and_kept_in_text(templates: Templates) -> None:
    sly = contact("en", name="<b>Sanne</b> & co", order_name='#1001"><script>x()</script>')
    rendered = templates.render(dispatch(MessageKind.CONFIRMED, "en"), sly)
    assert "<script>" not in rendered.html and "<b>Sanne" not in rendered.html
    assert "&lt;script&gt;" in rendered.html and "&amp; co" in rendered.html
    assert '#1001"><script>x()</script>' in rendered.text  # plain text: shown as written
    assert "<b>Sanne</b> & co" in rendered.text


def test_a_tracking_link_that_is_not_http_is_never_a_link(templates: Templates) -> None:
    bad = TrackedParcel("s/1", "", "123", 'javascript:alert("x")')
    rendered = templates.render(dispatch(MessageKind.SHIPPED, "nl", parcels=(bad,)), contact("nl"))
    assert "javascript" not in rendered.html and "javascript" not in rendered.text
    assert "<a " not in rendered.html
    assert "Vervoerder" not in rendered.text  # no carrier named: no carrier line
    assert "Trackingnummer: 123" in rendered.text
    assert "javascript" not in rendered.sms and "Volg" not in rendered.sms


@pytest.mark.parametrize(
    ("language", "total", "day"),
    [
        ("nl", "1.234,50", "9 december 2026"),
        ("de", "1.234,50", "9. Dezember 2026"),
        ("fr", "234,50", "9 décembre 2026"),
        ("en", "€1,234.50", "9 December 2026"),
    ],
)
def test_money_and_dates_follow_the_customers_locale(
    templates: Templates, language: str, total: str, day: str
) -> None:
    confirmed = templates.render(dispatch(MessageKind.CONFIRMED, language), contact(language))
    assert total in confirmed.text and total in confirmed.html
    delayed = templates.render(
        dispatch(MessageKind.DELAYED, language, promised_date=date(2026, 12, 9)),
        contact(language),
    )
    assert day in delayed.text and day in delayed.sms


def test_a_customer_without_a_name_is_greeted_without_one(templates: Templates) -> None:
    rendered = templates.render(dispatch(MessageKind.DELIVERED, "de"), contact("de", name=""))
    assert rendered.text.startswith("Hallo,\n")


def test_a_language_missing_a_phrase_stops_the_templates_from_loading(tmp_path: Path) -> None:
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATES, root)
    german = root / "phrases" / "de.yaml"
    german.write_text(german.read_text().replace("  sms_untracked:", "  sms_without:"))
    with pytest.raises(ValueError, match=r"de\.yaml"):
        Templates(root)


def test_the_email_is_multipart_alternative_with_the_keys_message_id(templates: Templates) -> None:
    sent = dispatch(MessageKind.SHIPPED, "fr", parcels=(PARCEL,))
    reader = contact("fr", name="Sanne\r\nBcc: x@example.com")  # cannot add a header
    message = email_for(
        sent, templates.render(sent, reader), reader, sender="Shop <orders@shop.example>", now=NOW
    )
    assert message.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert message["Message-ID"] == message_id(sent.key, "shop.example")
    assert message["Content-Language"] == "fr"
    assert message[KIND_HEADER] == "order_shipped"
    assert message["Bcc"] is None
    assert "commande" in message["Subject"]


def test_the_settings_give_the_rules_and_a_webhook_needs_its_secret() -> None:
    settings = load_settings()
    rules = settings.notification_rules(sms_sender=True)
    assert rules.silent_channels == {"bol", "amazon"}
    assert rules.email_kinds == set(MessageKind)
    assert rules.sms_kinds == {MessageKind.SHIPPED}
    assert settings.notification_rules(sms_sender=False).sms_kinds == frozenset()
    assert rules.quiet_hours is not None and rules.quiet_hours.media == {Medium.SMS}
    opted = load_settings(notify_email_kinds="order_shipped, order_delivered")
    assert opted.notification_rules(sms_sender=False).email_kinds == {
        MessageKind.SHIPPED,
        MessageKind.DELIVERED,
    }
    with pytest.raises(ValueError, match="order_sent"):
        load_settings(notify_sms_kinds="order_sent")
    with pytest.raises(ValueError, match="time zone"):
        load_settings(notify_quiet_time_zone="Mars/Olympus")
    with pytest.raises(ValueError, match="ORDERSTREAM_NOTIFY_WEBHOOK_SECRET"):
        load_settings(notify_webhook_url="http://127.0.0.1:1/sms").webhook_secret()
    secret = load_settings(notify_webhook_url="http://x", notify_webhook_secret="s" * 16)
    assert secret.webhook_secret() == b"s" * 16
