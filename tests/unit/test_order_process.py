"""The order process, end to end in memory: validation, planning, reservations, outcomes."""

from __future__ import annotations

import msgspec
import pytest

from orderstream.benchmarks.pipeline_sim import BUNDLE_SECRET, Simulation
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import (
    FulfilmentStatus,
    OrderCancelled,
    OrderPlaced,
    OrderUpdated,
    PaymentUpdated,
    ShipmentUpdated,
    TrackingStatus,
    TrackingUpdated,
)
from orderstream.streams.inventory import ReservationAnswered, refused_unreadable
from orderstream.streams.ledger_commands import AwaitStock, Commit, Release, Reserve
from orderstream.streams.model import Address, PaymentState, Risk
from orderstream.streams.order_messages import StatusChanged
from orderstream.streams.order_process import OrderContext, decide
from orderstream.streams.order_shipments import ShipmentStatus
from orderstream.streams.order_state import LineState, OrderState
from orderstream.streams.order_step import pending
from orderstream.streams.plan_types import Atp, DecidingRule
from orderstream.streams.routing import BackorderPolicy, ShortageAction
from orderstream.streams.status import ORDER_TRANSITIONS, OrderStatus
from orderstream.streams.validation import served_countries
from tests.builders import FIXTURES, NOW, RULES, STOCKED, rejection, split_order, statuses
from tests.builders import placed_shopify_order as shopify_order

S = OrderStatus


def sim_with_stock(**stock: dict[str, int]) -> Simulation:
    sim = Simulation(RULES, NOW)
    for sku, places in stock.items():
        for location, qty in places.items():
            sim.stock(sku.replace("_", "-"), location, qty)
    return sim


def order_context(atp: Atp, position: str = "") -> OrderContext:
    """The order agent's context at NOW with the sample rules, as the worker builds it."""
    return OrderContext(
        now=NOW,
        rules=RULES,
        atp=atp,
        served=served_countries(RULES),
        position=position,
        bundle_secret=BUNDLE_SECRET,
    )


STOCKED_ATP = {sku.replace("_", "-"): places for sku, places in STOCKED.items()}


def test_a_paid_order_with_stock_is_placed_reserved_and_allocated_in_one_shipment() -> None:
    sim = sim_with_stock(**STOCKED)
    placed = shopify_order()
    sim.send([placed])
    order_id = placed.order.oms_order_id
    assert statuses(sim, order_id) == [S.PLACED, S.ALLOCATED]
    allocated = sim.statuses[-1]
    assert [s.event_id for s in sim.statuses] == [f"{order_id}:1", f"{order_id}:2"]
    # placed by the channel's input, allocated on the stock owner's answer
    assert [s.source for s in sim.statuses] == ["shopify", "inventory"]
    assert [(sh.location, [ln.qty for ln in sh.lines]) for sh in allocated.shipments] == [
        ("WH-DUS", [1, 2])
    ]
    assert allocated.decided_by is DecidingRule.FEWEST_SHIPMENTS
    [decision] = sim.allocations
    assert (decision.event_id, decision.seq) == (allocated.event_id, allocated.seq)
    assert decision.explanation.decided_by is allocated.decided_by
    assert [(c.shipment_id, c.location) for c in decision.costs] == [
        (allocated.shipments[0].shipment_id, "WH-DUS")
    ]
    assert decision.costs[0].cost.amount_minor > 0
    assert [r.location for r in sim.requests] == ["WH-DUS"]
    assert sim.ledger("JKT-WOOL-NAVY-M").locations["WH-DUS"].reserved == 1
    assert sim.ledger("SCARF-MERINO-GRY").locations["WH-DUS"].reserved == 2


def test_a_duplicate_from_another_record_changes_nothing_and_publishes_nothing() -> None:
    sim = sim_with_stock(**STOCKED)
    placed = shopify_order()
    sim.send([placed])
    order_id = placed.order.oms_order_id
    before = sim.order(order_id)
    context = order_context(sim.atp(), "t:0:99")
    again = decide(before, placed, context)
    assert (again.verdict, again.state, again.outputs) == ("duplicate", before, ())


