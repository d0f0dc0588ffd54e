"""The planner routes by the rules: destination, cut-off, splits, cost, SLA, backorder, bundling.

The network used here, on Tuesday 24 November 2026 (Amsterdam and Berlin are UTC+1):

| location     | serves        | cut-off (local)                 | carrier, cost per shipment |
|--------------|---------------|---------------------------------|----------------------------|
| WH-AMS       | Benelux       | 16:00                           | postnl 4.95                |
| WH-DUS       | Benelux, DACH | 14:00, late pick to 20:00 +1.50 | dhl 5.45                   |
| 3PL-ANR      | Benelux       | 12:00, then one handling day    | bpost 3.95 (standard only) |
| STORE-AMS-01 | NL, till only | 15:00                           | none                       |
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderstream.streams import planning
from orderstream.streams.model import (
    Address,
    Channel,
    Customer,
    Delivery,
    FulfilmentMode,
    Order,
    OrderLine,
    PaymentState,
    ServiceLevel,
)
from orderstream.streams.money import Money
from orderstream.streams.plan_types import (
    Atp,
    DecidingRule,
    LocationVerdict,
    Plan,
    PlanKind,
    ShortLine,
    ShortReason,
)
from orderstream.streams.routing import (
    AllocationPolicy,
    BackorderPolicy,
    Bundling,
    CarrierOffer,
    LatePick,
    Location,
    LocationKind,
    PartialAllocation,
    PriorityRules,
    RuleSet,
    ServiceLevelRule,
    ShortageAction,
    SlaMiss,
    Weekday,
)
from orderstream.streams.routing_calendar import Dispatch, dispatch_options
from orderstream.streams.routing_checks import check_rule_set
from orderstream.streams.shipments import bundle_key

TUESDAY = date(2026, 11, 24)
WEDNESDAY = TUESDAY + timedelta(days=1)
THURSDAY = TUESDAY + timedelta(days=2)
BENELUX = ("NL", "BE", "LU")
DACH = ("DE", "AT", "CH")
WEB = (Channel.SHOPIFY, Channel.BOL, Channel.AMAZON)
FAST = (ServiceLevel.STANDARD, ServiceLevel.EXPRESS, ServiceLevel.NEXT_DAY)


def eur(cents: int) -> Money:
    return Money(cents, "EUR")


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def offer(
    carrier: str, cents: int, levels: tuple[ServiceLevel, ...], **transit: int
) -> CarrierOffer:
    return CarrierOffer(
        carrier=carrier, cost=eur(cents), service_levels=levels, transit_days=transit
    )


WH_AMS = Location(
    id="WH-AMS",
    kind=LocationKind.WAREHOUSE,
    country="NL",
    time_zone="Europe/Amsterdam",
    cut_off="16:00",
    channels=WEB,
    serves=("Benelux",),
    carriers=(offer("postnl", 495, FAST, Benelux=1),),
)
WH_DUS = Location(
    id="WH-DUS",
    kind=LocationKind.WAREHOUSE,
    country="DE",
    time_zone="Europe/Berlin",
    cut_off="14:00",
    late_pick=LatePick(cut_off="20:00", surcharge=eur(150)),
    channels=WEB,
    serves=("Benelux", "DACH"),
    carriers=(offer("dhl", 545, FAST, Benelux=1, DACH=1),),
)
PL_ANR = Location(
    id="3PL-ANR",
    kind=LocationKind.THIRD_PARTY,
    country="BE",
    time_zone="Europe/Brussels",
    cut_off="12:00",
    handling_days=1,
    channels=(Channel.SHOPIFY, Channel.BOL),
    serves=("Benelux",),
    carriers=(offer("bpost", 395, (ServiceLevel.STANDARD,), Benelux=1),),
)
STORE = Location(
    id="STORE-AMS-01",
    kind=LocationKind.STORE,
    country="NL",
    time_zone="Europe/Amsterdam",
    cut_off="15:00",
    channels=(Channel.POS,),
    serves=("NL",),
)

RULES = RuleSet(
    version=1,
    name="test-network",
    revision="t1",
    time_zone="Europe/Amsterdam",
    zones={"Benelux": BENELUX, "DACH": DACH},
    locations=(WH_AMS, WH_DUS, PL_ANR, STORE),
    service_levels={
        ServiceLevel.STANDARD: ServiceLevelRule(max_days=3),
        ServiceLevel.EXPRESS: ServiceLevelRule(max_days=2),
        ServiceLevel.NEXT_DAY: ServiceLevelRule(max_days=1),
        ServiceLevel.SAME_DAY: ServiceLevelRule(max_days=0, on_miss=SlaMiss.HOLD),
    },
    max_splits=2,
    priority=PriorityRules(
        vip=100,
        service_levels={ServiceLevel.EXPRESS: 30},
        backorder_replenishment=50,
        channel_priority=20,
    ),
    backorders=BackorderPolicy(channels={Channel.SHOPIFY: ShortageAction.BACKORDER}),
    bundling=Bundling(enabled=True),
)

MORNING = utc(TUESDAY, 9)  # 10:00 in Amsterdam and Berlin: before every cut-off


SECRET = b"routing tests' bundle key secret"


def plan(
    order: Order, atp: Atp, rules: RuleSet, now: datetime, *, replenishing: bool = False
) -> Plan:
    """The planner, with this deployment's bundle key secret."""
    return planning.plan(order, atp, rules, now, replenishing=replenishing, bundle_secret=SECRET)


