"""Money converts exactly for every currency exponent, or is refused; it never rounds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderstream.streams.money import CURRENCY_EXPONENTS, Money, to_money
from orderstream.streams.rejections import Rejected, RejectReason

CURRENCIES = sorted(CURRENCY_EXPONENTS)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("19.99", "EUR", 1999),
        ("0.1", "USD", 10),
        ("1500", "JPY", 1500),
        ("12.345", "KWD", 12345),
        ("1.2345", "CLF", 12345),
        ("1E+2", "EUR", 10000),
        ("19.990", "EUR", 1999),  # trailing zeros are exact
        (Decimal("7.50"), "gbp", 750),  # lower-case codes are accepted and upper-cased
        (3, "EUR", 300),
    ],
)
def test_amounts_convert_to_exact_minor_units(amount: str, currency: str, minor: int) -> None:
    result = to_money(amount, currency)
    assert result == Money(minor, currency.upper())


@pytest.mark.parametrize(
    ("amount", "currency", "reason"),
    [
        ("19.999", "EUR", RejectReason.INVALID_AMOUNT),
        ("1.5", "JPY", RejectReason.INVALID_AMOUNT),
        ("12.3456", "KWD", RejectReason.INVALID_AMOUNT),
        ("NaN", "EUR", RejectReason.INVALID_AMOUNT),
        ("Infinity", "EUR", RejectReason.INVALID_AMOUNT),
        ("-1.00", "EUR", RejectReason.INVALID_AMOUNT),
        ("abc", "EUR", RejectReason.INVALID_AMOUNT),
        ("1E+999999", "EUR", RejectReason.INVALID_AMOUNT),
        ("1.00", "XYZ", RejectReason.UNKNOWN_CURRENCY),
        ("1.00", "", RejectReason.UNKNOWN_CURRENCY),
    ],
)
def test_inexact_or_invalid_amounts_are_refused_not_rounded(
    amount: str, currency: str, reason: RejectReason
) -> None:
    result = to_money(amount, currency, field="price")
    assert isinstance(result, Rejected)
    assert result.reason is reason
    assert result.field == "price"


def test_negative_amounts_pass_only_when_allowed() -> None:
    assert to_money("-5.00", "EUR", allow_negative=True) == Money(-500, "EUR")


@given(
    currency=st.sampled_from(CURRENCIES),
    minor=st.integers(min_value=0, max_value=10**15),  # to_money refuses beyond 10**15 major
)
def test_every_minor_amount_round_trips_through_its_decimal_string(
    currency: str, minor: int
) -> None:
    exponent = CURRENCY_EXPONENTS[currency]
    text = f"{Decimal(minor).scaleb(-exponent):f}"
    assert to_money(text, currency) == Money(minor, currency)
    assert Money(minor, currency).to_decimal() == Decimal(text)


@given(
    currency=st.sampled_from(CURRENCIES),
    minor=st.integers(min_value=0, max_value=10**12),
    extra=st.integers(min_value=1, max_value=9),
)
def test_one_digit_beyond_the_minor_unit_is_always_refused(
    currency: str, minor: int, extra: int
) -> None:
    exponent = CURRENCY_EXPONENTS[currency]
    text = f"{Decimal(minor).scaleb(-exponent):f}"
    text = f"{text}{extra}" if "." in text else f"{text}.{extra}"
    result = to_money(text, currency)
    assert isinstance(result, Rejected)
    assert result.reason is RejectReason.INVALID_AMOUNT


def test_the_currency_table_knows_the_exponents_that_matter() -> None:
    assert CURRENCY_EXPONENTS["EUR"] == 2
    assert CURRENCY_EXPONENTS["JPY"] == 0
    assert CURRENCY_EXPONENTS["KRW"] == 0
    assert CURRENCY_EXPONENTS["BHD"] == 3
    assert CURRENCY_EXPONENTS["TND"] == 3
    assert CURRENCY_EXPONENTS["CLF"] == 4
    assert len(CURRENCY_EXPONENTS) > 150
