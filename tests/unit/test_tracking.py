"""A carrier scan that names only its parcel finds its order through the tracking table."""

from __future__ import annotations

import json
from datetime import timedelta

from orderstream.benchmarks.pipeline_sim import stored_keys
from orderstream.codecs import internal
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams import keys
from orderstream.streams.events import (
    FulfilmentStatus,
    ParcelScanned,
    ShipmentUpdated,
    TrackingStatus,
    TrackingUpdated,
)
from orderstream.streams.order_messages import ShipmentTracked
from orderstream.streams.order_shipments import ShipmentStatus, parcel_of
from orderstream.streams.status import OrderStatus
from orderstream.streams.tracking import (
    MAX_WAITING,
    TrackedShipment,
    TrackingVerdict,
    decide_tracking,
    tracking_ended,
)
from tests.builders import FIXTURES, NOW, split_order, statuses

S = OrderStatus


def registration(number: str = "JJD0002") -> ShipmentTracked:
    return ShipmentTracked("DHL", number, "shopify:1", "shopify:1/2", NOW)


def scan(status: TrackingStatus = TrackingStatus.IN_TRANSIT, minute: int = 0) -> ParcelScanned:
    at = NOW + timedelta(minutes=minute)
    return ParcelScanned(
        f"carrier:dhl:JJD0002:{status}:{minute}", "carrier", at, "dhl", "JJD0002", status
    )


def test_a_registration_and_a_scan_share_one_key_whoever_spells_the_carrier() -> None:
    assert registration().key == scan().key == keys.tracking_key("dhl", "JJD0002") == "dhl:JJD0002"


def test_a_scan_of_a_registered_parcel_is_attributed_to_its_order_and_shipment() -> None:
    row = decide_tracking(None, registration()).row
    decision = decide_tracking(row, scan())
    assert decision.verdict is TrackingVerdict.ATTRIBUTED
    (update,) = decision.updates
    assert (update.oms_order_id, update.shipment_id) == ("shopify:1", "shopify:1/2")
    assert update.idempotency_key == scan().idempotency_key  # the order dedupes it as sent
    assert update.key == "shopify:1"


def test_a_scan_before_its_registration_waits_once_and_goes_when_it_comes() -> None:
    early = decide_tracking(None, scan())
    assert early.verdict is TrackingVerdict.WAITING
    again = decide_tracking(early.row, scan())
    assert again.verdict is TrackingVerdict.DUPLICATE
    assert again.row == early.row
    registered = decide_tracking(again.row, registration())
    assert registered.row.waiting == ()
    assert [u.shipment_id for u in registered.updates] == ["shopify:1/2"]


def test_too_many_scans_for_an_unknown_number_are_refused() -> None:
    row = None
    for minute in range(MAX_WAITING):
        row = decide_tracking(row, scan(minute=minute)).row
    assert decide_tracking(row, scan(minute=MAX_WAITING)).verdict is TrackingVerdict.FULL


def test_a_row_ends_its_retention_after_it_shipped_or_after_its_oldest_waiting_scan() -> None:
    life = timedelta(days=60)
    shipped = TrackedShipment("shopify:1", "shopify:1/2", NOW)
    assert not tracking_ended(shipped, NOW + life, life)
    assert tracking_ended(shipped, NOW + life + timedelta(seconds=1), life)
    waiting = TrackedShipment(waiting=(scan(),))
    assert tracking_ended(waiting, NOW + life + timedelta(seconds=1), life)
    stored = internal.encode(shipped)
    assert internal.tracked_shipment.decode(stored) == shipped


def test_a_carrier_payload_without_references_becomes_a_scan_keyed_by_its_parcel() -> None:
    raw = (FIXTURES / "carrier/in_transit_tracking_only.json").read_bytes()
    event = normalize_payload(Source.CARRIER, raw, {})
    assert isinstance(event, ParcelScanned)
    assert event.key == "dhl:JJD000390007750181"
    labelled = json.loads((FIXTURES / "carrier/delivered.json").read_bytes())
    assert isinstance(
        normalize_payload(Source.CARRIER, json.dumps(labelled).encode(), {}), TrackingUpdated
    )


def test_a_tracking_only_scan_moves_its_parcel_of_a_split_order() -> None:
    sim, order_id, ids = split_order()
    sim.send(
        [
            ShipmentUpdated(
                "wms:dus:1",
                "wms",
                NOW,
                order_id,
                ids["WH-DUS"],
                "WH-DUS",
                FulfilmentStatus.SHIPPED,
                carrier="DHL",
                tracking_number="JJD0002",
            )
        ]
    )
    assert stored_keys(sim.tracking) == ["dhl:JJD0002"]
    for status in (TrackingStatus.IN_TRANSIT, TrackingStatus.DELIVERED):
        sim.send(sim.track(scan(status)))
    parcel = parcel_of(sim.order(order_id).shipments[ids["WH-DUS"]])
    assert (parcel.status, parcel.tracking_number) == (ShipmentStatus.DELIVERED, "JJD0002")
    assert statuses(sim, order_id)[-1] is S.PARTIALLY_DELIVERED
    published = len(sim.statuses)
    sim.send(sim.track(scan(TrackingStatus.DELIVERED)))  # the carrier sends it again
    assert len(sim.statuses) == published