def rules(**changes: object) -> RuleSet:
    return msgspec.structs.replace(RULES, **changes)


def order(
    *lines: tuple[str, int],
    country: str = "NL",
    channel: Channel = Channel.SHOPIFY,
    level: ServiceLevel = ServiceLevel.STANDARD,
    created: datetime = MORNING,
    email: str = "sanne@example.nl",
    street: str = "Prinsengracht 263",
    customer_tags: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
    mode: FulfilmentMode = FulfilmentMode.MERCHANT,
    pickup_location: str = "",
    latest_delivery: datetime | None = None,
    order_id: str = "1001",
) -> Order:
    price = eur(1000)
    return Order(
        oms_order_id=f"{channel.value}:{order_id}",
        channel=channel,
        channel_order_id=order_id,
        created_at=created,
        currency="EUR",
        payment_state=PaymentState.PAID,
        lines=tuple(
            OrderLine(f"L{i}", sku, qty, price, eur(1000 * qty), eur(0), eur(0))
            for i, (sku, qty) in enumerate(lines or (("SKU-A", 1),), start=1)
        ),
        customer=Customer(
            email=email,
            shipping_address=Address(country=country, line1=street, postcode="1016 GV"),
            tags=customer_tags,
        ),
        delivery=Delivery(
            service_level=level,
            fulfilment_mode=mode,
            pickup_location=pickup_location,
            latest_delivery=latest_delivery,
        ),
        total=eur(1000),
        tags=tags,
    )


def shipped(result: Plan) -> dict[str, list[tuple[str, int]]]:
    """Location -> [(line id, units)] of every shipment."""
    return {s.location: [(ln.line_id, ln.qty) for ln in s.lines] for s in result.shipments}


def short(lines: tuple[ShortLine, ...]) -> list[tuple[str, int, str]]:
    """(line id, units, reason) of each short line."""
    return [(s.line_id, s.qty, s.reason.value) for s in lines]


def test_the_test_network_is_a_valid_rule_set() -> None:
    assert check_rule_set(RULES) == ()


# Destination country picks the location.


@pytest.mark.parametrize(
    ("country", "expected_location", "decided_by"),
    [
        ("NL", "3PL-ANR", DecidingRule.LOWEST_COST),  # all three serve Benelux; the 3PL is cheapest
        ("BE", "3PL-ANR", DecidingRule.LOWEST_COST),
        ("DE", "WH-DUS", DecidingRule.ONLY_CANDIDATE),  # only Düsseldorf serves DACH
        ("AT", "WH-DUS", DecidingRule.ONLY_CANDIDATE),
    ],
)
def test_the_destination_country_decides_which_locations_may_ship(
    country: str, expected_location: str, decided_by: DecidingRule
) -> None:
    atp = {"SKU-A": {"WH-AMS": 5, "WH-DUS": 5, "3PL-ANR": 5}}
    result = plan(order(("SKU-A", 1), country=country), atp, RULES, MORNING)
    assert list(shipped(result)) == [expected_location]
    assert result.explanation.decided_by is decided_by


def test_a_country_no_location_serves_is_held_even_where_backorders_are_allowed() -> None:
    atp = {"SKU-A": {"WH-AMS": 5, "WH-DUS": 5}}
    result = plan(order(("SKU-A", 2), country="FR"), atp, RULES, MORNING)
    assert result.shipments == ()
    assert result.backordered == ()
    assert short(result.held) == [("L1", 2, "no_eligible_node")]
    verdicts = {n.location: n.verdict for n in result.explanation.locations}
    assert verdicts["WH-AMS"] is LocationVerdict.OUT_OF_AREA
    assert verdicts["STORE-AMS-01"] is LocationVerdict.WRONG_CHANNEL


def test_a_channel_a_location_does_not_serve_excludes_it() -> None:
    atp = {"SKU-A": {"3PL-ANR": 5, "WH-AMS": 5}}
    result = plan(order(channel=Channel.AMAZON), atp, RULES, MORNING)
    assert list(shipped(result)) == ["WH-AMS"]
    verdicts = {n.location: n.verdict for n in result.explanation.locations}
    assert verdicts["3PL-ANR"] is LocationVerdict.WRONG_CHANNEL


# Cut-off times, in each location's own time zone.


