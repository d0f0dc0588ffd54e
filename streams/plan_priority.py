"""An order's place in the queue: the points each priority rule gives it.

VIP customers (by customer tag, case-insensitive), faster service levels, the channel's own
priority flag, and a backorder being replenished each add their rule's points; the priority
is their sum.
"""

from __future__ import annotations

from .model import Order
from .plan_types import PriorityPart
from .routing import RuleSet


def priority_of(
    order: Order, rules: RuleSet, *, replenishing: bool = False
) -> tuple[PriorityPart, ...]:
    """The points that put an order ahead in the queue (sum them for the priority)."""
    points = rules.priority
    parts: list[PriorityPart] = []
    vip = {tag.casefold() for tag in points.vip_tags}
    if points.vip and any(tag.casefold() in vip for tag in order.customer.tags):
        parts.append(PriorityPart("vip", points.vip))
    level = order.delivery.service_level
    if points.service_levels.get(level):
        parts.append(PriorityPart(f"service_level:{level.value}", points.service_levels[level]))
    if points.channel_priority and order.delivery.priority:
        parts.append(
            PriorityPart("channel_priority", points.channel_priority * order.delivery.priority)
        )
    if replenishing and points.backorder_replenishment:
        parts.append(PriorityPart("backorder_replenishment", points.backorder_replenishment))
    return tuple(parts)