def test_a_replay_of_the_same_record_repeats_its_first_outputs_byte_for_byte() -> None:
    sim = sim_with_stock(**STOCKED)
    placed = shopify_order()
    sim.send([placed])
    published = list(sim.statuses)
    sim.send([placed], replay=True)  # redelivered from its first position, as after a crash
    assert sim.replays == 1
    assert sim.statuses == published  # re-emitted events were identical (publish checks it)
    order_id = placed.order.oms_order_id
    first_position = sim.positions[id(placed)]
    context = order_context(sim.atp(), first_position)
    replayed = decide(sim.order(order_id), placed, context)
    fresh = decide(OrderState(oms_order_id=order_id), placed, context)
    assert replayed.verdict == "replay"
    assert replayed.outputs[0] == fresh.outputs[0]  # the PLACED event
    # every reservation was answered, so the ledger has its command: not kept to send again
    assert not any(isinstance(o, Reserve) for o in replayed.outputs)


def test_a_replay_before_the_ledger_answered_sends_the_reserve_commands_again() -> None:
    sim = sim_with_stock(**STOCKED)
    placed = shopify_order()
    order_id = placed.order.oms_order_id
    context = order_context(sim.atp(), "raw:0:7")
    first = decide(OrderState(oms_order_id=order_id), placed, context)
    reserves = [o for o in first.outputs if isinstance(o, Reserve)]
    assert len(reserves) == 2
    replayed = decide(first.state, placed, context)
    assert (replayed.verdict, replayed.outputs) == ("replay", first.outputs)


def test_an_unpaid_order_waits_on_hold_and_is_planned_when_the_payment_arrives() -> None:
    sim = sim_with_stock(**STOCKED)
    placed = shopify_order(payment_state=PaymentState.PENDING)
    order_id = placed.order.oms_order_id
    sim.send([placed])
    assert statuses(sim, order_id) == [S.PLACED, S.ON_HOLD]
    assert "awaiting_payment" in sim.statuses[-1].reason
    assert not any(isinstance(c, Reserve) for c in sim.commands)
    sim.send([PaymentUpdated("payment:adyen:1", "payment", NOW, order_id, PaymentState.PAID)])
    assert statuses(sim, order_id) == [S.PLACED, S.ON_HOLD, S.ALLOCATED]


def test_a_paid_order_with_no_stock_to_promise_stays_on_hold_for_that_reason() -> None:
    """Paid at last, but its channel holds what no location can supply: the hold's new reason
    and the held lines are published (ON_HOLD -> ON_HOLD), not swallowed."""
    holding = msgspec.structs.replace(RULES, backorders=BackorderPolicy(ShortageAction.HOLD))
    sim = Simulation(holding, NOW)
    placed = shopify_order(payment_state=PaymentState.PENDING)
    order_id = placed.order.oms_order_id
    sim.send([placed])
    sim.send([PaymentUpdated("payment:adyen:1", "payment", NOW, order_id, PaymentState.PAID)])
    assert statuses(sim, order_id) == [S.PLACED, S.ON_HOLD, S.ON_HOLD]
    final = sim.statuses[-1]
    assert final.reason == "no stock to promise"
    assert {ln.line_id for ln in final.held} == {ln.line_id for ln in placed.order.lines}