@pytest.mark.parametrize(
    ("now", "expected", "decided_by"),
    [
        # 15:59 in Amsterdam: WH-AMS still ships today and is cheapest.
        (utc(TUESDAY, 14, 59), ("WH-AMS", TUESDAY, False, True), DecidingRule.LOWEST_COST),
        # 16:00 sharp is too late for Amsterdam; Düsseldorf's late pick (until 20:00) ships today.
        (utc(TUESDAY, 15, 0), ("WH-DUS", TUESDAY, True, True), DecidingRule.SLA),
        (utc(TUESDAY, 18, 59), ("WH-DUS", TUESDAY, True, True), DecidingRule.SLA),
        # 20:00 in Berlin: everyone ships tomorrow; next-day is best effort, the cheapest is late.
        (utc(TUESDAY, 19, 0), ("WH-AMS", WEDNESDAY, False, False), DecidingRule.LOWEST_COST),
    ],
)
def test_next_day_orders_ship_from_whichever_location_is_still_before_its_cut_off(
    now: datetime, expected: tuple[str, date, bool, bool], decided_by: DecidingRule
) -> None:
    atp = {"SKU-A": {"WH-AMS": 5, "WH-DUS": 5}}
    result = plan(order(level=ServiceLevel.NEXT_DAY, created=now), atp, RULES, now)
    (shipment,) = result.shipments
    # (location, ship date, late pick, on time)
    assert (shipment.location, shipment.ship_date, shipment.late_pick, shipment.on_time) == expected
    assert result.explanation.decided_by is decided_by


def test_a_late_pick_adds_its_surcharge_to_the_shipment_cost() -> None:
    now = utc(TUESDAY, 15, 30)
    result = plan(
        order(level=ServiceLevel.NEXT_DAY, created=now), {"SKU-A": {"WH-DUS": 1}}, RULES, now
    )
    assert result.shipments[0].cost == eur(545 + 150)


def test_a_late_pick_is_not_paid_for_when_the_next_regular_pick_keeps_the_promise() -> None:
    now = utc(TUESDAY, 15, 30)  # 16:30 in Berlin: after the 14:00 cut-off, before the late pick
    result = plan(order(created=now), {"SKU-A": {"WH-DUS": 1}}, RULES, now)  # standard: 3 days
    (shipment,) = result.shipments
    assert (shipment.ship_date, shipment.late_pick, shipment.cost) == (WEDNESDAY, False, eur(545))


ALWAYS_OPEN = msgspec.structs.replace(WH_AMS, working_days=tuple(Weekday))


@pytest.mark.parametrize(
    ("now", "ship_date"),
    [
        # Friday 27 March 2026, still CET (UTC+1): 14:30 UTC is 15:30, before the cut-off.
        (datetime(2026, 3, 27, 14, 30, tzinfo=UTC), date(2026, 3, 27)),
        # Sunday 29 March 2026, the day clocks go forward to CEST (UTC+2).
        (datetime(2026, 3, 29, 13, 30, tzinfo=UTC), date(2026, 3, 29)),  # 15:30 local
        (datetime(2026, 3, 29, 14, 30, tzinfo=UTC), date(2026, 3, 30)),  # 16:30 local
        # Monday 30 March: the same 14:30 UTC is now 16:30 local, after the cut-off.
        (datetime(2026, 3, 30, 14, 30, tzinfo=UTC), date(2026, 3, 31)),
        # Sunday 25 October 2026, back to CET: 14:30 UTC is 15:30 again.
        (datetime(2026, 10, 25, 14, 30, tzinfo=UTC), date(2026, 10, 25)),
    ],
)
def test_the_cut_off_follows_the_locations_local_clock_across_daylight_saving_time(
    now: datetime, ship_date: date
) -> None:
    assert dispatch_options(ALWAYS_OPEN, now)[0] == Dispatch(ship_date)


@pytest.mark.parametrize(
    ("now", "ship_date"),
    [
        (datetime(2026, 11, 27, 14, 0, tzinfo=UTC), date(2026, 11, 27)),  # Friday 15:00
        (datetime(2026, 11, 27, 16, 0, tzinfo=UTC), date(2026, 11, 30)),  # Friday 17:00 -> Monday
        (datetime(2026, 11, 28, 9, 0, tzinfo=UTC), date(2026, 11, 30)),  # Saturday -> Monday
    ],
)
def test_a_location_picks_only_on_its_working_days(now: datetime, ship_date: date) -> None:
    assert dispatch_options(WH_AMS, now)[0].ship_date == ship_date


def test_closed_dates_and_handling_days_push_the_ship_date() -> None:
    closed = msgspec.structs.replace(PL_ANR, closed_dates=(WEDNESDAY,))
    # Picked Tuesday morning, one handling day, Wednesday is closed: ships Thursday.
    assert dispatch_options(closed, MORNING) == (Dispatch(THURSDAY),)


