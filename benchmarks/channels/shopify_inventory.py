"""The simulated shop's inventory: items by SKU at one location, found by `inventoryItems`
and set by `inventorySetQuantities`, as Shopify answers them.

A set needs `name: "available"`, a known item and location, and `changeFromQuantity` (null,
or the units there now: else `CHANGE_FROM_QUANTITY_STALE`). Its `@idempotent` key is kept: a
second set with the same key changes nothing and gets the first answer. `InventoryEffects`
count by the shop's own inventory item ids: sets applied, replays, sets that changed nothing.
"""

from __future__ import annotations

import re
from collections import Counter

import msgspec

from orderstream.codecs import shopify_admin as wire
from orderstream.codecs.shopify_admin import gid
from orderstream.codecs.shopify_inventory import (
    AVAILABLE,
    InventoryItemVariables,
    InventorySetQuantitiesVariables,
)

LOCATION = gid("Location", 1)
"""The simulated shop's one location."""

_SKU = re.compile(r'^sku:"(?P<sku>(?:[^"\\]|\\.)*)"$')


class StockItem(msgspec.Struct, frozen=True):
    """A seeded item (`POST /_simulator/inventory` takes a list of these)."""

    sku: str
    available: int = 0


class InventoryEffects(msgspec.Struct, frozen=True):
    """By the shop's inventory item id: its SKU, units available now, sets applied, sets
    that changed nothing, and sets repeated under a key already used (answered, not applied)."""

    skus: dict[str, str]
    available: dict[str, int]
    sets: dict[str, int]
    unchanged: dict[str, int]
    replayed: int
    stale_refused: int


class ShopifyInventory:
    def __init__(self) -> None:
        self._by_sku: dict[str, str] = {}
        self._available: dict[str, int] = {}
        self._sets = Counter[str]()
        self._unchanged = Counter[str]()
        self._answers: dict[str, wire.InventoryQuantitiesSet] = {}
        self._replayed = 0
        self._stale = 0

    def seed(self, item: StockItem) -> str:
        """Add the item (a SKU seeded again keeps its item and gets the new quantity)."""
        item_id = self._by_sku.setdefault(item.sku, gid("InventoryItem", 5000 + len(self._by_sku)))
        self._available[item_id] = item.available
        return item_id

    def items(self, variables: InventoryItemVariables) -> wire.InventoryItemsRead:
        found = _SKU.match(variables.query)
        sku = re.sub(r"\\(.)", r"\1", found["sku"]) if found else None
        nodes = []
        if sku is not None and sku in self._by_sku:
            item_id = self._by_sku[sku]
            level = None
            if variables.location_id == LOCATION:
                quantity = wire.InventoryQuantity(name=AVAILABLE, quantity=self._available[item_id])
                level = wire.InventoryLevel(quantities=[quantity])
            nodes.append(wire.InventoryItem(id=item_id, sku=sku, inventory_level=level))
        return wire.InventoryItemsRead(inventory_items=wire.InventoryItems(nodes=nodes))

    def set_quantities(
        self, variables: InventorySetQuantitiesVariables
    ) -> wire.InventoryQuantitiesSet:
        key = variables.idempotency_key
        if key in self._answers:
            self._replayed += 1
            return self._answers[key]
        answer = self._set(variables)
        self._answers[key] = answer
        return answer

    def _set(self, variables: InventorySetQuantitiesVariables) -> wire.InventoryQuantitiesSet:
        given = variables.input
        if given.name != AVAILABLE:
            return _refused(f"only {AVAILABLE!r} is set here", ["input", "name"], "INVALID_NAME")
        changes: list[tuple[str, int]] = []
        for index, quantity in enumerate(given.quantities):
            where = ["input", "quantities", str(index)]
            item_id = quantity.inventory_item_id
            if item_id not in self._available:
                return _refused(
                    "The inventory item could not be found.", where, "INVALID_INVENTORY_ITEM"
                )
            if quantity.location_id != LOCATION:
                return _refused("The location could not be found.", where, "INVALID_LOCATION")
            now = self._available[item_id]
            if quantity.change_from_quantity is not None and quantity.change_from_quantity != now:
                self._stale += 1
                message = "The quantity changed since it was read."
                return _refused(message, where, "CHANGE_FROM_QUANTITY_STALE")
            changes.append((item_id, quantity.quantity))
        for item_id, units in changes:
            if self._available[item_id] == units:
                self._unchanged[item_id] += 1
            self._available[item_id] = units
            self._sets[item_id] += 1
        group = wire.InventoryAdjustmentGroup(
            id=gid("InventoryAdjustmentGroup", len(self._answers) + 1)
        )
        payload = wire.InventorySetQuantitiesPayload(inventory_adjustment_group=group)
        return wire.InventoryQuantitiesSet(inventory_set_quantities=payload)

    def effects(self) -> InventoryEffects:
        return InventoryEffects(
            skus={item_id: sku for sku, item_id in self._by_sku.items()},
            available=dict(self._available),
            sets=dict(self._sets),
            unchanged=dict(self._unchanged),
            replayed=self._replayed,
            stale_refused=self._stale,
        )


def _refused(message: str, field: list[str], code: str) -> wire.InventoryQuantitiesSet:
    error = wire.UserError(message=message, field=field, code=code)
    return wire.InventoryQuantitiesSet(
        inventory_set_quantities=wire.InventorySetQuantitiesPayload(user_errors=[error])
    )
