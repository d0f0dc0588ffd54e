"""A split order's parcels, each followed on its own from its location to the customer."""

from __future__ import annotations

import msgspec

from orderstream.benchmarks.pipeline_sim import Simulation
from orderstream.streams.events import (
    FulfilmentStatus,
    ShipmentUpdated,
    TrackingStatus,
    TrackingUpdated,
)
from orderstream.streams.ledger_commands import Commit
from orderstream.streams.order_messages import StatusChanged
from orderstream.streams.order_shipments import Parcel, ShipmentStatus, parcel_of
from orderstream.streams.status import OrderStatus
from tests.builders import NOW, RULES, placed_shopify_order, rejection, split_order, statuses

S = OrderStatus
P = ShipmentStatus
TRACKING = {"WH-AMS": ("postnl", "3SABC01"), "WH-DUS": ("dhl", "JJD0002")}


def shipped(order_id: str, shipment_id: str, location: str) -> ShipmentUpdated:
    carrier, tracking = TRACKING[location]
    return ShipmentUpdated(
        f"wms:{location}:{shipment_id}",
        "wms",
        NOW,
        order_id,
        shipment_id,
        location,
        FulfilmentStatus.SHIPPED,
        carrier=carrier,
        tracking_number=tracking,
        tracking_url=f"https://track.example/{tracking}",
    )


def scanned(
    order_id: str, shipment_id: str, location: str, status: TrackingStatus, description: str = ""
) -> TrackingUpdated:
    carrier, tracking = TRACKING[location]
    return TrackingUpdated(
        f"carrier:{carrier}:{tracking}:{status}",
        "carrier",
        NOW,
        order_id,
        shipment_id,
        carrier,
        tracking,
        status,
        description,
    )


def last(sim: Simulation, order_id: str) -> StatusChanged:
    return [s for s in sim.statuses if s.oms_order_id == order_id][-1]


def test_a_split_order_is_partially_delivered_until_its_last_parcel_is_delivered() -> None:
    sim, order_id, ids = split_order()
    sim.send([shipped(order_id, ids["WH-AMS"], "WH-AMS")])
    sim.send([scanned(order_id, ids["WH-AMS"], "WH-AMS", TrackingStatus.DELIVERED)])
    assert last(sim, order_id).status is S.PARTIALLY_DELIVERED
    sim.send([shipped(order_id, ids["WH-DUS"], "WH-DUS")])
    assert last(sim, order_id).status is S.PARTIALLY_DELIVERED  # accepted, not refused
    assert sum(isinstance(c, Commit) for c in sim.commands) == 2  # both parcels' units
    sim.send([scanned(order_id, ids["WH-DUS"], "WH-DUS", TrackingStatus.DELIVERED)])
    assert statuses(sim, order_id) == [
        S.PLACED,
        S.ALLOCATED,
        S.PICKED,
        S.PACKED,
        S.PARTIALLY_SHIPPED,
        S.PARTIALLY_DELIVERED,
        S.PARTIALLY_DELIVERED,
        S.DELIVERED,
    ]


def test_each_status_event_names_its_parcel_with_its_tracking() -> None:
    sim, order_id, ids = split_order()
    sim.send([shipped(order_id, ids["WH-AMS"], "WH-AMS")])
    (parcel,) = last(sim, order_id).shipments
    assert (parcel.shipment_id, parcel.location, parcel.status) == (
        ids["WH-AMS"],
        "WH-AMS",
        P.SHIPPED,
    )
    assert (parcel.carrier, parcel.tracking_number, parcel.tracking_url) == (
        "postnl",
        "3SABC01",
        "https://track.example/3SABC01",
    )
    assert [line.sku for line in parcel.lines] == ["SCARF-MERINO-GRY"]
    sim.send([scanned(order_id, ids["WH-AMS"], "WH-AMS", TrackingStatus.IN_TRANSIT)])
    moved = last(sim, order_id)
    assert (moved.previous, moved.status) == (S.PARTIALLY_SHIPPED, S.PARTIALLY_SHIPPED)
    assert [(p.shipment_id, p.status) for p in moved.shipments] == [(ids["WH-AMS"], P.IN_TRANSIT)]


def test_the_same_carrier_event_again_changes_nothing() -> None:
    sim, order_id, ids = split_order()
    sim.send([shipped(order_id, ids["WH-AMS"], "WH-AMS")])
    scan = scanned(order_id, ids["WH-AMS"], "WH-AMS", TrackingStatus.DELIVERED)
    sim.send([scan])
    state, published = sim.order(order_id), len(sim.statuses)
    sim.send([scan])  # re-sent by the carrier
    sim.send([scan], replay=True)  # redelivered after a crash
    assert sim.order(order_id) == state
    assert len(sim.statuses) == published