def test_a_naive_now_is_a_bug_not_a_plan() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan(order(), {}, RULES, datetime(2026, 11, 24, 9, 0))


# Fewest shipments first, then the rules; max_splits and line splits.


@pytest.mark.parametrize(
    ("atp", "max_splits", "expected", "decided_by"),
    [
        # One location has everything: one shipment, even though WH-AMS is cheaper for line 1.
        (
            {"SKU-A": {"WH-AMS": 5, "WH-DUS": 5}, "SKU-B": {"WH-DUS": 5}},
            2,
            {"WH-DUS": [("L1", 1), ("L2", 1)]},
            DecidingRule.FEWEST_SHIPMENTS,
        ),
        # Nobody has everything: split over two locations.
        (
            {"SKU-A": {"WH-AMS": 5}, "SKU-B": {"WH-DUS": 5}},
            2,
            {"WH-AMS": [("L1", 1)], "WH-DUS": [("L2", 1)]},
            DecidingRule.COVERAGE,
        ),
        # The same, but one shipment allowed: the cheaper location ships its line, the other waits.
        (
            {"SKU-A": {"WH-AMS": 5}, "SKU-B": {"WH-DUS": 5}},
            1,
            {"WH-AMS": [("L1", 1)]},
            DecidingRule.LOWEST_COST,
        ),
    ],
)
def test_fewest_shipments_first_within_max_splits(
    atp: dict[str, dict[str, int]],
    max_splits: int,
    expected: dict[str, list[tuple[str, int]]],
    decided_by: DecidingRule,
) -> None:
    result = plan(order(("SKU-A", 1), ("SKU-B", 1)), atp, rules(max_splits=max_splits), MORNING)
    assert shipped(result) == expected
    assert result.explanation.decided_by is decided_by
    assert len(result.shipments) <= max_splits


def test_a_line_stock_exists_for_beyond_max_splits_waits_as_a_split_limit() -> None:
    atp = {"SKU-A": {"WH-AMS": 5}, "SKU-B": {"WH-DUS": 5}}
    result = plan(order(("SKU-A", 1), ("SKU-B", 1)), atp, rules(max_splits=1), MORNING)
    assert short(result.backordered) == [("L2", 1, "split_limit")]


def test_three_locations_needed_but_two_allowed_ships_the_best_two() -> None:
    atp = {"SKU-A": {"WH-AMS": 1}, "SKU-B": {"WH-DUS": 1}, "SKU-C": {"3PL-ANR": 1}}
    lines = (("SKU-A", 1), ("SKU-B", 1), ("SKU-C", 1))
    result = plan(order(*lines), atp, RULES, MORNING)
    assert len(result.shipments) == 2
    assert sum(s.qty for s in result.backordered) == 1
    # The cheapest pair: 3PL-ANR (3.95) and WH-AMS (4.95).
    assert set(shipped(result)) == {"3PL-ANR", "WH-AMS"}


@pytest.mark.parametrize(
    ("split_lines", "partial", "expected_shipped", "expected_backordered"),
    [
        # A line of 5 with 3 in Amsterdam and 2 in Düsseldorf.
        (False, PartialAllocation.LINES, {}, [("L1", 5, "split_limit")]),
        (True, PartialAllocation.LINES, {"WH-AMS": [("L1", 3)], "WH-DUS": [("L1", 2)]}, []),
        (False, PartialAllocation.UNITS, {"WH-AMS": [("L1", 3)]}, [("L1", 2, "split_limit")]),
    ],
)
def test_a_line_is_split_across_locations_only_when_the_rules_allow(
    split_lines: bool,
    partial: PartialAllocation,
    expected_shipped: dict[str, list[tuple[str, int]]],
    expected_backordered: list[tuple[str, int, str]],
) -> None:
    atp = {"SKU-A": {"WH-AMS": 3, "WH-DUS": 2}}
    policy = AllocationPolicy(partial=partial, split_lines=split_lines)
    result = plan(order(("SKU-A", 5)), atp, rules(allocation=policy), MORNING)
    assert shipped(result) == expected_shipped
    assert short(result.backordered) == expected_backordered


@pytest.mark.parametrize(
    ("partial", "expected_shipped", "expected_backordered"),
    [
        (PartialAllocation.LINES, {"3PL-ANR": [("L1", 2)]}, [("L2", 4, "insufficient_stock")]),
        (
            PartialAllocation.UNITS,
            {"3PL-ANR": [("L1", 2), ("L2", 1)]},
            [("L2", 3, "insufficient_stock")],
        ),
        (
            PartialAllocation.NONE,
            {},
            [("L1", 2, "ship_complete"), ("L2", 4, "insufficient_stock")],
        ),
    ],
)
def test_partial_allocation_policy_decides_what_ships_when_stock_is_short(
    partial: PartialAllocation,
    expected_shipped: dict[str, list[tuple[str, int]]],
    expected_backordered: list[tuple[str, int, str]],
) -> None:
    atp = {"SKU-A": {"3PL-ANR": 9}, "SKU-B": {"3PL-ANR": 1}}
    policy = AllocationPolicy(partial=partial)
    result = plan(order(("SKU-A", 2), ("SKU-B", 4)), atp, rules(allocation=policy), MORNING)
    assert shipped(result) == expected_shipped
    assert short(result.backordered) == expected_backordered


