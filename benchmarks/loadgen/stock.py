"""Opening stock per SKU x location, sized against the demand the mix will generate.

Expected demand of a SKU is the units the run's shipped (non-till) orders ask for it on
average: orders x shipped share x lines per order x units per line x its popularity. The
`scarce_skus` most popular get `scarce_coverage` of that (they run short: orders backorder or
hold), every other SKU `stock_coverage` times it. A SKU's units are spread over the locations by
location kind (warehouses most, stores a shelf's worth) with largest remainders, so the totals
are exact.
"""

from __future__ import annotations

import math

from orderstream.streams.routing import LocationKind

from .catalogue import Catalogue
from .mix import Mix
from .network import Network

_LOCATION_WEIGHT = {
    LocationKind.WAREHOUSE: 4.0,
    LocationKind.THIRD_PARTY: 2.0,
    LocationKind.STORE: 0.5,
}


def expected_demand(catalogue: Catalogue, mix: Mix) -> tuple[float, ...]:
    """Units per SKU that the run's shipped orders are expected to ask for."""
    shipped_orders = mix.orders * (1.0 - mix.shares()["pos"])
    units = shipped_orders * mix.lines_mean * mix.units_mean
    return tuple(units * catalogue.probability(i) for i in range(len(catalogue.products)))


def opening_stock(catalogue: Catalogue, network: Network, mix: Mix) -> list[tuple[int, ...]]:
    """On hand per product (catalogue order), then per location (network order)."""
    demand = expected_demand(catalogue, mix)
    weights = [_LOCATION_WEIGHT.get(location.kind, 1.0) for location in network.locations]
    levels: list[tuple[int, ...]] = []
    for index, wanted in enumerate(demand):
        coverage = mix.scarce_coverage if index < mix.scarce_skus else mix.stock_coverage
        levels.append(spread(math.ceil(wanted * coverage), weights))
    return levels


def spread(total: int, weights: list[float]) -> tuple[int, ...]:
    """`total` units split by `weights`, largest remainders first (ties: earlier location)."""
    whole = sum(weights)
    if not weights or whole <= 0:
        return tuple(0 for _ in weights)
    shares = [total * weight / whole for weight in weights]
    parts = [math.floor(share) for share in shares]
    left = total - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (parts[i] - shares[i], i))
    for i in by_remainder[:left]:
        parts[i] += 1
    return tuple(parts)