def test_a_late_scan_does_not_take_a_delivered_parcel_back() -> None:
    sim, order_id, ids = split_order()
    sim.send([shipped(order_id, ids["WH-AMS"], "WH-AMS")])
    sim.send([scanned(order_id, ids["WH-AMS"], "WH-AMS", TrackingStatus.DELIVERED)])
    published = len(sim.statuses)
    sim.send([scanned(order_id, ids["WH-AMS"], "WH-AMS", TrackingStatus.IN_TRANSIT)])
    assert parcel_of(sim.order(order_id).shipments[ids["WH-AMS"]]).status is P.DELIVERED
    assert len(sim.statuses) == published


def test_a_carrier_exception_is_its_parcels_not_the_orders() -> None:
    sim, order_id, ids = split_order()
    for location in ("WH-AMS", "WH-DUS"):
        sim.send([shipped(order_id, ids[location], location)])
    sim.send([scanned(order_id, ids["WH-DUS"], "WH-DUS", TrackingStatus.IN_TRANSIT)])
    sim.send(
        [scanned(order_id, ids["WH-AMS"], "WH-AMS", TrackingStatus.EXCEPTION, "address unknown")]
    )
    event = last(sim, order_id)
    assert event.status is S.IN_TRANSIT  # both parcels are with the carrier
    assert event.reason == "address unknown"
    assert [(p.shipment_id, p.status) for p in event.shipments] == [(ids["WH-AMS"], P.EXCEPTION)]
    assert S.EXCEPTION not in statuses(sim, order_id)
    parcels = {sid: parcel_of(v) for sid, v in sim.order(order_id).shipments.items()}
    assert parcels[ids["WH-DUS"]] == Parcel(
        P.IN_TRANSIT, "dhl", "JJD0002", "https://track.example/JJD0002"
    )
    # The carrier finds the address after all: the parcel, then the order, are delivered.
    sim.send([scanned(order_id, ids["WH-AMS"], "WH-AMS", TrackingStatus.DELIVERED)])
    sim.send([scanned(order_id, ids["WH-DUS"], "WH-DUS", TrackingStatus.DELIVERED)])
    assert statuses(sim, order_id)[-2:] == [S.PARTIALLY_DELIVERED, S.DELIVERED]


def test_a_single_parcel_order_moves_as_before() -> None:
    sim = Simulation(RULES, NOW)
    sim.stock("JKT-WOOL-NAVY-M", "WH-DUS", 4)
    sim.stock("SCARF-MERINO-GRY", "WH-DUS", 12)
    placed = placed_shopify_order()
    order_id = placed.order.oms_order_id
    sim.send([placed])
    (request,) = sim.requests
    sim.send([shipped(order_id, request.request_id, "WH-DUS")])
    sim.send([scanned(order_id, request.request_id, "WH-DUS", TrackingStatus.IN_TRANSIT)])
    sim.send([scanned(order_id, request.request_id, "WH-DUS", TrackingStatus.OUT_FOR_DELIVERY)])
    sim.send([scanned(order_id, request.request_id, "WH-DUS", TrackingStatus.DELIVERED)])
    assert statuses(sim, order_id) == [
        S.PLACED,
        S.ALLOCATED,
        S.PICKED,
        S.PACKED,
        S.SHIPPED,
        S.IN_TRANSIT,
        S.DELIVERED,
    ]


def test_a_scan_for_a_shipment_the_order_does_not_have_changes_nothing() -> None:
    sim, order_id, _ = split_order()
    state = sim.order(order_id)
    sim.send([scanned(order_id, f"{order_id}/9", "WH-AMS", TrackingStatus.DELIVERED)])
    assert sim.order(order_id).shipments == state.shipments
    assert statuses(sim, order_id) == [S.PLACED, S.ALLOCATED]


def test_a_shipment_planned_after_a_rejection_gets_an_id_of_its_own() -> None:
    sim = Simulation(RULES, NOW)
    for location in ("WH-DUS", "WH-AMS"):
        sim.stock("JKT-WOOL-NAVY-M", location, 4)
        sim.stock("SCARF-MERINO-GRY", location, 12)
    placed = placed_shopify_order()
    order_id = placed.order.oms_order_id
    sim.send([placed])
    (first,) = sim.requests
    rejected = rejection(
        order_id, first.request_id, first.location, "wms:x:9", NOW, reason="damaged_in_location"
    )
    sim.send([rejected])
    replanned = sim.requests[-1]
    assert replanned.location != first.location
    assert replanned.request_id == f"{order_id}/2"  # /1 was the rejected one
    late = msgspec.structs.replace(
        rejected, idempotency_key="wms:x:10", status=FulfilmentStatus.PICKED
    )
    sim.send([late])  # the rejecting location reports on its shipment after all
    assert parcel_of(sim.order(order_id).shipments[replanned.request_id]).status is P.REQUESTED