def test_two_lines_of_one_sku_share_a_locations_stock() -> None:
    atp = {"SKU-A": {"WH-AMS": 3, "WH-DUS": 3}}
    result = plan(order(("SKU-A", 2), ("SKU-A", 2)), atp, RULES, MORNING)
    assert shipped(result) == {"WH-AMS": [("L1", 2)], "WH-DUS": [("L2", 2)]}


# Ties: cost, then ETA, then location preference, then location id.


def _twin(location_id: str, cents: int = 495, transit: int = 1) -> Location:
    return msgspec.structs.replace(
        WH_AMS, id=location_id, carriers=(offer("postnl", cents, FAST, Benelux=transit),)
    )


@pytest.mark.parametrize(
    ("locations", "preference", "winner", "decided_by"),
    [
        ((_twin("LOC-B"), _twin("LOC-A")), (), "LOC-A", DecidingRule.LOCATION_ID),
        ((_twin("LOC-A"), _twin("LOC-B")), (), "LOC-A", DecidingRule.LOCATION_ID),
        (
            (_twin("LOC-A"), _twin("LOC-B")),
            ("LOC-B",),
            "LOC-B",
            DecidingRule.LOCATION_PREFERENCE,
        ),
        ((_twin("LOC-A", transit=2), _twin("LOC-B")), (), "LOC-B", DecidingRule.EARLIEST_ETA),
        ((_twin("LOC-A", 500), _twin("LOC-B", 499)), (), "LOC-B", DecidingRule.LOWEST_COST),
    ],
)
def test_cost_ties_are_broken_by_eta_then_preference_then_location_id(
    locations: tuple[Location, ...],
    preference: tuple[str, ...],
    winner: str,
    decided_by: DecidingRule,
) -> None:
    network = rules(locations=locations, location_preference=preference)
    atp = {"SKU-A": {"LOC-A": 5, "LOC-B": 5}}
    result = plan(order(), atp, network, MORNING)
    assert list(shipped(result)) == [winner]
    assert result.explanation.decided_by is decided_by


# Service levels that cannot be met.


def test_a_missed_promise_is_held_when_the_service_level_says_hold() -> None:
    strict = rules(
        service_levels={
            **RULES.service_levels,
            ServiceLevel.NEXT_DAY: ServiceLevelRule(max_days=1, on_miss=SlaMiss.HOLD),
        }
    )
    late = utc(TUESDAY, 19, 30)  # after every cut-off: nothing arrives tomorrow
    result = plan(
        order(level=ServiceLevel.NEXT_DAY, created=late), {"SKU-A": {"WH-AMS": 5}}, strict, late
    )
    assert result.shipments == ()
    assert short(result.held) == [("L1", 1, "sla_unachievable")]
    assert {n.verdict for n in result.explanation.locations if n.location.startswith("WH")} == {
        LocationVerdict.MISSES_SLA
    }


def test_a_missed_best_effort_promise_ships_the_soonest_and_says_it_is_late() -> None:
    late = utc(TUESDAY, 19, 30)
    result = plan(
        order(level=ServiceLevel.NEXT_DAY, created=late), {"SKU-A": {"WH-AMS": 5}}, RULES, late
    )
    (shipment,) = result.shipments
    assert (shipment.location, shipment.eta, shipment.on_time) == ("WH-AMS", THURSDAY, False)


def test_an_on_time_location_beats_a_cheaper_late_one() -> None:
    now = utc(TUESDAY, 15, 30)  # Amsterdam missed its cut-off, Düsseldorf's late pick has not
    atp = {"SKU-A": {"WH-AMS": 5, "WH-DUS": 5}}
    result = plan(order(level=ServiceLevel.NEXT_DAY, created=now), atp, RULES, now)
    assert list(shipped(result)) == ["WH-DUS"]
    assert result.explanation.decided_by is DecidingRule.SLA


def test_no_carrier_for_the_service_level_holds_the_order() -> None:
    result = plan(order(level=ServiceLevel.SAME_DAY), {"SKU-A": {"WH-AMS": 5}}, RULES, MORNING)
    assert short(result.held) == [("L1", 1, "no_eligible_node")]
    verdicts = {n.location: n.verdict for n in result.explanation.locations}
    assert verdicts["WH-AMS"] is LocationVerdict.NO_CARRIER