def test_a_stale_replica_refusal_makes_the_order_replan_at_another_location() -> None:
    sim = sim_with_stock(**STOCKED)
    placed = shopify_order()
    order_id = placed.order.oms_order_id
    # Another order takes the jacket at WH-DUS; the replica is read before the ledger answers.
    sim.stock("JKT-WOOL-NAVY-M", "WH-AMS", 5)
    sim.inventory(Reserve("JKT-WOOL-NAVY-M", NOW, "other|1|1|0", "other:1", "1", "WH-DUS", 4))
    stale = {"JKT-WOOL-NAVY-M": {"WH-DUS": 4, "WH-AMS": 0}, "SCARF-MERINO-GRY": {"WH-DUS": 12}}
    context = order_context(stale)
    decision = decide(OrderState(oms_order_id=order_id), placed, context)
    state, outputs = decision.state, list(decision.outputs)
    for _round in range(4):
        answers = [a for o in outputs if isinstance(o, Reserve) for a in sim.inventory(o)]
        if not answers:
            break
        outputs = []
        for answer in answers:
            decision = decide(
                state,
                answer,
                order_context(sim.atp()),
            )
            state = decision.state
            outputs += decision.outputs
    assert state.status is S.ALLOCATED
    assert state.attempt == 2
    locations = {
        r.line_id: r.location for r in state.reservations.values() if r.state is LineState.GRANTED
    }
    assert locations["14123456789001"] == "WH-AMS"


@pytest.mark.parametrize(
    ("channel_fixture", "expected"),
    [("shopify", S.BACKORDERED), ("bol", S.ON_HOLD)],
)
def test_an_order_no_location_can_supply_is_backordered_or_held_as_its_channel_rules_say(
    channel_fixture: str, expected: OrderStatus
) -> None:
    sim = Simulation(RULES, NOW)
    if channel_fixture == "shopify":
        placed = shopify_order()
    else:
        event = normalize_payload(Source.BOL, (FIXTURES / "bol/order.json").read_bytes(), {})
        assert isinstance(event, OrderPlaced)
        placed = event
    sim.send([placed])
    final = [s for s in sim.statuses if s.oms_order_id == placed.order.oms_order_id][-1]
    assert final.status in (expected, S.PARTIALLY_ALLOCATED)
    short = {ln.line_id for ln in (*final.backordered, *final.held)}
    allocated = {ln.line_id for sh in final.shipments for ln in sh.lines}
    assert short | allocated == {ln.line_id for ln in placed.order.lines}
    assert not short & allocated


def stocked_order_and_cancel(
    *line_ids: str, key: str = "shopify:x:cancel", reason: str = "customer"
) -> tuple[Simulation, OrderPlaced, OrderCancelled]:
    """A stocked simulation, the fixture order, and a cancellation of it (or of `line_ids`)."""
    placed = shopify_order()
    cancel = OrderCancelled(key, "shopify", NOW, placed.order.oms_order_id, reason, line_ids)
    return sim_with_stock(**STOCKED), placed, cancel


def test_a_cancellation_releases_every_reservation_once() -> None:
    sim, placed, cancel = stocked_order_and_cancel()
    order_id = placed.order.oms_order_id
    sim.send([placed])
    sim.send([cancel])
    sim.send([cancel])  # the channel sends it again
    assert statuses(sim, order_id) == [S.PLACED, S.ALLOCATED, S.CANCELLED]
    released = {c.reservation_id for c in sim.commands if isinstance(c, Release)}
    assert len(released) == 2
    assert sim.ledger("JKT-WOOL-NAVY-M").locations["WH-DUS"].reserved == 0
    assert sim.duplicates == 1


def test_a_cancellation_while_reserves_are_in_flight_releases_them_too() -> None:
    sim, placed, cancel = stocked_order_and_cancel()
    order_id = placed.order.oms_order_id
    sim.send([placed, cancel])  # the answers queue up behind the cancellation
    assert statuses(sim, order_id) == [S.PLACED, S.CANCELLED]
    assert sim.ledger("JKT-WOOL-NAVY-M").locations["WH-DUS"].reserved == 0
    assert sim.ledger("SCARF-MERINO-GRY").locations["WH-DUS"].reserved == 0


