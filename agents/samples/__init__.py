"""The sample network shipped with the package: rules, an order and an ATP snapshot."""

from __future__ import annotations

from pathlib import Path


def sample_rules_path() -> Path:
    """The sample network's rule set; the demo, the bench, chaos and tests pass it explicitly."""
    return Path(__file__).with_name("rules.yaml")


def sample_exception_rules_path() -> Path:
    """Owners and resolve-within times of holds and exceptions: the store writer's default."""
    return Path(__file__).with_name("exception_rules.yaml")


def sample_carrier_codes_path() -> Path:
    """Our carriers as Shopify, Bol.com and Amazon name them: the channel sinks' default."""
    return Path(__file__).with_name("carrier_codes.yaml")