def test_a_service_level_without_a_rule_is_held() -> None:
    result = plan(order(level=ServiceLevel.ECONOMY), {"SKU-A": {"WH-AMS": 5}}, RULES, MORNING)
    assert short(result.held) == [("L1", 1, "unknown_service_level")]


def test_a_marketplace_delivery_promise_earlier_than_the_sla_is_the_deadline() -> None:
    promised = utc(TUESDAY + timedelta(days=1), 22, 59)  # Wednesday, end of day in Amsterdam
    result = plan(
        order(latest_delivery=promised), {"SKU-A": {"3PL-ANR": 5, "WH-AMS": 5}}, RULES, MORNING
    )
    assert result.explanation.deadline == WEDNESDAY
    # The 3PL is cheaper but its handling day makes it arrive Thursday.
    assert list(shipped(result)) == ["WH-AMS"]


def test_an_order_without_a_shipping_address_is_held() -> None:
    bare = msgspec.structs.replace(order(), customer=Customer(email="x@example.nl"))
    result = plan(bare, {"SKU-A": {"WH-AMS": 5}}, RULES, MORNING)
    assert short(result.held) == [("L1", 1, "no_destination")]


# Backorder or hold, per channel.


@pytest.mark.parametrize(
    ("channel", "backordered", "held"),
    [
        (Channel.SHOPIFY, [("L1", 2, "insufficient_stock")], []),
        (Channel.BOL, [], [("L1", 2, "insufficient_stock")]),
        (Channel.AMAZON, [], [("L1", 2, "insufficient_stock")]),
    ],
)
def test_short_units_are_backordered_or_held_as_the_channel_policy_says(
    channel: Channel, backordered: list[tuple[str, int, str]], held: list[tuple[str, int, str]]
) -> None:
    result = plan(order(("SKU-A", 2), channel=channel), {"SKU-A": {"WH-AMS": 1}}, RULES, MORNING)
    assert result.shipments == ()
    assert short(result.backordered) == backordered
    assert short(result.held) == held


# Store and marketplace orders.


def test_a_store_sale_is_handed_over_at_its_store_without_routing() -> None:
    sale = order(
        ("SKU-A", 2),
        channel=Channel.POS,
        level=ServiceLevel.CARRY_OUT,
        mode=FulfilmentMode.STORE,
        pickup_location="STORE-AMS-01",
    )
    # The replica is stale (shows 1): the customer already walked out with 2.
    result = plan(sale, {"SKU-A": {"STORE-AMS-01": 1}}, RULES, MORNING)
    assert result.kind is PlanKind.STORE
    assert shipped(result) == {"STORE-AMS-01": [("L1", 2)]}
    assert result.shipments[0].carrier == ""
    assert result.explanation.decided_by is DecidingRule.STORE_HANDOVER


def test_a_store_order_for_a_location_not_in_the_rules_is_held() -> None:
    sale = order(channel=Channel.POS, level=ServiceLevel.CARRY_OUT, pickup_location="STORE-XYZ")
    result = plan(sale, {}, RULES, MORNING)
    assert short(result.held) == [("L1", 1, "unknown_pickup_node")]


def test_a_reserve_and_collect_store_order_takes_only_what_the_store_has() -> None:
    collect = order(
        ("SKU-A", 2),
        level=ServiceLevel.PICKUP,
        mode=FulfilmentMode.STORE,
        pickup_location="STORE-AMS-01",
    )
    result = plan(collect, {"SKU-A": {"STORE-AMS-01": 1}}, RULES, MORNING)
    assert short(result.backordered) == [("L1", 2, "insufficient_stock")]


def test_a_marketplace_fulfilled_order_is_not_routed() -> None:
    fba = order(("SKU-A", 1), ("SKU-B", 2), channel=Channel.AMAZON, mode=FulfilmentMode.MARKETPLACE)
    result = plan(fba, {"SKU-A": {"WH-AMS": 5}}, RULES, MORNING)
    assert result.kind is PlanKind.MARKETPLACE
    assert (result.shipments, result.backordered, result.held) == ((), (), ())
    assert [(ln.line_id, ln.qty) for ln in result.external] == [("L1", 1), ("L2", 2)]
    assert result.explanation.decided_by is DecidingRule.MARKETPLACE_FULFILLED


def test_lines_the_marketplace_ships_are_left_out_of_a_mixed_order() -> None:
    merchant = order(("SKU-A", 1), ("SKU-B", 1), channel=Channel.BOL)
    ours, theirs = merchant.lines
    theirs = msgspec.structs.replace(theirs, marketplace_fulfilled=True)
    mixed = msgspec.structs.replace(merchant, lines=(ours, theirs))
    result = plan(mixed, {"SKU-A": {"WH-AMS": 5}, "SKU-B": {"WH-AMS": 5}}, RULES, MORNING)
    assert result.kind is PlanKind.ROUTED
    assert shipped(result) == {"WH-AMS": [("L1", 1)]}
    assert [ln.line_id for ln in result.external] == ["L2"]


