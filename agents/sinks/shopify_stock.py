"""The Shopify stock sink's `Channel` adapter: set a SKU's available units at the shop's
location with `inventorySetQuantities`, and settle by reading them back.

The push's request names the SKU; the shop's inventory item is found by it at send time
(`inventoryItems`, exact SKU), so a product added later needs no mapping table. The
idempotency key is the push's event id: a push sent again after a crash or a timeout is one
change at Shopify. Settled means the location shows the push's units already.
"""

from __future__ import annotations

from orderstream.codecs.channel_outcomes import Outcome, Rejected, Retryable
from orderstream.codecs.shopify_admin import (
    InventoryItem,
    InventoryItemsRead,
    InventoryQuantitiesSet,
)
from orderstream.codecs.shopify_admin_documents import mutation_outcome
from orderstream.codecs.shopify_inventory import (
    INVENTORY_ITEM,
    INVENTORY_SET_QUANTITIES,
    InventoryItemVariables,
    StockRequest,
    available,
    decode_request,
    set_variables,
    sku_query,
)
from orderstream.streams.delivery import Effect

from .shopify import Answered, ShopifyClient

SINK = "shopify_stock"


class ShopifyStockChannel:
    """`ShopifyClient` as the stock sink's `Channel`."""

    def __init__(self, client: ShopifyClient) -> None:
        self._client = client

    async def item(self, request: StockRequest) -> InventoryItem | Retryable | Rejected:
        """The shop's one inventory item with the request's SKU, read at its location."""
        variables = InventoryItemVariables(
            query=sku_query(request.sku), location_id=request.location_id
        )
        answer = await self._client.execute(
            InventoryItemsRead, "InventoryItemBySku", INVENTORY_ITEM, variables
        )
        if not isinstance(answer, Answered):
            return answer
        items = answer.data.inventory_items if answer.data else None
        found = [node for node in (items.nodes if items else []) if node.sku == request.sku]
        if len(found) != 1:
            return Rejected(f"{len(found)} inventory items at the shop have SKU {request.sku}")
        return found[0]

    async def send(self, effect: Effect) -> Outcome:
        request = decode_request(effect.request)
        item = await self.item(request)
        if isinstance(item, Retryable | Rejected):
            return item
        answer = await self._client.execute(
            InventoryQuantitiesSet,
            "InventorySetQuantities",
            INVENTORY_SET_QUANTITIES,
            set_variables(request, item.id),
        )
        if not isinstance(answer, Answered):
            return answer
        payload = answer.data.inventory_set_quantities if answer.data else None
        group = payload.inventory_adjustment_group if payload else None
        errors = payload.user_errors if payload else []
        return mutation_outcome(group.id if group else None, errors, answer.body)

    async def settle(self, effect: Effect) -> bool:
        """Whether the location shows the push's units; a read Shopify does not answer
        raises (the delivery mechanism asks again before it sends anything)."""
        request = decode_request(effect.request)
        item = await self.item(request)
        if isinstance(item, Rejected):
            return False  # no such item: sending is refused and dead-lettered
        if isinstance(item, Retryable):
            raise ConnectionError(f"shopify: cannot read the inventory item ({item.reason})")
        return available(item) == request.quantity
