"""The shipped carrier codes cover every carrier of the sample network, for every channel."""

from __future__ import annotations

from orderstream.agents.samples import sample_carrier_codes_path, sample_rules_path
from orderstream.codecs.carrier_codes import CarrierCodes, load_carrier_codes
from orderstream.codecs.rules import load_rules
from orderstream.streams.routing import RuleSet


def test_the_sample_carrier_codes_load_and_name_every_carrier_of_the_sample_rules() -> None:
    codes = load_carrier_codes(sample_carrier_codes_path().read_text(), "carrier_codes.yaml")
    assert isinstance(codes, CarrierCodes), codes
    rules = load_rules(sample_rules_path().read_text(), "rules.yaml")
    assert isinstance(rules, RuleSet)
    used = {offer.carrier for location in rules.locations for offer in location.carriers}
    assert used == set(codes.carriers)
    assert codes.shopify("postnl").known and codes.bol("postnl") == "TNT"
    assert not codes.shopify("city-courier").known  # free text, the URL makes it clickable