# Bundling.


def _key(result: Plan) -> str:
    (shipment,) = result.shipments
    return shipment.bundle_key


ATP_AMS = {"SKU-A": {"WH-AMS": 9}, "SKU-B": {"WH-AMS": 9}}


@pytest.mark.parametrize(
    ("second", "now", "same_bundle"),
    [
        (order(("SKU-B", 1), order_id="1002"), MORNING, True),
        (order(("SKU-B", 1), order_id="1002", email="SANNE@example.nl "), MORNING, True),
        (order(("SKU-B", 1), order_id="1002", email="other@example.nl"), MORNING, False),
        (order(("SKU-B", 1), order_id="1002", street="Keizersgracht 1"), MORNING, False),
        # After Amsterdam's cut-off the second order ships tomorrow: another parcel.
        (order(("SKU-B", 1), order_id="1002"), utc(TUESDAY, 15, 30), False),
    ],
)
def test_two_orders_of_one_customer_bundle_only_to_the_same_address_location_and_ship_date(
    second: Order, now: datetime, same_bundle: bool
) -> None:
    first = plan(order(("SKU-A", 1)), ATP_AMS, RULES, MORNING)
    other = plan(second, ATP_AMS, RULES, now)
    assert _key(first)
    assert (_key(first) == _key(other)) is same_bundle


def test_bundle_keys_differ_by_location_and_carry_no_personal_data() -> None:
    one = order()
    key = bundle_key(one, "WH-AMS", "postnl", TUESDAY, SECRET)
    assert key != bundle_key(one, "WH-DUS", "postnl", TUESDAY, SECRET)
    assert key.startswith("WH-AMS:2026-11-24:")
    assert "sanne" not in key and "Prinsengracht" not in key


def test_a_bundle_key_is_keyed_with_the_deployment_secret() -> None:
    one = order()
    key = bundle_key(one, "WH-AMS", "postnl", TUESDAY, SECRET)
    assert key == bundle_key(one, "WH-AMS", "postnl", TUESDAY, SECRET)
    assert key != bundle_key(one, "WH-AMS", "postnl", TUESDAY, b"another deployment's secret")
    # not a bare hash of e-mail and address that anyone could recompute from a guess
    address = one.customer.shipping_address
    assert address is not None
    fields = [one.customer.email.casefold(), address.country, address.postcode.replace(" ", "")]
    fields += [" ".join(v.casefold().split()) for v in (address.name, address.line1)]
    fields += [address.line2, address.house_number, address.city.casefold()]
    fields += ["WH-AMS", "postnl", TUESDAY.isoformat()]
    bare = hashlib.sha256("\x1f".join(fields).encode()).hexdigest()[:20]
    assert key.rsplit(":", 1)[1] != bare


def test_planning_with_bundling_on_and_no_secret_is_a_bug_not_a_quiet_default() -> None:
    with pytest.raises(ValueError, match="secret"):
        planning.plan(order(("SKU-A", 1)), ATP_AMS, RULES, MORNING)
    unbundled = rules(bundling=Bundling(enabled=False))
    assert planning.plan(order(("SKU-A", 1)), ATP_AMS, unbundled, MORNING).shipments


def test_no_bundle_key_without_bundling_or_without_a_known_customer() -> None:
    assert _key(plan(order(), ATP_AMS, rules(bundling=Bundling(enabled=False)), MORNING)) == ""
    assert _key(plan(order(email=""), ATP_AMS, RULES, MORNING)) == ""


# Priority and explanation.


def test_priority_adds_vip_service_level_channel_flag_and_replenishment_points() -> None:
    vip = order(level=ServiceLevel.EXPRESS, customer_tags=("VIP", "newsletter"))
    assert plan(vip, ATP_AMS, RULES, MORNING).priority == 130
    assert plan(vip, ATP_AMS, RULES, MORNING, replenishing=True).priority == 180
    assert plan(order(), ATP_AMS, RULES, MORNING).priority == 0
    prime = msgspec.structs.replace(order(), delivery=Delivery(ServiceLevel.STANDARD, priority=1))
    assert plan(prime, ATP_AMS, RULES, MORNING).priority == 20


