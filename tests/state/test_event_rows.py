"""Status events become store rows: every event a row, the views the newest per key."""

from __future__ import annotations

import json

import msgspec

from orderstream.state.event_rows import batch_rows, event_row
from tests.builders import status_events


def test_an_event_row_carries_the_event_and_its_json() -> None:
    placed, allocated, *_ = status_events(7)
    row = event_row(allocated)
    assert row[:5] == ("shopify:7:2", "shopify:7", 2, "ALLOCATED", "PLACED")
    assert row[6:8] == ("shopify", "")
    assert json.loads(row[8])["type"] == "order.status_changed.v1"
    assert event_row(placed)[4] is None


def test_the_views_keep_the_highest_seq_of_the_batch_whatever_the_order() -> None:
    events = status_events(1)
    rows = batch_rows(reversed(events))
    assert len(rows.events) == 4
    assert [(o[0], o[2], o[3]) for o in rows.orders] == [("shopify:1", "DELIVERED", 4)]
    (shipment,) = rows.shipments
    assert shipment[1] == "shopify:1/1"
    assert shipment[3:7] == (
        "postnl",
        "3S0000000001",
        "https://track.example/3S0000000001",
        "delivered",
    )
    assert shipment[9] == 4


def test_an_event_without_shipments_moves_no_shipment() -> None:
    placed = status_events(2)[0]
    assert batch_rows([placed]).shipments == []


def test_rows_are_sorted_by_key_so_overlapping_writers_lock_in_one_order() -> None:
    events = [*status_events(9)[:1], *status_events(3)[:2], *status_events(5)[:2]]
    rows = batch_rows(events)
    assert [o[0] for o in rows.orders] == ["shopify:3", "shopify:5", "shopify:9"]
    assert [s[1] for s in rows.shipments] == ["shopify:3/1", "shopify:5/1"]
    assert [r[0] for r in rows.events] == sorted(r[0] for r in rows.events)


def test_the_stored_json_decodes_as_the_event() -> None:
    from orderstream.codecs import internal

    event = status_events(4)[2]
    assert internal.status_changed.decode(event_row(event)[8].encode()) == event
    assert msgspec.json.decode(event_row(event)[8])["shipments"][0]["node"] == "DC-AMS"
