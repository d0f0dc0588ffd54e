"""Returns: requests from the returns portal, receipts at a dock, inspection results.

The returns portal creates the RMA (`rma_id`) when a customer asks to return lines; the
warehouse receiving the parcel and the inspector grading it report against that RMA. Store
till returns arrive through the POS feed instead.

Idempotency: `returns:{rma_id}:{type}:{event_id}`, the portal's or WMS's own event id; a
re-sent report keeps it, a second receipt against the same RMA (a split parcel) does not.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from orderstream.streams import keys
from orderstream.streams.events import (
    Disposition,
    InspectedLine,
    ReturnInspected,
    ReturnLine,
    ReturnReceived,
    ReturnRequested,
)
from orderstream.streams.normalize import lines_present, never_raises, quantity, refuse, text, utc
from orderstream.streams.rejections import RejectReason

from .common import AwareDatetime, ChannelCodec, Headers, Identifier, Normalized
from .references import order_reference

SOURCE = "returns"


class ReturnEventLine(msgspec.Struct, frozen=True):
    sku: Identifier
    qty: int
    reason: str = ""
    disposition: Literal["restock", "refurbish", "scrap", "return_to_customer"] | None = None
    note: str = ""


class ReturnEvent(msgspec.Struct, frozen=True):
    type: Literal["requested", "received", "inspected"]
    event_id: Identifier
    rma_id: Identifier
    order_reference: Identifier
    occurred_at: AwareDatetime
    lines: list[ReturnEventLine]
    location: Identifier = ""


@never_raises
def normalize_return(event: ReturnEvent, headers: Headers) -> Normalized:
    """Receipts and inspections name the location; every inspected line has a disposition."""
    rma_id = text(event.rma_id, "rma_id", required=True)
    key = keys.idempotency_key(
        SOURCE, rma_id, event.type, text(event.event_id, "event_id", required=True)
    )
    occurred_at = utc(event.occurred_at)
    order_id = order_reference(event.order_reference, "order_reference")
    if event.type == "requested":
        return ReturnRequested(
            idempotency_key=key,
            source=SOURCE,
            occurred_at=occurred_at,
            rma_id=rma_id,
            oms_order_id=order_id,
            lines=_return_lines(event),
        )
    location = text(event.location, "location", required=True)
    if event.type == "received":
        return ReturnReceived(
            idempotency_key=key,
            source=SOURCE,
            occurred_at=occurred_at,
            rma_id=rma_id,
            oms_order_id=order_id,
            location=location,
            lines=_return_lines(event),
        )
    return ReturnInspected(
        idempotency_key=key,
        source=SOURCE,
        occurred_at=occurred_at,
        rma_id=rma_id,
        oms_order_id=order_id,
        location=location,
        lines=_inspected_lines(event),
    )


def _return_lines(event: ReturnEvent) -> tuple[ReturnLine, ...]:
    return lines_present(
        tuple(
            ReturnLine(
                sku=text(line.sku, f"lines[{index}].sku", required=True),
                qty=quantity(line.qty, f"lines[{index}].qty"),
                reason=text(line.reason, f"lines[{index}].reason"),
            )
            for index, line in enumerate(event.lines)
        ),
        "lines",
    )


def _inspected_lines(event: ReturnEvent) -> tuple[InspectedLine, ...]:
    lines = []
    for index, line in enumerate(event.lines):
        if line.disposition is None:
            raise refuse(
                RejectReason.MISSING_FIELD,
                "an inspected line needs a disposition",
                f"lines[{index}].disposition",
            )
        lines.append(
            InspectedLine(
                sku=text(line.sku, f"lines[{index}].sku", required=True),
                qty=quantity(line.qty, f"lines[{index}].qty"),
                disposition=Disposition(line.disposition),
                note=text(line.note, f"lines[{index}].note"),
            )
        )
    return lines_present(tuple(lines), "lines")


CODEC = ChannelCodec(SOURCE, ReturnEvent, normalize_return)
