"""How and when a notice reaches its customer: by which media, in which language, not before when.

- A medium sends a notice only when its kind is on for that medium (the opt-out is a kind
  left out) and the store holds the customer's address for it; an erased contact gets
  nothing.
- Quiet hours: a message by a medium the window covers, due inside the window, waits until the
  window ends (local time of the window's zone; `now` comes in, no clock is read here).
- The language is the customer's country's (nl, de, fr, en), else the rules' default.
- Each message's key is the notice's key and its medium, and the e-mail's Message-ID is made
  from that key alone: a re-sent message carries the same id as the first.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from .money import Money
from .notifications import Medium, Notice, NotificationRules, QuietHours

LANGUAGES = ("nl", "de", "fr", "en")
"""The languages the templates are written in."""

COUNTRY_LANGUAGES: dict[str, str] = {
    "NL": "nl",
    "BE": "nl",  # Flanders holds most of Belgium's customers; Wallonia reads the French one
    "SR": "nl",
    "DE": "de",
    "AT": "de",
    "CH": "de",
    "LI": "de",
    "FR": "fr",
    "LU": "fr",
    "MC": "fr",
}
"""The language a customer shipping to a country reads, where it is not the default."""


class CustomerContact(msgspec.Struct, frozen=True):
    """What the store holds to reach a customer about one order (personal data: never logged,
    never on a topic)."""

    email: str = ""
    phone: str = ""
    name: str = ""
    country: str = ""  # of the shipping address, ISO 3166-1 alpha-2
    order_name: str = ""  # the channel's name for the order, as the customer knows it
    total: Money | None = None
    erased: bool = False


class Dispatch(msgspec.Struct, frozen=True):
    """One message to send: the notice by one medium, not before `not_before`."""

    notice: Notice
    medium: Medium
    language: str
    not_before: datetime

    @property
    def key(self) -> str:
        """`{event_id}/{kind}/{medium}`: the same for every attempt at this message."""
        return f"{self.notice.key}/{self.medium}"


def dispatches(
    notice: Notice, contact: CustomerContact, rules: NotificationRules, now: datetime
) -> tuple[Dispatch, ...]:
    """The messages `notice` gives for `contact` at `now` (see the module's rule)."""
    if contact.erased:
        return ()
    wanted = (
        (Medium.EMAIL, rules.email_kinds, bool(contact.email)),
        (Medium.SMS, rules.sms_kinds, bool(e164(contact.phone, contact.country))),
    )
    language = language_for(contact.country, rules.default_language)
    return tuple(
        Dispatch(notice, medium, language, quiet_until(now, rules.quiet_hours, medium) or now)
        for medium, kinds, reachable in wanted
        if reachable and notice.kind in kinds
    )


def withheld_because(
    notice: Notice, contact: CustomerContact, rules: NotificationRules, medium: Medium
) -> str:
    """Why `notice` gives `contact` no message by `medium`, without personal data ("" when
    it gives one): the kind is switched off for the medium, the contact was erased, or the
    store holds no address for the medium."""
    if notice.kind not in (rules.email_kinds if medium is Medium.EMAIL else rules.sms_kinds):
        return f"{notice.kind} is off for {medium}"
    if contact.erased:
        return "contact erased"
    if any(d.medium is medium for d in dispatches(notice, contact, rules, notice.occurred_at)):
        return ""
    return f"no {medium} address"


def quiet_until(now: datetime, quiet: QuietHours | None, medium: Medium) -> datetime | None:
    """When the quiet window around `now` ends, or None when `now` is outside it (or the
    window does not cover `medium`)."""
    if quiet is None or medium not in quiet.media or quiet.start == quiet.end:
        return None
    zone = ZoneInfo(quiet.time_zone)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        inside = quiet.start <= clock < quiet.end
    else:
        inside = clock >= quiet.start or clock < quiet.end
    if not inside:
        return None
    day = local.date() if clock < quiet.end else local.date() + timedelta(days=1)
    return datetime.combine(day, quiet.end, tzinfo=zone).astimezone(now.tzinfo)


def language_for(country: str, default: str = "en") -> str:
    """The template language for a customer shipping to `country`."""
    language = COUNTRY_LANGUAGES.get(country.strip().upper(), default)
    return language if language in LANGUAGES else "en"


def message_id(key: str, domain: str) -> str:
    """An RFC 5322 Message-ID made from the message key alone (the key's own characters,
    such as `:`, are not allowed there; a digest of it is)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


CALLING_CODES: dict[str, str] = {
    "NL": "31",
    "BE": "32",
    "DE": "49",
    "FR": "33",
    "AT": "43",
    "CH": "41",
    "LU": "352",
    "GB": "44",
    "IE": "353",
    "ES": "34",
    "IT": "39",
    "DK": "45",
    "SE": "46",
    "PL": "48",
}
"""Countries whose national numbers (trunk prefix 0) can be made international here."""

_NOT_DIGITS = re.compile(r"[\s().\-/]")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def e164(phone: str, country: str) -> str:
    """`phone` in E.164 (`+31612345678`), or "" when it cannot be told for sure. A trunk
    prefix written as `(0)` after the country code (`+49 (0)30 ...`) is dropped."""
    number = _NOT_DIGITS.sub("", phone.replace("(0)", ""))
    if number.startswith("00"):
        number = "+" + number[2:]
    elif number.startswith("0") and country.upper() in CALLING_CODES:
        number = f"+{CALLING_CODES[country.upper()]}{number[1:]}"
    return number if E164.fullmatch(number) else ""