def test_a_cancellation_that_arrives_before_its_order_cancels_it_when_it_arrives() -> None:
    sim, placed, cancel = stocked_order_and_cancel()
    order_id = placed.order.oms_order_id
    sim.send([cancel])
    assert statuses(sim, order_id) == []
    sim.send([placed])
    sim.send([cancel])  # the channel sends it again
    assert statuses(sim, order_id) == [S.PLACED, S.CANCELLED]
    assert not [c for c in sim.commands if isinstance(c, Reserve)]
    assert sim.order(order_id).early_cancel is None
    assert sim.duplicates == 1


FIRST_LINE = shopify_order().order.lines[0].line_id


def test_lines_cancelled_before_their_order_are_never_reserved() -> None:
    sim, placed, cancel = stocked_order_and_cancel(FIRST_LINE, key="shopify:x:refund")
    order_id = placed.order.oms_order_id
    first, *rest = placed.order.lines
    sim.send([cancel, placed])
    assert statuses(sim, order_id) == [S.PLACED, S.ALLOCATED]
    reserved = {c.sku for c in sim.commands if isinstance(c, Reserve)}
    assert reserved == {ln.sku for ln in rest} and first.sku not in reserved
    final = sim.statuses[-1]
    assert {ln.line_id for sh in final.shipments for ln in sh.lines} == {ln.line_id for ln in rest}


def test_a_whole_order_cancellation_wins_over_an_earlier_line_cancellation() -> None:
    sim, placed, lines = stocked_order_and_cancel(FIRST_LINE, key="shopify:x:refund")
    order_id = placed.order.oms_order_id
    whole = OrderCancelled("shopify:x:cancel", "shopify", NOW, order_id, "fraud")
    sim.send([lines, whole, placed])
    assert statuses(sim, order_id) == [S.PLACED, S.CANCELLED]
    assert not [c for c in sim.commands if isinstance(c, Reserve)]


def test_a_shipment_confirmation_alone_walks_pick_pack_ship_and_commits_stock() -> None:
    sim = sim_with_stock(**STOCKED)
    placed = shopify_order()
    order_id = placed.order.oms_order_id
    sim.send([placed])
    shipment_id = sim.requests[0].request_id
    shipped = ShipmentUpdated(
        "wms:dus:1",
        "wms",
        NOW,
        order_id,
        shipment_id,
        "WH-DUS",
        FulfilmentStatus.SHIPPED,
        carrier="dhl",
        tracking_number="JJD0001",
    )
    sim.send([shipped])
    assert statuses(sim, order_id) == [S.PLACED, S.ALLOCATED, S.PICKED, S.PACKED, S.SHIPPED]
    assert sum(isinstance(c, Commit) for c in sim.commands) == 2
    jacket = sim.ledger("JKT-WOOL-NAVY-M").locations["WH-DUS"]
    assert (jacket.on_hand, jacket.reserved) == (3, 0)


def test_a_rejected_shipment_is_an_exception_then_replanned_elsewhere() -> None:
    sim = sim_with_stock(
        JKT_WOOL_NAVY_M={"WH-DUS": 4, "WH-AMS": 2}, SCARF_MERINO_GRY={"WH-DUS": 12, "WH-AMS": 30}
    )
    placed = shopify_order()
    order_id = placed.order.oms_order_id
    sim.send([placed])
    first = sim.requests[0]
    rejected = rejection(
        order_id, first.request_id, first.location, "wms:x:9", NOW, reason="damaged_in_location"
    )
    sim.send([rejected])
    assert statuses(sim, order_id)[-2:] == [S.EXCEPTION, S.ALLOCATED]
    assert sim.requests[-1].location != first.location
    assert sim.ledger("JKT-WOOL-NAVY-M").locations[first.location].reserved == 0


