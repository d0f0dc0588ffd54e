"""Our carriers as each sales channel names them, from YAML or JSON, with errors naming the line.

    version: 1
    carriers:
      postnl:
        name: PostNL
        shopify: {company: PostNL}
        bol: {transporter_code: TNT}
        amazon: {carrier_code: Other, carrier_name: PostNL}

A carrier a channel does not know (or that has no entry for it) takes that channel's
documented "other" form, always with the parcel's own tracking URL: Shopify a free-text
`company` (its name) and the `url`, Bol.com the transporter code `OTHER`, Amazon the carrier
code `Other` with the `carrierName`. `load_carrier_codes` never raises on bad input: it
returns the table or `RuleSetInvalid`, one issue per problem
(`carrier_codes.yaml:12: carriers.dhl.amazon.carrier_name: ...`).
"""

from __future__ import annotations

import re

import msgspec

from orderstream.streams.routing_checks import RuleIssue

from .rules import RuleSetInvalid, read_document
from .rules_yaml import Located, render, segments

FORMAT_VERSION = 1
_CARRIER = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_BOL_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")
_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
SHOPIFY_OTHER = ""  # no company from Shopify's list: the carrier's own name, and the URL
BOL_OTHER = "OTHER"
AMAZON_OTHER = "Other"


class _Entry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class ShopifyCarrier(_Entry, frozen=True):
    company: str  # exactly as Shopify's list of tracking companies writes it


class BolCarrier(_Entry, frozen=True):
    transporter_code: str


class AmazonCarrier(_Entry, frozen=True):
    carrier_code: str
    carrier_name: str = ""  # required by Amazon when carrier_code is "Other"
    shipping_method: str = ""


class Carrier(_Entry, frozen=True):
    name: str
    shopify: ShopifyCarrier | None = None
    bol: BolCarrier | None = None
    amazon: AmazonCarrier | None = None


class ShopifyTracking(msgspec.Struct, frozen=True):
    """The `trackingInfo.company` to send; `known` false means the URL is what makes the
    number clickable, so it must be sent."""

    company: str
    known: bool


class CarrierCodes(msgspec.Struct, frozen=True):
    carriers: dict[str, Carrier] = {}

    def shopify(self, carrier: str) -> ShopifyTracking:
        entry = self.carriers.get(carrier)
        if entry is not None and entry.shopify is not None:
            return ShopifyTracking(entry.shopify.company, known=True)
        return ShopifyTracking(self._name(carrier), known=False)

    def bol(self, carrier: str) -> str:
        entry = self.carriers.get(carrier)
        return entry.bol.transporter_code if entry and entry.bol else BOL_OTHER

    def amazon(self, carrier: str) -> AmazonCarrier:
        entry = self.carriers.get(carrier)
        if entry is not None and entry.amazon is not None:
            return entry.amazon
        return AmazonCarrier(carrier_code=AMAZON_OTHER, carrier_name=self._name(carrier))

    def _name(self, carrier: str) -> str:
        entry = self.carriers.get(carrier)
        return entry.name if entry else carrier


def load_carrier_codes(
    document: str | bytes, source: str = "carrier codes"
) -> CarrierCodes | RuleSetInvalid:
    """The table in `document`, or every reason it is refused (`source` names it)."""
    read = read_document(document, source)
    if isinstance(read, RuleSetInvalid):
        return read
    data, located = read
    outcome = located.issues or _convert(data, located)
    if isinstance(outcome, CarrierCodes):
        return outcome
    return RuleSetInvalid(source, outcome)


def _convert(data: object, located: Located) -> CarrierCodes | tuple[RuleIssue, ...]:
    if not isinstance(data, dict):
        return (RuleIssue("", "expected a mapping at the top of the document", 1),)
    if data.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        message = f"unsupported version {data['version']!r}; this build reads {FORMAT_VERSION}"
        return (located.place(RuleIssue("version", message)),)
    issues = [RuleIssue(key, "unknown field") for key in data if key not in ("version", "carriers")]
    carriers = data.get("carriers", {})
    if not isinstance(carriers, dict):
        issues.append(RuleIssue("carriers", "expected a mapping of carrier to its codes"))
        carriers = {}
    table: dict[str, Carrier] = {}
    for name, value in carriers.items():
        where = ("carriers", name)
        if not _CARRIER.match(name):
            message = "a carrier is written in lower case, digits and dashes (as in the rules)"
            issues.append(RuleIssue(render(where), message))
            continue
        try:
            entry = msgspec.convert(value, Carrier)
        except msgspec.ValidationError as error:
            issues.append(_structural(str(error), where))
            continue
        issues.extend(_check(entry, where))
        table[name] = entry
    if issues:
        return tuple(located.place(issue) for issue in issues)
    return CarrierCodes(table)


def _structural(error: str, where: tuple[str, ...]) -> RuleIssue:
    match = _AT.match(error)
    assert match is not None  # the location part is optional
    path = (*where, *segments(match["path"] or ""))
    message = match["message"].replace("`", "")
    message = message[:1].lower() + message[1:]
    unknown = re.match(r"^object contains unknown field (\S+)$", message)
    if unknown:
        return RuleIssue(render((*path, unknown[1])), "unknown field")
    missing = re.match(r"^object missing required field (\S+)$", message)
    if missing:
        return RuleIssue(render((*path, missing[1])), "missing required field")
    return RuleIssue(render(path), message)


def _check(entry: Carrier, where: tuple[str, ...]) -> list[RuleIssue]:
    issues = []
    if not entry.name.strip():
        issues.append(RuleIssue(render((*where, "name")), "a carrier needs its name"))
    if entry.shopify is not None and not entry.shopify.company.strip():
        message = "leave shopify out for the free-text form; an empty company is not one"
        issues.append(RuleIssue(render((*where, "shopify", "company")), message))
    if entry.bol is not None and not _BOL_CODE.match(entry.bol.transporter_code):
        code = entry.bol.transporter_code
        message = f"expected a Bol.com transporter code such as TNT, got {code!r}"
        issues.append(RuleIssue(render((*where, "bol", "transporter_code")), message))
    amazon = entry.amazon
    if amazon is not None and amazon.carrier_code == AMAZON_OTHER and not amazon.carrier_name:
        message = 'Amazon requires carrier_name when carrier_code is "Other"'
        issues.append(RuleIssue(render((*where, "amazon", "carrier_name")), message))
    if amazon is not None and not amazon.carrier_code.strip():
        issues.append(RuleIssue(render((*where, "amazon", "carrier_code")), "empty code"))
    return issues
