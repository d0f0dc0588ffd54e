"""Money as integer minor units with an ISO 4217 currency.

The rule: an amount converts only when it is exactly representable in the currency's minor
unit (JPY has none, EUR has cents, KWD has fils at 3 decimals). "19.999 EUR" is refused rather
than rounded, because rounding silently changes what the customer was charged. Floats never
enter: amounts arrive as `Decimal` or decimal strings and leave as `int`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import msgspec

from .rejections import Rejected, RejectReason

# ISO 4217 active codes with a minor unit other than 2.
_EXPONENT_0 = ("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF").split()
_EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND".split()
_EXPONENT_4 = "CLF UYW".split()
# ISO 4217 active codes with two decimals (the default).
_EXPONENT_2 = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP "
    "BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD "
    "FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD "
    "KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD "
    "NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP "
    "SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED "
    "VES WST XCD XCG YER ZAR ZMW ZWG"
).split()

CURRENCY_EXPONENTS: dict[str, int] = {
    **{code: 2 for code in _EXPONENT_2},
    **{code: 0 for code in _EXPONENT_0},
    **{code: 3 for code in _EXPONENT_3},
    **{code: 4 for code in _EXPONENT_4},
}


class Money(msgspec.Struct, frozen=True):
    """An exact amount: `amount_minor` units of the currency's minor unit."""

    amount_minor: int
    currency: str

    def to_decimal(self) -> Decimal:
        """The amount in major units, exact (for display and channel write-back)."""
        return Decimal(self.amount_minor).scaleb(-CURRENCY_EXPONENTS[self.currency])


def currency_exponent(currency: str) -> int | Rejected:
    """The number of minor-unit decimals of an ISO 4217 code, or why it is refused."""
    exponent = CURRENCY_EXPONENTS.get(currency)
    if exponent is None:
        return Rejected(RejectReason.UNKNOWN_CURRENCY, f"{currency!r} is not an ISO 4217 code")
    return exponent


def to_money(  # noqa: PLR0911 - one early return per refusal reads best
    amount: Decimal | str | int, currency: str, *, field: str = "", allow_negative: bool = False
) -> Money | Rejected:
    """Convert a decimal amount to exact minor units, refusing anything inexact.

    `amount` is a `Decimal`, a decimal string ("19.99", "-5", "1E+2") or an int in major
    units. NaN, infinities, more decimals than the currency has, and (unless allowed)
    negative amounts are refused.
    """
    code = currency.upper()
    exponent = currency_exponent(code)
    if isinstance(exponent, Rejected):
        return Rejected(exponent.reason, exponent.detail, field)
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(amount)
    except (InvalidOperation, ValueError, TypeError):
        return Rejected(RejectReason.INVALID_AMOUNT, f"{amount!r} is not a decimal number", field)
    if not value.is_finite():
        return Rejected(RejectReason.INVALID_AMOUNT, f"{amount!r} is not finite", field)
    if value.is_signed() and value != 0 and not allow_negative:
        return Rejected(RejectReason.INVALID_AMOUNT, f"{amount!r} is negative", field)
    # Refuse absurd magnitudes before scaling: exponent tricks like "1E+999999" are cheap to
    # send and expensive to expand. 10**15 major units is beyond any order total.
    if value.adjusted() > 15:
        return Rejected(RejectReason.INVALID_AMOUNT, f"{amount!r} is out of range", field)
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        return Rejected(
            RejectReason.INVALID_AMOUNT,
            f"{amount!r} has more than {exponent} decimals for {code}",
            field,
        )
    return Money(int(scaled), code)


def zero(currency: str) -> Money:
    """Nothing, in `currency`."""
    return Money(0, currency)


def add(a: Money, b: Money) -> Money:
    """The sum of two amounts in one currency; mixing currencies is a bug."""
    if a.currency != b.currency:
        raise ValueError(f"cannot add {a.currency} to {b.currency}")
    return Money(a.amount_minor + b.amount_minor, a.currency)
