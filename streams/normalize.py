"""Normalization rules shared by every channel's normalizer.

Channel normalizers (in `orderstream.codecs`, beside their wire Structs) apply the rules here:
exact money, sane quantities, ISO country codes, line and address construction, totals. Helpers
raise `Refusal` so a normalizer reads as a straight line of mappings; `never_raises` turns it into
the returned `Rejected` value, so a `Refusal` never escapes a decorated normalizer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import ParamSpec, TypeVar

from .model import Address, OrderLine
from .money import CURRENCY_EXPONENTS, Money, add, to_money, zero
from .rejections import Rejected, RejectReason

MAX_LINE_QTY = 100_000
"""No single line of a real order asks for more units; larger values are input errors."""

MAX_STOCK_QTY = 1_000_000_000
"""Upper bound for a stock count or adjustment at one location."""

MAX_TEXT = 1_000
"""Longest free-text field kept (titles, names, address lines); longer input is refused."""

# ISO 3166-1 alpha-2, officially assigned codes.
COUNTRIES = frozenset(
    (
        "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO "
        "BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ "
        "DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP "
        "GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG "
        "KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML "
        "MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE "
        "PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL "
        "SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM "
        "US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
    ).split()
)


class Refusal(Exception):  # noqa: N818 - control flow to a boundary, not an error
    """Carries a `Rejected` out of a helper to the nearest `never_raises` boundary."""

    def __init__(self, rejected: Rejected) -> None:
        super().__init__(rejected.describe())
        self.rejected = rejected


def refuse(reason: RejectReason, detail: str, field: str = "") -> Refusal:
    """Build the refusal to raise: `raise refuse(...)`."""
    return Refusal(Rejected(reason, detail, field))


P = ParamSpec("P")
R = TypeVar("R")


def never_raises(normalizer: Callable[P, R]) -> Callable[P, R | Rejected]:
    """Turn a `Refusal` raised anywhere inside `normalizer` into its `Rejected` value."""

    @functools.wraps(normalizer)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Rejected:
        try:
            return normalizer(*args, **kwargs)
        except Refusal as refusal:
            return refusal.rejected

    return guarded


def utc(moment: datetime) -> datetime:
    """The same instant in UTC; canonical events carry UTC so they compare and sort simply."""
    return moment.astimezone(UTC)


def money(
    amount: Decimal | str | int | None, currency: str, field: str, *, allow_negative: bool = False
) -> Money:
    """Exact minor units of `amount` (None counts as zero), or a refusal naming `field`."""
    if amount is None:
        amount = 0
    converted = to_money(amount, currency, field=field, allow_negative=allow_negative)
    if isinstance(converted, Rejected):
        raise Refusal(converted)
    return converted


def total(amounts: Iterable[Money], currency: str) -> Money:
    """Sum of amounts in one currency."""
    result = zero(currency)
    for amount in amounts:
        result = add(result, amount)
    return result


def quantity(qty: int, field: str, *, maximum: int = MAX_LINE_QTY, minimum: int = 1) -> int:
    """`qty` if minimum <= qty <= maximum, else a refusal naming `field`."""
    if not minimum <= qty <= maximum:
        raise refuse(RejectReason.INVALID_QUANTITY, f"{qty} is outside {minimum}..{maximum}", field)
    return qty


def text(value: str | None, field: str, *, required: bool = False) -> str:
    """Stripped text; refused when required and blank, or longer than `MAX_TEXT`."""
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise refuse(RejectReason.MISSING_FIELD, "must not be blank", field)
    if len(cleaned) > MAX_TEXT:
        raise refuse(RejectReason.MISSING_FIELD, f"longer than {MAX_TEXT} characters", field)
    return cleaned


def country(code: str | None, field: str) -> str:
    """An upper-case ISO 3166-1 alpha-2 code, or a refusal naming `field`."""
    cleaned = (code or "").strip().upper()
    if cleaned not in COUNTRIES:
        raise refuse(RejectReason.INVALID_COUNTRY, f"{code!r} is not ISO 3166-1 alpha-2", field)
    return cleaned


def currency(code: str | None, field: str) -> str:
    """An upper-case ISO 4217 code with a known minor unit, or a refusal naming `field`.

    Checked once where the channel states its currency, so an unknown code is reported at
    that field rather than at whichever amount happens to be converted first.
    """
    cleaned = (code or "").strip().upper()
    if cleaned not in CURRENCY_EXPONENTS:
        raise refuse(RejectReason.UNKNOWN_CURRENCY, f"{code!r} is not an ISO 4217 code", field)
    return cleaned


def address(
    *,
    field: str,
    country_code: str | None,
    name: str | None = None,
    company: str | None = None,
    line1: str | None = None,
    line2: str | None = None,
    house_number: str | None = None,
    postcode: str | None = None,
    city: str | None = None,
    region: str | None = None,
    phone: str | None = None,
) -> Address:
    """A canonical address; only the country is checked here (full checks are validation's)."""
    return Address(
        country=country(country_code, f"{field}.country"),
        name=text(name, f"{field}.name"),
        company=text(company, f"{field}.company"),
        line1=text(line1, f"{field}.line1"),
        line2=text(line2, f"{field}.line2"),
        house_number=text(house_number, f"{field}.house_number"),
        postcode=text(postcode, f"{field}.postcode").upper(),
        city=text(city, f"{field}.city"),
        region=text(region, f"{field}.region"),
        phone=text(phone, f"{field}.phone"),
    )


def order_line(
    *,
    field: str,
    currency: str,
    line_id: str,
    sku: str | None,
    qty: int,
    unit_price: Decimal | str | None = None,
    line_price: Decimal | str | None = None,
    tax: Decimal | str | None = None,
    discount: Decimal | str | None = None,
    variant_id: str = "",
    title: str | None = "",
    bundle_id: str = "",
    ean: str = "",
    marketplace_fulfilled: bool = False,
) -> OrderLine:
    """A canonical line from a unit price or a line price (exactly one is given).

    A line price that does not divide by the quantity keeps its exact total and rounds the
    unit price down: the total is what was charged, the unit price is informational.
    """
    units = quantity(qty, f"{field}.qty")
    if line_price is not None:
        line_total = money(line_price, currency, f"{field}.line_price")
        unit = Money(line_total.amount_minor // units, line_total.currency)
    else:
        unit = money(unit_price, currency, f"{field}.unit_price")
        line_total = Money(unit.amount_minor * units, unit.currency)
    line_tax = money(tax, currency, f"{field}.tax")
    line_discount = money(discount, currency, f"{field}.discount")
    if line_discount.amount_minor > line_total.amount_minor:
        raise refuse(RejectReason.INVALID_AMOUNT, "discount exceeds the line total", field)
    return OrderLine(
        line_id=text(line_id, f"{field}.line_id", required=True),
        sku=text(sku, f"{field}.sku", required=True),
        qty=units,
        unit_price=unit,
        line_total=line_total,
        tax=line_tax,
        discount=line_discount,
        variant_id=variant_id,
        title=text(title, f"{field}.title"),
        bundle_id=bundle_id,
        ean=ean,
        marketplace_fulfilled=marketplace_fulfilled,
    )


def order_total(lines: Iterable[OrderLine], currency: str, shipping: Money | None = None) -> Money:
    """What the customer pays: line totals less discounts, plus shipping.

    Tax is assumed included in prices (EU B2C practice); a channel that adds tax on top
    passes its own stated total instead.
    """
    amounts: list[Money] = []
    for line in lines:
        amounts.append(line.line_total)
        amounts.append(Money(-line.discount.amount_minor, line.discount.currency))
    if shipping is not None:
        amounts.append(shipping)
    return total(amounts, currency)


Item = TypeVar("Item")


def lines_present(lines: tuple[Item, ...], field: str) -> tuple[Item, ...]:
    """The lines, or a refusal when there are none (nothing to allocate or receive)."""
    if not lines:
        raise refuse(RejectReason.NO_LINES, "at least one line is required", field)
    return lines
