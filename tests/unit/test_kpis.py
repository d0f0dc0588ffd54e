"""The KPI arithmetic (streams/kpis.py): nearest-rank percentiles, exact percentages, the
on-time rule, first-attempt allocation, accuracy, and parcel costs with and without bundles."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from orderstream.streams.kpis import (
    CostSummary,
    OrderFacts,
    ParcelCost,
    ParcelFacts,
    kpis,
    nearest_rank,
    parcel_costs,
    rate,
    shipped_on_time,
)
from orderstream.streams.money import Money
from orderstream.streams.status import OrderStatus

PLACED = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def order(**changes: object) -> OrderFacts:
    fields: dict[str, object] = {"oms_order_id": "shopify:1", "channel": "shopify"}
    fields["placed_at"] = PLACED
    fields.update(changes)
    return OrderFacts(**fields)  # type: ignore[arg-type]


def parcel(shipment: str, cost: int | None, bundle: str = "", currency: str = "EUR") -> ParcelFacts:
    return ParcelFacts(
        oms_order_id=f"shopify:{shipment}",
        shipment_id=shipment,
        location="WH-AMS",
        carrier="postnl",
        cost=None if cost is None else Money(cost, currency),
        bundle_key=bundle,
    )


def test_nearest_rank_picks_a_sample_value() -> None:
    values = [40, 10, 30, 20]
    assert [nearest_rank(values, p) for p in (1, 25, 50, 51, 75, 95, 100)] == [
        10,
        10,
        20,
        30,
        30,
        40,
        40,
    ]
    assert nearest_rank([], 50) is None
    assert nearest_rank([7], 95) == 7


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=50), st.integers(1, 100))
def test_a_percentile_has_at_least_its_share_of_values_at_or_below_it(
    values: list[int], percentile: int
) -> None:
    found = nearest_rank(values, percentile)
    assert found in values
    at_or_below = sum(v <= found for v in values)  # type: ignore[operator]
    assert at_or_below * 100 >= percentile * len(values)
    below = sum(v < found for v in values)  # type: ignore[operator]
    assert below * 100 < percentile * len(values)


def test_percentages_are_exact_strings_rounded_half_up() -> None:
    assert rate(1, 8).percent == "12.50"
    assert rate(1, 3).percent == "33.33"
    assert rate(2, 3).percent == "66.67"
    assert rate(1, 200).percent == "0.50"
    assert rate(1, 400).percent == "0.25"
    assert rate(1, 800).percent == "0.13"  # 0.125 rounds up, not to even
    assert rate(0, 0).percent is None
    assert rate(5, 5).percent == "100.00"


def test_an_order_ships_on_time_by_its_ship_date_in_the_calendar_s_zone() -> None:
    late_evening = PLACED.replace(hour=23, minute=30)  # 00:30 the next day in Amsterdam
    due = order(first_shipped_at=late_evening, planned_ship_date=date(2026, 11, 27))
    assert shipped_on_time(due, UTC) is True
    assert shipped_on_time(due, AMSTERDAM) is False
    assert shipped_on_time(order(first_shipped_at=late_evening), UTC) is None  # no promise
    assert shipped_on_time(order(planned_ship_date=date(2026, 11, 27)), UTC) is None  # unshipped


def test_the_channel_s_cut_off_is_kept_to_the_instant() -> None:
    cut_off = PLACED + timedelta(hours=4)
    at_cut_off = order(first_shipped_at=cut_off, promised_ship_by=cut_off)
    assert shipped_on_time(at_cut_off, UTC) is True
    after = order(first_shipped_at=cut_off + timedelta(seconds=1), promised_ship_by=cut_off)
    assert shipped_on_time(after, UTC) is False
    both = order(
        first_shipped_at=PLACED + timedelta(hours=1),
        promised_ship_by=cut_off,
        planned_ship_date=date(2026, 11, 26),
    )
    assert shipped_on_time(both, UTC) is False  # within the cut-off, a day after the date


def test_first_attempt_counts_only_orders_with_a_decision() -> None:
    orders = [
        order(first_decision=OrderStatus.ALLOCATED),
        order(first_decision=OrderStatus.BACKORDERED),
        order(first_decision=OrderStatus.PARTIALLY_ALLOCATED),
        order(first_decision=OrderStatus.ON_HOLD),
        order(),
    ]
    found = kpis(orders, [], {}, UTC).first_attempt_allocation
    assert (found.numerator, found.denominator, found.percent) == (1, 4, "25.00")


def test_an_order_with_any_intervention_is_not_accurate() -> None:
    orders = [order(), order(interventions=1), order(interventions=3), order()]
    found = kpis(orders, [], {}, UTC).fulfilment_accuracy
    assert (found.numerator, found.denominator) == (2, 4)


def test_lead_times_are_whole_seconds_of_shipped_orders() -> None:
    orders = [
        order(first_shipped_at=PLACED + timedelta(seconds=59, microseconds=999_999)),
        order(first_shipped_at=PLACED + timedelta(hours=2)),
        order(),
    ]
    lead = kpis(orders, [], {}, UTC).placement_to_shipped
    assert (lead.orders, lead.p50_seconds, lead.p95_seconds) == (2, 59, 7200)


def test_a_bundle_is_one_parcel_at_the_rule_set_s_price() -> None:
    parcels = [parcel("1", 495, "b"), parcel("2", 545, "b"), parcel("3", 395)]
    costs, unpriced = parcel_costs(parcels, {("WH-AMS", "postnl"): Money(495, "EUR")})
    assert costs == [ParcelCost("EUR", CostSummary(3, 1435, 478), CostSummary(2, 890, 445))]
    assert unpriced == 0


def test_a_bundle_without_a_price_in_its_currency_costs_its_dearest_member() -> None:
    parcels = [parcel("1", 495, "b"), parcel("2", 545, "b")]
    priced_in_gbp = {("WH-AMS", "postnl"): Money(400, "GBP")}
    costs, _ = parcel_costs(parcels, priced_in_gbp)
    assert costs[0].with_bundling == CostSummary(1, 545, 545)
    assert parcel_costs(parcels, {})[0][0].with_bundling == CostSummary(1, 545, 545)


def test_currencies_are_kept_apart_and_unpriced_parcels_counted() -> None:
    parcels = [parcel("1", 500), parcel("2", 701, currency="GBP"), parcel("3", None)]
    costs, unpriced = parcel_costs(parcels, {})
    assert [c.currency for c in costs] == ["EUR", "GBP"]
    assert costs[1].without_bundling == CostSummary(1, 701, 701)
    assert unpriced == 1


@given(
    st.lists(
        st.tuples(st.integers(0, 5000), st.sampled_from(["", "a", "b", "c"])),
        min_size=1,
        max_size=30,
    )
)
def test_bundling_never_adds_parcels_and_apart_is_the_sum_of_the_costs(
    rows: list[tuple[int, str]],
) -> None:
    parcels = [parcel(str(i), cost, bundle) for i, (cost, bundle) in enumerate(rows)]
    (costs,), _ = parcel_costs(parcels, {})
    assert costs.without_bundling.total_minor == sum(cost for cost, _ in rows)
    assert costs.without_bundling.parcels == len(rows)
    bundles = {bundle for _, bundle in rows if bundle}
    assert costs.with_bundling.parcels == sum(1 for _, b in rows if not b) + len(bundles)
    assert costs.with_bundling.total_minor <= costs.without_bundling.total_minor