def test_a_rejected_shipment_re_planned_in_part_is_partially_allocated_and_then_ships() -> None:
    sim = sim_with_stock(
        JKT_WOOL_NAVY_M={"WH-DUS": 4, "WH-AMS": 2}, SCARF_MERINO_GRY={"WH-DUS": 12}
    )
    placed = shopify_order()
    order_id = placed.order.oms_order_id
    sim.send([placed])
    (first,) = sim.requests  # both lines from WH-DUS, the one location holding both
    rejected = rejection(
        order_id, first.request_id, first.location, "wms:x:9", NOW, reason="no_capacity"
    )
    sim.send([rejected])
    # the jacket placed again at WH-AMS, the scarf backordered: the re-plan leaves WH-DUS out
    seen = statuses(sim, order_id)
    after = seen.index(S.EXCEPTION) + 1
    assert seen[after] is S.PARTIALLY_ALLOCATED
    partly = [e for e in sim.statuses if e.oms_order_id == order_id][after]
    assert [line.sku for line in partly.backordered] == ["SCARF-MERINO-GRY"]
    (again,) = partly.shipments
    assert again.location == "WH-AMS"
    picked = msgspec.structs.replace(
        rejected,
        idempotency_key="wms:x:10",
        shipment_id=again.shipment_id,
        location=again.location,
        status=FulfilmentStatus.PICKED,
        reason="",
    )
    sim.send([picked])
    assert statuses(sim, order_id)[-1] is S.PICKED


def test_a_fraud_flag_is_a_hard_stop_that_updates_do_not_lift() -> None:
    sim = sim_with_stock(**STOCKED)
    placed = shopify_order(risk=Risk(hard_stop=True, reasons=("chargeback history",)))
    order_id = placed.order.oms_order_id
    update = OrderUpdated("shopify:x:2", "shopify", NOW, placed.order)
    sim.send([placed, update])
    assert statuses(sim, order_id) == [S.PLACED, S.ON_HOLD]
    assert sim.order(order_id).hold is not None
    assert sim.order(order_id).hold.hard_stop
    assert not sim.requests


def test_a_bad_postcode_holds_until_the_channel_sends_a_corrected_address() -> None:
    sim = sim_with_stock(**STOCKED)
    placed = shopify_order()
    good = placed.order.customer.shipping_address
    assert good is not None
    bad = msgspec.structs.replace(good, postcode="ABC")
    broken = msgspec.structs.replace(
        placed,
        order=msgspec.structs.replace(
            placed.order,
            customer=msgspec.structs.replace(placed.order.customer, shipping_address=bad),
        ),
    )
    order_id = placed.order.oms_order_id
    sim.send([broken])
    assert statuses(sim, order_id) == [S.PLACED, S.ON_HOLD]
    assert "postcode_format" in sim.statuses[-1].reason
    sim.send([OrderUpdated("shopify:fix", "shopify", NOW, placed.order)])
    assert statuses(sim, order_id) == [S.PLACED, S.ON_HOLD, S.ALLOCATED]


def test_a_country_no_location_serves_is_held() -> None:
    sim = sim_with_stock(**STOCKED)
    placed = shopify_order()
    far = Address(country="JP", line1="1-1 Marunouchi", postcode="100-0005", city="Tokyo")
    order = msgspec.structs.replace(
        placed.order, customer=msgspec.structs.replace(placed.order.customer, shipping_address=far)
    )
    sim.send([msgspec.structs.replace(placed, order=order)])
    assert "unsupported_country" in sim.statuses[-1].reason


def test_a_till_sale_is_allocated_at_its_store_without_touching_the_ledger() -> None:
    sim = Simulation(RULES, NOW)
    event = normalize_payload(Source.POS, (FIXTURES / "pos/sale.json").read_bytes(), {})
    assert isinstance(event, OrderPlaced)
    sim.send([event])
    final = sim.statuses[-1]
    assert final.status is S.ALLOCATED
    assert [(sh.location, sh.external) for sh in final.shipments] == [("STORE-AMS-01", True)]
    assert not sim.commands


