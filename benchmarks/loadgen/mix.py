"""The knobs of a peak-season load: how many orders, from where, with which faults.

A `Mix` is a value: the same mix, seed and start give the same records, byte for byte.
Rates are probabilities per generated order (per Shopify order where the knob says so);
shares are normalized, so they need not add up to exactly one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CHANNELS = ("shopify", "bol", "amazon", "pos")
SERVICE_LEVELS = ("economy", "standard", "express", "next_day", "same_day")
MAX_ORDERS = 9_999_999
"""Channel order ids carry the order number in seven digits."""

Weights = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Mix:
    """What one load run holds; every field has a peak-season default."""

    orders: int = 10_000
    """Distinct valid orders; duplicates, malformed records, payments, cancellations and
    stock records come on top."""
    channel_shares: Weights = (("shopify", 0.45), ("bol", 0.2), ("amazon", 0.2), ("pos", 0.15))
    lines_mean: float = 2.5
    lines_min: int = 1
    lines_max: int = 6
    units: tuple[tuple[int, float], ...] = ((1, 0.75), (2, 0.17), (3, 0.06), (4, 0.02))
    """Units per line and their weights."""
    catalogue_size: int = 500
    """SKUs in the catalogue: the sample network's, then `SKU-00001`... up to this size."""
    zipf_exponent: float = 1.0
    """Popularity of the SKU of rank k is proportional to 1 / k**exponent."""
    countries: Weights = (
        ("NL", 0.36),
        ("DE", 0.22),
        ("BE", 0.14),
        ("FR", 0.08),
        ("AT", 0.04),
        ("IT", 0.03),
        ("ES", 0.03),
        ("LU", 0.02),
        ("DK", 0.02),
        ("SE", 0.02),
        ("PL", 0.02),
        ("IE", 0.02),
    )
    """Destinations of shipped orders; every one must be served by the network."""
    service_levels: Weights = (
        ("standard", 0.58),
        ("economy", 0.1),
        ("express", 0.15),
        ("next_day", 0.14),
        ("same_day", 0.03),
    )
    """Delivery promises asked for (same day only where a store courier serves: NL)."""
    duplicate_rate: float = 0.05
    """Order records sent again: a webhook retry (same bytes) or an overlapping poll."""
    malformed_rate: float = 0.005
    """Extra records no normalizer may accept."""
    payment_hold_rate: float = 0.03
    """Shopify orders placed with `financial_status: pending`."""
    payment_capture_rate: float = 0.9
    """Pending orders whose payment is captured later (the rest stay on hold)."""
    cancel_rate: float = 0.02
    """Shopify orders cancelled later (`orders/cancelled`); never a pending one."""
    adjustment_rate: float = 0.02
    """Stock adjustments (receipts, damage, counts) per order, during the run."""
    shrink_share: float = 0.3
    """Adjustments that take units away (damage, shrinkage, a count), at till-only stores."""
    orders_per_second: float = 50.0
    """Arrival rate: timestamps advance by exponential gaps with this mean rate."""
    scarce_skus: int = 3
    """The most popular SKUs, stocked below their expected demand so they run short."""
    scarce_coverage: float = 0.6
    """Stock of a scarce SKU as a share of its expected demand."""
    stock_coverage: float = 2.0
    """Stock of every other SKU as a multiple of its expected demand."""

    def __post_init__(self) -> None:
        problems = list(_problems(self))
        if problems:
            raise ValueError("invalid mix: " + "; ".join(problems))

    def shares(self) -> dict[str, float]:
        """Channel shares normalized to sum to one, in `CHANNELS` order."""
        given = dict(self.channel_shares)
        total = sum(given.values())
        return {channel: given.get(channel, 0.0) / total for channel in CHANNELS}

    @property
    def units_mean(self) -> float:
        total = sum(weight for _, weight in self.units)
        return sum(units * weight for units, weight in self.units) / total


def _problems(mix: Mix) -> list[str]:
    problems: list[str] = []
    if not 0 <= mix.orders <= MAX_ORDERS:
        problems.append(f"orders must be within 0..{MAX_ORDERS}")
    problems += _weights("channel_shares", mix.channel_shares, CHANNELS)
    problems += _weights("service_levels", mix.service_levels, SERVICE_LEVELS)
    problems += _weights("countries", mix.countries, None)
    problems += _shape_problems(mix)
    problems += _rate_problems(mix)
    return problems


def _shape_problems(mix: Mix) -> list[str]:
    problems: list[str] = []
    if not 1 <= mix.lines_min <= mix.lines_max:
        problems.append("lines must satisfy 1 <= lines_min <= lines_max")
    elif not mix.lines_min <= mix.lines_mean <= mix.lines_max:
        problems.append("lines_mean must lie within lines_min..lines_max")
    if not mix.units or any(units < 1 or weight < 0 for units, weight in mix.units):
        problems.append("units are positive counts with non-negative weights")
    elif sum(weight for _, weight in mix.units) <= 0:
        problems.append("units need a positive weight")
    if mix.catalogue_size < 1:
        problems.append("catalogue_size must be at least 1")
    if not (math.isfinite(mix.zipf_exponent) and mix.zipf_exponent >= 0):
        problems.append("zipf_exponent must be a finite number >= 0")
    if mix.scarce_skus < 0:
        problems.append("scarce_skus must not be negative")
    if mix.scarce_coverage < 0 or mix.stock_coverage < 0:
        problems.append("stock coverages must not be negative")
    return problems


def _rate_problems(mix: Mix) -> list[str]:
    rates = (
        "duplicate_rate",
        "malformed_rate",
        "payment_hold_rate",
        "payment_capture_rate",
        "cancel_rate",
        "adjustment_rate",
        "shrink_share",
    )
    problems = [f"{name} must be within 0..1" for name in rates if not 0 <= getattr(mix, name) <= 1]
    if mix.payment_hold_rate + mix.cancel_rate > 1:
        problems.append("payment_hold_rate + cancel_rate must not exceed 1")
    if not (math.isfinite(mix.orders_per_second) and mix.orders_per_second > 0):
        problems.append("orders_per_second must be positive")
    return problems


def _weights(name: str, weights: Weights, allowed: tuple[str, ...] | None) -> list[str]:
    names = [key for key, _ in weights]
    if len(set(names)) != len(names):
        return [f"{name} names an entry twice"]
    if allowed is not None and not set(names) <= set(allowed):
        return [f"{name} may only name {', '.join(allowed)}"]
    if any(not (math.isfinite(weight) and weight >= 0) for _, weight in weights):
        return [f"{name} weights must be finite and >= 0"]
    if sum(weight for _, weight in weights) <= 0:
        return [f"{name} needs a positive weight"]
    return []
