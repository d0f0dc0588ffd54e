"""Shopify inventory documents: a SKU's inventory item and its available units at one
location (`INVENTORY_ITEM`), and `inventorySetQuantities` setting them (Admin GraphQL 2026-10).

A set is absolute ("available" = the channel's sellable quantity): orderstream is the source
of truth for what may be sold, so each quantity opts out of Shopify's compare-and-set with an
explicit `changeFromQuantity: null` (from 2026-04 omitting it is an error). The required
`@idempotent` key is the push's event id: a push sent twice is one change at Shopify.
"""

from __future__ import annotations

import msgspec

from .shopify_admin import AdminInput, InventoryItem, gid

INVENTORY_ITEM = """\
query InventoryItemBySku($query: String!, $locationId: ID!) {
  inventoryItems(first: 2, query: $query) {
    nodes {
      id
      sku
      inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
    }
  }
}
"""

INVENTORY_SET_QUANTITIES = """\
mutation InventorySetQuantities($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}
"""

AVAILABLE = "available"
REASON = "correction"


class InventoryItemVariables(AdminInput, frozen=True):
    query: str
    location_id: str


class InventoryQuantityInput(
    msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True
):
    """One quantity; `change_from_quantity` is always sent (null: no compare-and-set)."""

    inventory_item_id: str
    location_id: str
    quantity: int
    change_from_quantity: int | None


class InventorySetQuantitiesInput(AdminInput, frozen=True):
    name: str
    reason: str
    quantities: list[InventoryQuantityInput]
    reference_document_uri: str | None = None


class InventorySetQuantitiesVariables(AdminInput, frozen=True):
    input: InventorySetQuantitiesInput
    idempotency_key: str


class StockRequest(msgspec.Struct, frozen=True, tag="shopify.stock_set.v1", tag_field="type"):
    """What the stock sink logs for one push: set `sku`'s available units at the shop's
    location to `quantity`; `key` is the push's event id (the idempotency key)."""

    sku: str
    quantity: int
    location_id: str
    key: str


_REQUEST = msgspec.json.Decoder(StockRequest)


def encode_request(request: StockRequest) -> bytes:
    return msgspec.json.encode(request)


def decode_request(body: bytes) -> StockRequest:
    return _REQUEST.decode(body)


def location_gid(location_id: str) -> str:
    """A location id as configured (legacy number or global id) as its global id."""
    return location_id if location_id.startswith("gid://") else gid("Location", location_id)


def sku_query(sku: str) -> str:
    """Shopify's search syntax for one exact SKU (quotes and backslashes escaped)."""
    escaped = sku.replace("\\", "\\\\").replace('"', '\\"')
    return f'sku:"{escaped}"'


def available(item: InventoryItem) -> int | None:
    """The item's available units at the location read; None when it is not stocked there."""
    level = item.inventory_level
    if level is None:
        return None
    return next((q.quantity for q in level.quantities if q.name == AVAILABLE), None)


def set_variables(request: StockRequest, item_id: str) -> InventorySetQuantitiesVariables:
    quantity = InventoryQuantityInput(
        inventory_item_id=item_id,
        location_id=request.location_id,
        quantity=request.quantity,
        change_from_quantity=None,
    )
    return InventorySetQuantitiesVariables(
        input=InventorySetQuantitiesInput(
            name=AVAILABLE,
            reason=REASON,
            quantities=[quantity],
            reference_document_uri=f"orderstream://stock/{request.key}",
        ),
        idempotency_key=request.key,
    )