def test_a_grant_before_its_order_is_kept_and_one_of_a_finished_attempt_released() -> None:
    """Before the order, a grant is of an ask to come (its state was lost): kept. Once the
    order is past that attempt, an unknown grant will never be asked for: given back."""
    order_id = "shopify:1"
    answer = ReservationAnswered("shopify:1|1|9|0", order_id, "9", "SKU", "WH-AMS", 2, True)
    context = OrderContext(now=NOW, rules=RULES, atp={}, served=served_countries(RULES))
    decision = decide(OrderState(oms_order_id=order_id), answer, context)
    assert decision.outputs == ()
    assert set(decision.state.early_answers) == {"shopify:1|1|9|0"}
    placed = shopify_order()
    sim = sim_with_stock(**STOCKED)
    sim.send([placed])
    past = msgspec.structs.replace(
        sim.order(placed.order.oms_order_id), attempt=2, early_answers={}
    )
    stray = msgspec.structs.replace(
        answer, reservation_id=f"{past.oms_order_id}|1|9|0", oms_order_id=past.oms_order_id
    )
    decision = decide(past, stray, context)
    assert [(type(o), o.reservation_id) for o in decision.outputs] == [
        (Release, stray.reservation_id)
    ]


def test_a_grant_after_a_refusal_gives_the_units_back() -> None:
    """A quarantined ledger refuses; after its release the replayed reserve is granted. The
    order planned without it, so the late grant is released, not leaked."""
    placed = shopify_order()
    order_id = placed.order.oms_order_id
    context = order_context(STOCKED_ATP)
    decision = decide(OrderState(oms_order_id=order_id), placed, context)
    state = decision.state
    first = next(o for o in decision.outputs if isinstance(o, Reserve))
    answer = refused_unreadable(first)
    state = decide(state, answer, context).state
    late = msgspec.structs.replace(answer, granted=True, reason="")
    outputs = decide(state, late, context).outputs
    assert [(type(o), o.reservation_id) for o in outputs] == [(Release, first.reservation_id)]
    assert decide(state, late, context).state.reservations[first.reservation_id].state is (
        LineState.RELEASED
    )


def test_a_backordered_order_is_replanned_and_allocated_when_stock_arrives() -> None:
    sim = Simulation(RULES, NOW)
    placed = shopify_order()
    order_id = placed.order.oms_order_id
    sim.send([placed])
    assert statuses(sim, order_id) == [S.PLACED, S.BACKORDERED]
    waits = {c.sku: c.qty for c in sim.commands if isinstance(c, AwaitStock)}
    assert waits == {"JKT-WOOL-NAVY-M": 1, "SCARF-MERINO-GRY": 2}

    sim.stock("JKT-WOOL-NAVY-M", "WH-DUS", 5)  # one SKU back: the order is partly allocated
    assert statuses(sim, order_id)[-1] is S.PARTIALLY_ALLOCATED
    sim.stock("SCARF-MERINO-GRY", "WH-DUS", 5)  # the other: allocated in full
    history = [s for s in sim.statuses if s.oms_order_id == order_id]
    assert [s.status for s in history] == [
        S.PLACED,
        S.BACKORDERED,
        S.PARTIALLY_ALLOCATED,
        S.ALLOCATED,
    ]
    assert history[-1].backordered == ()
    shipped = {ln.sku: ln.qty for s in history for sh in s.shipments for ln in sh.lines}
    assert shipped == {"JKT-WOOL-NAVY-M": 1, "SCARF-MERINO-GRY": 2}
    assert sim.ledger("SCARF-MERINO-GRY").waiting == {}
    assert len(sim.requests) == 2  # one fulfilment request per shipment


def test_stock_that_arrives_for_nobody_waiting_changes_no_order() -> None:
    sim = sim_with_stock(**STOCKED)
    placed = shopify_order()
    sim.send([placed])
    before = list(sim.statuses)
    sim.stock("SCARF-MERINO-GRY", "WH-AMS", 50, sequence=2)
    assert sim.statuses == before


SCARF = "SCARF-MERINO-GRY"
JACKET = "JKT-WOOL-NAVY-M"