def test_the_explanation_lists_every_location_the_candidates_and_the_deciding_rule() -> None:
    atp = {"SKU-A": {"WH-AMS": 5, "WH-DUS": 5}, "SKU-B": {"WH-DUS": 5}}
    result = plan(order(("SKU-A", 1), ("SKU-B", 1)), atp, RULES, MORNING)
    why = result.explanation
    assert [n.location for n in why.locations] == ["3PL-ANR", "STORE-AMS-01", "WH-AMS", "WH-DUS"]
    assert {n.location: n.verdict for n in why.locations} == {
        "3PL-ANR": LocationVerdict.NO_STOCK,
        "STORE-AMS-01": LocationVerdict.WRONG_CHANNEL,
        "WH-AMS": LocationVerdict.ELIGIBLE,
        "WH-DUS": LocationVerdict.ELIGIBLE,
    }
    best, runner_up = why.candidates[:2]
    assert (best.rank, best.locations, best.shipments, best.cost) == (1, ("WH-DUS",), 1, eur(545))
    assert (runner_up.locations, runner_up.shipments, runner_up.cost) == (
        ("WH-AMS", "WH-DUS"),
        2,
        eur(1040),
    )
    assert why.decided_by is DecidingRule.FEWEST_SHIPMENTS
    assert "fewest_shipments" in why.summary and "WH-DUS needs 1 shipment" in why.summary
    assert (why.rules, why.rules_revision) == ("test-network", "t1")


def test_an_order_nobody_has_stock_for_says_no_candidate() -> None:
    result = plan(order(), {}, RULES, MORNING)
    assert result.explanation.decided_by is DecidingRule.NO_CANDIDATE
    assert result.explanation.candidates == ()


# Properties.

SKUS = ("SKU-A", "SKU-B", "SKU-C")
LOCATIONS = ("WH-AMS", "WH-DUS", "3PL-ANR", "STORE-AMS-01")


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Order, dict[str, dict[str, int]], RuleSet]:
    lines = draw(
        st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 6)), min_size=1, max_size=5)
    )
    atp = {
        sku: {loc: draw(st.integers(0, 6)) for loc in draw(st.sets(st.sampled_from(LOCATIONS)))}
        for sku in draw(st.sets(st.sampled_from(SKUS)))
    }
    network = rules(
        max_splits=draw(st.integers(1, 3)),
        allocation=AllocationPolicy(
            partial=draw(st.sampled_from(PartialAllocation)), split_lines=draw(st.booleans())
        ),
    )
    the_order = order(
        *lines,
        channel=draw(st.sampled_from(WEB)),
        country=draw(st.sampled_from(("NL", "BE", "DE", "FR"))),
        level=draw(st.sampled_from((ServiceLevel.STANDARD, ServiceLevel.NEXT_DAY))),
    )
    return the_order, atp, network


NOWS = st.integers(0, 7 * 24 * 4).map(lambda quarter: MORNING + timedelta(minutes=15 * quarter))


@settings(max_examples=300, deadline=None)
@given(scenarios(), NOWS)
def test_planned_units_never_exceed_atp_per_location_and_sku(
    scenario: tuple[Order, dict[str, dict[str, int]], RuleSet], now: datetime
) -> None:
    the_order, atp, network = scenario
    result = plan(the_order, atp, network, now)
    planned: dict[tuple[str, str], int] = {}
    for shipment in result.shipments:
        for line in shipment.lines:
            planned[shipment.location, line.sku] = (
                planned.get((shipment.location, line.sku), 0) + line.qty
            )
    for (location, sku), units in planned.items():
        assert units <= atp.get(sku, {}).get(location, 0)
    assert len(result.shipments) <= network.max_splits
    assert len({s.location for s in result.shipments}) == len(result.shipments)


@settings(max_examples=300, deadline=None)
@given(scenarios(), NOWS)
def test_every_line_ends_allocated_backordered_or_held_summing_to_what_was_ordered(
    scenario: tuple[Order, dict[str, dict[str, int]], RuleSet], now: datetime
) -> None:
    the_order, atp, network = scenario
    result = plan(the_order, atp, network, now)
    accounted: dict[str, int] = {}
    for shipment in result.shipments:
        for line in shipment.lines:
            accounted[line.line_id] = accounted.get(line.line_id, 0) + line.qty
    for item in (*result.backordered, *result.held):
        accounted[item.line_id] = accounted.get(item.line_id, 0) + item.qty
    assert accounted == {line.line_id: line.qty for line in the_order.lines}
    if network.backorders.action_for(the_order.channel) is ShortageAction.HOLD:
        assert result.backordered == ()
    assert all(
        item.reason is not ShortReason.SHIP_COMPLETE or result.shipments == ()
        for item in result.held
    )


@settings(max_examples=150, deadline=None)
@given(scenarios(), NOWS)
def test_the_same_inputs_in_any_order_give_the_same_plan(
    scenario: tuple[Order, dict[str, dict[str, int]], RuleSet], now: datetime
) -> None:
    the_order, atp, network = scenario
    shuffled_order = msgspec.structs.replace(the_order, lines=the_order.lines[::-1])
    shuffled_atp = {sku: dict(reversed(locs.items())) for sku, locs in reversed(atp.items())}
    shuffled_rules = msgspec.structs.replace(network, locations=network.locations[::-1])
    assert plan(the_order, atp, network, now) == plan(
        shuffled_order, shuffled_atp, shuffled_rules, now
    )
