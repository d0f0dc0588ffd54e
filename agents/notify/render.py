"""A dispatch as the customer reads it: subject, text, HTML and SMS text in the dispatch's language.

The templates (`templates/*.html`, `*.txt`) and each language's phrases
(`templates/phrases/<language>.yaml`) are loaded and checked once, by `load_templates`,
which the composition root calls. HTML is autoescaped, so an order name or a customer name
is shown as written, never read as markup; a tracking link is a link only when it is an
http(s) URL. Money and dates are formatted for the customer's locale (babel), money from its
exact minor units.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from orderstream.streams.notifications import MessageKind, TrackedParcel
from orderstream.streams.notify_plan import LANGUAGES, CustomerContact, Dispatch

TEMPLATES = Path(__file__).parent / "templates"

CARRIER_NAMES: Mapping[str, str] = {
    "postnl": "PostNL",
    "dhl": "DHL",
    "dhl-express": "DHL Express",
    "dpd": "DPD",
    "ups": "UPS",
    "gls": "GLS",
    "bpost": "bpost",
    "fedex": "FedEx",
    "colissimo": "Colissimo",
    "chronopost": "Chronopost",
    "hermes": "Hermes",
    "city-courier": "City Courier",
}
"""How a carrier's code reads in a message; an unknown code is shown as it is."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message's texts: `subject`, `text` and `html` for e-mail, `sms` for the webhook."""

    language: str
    subject: str
    text: str
    html: str
    sms: str


@dataclass(frozen=True, slots=True)
class _Parcel:
    carrier: str
    tracking_number: str
    url: str


class Templates:
    """Every kind's templates and every language's phrases, compiled once."""

    def __init__(self, root: Path = TEMPLATES, shop: str = "orderstream") -> None:
        environment = Environment(
            loader=FileSystemLoader(root),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        self.shop = shop
        self._html = {k: environment.get_template(f"{k}.html") for k in MessageKind}
        self._text = {k: environment.get_template(f"{k}.txt") for k in MessageKind}
        self.phrases = {lang: _phrases(root / "phrases" / f"{lang}.yaml") for lang in LANGUAGES}
        _same_keys(self.phrases)

    def render(self, dispatch: Dispatch, contact: CustomerContact) -> Rendered:
        """The texts of `dispatch` for `contact` (its name and order name, shown escaped)."""
        notice, language = dispatch.notice, dispatch.language
        parcels = [_parcel(p) for p in notice.parcels]
        values = self._values(dispatch, contact, parcels)
        common = _filled(self.phrases[language]["common"], values)
        if not contact.name:
            common["greeting"] = common["greeting_anonymous"]
        kind = _filled(self.phrases[language][notice.kind], values)
        if values["date"] and "body_dated" in kind:
            kind["body"], kind["sms"] = kind["body_dated"], kind["sms_dated"]
        if "sms_untracked" in kind and not values["links"]:
            kind["sms"] = kind["sms_untracked"]
        if "total" in kind and not values["total"]:
            kind["total"] = ""
        context = {
            "language": language,
            "shop": self.shop,
            "t": common,
            "m": kind,
            "parcels": parcels,
        }
        return Rendered(
            language=language,
            subject=kind["subject"],
            text=self._text[notice.kind].render(context),
            html=self._html[notice.kind].render(context),
            sms=kind["sms"],
        )

    def _values(
        self, dispatch: Dispatch, contact: CustomerContact, parcels: list[_Parcel]
    ) -> dict[str, str]:
        """What the phrases' placeholders stand for, formatted for the customer's locale."""
        notice = dispatch.notice
        locale = _locale(dispatch.language, contact.country)
        total = contact.total
        promised = notice.promised_date
        return {
            "shop": self.shop,
            "name": contact.name,
            "order": contact.order_name or notice.oms_order_id,
            "date": format_date(promised, "long", locale=locale) if promised else "",
            "total": format_currency(total.to_decimal(), total.currency, locale=locale)
            if total is not None
            else "",
            "links": " ".join(p.url for p in parcels if p.url),
        }


def load_templates(shop: str) -> Templates:
    """The package's templates, for the composition root (once per process)."""
    return Templates(TEMPLATES, shop)


def _phrases(path: Path) -> dict[str, dict[str, str]]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ValueError(f"{path.name}: not a mapping of phrase groups")
    return {
        str(group): {str(k): str(v) for k, v in items.items()} for group, items in loaded.items()
    }


def _same_keys(phrases: Mapping[str, Mapping[str, Mapping[str, str]]]) -> None:
    """Every language has every phrase English has (a missing one would fail a send)."""
    reference = {(g, k) for g, items in phrases["en"].items() for k in items}
    for language, groups in phrases.items():
        keys = {(g, k) for g, items in groups.items() for k in items}
        if keys != reference:
            raise ValueError(f"phrases/{language}.yaml: keys differ from en.yaml")


def _filled(phrases: Mapping[str, str], values: Mapping[str, str]) -> dict[str, str]:
    return {key: text.format_map(values) for key, text in phrases.items()}


def _locale(language: str, country: str) -> Locale:
    try:
        return Locale.parse(f"{language}_{country.upper()}")
    except (UnknownLocaleError, ValueError):
        return Locale.parse(language)


def _parcel(parcel: TrackedParcel) -> _Parcel:
    carrier = parcel.carrier.strip()
    name = CARRIER_NAMES.get(carrier.casefold(), carrier)
    url = parcel.tracking_url.strip()
    try:
        scheme = urlsplit(url).scheme
    except ValueError:
        scheme = ""
    if scheme not in ("https", "http"):
        url = ""  # a `javascript:` or unparsable link is shown as nothing, never linked
    return _Parcel(name, parcel.tracking_number.strip(), url)
