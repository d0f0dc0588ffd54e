"""The network a load runs against: its locations, its till stores, its countries, its SKUs.

Taken from the sample network by default (`agents/samples/rules.yaml` for the locations,
`agents/samples/atp.json` for the SKUs), so generated orders ask for what the sample rules
can route and stock feeds count what the ledger will be asked to reserve.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Mapping
from dataclasses import dataclass

from orderstream.codecs.rules import RuleSetInvalid, load_rules
from orderstream.streams.model import Channel
from orderstream.streams.routing import LocationKind, RuleSet
from orderstream.streams.validation import served_countries

_FEED_PREFIX = {
    LocationKind.WAREHOUSE: "wms",
    LocationKind.THIRD_PARTY: "3pl",
    LocationKind.STORE: "pos",
}
"""Which system counts a location's stock, by location kind; it numbers its own feed records."""


@dataclass(frozen=True)
class FeedLocation:
    """A location of the network and the stock feed that counts it."""

    id: str
    kind: LocationKind
    source_system: str
    reservable: bool = True
    """Orders reserve stock here; False for a till-only store, whose units leave at the till."""


@dataclass(frozen=True)
class Network:
    locations: tuple[FeedLocation, ...]
    stores: tuple[str, ...]
    """Locations that sell at a till (they list the `pos` channel)."""
    served: frozenset[str]
    """Every destination country some location delivers to."""
    skus: tuple[str, ...]
    """The network's own SKUs, in the order its stock file lists them."""


def network_from(rules: RuleSet, stock: Mapping[str, object]) -> Network:
    """The network of a rule set, with the SKUs of an ATP file (`{"SKU": {...}}`)."""
    locations = tuple(
        FeedLocation(
            location.id,
            location.kind,
            f"{_FEED_PREFIX.get(location.kind, 'erp')}-{location.id.lower()}",
            reservable=any(channel is not Channel.POS for channel in location.channels),
        )
        for location in rules.locations
    )
    stores = tuple(location.id for location in rules.locations if Channel.POS in location.channels)
    return Network(locations, stores, served_countries(rules), tuple(stock))


def sample_network() -> Network:
    """The sample network shipped in `orderstream.agents.samples`."""
    folder = importlib.resources.files("orderstream.agents.samples")
    rules = load_rules(folder.joinpath("rules.yaml").read_bytes(), "rules.yaml")
    if isinstance(rules, RuleSetInvalid):
        raise ValueError("the sample rule set is invalid: " + "; ".join(rules.describe()))
    stock = json.loads(folder.joinpath("atp.json").read_bytes())
    if not isinstance(stock, dict):
        raise ValueError("the sample ATP file is not an object of SKUs")
    return network_from(rules, stock)
