"""Bundling: a customer's shipments from one location on one ship date become one parcel."""

from __future__ import annotations

from orderstream.streams.bundling import join
from tests.builders import fulfilment_request as request


def test_a_lone_shipment_is_no_bundle_and_a_second_order_makes_one() -> None:
    bundle, bundled = join(None, request("o1"))
    assert bundled is None
    bundle, bundled = join(bundle, request("o2"))
    assert bundled is not None
    assert bundled.request_ids == ("o1/1", "o2/1")
    assert bundled.oms_order_ids == ("o1", "o2")
    assert [ln.sku for ln in bundled.lines] == ["SKU-o1", "SKU-o2"]
    assert (bundled.event_id, bundled.version, bundled.location) == ("k1:2", 2, "WH-AMS")
    bundle, third = join(bundle, request("o3"))
    assert third is not None and third.version == 3  # supersedes version 2


def test_a_replayed_request_changes_nothing_and_publishes_nothing() -> None:
    bundle, _ = join(None, request("o1"))
    bundle, _ = join(bundle, request("o2"))
    again, bundled = join(bundle, request("o2"))
    assert again == bundle
    assert bundled is None


def test_one_orders_own_shipments_do_not_make_a_bundle() -> None:
    bundle, _ = join(None, request("o1", 1))
    _, bundled = join(bundle, request("o1", 2))
    assert bundled is None