def held_back(
    sim: Simulation, order_id: str, event: ShipmentUpdated | TrackingUpdated
) -> list[Reserve]:
    """Decide `event` as the order agent would, but keep its reserve commands from the
    ledger (their answers are still on their way); everything else it sends is applied."""
    context = order_context(sim.atp(), position=event.idempotency_key)
    decision = decide(sim.order(order_id), event, context)
    sim.orders.put(order_id, decision.state)
    reserves: list[Reserve] = []
    for output in decision.outputs:
        if isinstance(output, StatusChanged):
            sim.publish(output)
        elif isinstance(output, Reserve):
            reserves.append(output)
        elif isinstance(output, (Release, Commit, AwaitStock)):
            sim.send(sim.inventory(output))
    return reserves


def assert_every_line_has_one_outcome(
    sim: Simulation, order_id: str, others: dict[tuple[str, str], int] | None = None
) -> list[StatusChanged]:
    """The order's history obeys the state machine; each of its units is in a live shipment
    its status events named, backordered or held, once; the ledgers reserve what it holds
    (and `others`), no more. Returns the history."""
    history = [s for s in sim.statuses if s.oms_order_id == order_id]
    previous = None
    for change in history:
        assert change.status in ORDER_TRANSITIONS[previous]
        previous = change.status
    state = sim.order(order_id)
    assert state.status is history[-1].status
    assert not pending(state)
    live = [
        r
        for r in state.reservations.values()
        if r.state in (LineState.GRANTED, LineState.COMMITTED)
    ]
    published = {sh.shipment_id for change in history for sh in change.shipments}
    assert {r.shipment_id for r in live} <= set(state.shipments) & published
    covered: dict[str, int] = {}
    for line in (*live, *state.backordered, *state.held):
        covered[line.line_id] = covered.get(line.line_id, 0) + line.qty
    assert state.order is not None
    assert covered == {ln.line_id: ln.qty for ln in state.order.lines}
    held = dict(others or {})
    for r in live:
        if r.state is LineState.GRANTED:
            held[r.sku, r.location] = held.get((r.sku, r.location), 0) + r.qty
    reserved = {
        (sku, location): stock.reserved
        for sku, ledger in sim.stored_ledgers().items()
        for location, stock in ledger.locations.items()
        if stock.reserved
    }
    assert reserved == held
    return history


@pytest.mark.parametrize("contested", [False, True], ids=["granted", "refused"])
def test_a_second_rejection_before_the_re_plan_is_answered_re_plans_its_units_too(
    contested: bool,
) -> None:
    sim, order_id, shipments = split_order()  # the scarf from WH-AMS, the jacket from WH-DUS
    sim.stock(SCARF, "WH-DUS", 12)
    sim.stock(JACKET, "WH-AMS", 4)
    scarf = rejection(order_id, shipments["WH-AMS"], "WH-AMS", "wms:ams:1", NOW)
    in_flight = held_back(sim, order_id, scarf)
    assert in_flight and sim.order(order_id).status is S.EXCEPTION
    # The jacket's location rejects too, while the scarf's re-plan waits for its answers.
    jacket = rejection(order_id, shipments["WH-DUS"], "WH-DUS", "wms:dus:1", NOW)
    in_flight += held_back(sim, order_id, jacket)
    others = {}
    if contested:  # another order takes the scarves at WH-DUS first: the re-plan is refused
        sim.inventory(Reserve(SCARF, NOW, "other|1|1|0", "other:1", "1", "WH-DUS", 12))
        others[SCARF, "WH-DUS"] = 12
    sim.send([answer for reserve in in_flight for answer in sim.inventory(reserve)])

    history = assert_every_line_has_one_outcome(sim, order_id, others)
    # Refused, the scarf is planned again: WH-AMS rejected it and WH-DUS has none left.
    outcome = S.PARTIALLY_ALLOCATED if contested else S.ALLOCATED
    assert [s.status for s in history] == [
        S.PLACED,
        S.ALLOCATED,
        S.EXCEPTION,
        S.EXCEPTION,
        outcome,
    ]
    assert "WH-DUS rejected the shipment" in history[3].reason
    state = sim.order(order_id)
    assert [line.sku for line in state.backordered] == ([SCARF] if contested else [])
    granted = [r for r in state.reservations.values() if r.state is LineState.GRANTED]
    # Neither rejecting location holds the units it gave back.
    assert {(r.sku, r.location) for r in granted} == {
        *([] if contested else [(SCARF, "WH-DUS")]),
        (JACKET, "WH-AMS"),
    }


