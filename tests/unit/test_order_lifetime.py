"""An order's row ends: finished orders become tombstones, then go; stale orders are ended by
their channel's rule; the dedupe set never forgets a live key."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from orderstream.benchmarks.pipeline_sim import Simulation, sample_rules
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import OrderCancelled, OrderPlaced, PaymentUpdated
from orderstream.streams.ledger_commands import Release
from orderstream.streams.model import PaymentState
from orderstream.streams.order_lifetime import OrderLifetime, OrderTimedOut, age, is_stale
from orderstream.streams.order_state import AppliedInput, OrderState
from orderstream.streams.status import OrderStatus
from orderstream.streams.validation import HoldReason
from tests.builders import FIXTURES, NOW, STOCKED, statuses
from tests.builders import placed_shopify_order as shopify_order

S = OrderStatus
DAY = timedelta(days=1)
WINDOWS = {"shopify": timedelta(hours=48), "bol": 14 * DAY, "payment": 7 * DAY}
LIFETIME = OrderLifetime(retention=60 * DAY, max_open=30 * DAY, windows=WINDOWS)


def sim(lifetime: OrderLifetime = LIFETIME) -> Simulation:
    simulation = Simulation(sample_rules(), NOW, lifetime=lifetime)
    for sku, places in STOCKED.items():
        for location, qty in places.items():
            simulation.stock(sku.replace("_", "-"), location, qty)
    return simulation


def cancelled(order_id: str, key: str = "shopify:cancel:1") -> OrderCancelled:
    return OrderCancelled(key, "shopify", NOW, order_id, "customer")


def bol_order() -> OrderPlaced:
    event = normalize_payload(Source.BOL, (FIXTURES / "bol/order.json").read_bytes(), {})
    assert isinstance(event, OrderPlaced)
    return event


def test_a_finished_order_is_kept_for_its_retention_then_reduced_to_a_tombstone() -> None:
    run = sim()
    placed = shopify_order()
    order_id = placed.order.oms_order_id
    run.send([placed, cancelled(order_id)])
    finished = run.order(order_id)
    assert finished.status is S.CANCELLED
    assert age(finished, NOW + 60 * DAY, LIFETIME) is finished
    tombstone = age(finished, NOW + 61 * DAY, LIFETIME)
    assert tombstone == OrderState(
        oms_order_id=order_id, status=S.CANCELLED, seq=finished.seq, retired_at=NOW + 60 * DAY
    )
    assert len(msgspec.json.encode(tombstone)) < len(msgspec.json.encode(finished)) / 10
    assert age(tombstone, NOW + 74 * DAY, LIFETIME) is tombstone  # the longest window: bol's
    assert age(tombstone, NOW + 75 * DAY, LIFETIME) is None
    assert age(finished, NOW + 75 * DAY, LIFETIME) is None  # never swept: the same answer


def test_a_tombstone_answers_a_late_resend_as_closed_so_the_order_does_not_come_back() -> None:
    run = sim()
    placed = shopify_order()
    order_id = placed.order.oms_order_id
    run.send([placed, cancelled(order_id)])
    published = len(run.statuses)
    run.now = NOW + 61 * DAY
    run.send([placed])  # a re-listing, long after the ingest dedupe forgot it
    assert run.order(order_id).retired_at is not None
    assert len(run.statuses) == published
    run.send([cancelled(order_id, "shopify:cancel:2")])
    assert len(run.statuses) == published


def test_an_open_order_never_ages_and_a_row_without_an_order_goes_after_max_open() -> None:
    run = sim()
    placed = shopify_order()
    order_id = placed.order.oms_order_id
    run.send([placed])
    still_open = run.order(order_id)
    assert age(still_open, NOW + 365 * DAY, LIFETIME) is still_open
    early = cancelled("shopify:999")
    run.send([early])
    orphan = run.order("shopify:999")
    assert orphan.status is None
    assert age(orphan, NOW + 30 * DAY, LIFETIME) is orphan
    assert age(orphan, NOW + 31 * DAY, LIFETIME) is None


def test_a_stale_webshop_order_becomes_an_exception_and_is_cancelled_with_its_units() -> None:
    run = sim()
    placed = shopify_order(payment_state=PaymentState.PENDING)
    order_id = placed.order.oms_order_id
    run.send([placed])
    assert statuses(run, order_id) == [S.PLACED, S.ON_HOLD]
    state = run.order(order_id)
    assert not is_stale(state, NOW + 30 * DAY, LIFETIME)
    assert is_stale(state, NOW + 31 * DAY, LIFETIME)
    timed_out = OrderTimedOut(order_id, NOW)
    run.now = NOW + 10 * DAY  # decided too early (a sweep of another partition's clock)
    run.send([timed_out])
    assert statuses(run, order_id) == [S.PLACED, S.ON_HOLD]
    run.now = NOW + 31 * DAY
    run.send([OrderTimedOut(order_id, NOW + DAY)])
    assert statuses(run, order_id) == [S.PLACED, S.ON_HOLD, S.EXCEPTION, S.CANCELLED]
    assert "stale_order" in run.statuses[-2].reason
    assert run.order(order_id).stale_at == NOW + 31 * DAY
    assert not is_stale(run.order(order_id), NOW + 40 * DAY, LIFETIME)


def test_a_stale_marketplace_order_is_held_for_ops_and_its_reservations_released() -> None:
    run = sim()
    placed = bol_order()
    order_id = placed.order.oms_order_id
    run.send([placed])
    before = statuses(run, order_id)
    assert before[-1] in (S.ALLOCATED, S.ON_HOLD, S.PARTIALLY_ALLOCATED)
    granted = [r for r in run.order(order_id).reservations.values() if r.state == "granted"]
    run.now = NOW + 31 * DAY
    run.send([OrderTimedOut(order_id, NOW)])
    state = run.order(order_id)
    assert statuses(run, order_id) == [*before, S.EXCEPTION]
    assert state.hold is not None and state.hold.reason is HoldReason.STALE_ORDER
    released = [c for c in run.commands if isinstance(c, Release) and c.reason == "stale_order"]
    assert len(released) == len(granted)
    # held for ops counts as finished: it is reduced after the retention like the others
    assert age(state, NOW + 92 * DAY, LIFETIME) is not state


def test_a_seen_key_is_kept_for_its_own_sources_window_not_the_current_inputs() -> None:
    run = sim()
    placed = bol_order()
    order_id = placed.order.oms_order_id
    run.send([placed])
    run.now = NOW + 3 * DAY  # past shopify's 48 h, well inside bol's 14 days
    # an input from a source with a short window (shopify's 48 h) must not prune bol's key
    run.send([PaymentUpdated("shopify:pay:1", "shopify", run.now, order_id, PaymentState.PAID)])
    assert placed.idempotency_key in run.order(order_id).seen
    duplicates = run.duplicates
    run.send([placed])
    assert run.duplicates == duplicates + 1


def test_a_full_dedupe_set_refuses_the_next_input_instead_of_forgetting_a_live_key() -> None:
    small = OrderLifetime(retention=60 * DAY, max_open=30 * DAY, windows=WINDOWS, max_seen=16)
    run = sim(small)
    placed = shopify_order(payment_state=PaymentState.PENDING)
    order_id = placed.order.oms_order_id
    run.send([placed])
    state = run.order(order_id)
    live = {f"payment:{n}": AppliedInput(NOW, "payment", f"p:{n}") for n in range(16)}
    full = msgspec.structs.replace(state, seen=live)
    run.orders.put(order_id, full)
    run.send([PaymentUpdated("payment:new", "payment", NOW, order_id, PaymentState.PAID)])
    assert run.order(order_id) == full  # the refused input changed nothing
    assert statuses(run, order_id) == [S.PLACED, S.ON_HOLD]
    run.now = NOW + 8 * DAY  # the payment keys have left their 7-day window: room again
    run.send([PaymentUpdated("payment:new", "payment", run.now, order_id, PaymentState.PAID)])
    seen = run.order(order_id).seen
    assert "payment:new" in seen and not any(f"payment:{n}" in seen for n in range(16))
    assert statuses(run, order_id)[-1] is S.ALLOCATED


def test_a_till_sale_is_finished_when_handed_over_never_stale_and_kept_for_its_retention() -> None:
    """A sale at the till is allocated and handed over at once: it must not become a stale
    order (a month later its CANCELLED would reach the channel); it ages as a finished one."""
    run = sim()
    event = normalize_payload(Source.POS, (FIXTURES / "pos/sale.json").read_bytes(), {})
    assert isinstance(event, OrderPlaced)
    run.send([event])
    sale = run.order(event.order.oms_order_id)
    assert sale.status is S.ALLOCATED
    assert not is_stale(sale, NOW + 31 * DAY, LIFETIME)
    assert age(sale, NOW + 60 * DAY, LIFETIME) is sale
    tombstone = age(sale, NOW + 61 * DAY, LIFETIME)
    assert tombstone is not None and tombstone.retired_at == NOW + 60 * DAY
