"""Every KPI of the hand-written store (tests/builders.py), computed by hand here, against
what state/kpis.py gathers from a real PostgreSQL (a database of this module's own).

The window is 2026-11-27 (UTC): orders 1001-1005, 2001, 2002 and 3001; pos:4001 was placed
the evening before and is outside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from orderstream.agents.samples import sample_rules_path
from orderstream.agents.worker import read_rules
from orderstream.state.kpis import gather_kpis
from orderstream.streams.kpis import CostSummary, Kpis, ParcelCost, parcel_prices
from tests.builders import STORE_DAY, seeded_store

pytestmark = pytest.mark.integration

RULES = read_rules(sample_rules_path())
PRICES = parcel_prices(RULES)
AMSTERDAM = ZoneInfo(RULES.time_zone)


@pytest.fixture(scope="module")
def store_dsn(postgres_dsn: str) -> Iterator[str]:
    with seeded_store(postgres_dsn, "kpis") as dsn:
        yield dsn


async def measured(dsn: str, channel: str | None = None, **options: Any) -> Kpis:
    conn = await asyncpg.connect(dsn)
    try:
        return await gather_kpis(
            conn,
            STORE_DAY,
            STORE_DAY + timedelta(days=1),
            channel,
            prices=options.get("prices", PRICES),
            zone=options.get("zone", AMSTERDAM),
        )
    finally:
        await conn.close()


async def test_the_day_s_kpis_are_the_hand_computed_ones(store_dsn: str) -> None:
    kpis = await measured(store_dsn)
    assert kpis.orders == 8
    # Placement to first shipped: 1001 6 h, 1002 24 h, 2001 2 h, 1003 10 h 30 m.
    # Sorted 7200, 21600, 37800, 86400: p50 is rank ceil(2.0) = 2, p95 rank ceil(3.8) = 4.
    lead = kpis.placement_to_shipped
    assert (lead.orders, lead.p50_seconds, lead.p95_seconds) == (4, 21_600, 86_400)
    # On time, of the 4 shipped orders with a promise: 1001 (ship date 27th, cut-off 16:00,
    # shipped 14:00). Late: 1002 (shipped on the 28th), 2001 (12:00 after the 11:00 cut-off),
    # 1003 (23:30 UTC is 00:30 on the 28th in Amsterdam).
    assert kpis.on_time_shipping.percent == "25.00"
    assert (kpis.on_time_shipping.numerator, kpis.on_time_shipping.denominator) == (1, 4)
    # First decisions: 1001, 2001, 1003 ALLOCATED; 1002 and 3001 ON_HOLD, 2002 PARTIALLY_
    # ALLOCATED, 1005 BACKORDERED; 1004 has none yet. 3 of 7 = 42.857...
    rate = kpis.first_attempt_allocation
    assert (rate.numerator, rate.denominator, rate.percent) == (3, 7, "42.86")
    # Accurate: 1001, 2001, 1003 and 1004 (no hold or exception row, no ON_HOLD/EXCEPTION).
    accuracy = kpis.fulfilment_accuracy
    assert (accuracy.numerator, accuracy.denominator, accuracy.percent) == (4, 8, "50.00")
    # Shipped parcels: 1001 495 and 1002 545 (bundle B1), 2001 545, 1003 395; 2001's second
    # parcel and 2002's have not left. Apart: 1980 over 4 = 495. Bundled: B1 is one postnl
    # parcel from WH-AMS at the rule set's 495, so 495 + 545 + 395 = 1435 over 3 = 478.33.
    assert kpis.cost_per_shipment == [
        ParcelCost("EUR", CostSummary(4, 1980, 495), CostSummary(3, 1435, 478))
    ]
    assert kpis.unpriced_shipments == 0
    assert kpis.return_rate is None


async def test_a_bundle_without_a_rule_price_costs_its_dearest_member(store_dsn: str) -> None:
    kpis = await measured(store_dsn, prices={})
    # B1 at 545 (1002's cost): 545 + 545 + 395 = 1485 over 3 = 495.
    assert kpis.cost_per_shipment[0].with_bundling == CostSummary(3, 1485, 495)


async def test_ship_dates_count_in_the_rule_set_s_time_zone(store_dsn: str) -> None:
    kpis = await measured(store_dsn, zone=UTC)
    # In UTC 1003 left on the 27th, its planned ship date: on time too.
    assert (kpis.on_time_shipping.numerator, kpis.on_time_shipping.percent) == (2, "50.00")


async def test_one_channel_s_kpis(store_dsn: str) -> None:
    kpis = await measured(store_dsn, "bol")
    # 2001 (allocated, shipped 2 h after placement, after its cut-off) and 2002 (partial).
    assert kpis.orders == 2
    assert kpis.placement_to_shipped.p50_seconds == kpis.placement_to_shipped.p95_seconds == 7200
    assert kpis.on_time_shipping.percent == "0.00"
    assert kpis.first_attempt_allocation.percent == "50.00"
    assert kpis.fulfilment_accuracy.percent == "50.00"
    assert kpis.cost_per_shipment == [
        ParcelCost("EUR", CostSummary(1, 545, 545), CostSummary(1, 545, 545))
    ]


async def test_an_empty_window_has_counts_of_zero_and_no_percentages(store_dsn: str) -> None:
    kpis = await measured(store_dsn, "no-such-channel")
    assert kpis.orders == 0
    assert kpis.placement_to_shipped.p50_seconds is None
    assert kpis.on_time_shipping.percent is None
    assert kpis.fulfilment_accuracy.percent is None
    assert kpis.cost_per_shipment == []
