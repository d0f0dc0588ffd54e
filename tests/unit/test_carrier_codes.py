"""Carrier codes per channel from YAML: lookups, the documented "other" forms, and refusals
that name the line and the field."""

from __future__ import annotations

from orderstream.codecs.carrier_codes import (
    AmazonCarrier,
    CarrierCodes,
    ShopifyTracking,
    load_carrier_codes,
)
from orderstream.codecs.rules import RuleSetInvalid

DOCUMENT = """\
version: 1
carriers:
  postnl:
    name: PostNL
    shopify: {company: PostNL}
    bol: {transporter_code: TNT}
    amazon: {carrier_code: Other, carrier_name: PostNL}
  city-courier:
    name: City courier
"""


def loaded(text: str) -> CarrierCodes:
    codes = load_carrier_codes(text, "carrier_codes.yaml")
    assert isinstance(codes, CarrierCodes), codes
    return codes


def refused(text: str) -> list[str]:
    codes = load_carrier_codes(text, "carrier_codes.yaml")
    assert isinstance(codes, RuleSetInvalid)
    return list(codes.describe())


def test_a_known_carrier_gets_each_channels_own_code() -> None:
    codes = loaded(DOCUMENT)
    assert codes.shopify("postnl") == ShopifyTracking("PostNL", known=True)
    assert codes.bol("postnl") == "TNT"
    assert codes.amazon("postnl") == AmazonCarrier(carrier_code="Other", carrier_name="PostNL")


def test_a_carrier_without_codes_takes_each_channels_other_form_under_its_name() -> None:
    codes = loaded(DOCUMENT)
    assert codes.shopify("city-courier") == ShopifyTracking("City courier", known=False)
    assert codes.bol("city-courier") == "OTHER"
    assert codes.amazon("city-courier") == AmazonCarrier("Other", carrier_name="City courier")
    assert codes.shopify("never-heard-of") == ShopifyTracking("never-heard-of", known=False)


def test_an_unknown_field_is_named_at_its_line() -> None:
    text = DOCUMENT.replace("    bol: {transporter_code: TNT}\n", "    bol: {code: TNT}\n")
    assert refused(text) == ["carrier_codes.yaml:6: carriers.postnl.bol.code: unknown field"]


def test_amazons_other_needs_a_carrier_name_and_bol_codes_are_upper_case() -> None:
    text = DOCUMENT.replace(", carrier_name: PostNL", "").replace("TNT", "tnt")
    assert refused(text) == [
        "carrier_codes.yaml:6: carriers.postnl.bol.transporter_code: "
        "expected a Bol.com transporter code such as TNT, got 'tnt'",
        "carrier_codes.yaml:7: carriers.postnl.amazon.carrier_name: "
        'Amazon requires carrier_name when carrier_code is "Other"',
    ]


def test_another_version_and_a_badly_written_carrier_are_refused() -> None:
    assert refused("version: 2\ncarriers: {}\n") == [
        "carrier_codes.yaml:1: version: unsupported version 2; this build reads 1"
    ]
    (line,) = refused("version: 1\ncarriers:\n  PostNL: {name: PostNL}\n")
    assert line.startswith("carrier_codes.yaml:3: carriers.PostNL: a carrier is written in")