def test_a_parcel_delivered_while_the_re_plan_waits_leaves_the_order_in_exception() -> None:
    sim, order_id, shipments = split_order()  # the scarf from WH-AMS, the jacket from WH-DUS
    sim.stock(SCARF, "WH-DUS", 12)
    jacket = shipments["WH-DUS"]
    shipped = ShipmentUpdated(
        "wms:dus:1",
        "wms",
        NOW,
        order_id,
        jacket,
        "WH-DUS",
        FulfilmentStatus.SHIPPED,
        carrier="dhl",
        tracking_number="JJD0002",
    )
    sim.send([shipped])
    in_flight = held_back(
        sim, order_id, rejection(order_id, shipments["WH-AMS"], "WH-AMS", "k", NOW)
    )
    # The jacket's parcel arrives before the scarf's re-plan is answered: the order is not
    # delivered, the scarf is still to be placed.
    delivered = TrackingUpdated(
        "carrier:dhl:JJD0002:delivered",
        "carrier",
        NOW,
        order_id,
        jacket,
        "dhl",
        "JJD0002",
        TrackingStatus.DELIVERED,
    )
    assert held_back(sim, order_id, delivered) == []
    sim.send([answer for reserve in in_flight for answer in sim.inventory(reserve)])

    history = assert_every_line_has_one_outcome(sim, order_id)
    assert [s.status for s in history][-3:] == [S.EXCEPTION, S.EXCEPTION, S.ALLOCATED]
    (moved,) = history[-2].shipments
    assert (moved.shipment_id, moved.status) == (jacket, ShipmentStatus.DELIVERED)
    (again,) = history[-1].shipments
    assert again.location == "WH-DUS" and again.lines[0].sku == SCARF


def test_units_a_location_rejected_are_not_promised_there_again_when_they_wake() -> None:
    sim = sim_with_stock(
        JKT_WOOL_NAVY_M={"WH-DUS": 4, "WH-AMS": 2}, SCARF_MERINO_GRY={"WH-DUS": 12}
    )
    placed = shopify_order()
    order_id = placed.order.oms_order_id
    sim.send([placed])
    (first,) = sim.requests  # both lines from WH-DUS
    sim.send([rejection(order_id, first.request_id, "WH-DUS", "wms:dus:1", NOW)])
    assert_every_line_has_one_outcome(sim, order_id)
    # The scarf's units are back on sale at WH-DUS, and its backorder hears of them at once;
    # the re-plan still leaves WH-DUS out.
    state = sim.order(order_id)
    assert [line.sku for line in state.backordered] == ["SCARF-MERINO-GRY"]
    assert state.status is S.PARTIALLY_ALLOCATED
    granted = [r for r in state.reservations.values() if r.state is LineState.GRANTED]
    assert [(r.sku, r.location) for r in granted] == [("JKT-WOOL-NAVY-M", "WH-AMS")]
    assert sim.ledger("SCARF-MERINO-GRY").locations["WH-DUS"].reserved == 0
    sim.stock("SCARF-MERINO-GRY", "WH-AMS", 5)  # stock at a location that did not reject
    state = sim.order(order_id)
    assert state.status is S.ALLOCATED and not state.backordered
    assert sim.requests[-1].location == "WH-AMS"
    assert sim.ledger("SCARF-MERINO-GRY").locations["WH-AMS"].reserved == 2
