"""The ATP ledger: no negative quantity, no oversell, and replays change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from orderstream.streams.inventory import StepResult
from orderstream.streams.inventory import step as inventory_step
from orderstream.streams.ledger import (
    ADJUSTMENT_WINDOW,
    LedgerOutcome,
    SkuLedger,
    Verdict,
    apply,
    expired,
)
from orderstream.streams.ledger_commands import (
    AdjustStock,
    AwaitStock,
    Commit,
    InventoryCommand,
    Release,
    Reserve,
    Restock,
    SetInbound,
    SetSafetyStock,
    SetStock,
)
from tests.builders import LEDGER_SKU as SKU
from tests.builders import ledger_at as _at
from tests.builders import ledger_commands as commands


def _run(
    commands: list[InventoryCommand], ledger: SkuLedger | None = None
) -> tuple[SkuLedger, list[LedgerOutcome]]:
    state = ledger or SkuLedger(sku=SKU)
    outcomes = []
    for command in commands:
        state, outcome = apply(state, command)
        outcomes.append(outcome)
    return state, outcomes


def _assert_consistent(ledger: SkuLedger) -> None:
    for location, stock in ledger.locations.items():
        assert stock.on_hand >= 0
        assert stock.reserved >= 0
        assert stock.safety_stock >= 0
        assert stock.atp >= 0
        assert stock.reserved == sum(
            r.qty for r in ledger.reservations.values() if r.location == location
        )
    assert not set(ledger.reservations) & set(ledger.settled)


@given(commands())
@settings(max_examples=400)
def test_no_quantity_ever_goes_negative_and_reserved_matches_the_reservations(
    sequence: list[InventoryCommand],
) -> None:
    state = SkuLedger(sku=SKU)
    for command in sequence:
        state, _ = apply(state, command)
        _assert_consistent(state)


@given(commands())
@settings(max_examples=400)
def test_a_granted_reservation_never_exceeds_on_hand_less_safety_stock(
    sequence: list[InventoryCommand],
) -> None:
    state = SkuLedger(sku=SKU)
    for command in sequence:
        before = state
        state, outcome = apply(state, command)
        if isinstance(command, Reserve) and outcome.verdict is Verdict.APPLIED:
            stock = state.locations[command.location]
            assert stock.reserved <= stock.on_hand - stock.safety_stock
            assert command.qty <= before.atp(command.location)


@given(commands())
@settings(max_examples=400)
def test_replaying_any_command_sequence_twice_gives_the_same_state(
    sequence: list[InventoryCommand],
) -> None:
    once, _ = _run(sequence)
    twice, outcomes = _run(sequence, once)
    assert twice == once
    assert all(o.verdict is not Verdict.APPLIED for o in outcomes)


@given(commands(), st.data())
@settings(max_examples=300)
def test_a_duplicate_delivered_later_anywhere_in_the_stream_changes_nothing(
    sequence: list[InventoryCommand], data: st.DataObject
) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(sequence) - 1))
    position = data.draw(st.integers(min_value=index + 1, max_value=len(sequence)))
    with_duplicate = [*sequence[:position], sequence[index], *sequence[position:]]
    state_with, outcomes_with = _run(with_duplicate)
    assert state_with == _run(sequence)[0]
    assert outcomes_with[position].verdict is not Verdict.APPLIED


def test_a_reservation_is_refused_beyond_atp_and_granted_within_it() -> None:
    state, outcomes = _run(
        [
            SetStock(SKU, _at(0), "WH-AMS", 10, "wms", 1),
            SetSafetyStock(SKU, _at(0), "WH-AMS", 2, "erp", 1),
            Reserve(SKU, _at(1), "r1", "shopify:1", "1", "WH-AMS", 9),
            Reserve(SKU, _at(2), "r2", "shopify:2", "1", "WH-AMS", 8),
        ]
    )
    assert outcomes[2] == LedgerOutcome(Verdict.REFUSED, reason="insufficient_stock", available=8)
    assert outcomes[3].verdict is Verdict.APPLIED
    assert state.atp("WH-AMS") == 0
    assert state.total_atp == 0


def test_a_refused_reserve_stays_refused_when_replayed_after_stock_arrives() -> None:
    refuse = Reserve(SKU, _at(1), "r1", "shopify:1", "1", "WH-AMS", 5)
    state, outcomes = _run([refuse, SetStock(SKU, _at(2), "WH-AMS", 50, "wms", 1), refuse])
    assert outcomes[0].verdict is Verdict.REFUSED
    assert outcomes[2].verdict is Verdict.DUPLICATE
    assert state.locations["WH-AMS"].reserved == 0


def test_commit_takes_units_off_hand_once() -> None:
    commit = Commit(SKU, _at(3), "r1")
    state, outcomes = _run(
        [
            SetStock(SKU, _at(0), "WH-AMS", 10, "wms", 1),
            Reserve(SKU, _at(1), "r1", "shopify:1", "1", "WH-AMS", 4),
            commit,
            commit,
        ]
    )
    assert [o.verdict for o in outcomes[2:]] == [Verdict.APPLIED, Verdict.DUPLICATE]
    assert state.locations["WH-AMS"].on_hand == 6
    assert state.locations["WH-AMS"].reserved == 0
    assert "r1" in state.settled


def test_a_release_before_its_reserve_blocks_the_late_reserve() -> None:
    state, outcomes = _run(
        [
            SetStock(SKU, _at(0), "WH-AMS", 10, "wms", 1),
            Release(SKU, _at(1), "r1", "cancelled"),
            Reserve(SKU, _at(2), "r1", "shopify:1", "1", "WH-AMS", 4),
        ]
    )
    assert outcomes[2].verdict is Verdict.DUPLICATE
    assert state.atp("WH-AMS") == 10


def test_a_count_below_what_is_reserved_reports_the_shortage() -> None:
    state, outcomes = _run(
        [
            SetStock(SKU, _at(0), "WH-AMS", 10, "wms", 1),
            Reserve(SKU, _at(1), "r1", "shopify:1", "1", "WH-AMS", 8),
            SetStock(SKU, _at(2), "WH-AMS", 5, "wms", 2),
        ]
    )
    assert outcomes[2].shortage == 3
    assert state.atp("WH-AMS") == 0


def test_stale_feed_records_are_ignored_per_source_and_location() -> None:
    state, outcomes = _run(
        [
            SetStock(SKU, _at(0), "WH-AMS", 10, "wms", 5),
            SetStock(SKU, _at(1), "WH-AMS", 99, "wms", 4),
            AdjustStock(SKU, _at(2), "WH-AMS", 3, "received", "wms", 5),
            AdjustStock(SKU, _at(3), "WH-AMS", 3, "received", "wms", 6),
            SetStock(SKU, _at(4), "WH-DUS", 7, "wms", 1),
        ]
    )
    assert [o.verdict for o in outcomes] == [
        Verdict.APPLIED,
        Verdict.STALE,
        Verdict.STALE,
        Verdict.APPLIED,
        Verdict.APPLIED,
    ]
    assert state.locations["WH-AMS"].on_hand == 13
    assert state.locations["WH-DUS"].on_hand == 7


def _feed(sequence: int, delta: int | None = None, on_hand: int | None = None) -> InventoryCommand:
    """One record of the wms feed at WH-DUS: a snapshot (`on_hand`) or an adjustment."""
    if on_hand is not None:
        return SetStock(SKU, _at(sequence), "WH-DUS", on_hand, "wms", sequence)
    return AdjustStock(SKU, _at(sequence), "WH-DUS", delta or 0, "received", "wms", sequence)


def test_an_adjustment_delivered_after_a_later_one_is_still_applied_once() -> None:
    """A replay can hand the ledger a feed out of order: a late delta must not be lost."""
    state, outcomes = _run([_feed(1, on_hand=100), _feed(3, 10), _feed(2, 31), _feed(2, 31)])
    assert [o.verdict for o in outcomes] == [Verdict.APPLIED] * 3 + [Verdict.STALE]
    assert state.locations["WH-DUS"].on_hand == 141
    replayed, _ = _run([_feed(3, 10), _feed(1, on_hand=100)], state)
    assert replayed.locations["WH-DUS"].on_hand == 141


def test_a_late_snapshot_keeps_the_adjustments_made_after_it() -> None:
    state, outcomes = _run([_feed(6, 10), _feed(5, on_hand=50), _feed(4, 7)])
    assert [o.verdict for o in outcomes] == [Verdict.APPLIED, Verdict.APPLIED, Verdict.STALE]
    assert state.locations["WH-DUS"].on_hand == 60  # the count as of 5, plus 6's delta


def test_the_adjustment_window_is_bounded_and_what_falls_out_counts_as_applied() -> None:
    records = [_feed(0, on_hand=0)] + [_feed(n, 1) for n in range(2, ADJUSTMENT_WINDOW + 4)]
    state, _ = _run(records)
    (window,) = state.adjustments.values()
    assert len(window) == ADJUSTMENT_WINDOW
    late, outcome = apply(state, _feed(1, 5))  # older than every remembered adjustment
    assert outcome.verdict is Verdict.STALE and late == state
    assert state.locations["WH-DUS"].on_hand == ADJUSTMENT_WINDOW + 2


@given(st.permutations(list(range(1, 12))), st.integers(min_value=1, max_value=11))
@settings(max_examples=200, deadline=None)
def test_any_order_of_a_feed_gives_the_count_of_its_order(order: list[int], snapshot: int) -> None:
    """One snapshot among positive adjustments, delivered in any order, with each record
    repeated: the count is that of the feed applied in sequence order."""
    record = {n: _feed(n, on_hand=40) if n == snapshot else _feed(n, n) for n in order}
    in_order, _ = _run([record[n] for n in sorted(order)])
    shuffled, _ = _run([record[n] for n in order] + [record[n] for n in reversed(order)])
    expected = 40 + sum(n for n in order if n > snapshot)
    assert in_order.locations["WH-DUS"].on_hand == expected
    assert shuffled.locations["WH-DUS"].on_hand == expected


def test_settled_markers_are_pruned_after_the_retention() -> None:
    state, _ = _run([Release(SKU, _at(0), "r1", "cancelled")])
    later, _ = apply(state, Restock(SKU, _at(0) + timedelta(days=8), "rs1", "WH-AMS", 1))
    assert "r1" not in later.settled
    assert "rs1" in later.settled


def test_expired_reservations_are_listed_for_release() -> None:
    state, _ = _run(
        [
            SetStock(SKU, _at(0), "WH-AMS", 10, "wms", 1),
            Reserve(SKU, _at(1), "r1", "o:1", "1", "WH-AMS", 1, expires_at=_at(30)),
            Reserve(SKU, _at(1), "r2", "o:2", "1", "WH-AMS", 1, expires_at=_at(90)),
            Reserve(SKU, _at(1), "r3", "o:3", "1", "WH-AMS", 1),
        ]
    )
    assert expired(state, _at(60)) == ("r1",)


def test_a_command_for_another_sku_is_refused() -> None:
    state = SkuLedger(sku=SKU)
    after, outcome = apply(state, SetStock("OTHER", _at(0), "WH-AMS", 1, "wms", 1))
    assert outcome.verdict is Verdict.REFUSED
    assert after == state


def test_a_duplicate_reserve_repeats_the_first_answer_after_any_later_change() -> None:
    granted = Reserve(SKU, _at(1), "r1", "shopify:1", "1", "WH-AMS", 4)
    refused = Reserve(SKU, _at(2), "r2", "shopify:2", "1", "WH-AMS", 40)
    state, _ = _run([SetStock(SKU, _at(0), "WH-AMS", 10, "wms", 1), granted, refused])
    for command in (granted, refused):
        _, outcome = apply(state, command)
        assert outcome.verdict is Verdict.DUPLICATE
    assert apply(state, granted)[1].original == "granted"
    assert apply(state, granted)[1].location == "WH-AMS"
    assert apply(state, refused)[1].original == "refused"
    released, _ = apply(state, Release(SKU, _at(3), "r1", "cancelled"))
    again = apply(released, granted)[1]
    assert (again.verdict, again.original, again.qty) == (Verdict.DUPLICATE, "granted", 4)


def _wait(ledger: SkuLedger, order: str, qty: int, at: datetime) -> StepResult:
    return inventory_step(
        ledger,
        AwaitStock(
            sku=ledger.sku, issued_at=at, wait_id=f"{order}|{qty}", oms_order_id=order, qty=qty
        ),
    )


def test_waiting_orders_hear_of_arriving_stock_first_come_first_as_far_as_it_covers() -> None:
    at = datetime(2026, 11, 27, 9, tzinfo=UTC)
    ledger = SkuLedger(sku="SKU-1")
    for order, qty in (("o1", 2), ("o2", 3), ("o3", 1)):
        result = _wait(ledger, order, qty, at)
        assert result.arrivals == ()  # nothing there yet
        ledger = result.ledger
    arrived = inventory_step(ledger, SetStock("SKU-1", at, "WH-A", 4, "wms", 1))
    assert [a.oms_order_id for a in arrived.arrivals] == ["o1"]  # o2's 3 would not fit too
    assert arrived.arrivals[0].atp == {"WH-A": 4}
    assert arrived.ledger.waiting == {"o2": 3, "o3": 1}
    more = inventory_step(arrived.ledger, AdjustStock("SKU-1", at, "WH-A", 6, "received", "wms", 2))
    assert [a.oms_order_id for a in more.arrivals] == ["o2", "o3"]
    assert [a.notice for a in more.arrivals] == [2, 2]  # numbered per SKU, deterministic
    assert more.ledger.waiting == {}


def test_an_order_that_starts_waiting_when_its_units_are_there_hears_at_once() -> None:
    at = datetime(2026, 11, 27, 9, tzinfo=UTC)
    ledger = inventory_step(
        SkuLedger(sku="SKU-1"), SetStock("SKU-1", at, "WH-A", 3, "wms", 1)
    ).ledger
    assert _wait(ledger, "o1", 5, at).arrivals == ()
    heard = _wait(ledger, "o1", 2, at)
    assert [a.oms_order_id for a in heard.arrivals] == ["o1"]
    assert heard.ledger.waiting == {}


def test_a_falling_count_notifies_nobody() -> None:
    at = datetime(2026, 11, 27, 9, tzinfo=UTC)
    ledger = inventory_step(
        SkuLedger(sku="SKU-1"), SetStock("SKU-1", at, "WH-A", 3, "wms", 1)
    ).ledger
    ledger = _wait(ledger, "o1", 5, at).ledger
    assert inventory_step(ledger, SetStock("SKU-1", at, "WH-A", 1, "wms", 2)).arrivals == ()


def test_inbound_supply_is_kept_per_location_and_never_promised() -> None:
    at = datetime(2026, 11, 27, 9, tzinfo=UTC)
    ledger = apply(SkuLedger(sku="SKU-1"), SetStock("SKU-1", at, "WH-A", 3, "wms", 1))[0]
    expect = SetInbound("SKU-1", at, "WH-A", 240, "erp", 7)
    ledger, outcome = apply(ledger, expect)
    assert outcome.verdict is Verdict.APPLIED
    assert ledger.locations["WH-A"].inbound == 240
    assert ledger.atp("WH-A") == 3  # on the way is not on hand
    assert apply(ledger, expect)[1].verdict is Verdict.STALE  # its feed's sequence, replayed
    # the count feed and the inbound feed keep separate sequences
    assert apply(ledger, SetStock("SKU-1", at, "WH-A", 5, "erp", 7))[1].verdict is Verdict.APPLIED


def test_a_replayed_command_publishes_the_current_position_of_its_location_again() -> None:
    """A SIGKILL can keep the ledger's changelog record and lose the position sent before
    it; the replayed command is then a duplicate or stale, and must publish again."""
    at = datetime(2026, 11, 27, 9, tzinfo=UTC)
    snapshot = SetStock("SKU-1", at, "WH-A", 26, "wms", 16)
    ledger = inventory_step(SkuLedger(sku="SKU-1"), snapshot).ledger
    reserve = Reserve("SKU-1", at, "r1", "o1", "1", "WH-A", 5)
    ledger = inventory_step(ledger, reserve).ledger
    replayed = inventory_step(ledger, snapshot)
    assert replayed.outcome.verdict is Verdict.STALE
    assert [(p.location, p.on_hand, p.reserved, p.atp) for p in replayed.positions] == [
        ("WH-A", 26, 5, 21)
    ]
    again = inventory_step(ledger, reserve)
    assert again.outcome.verdict is Verdict.DUPLICATE
    assert [(p.on_hand, p.reserved) for p in again.positions] == [(26, 5)]
    released = inventory_step(ledger, Release("SKU-1", at, "r1", "cancelled")).ledger
    twice = inventory_step(released, Release("SKU-1", at, "r1", "cancelled"))
    assert [(p.on_hand, p.reserved) for p in twice.positions] == [(26, 0)]
    # a refusal, a wait and a release of what was never reserved touch no position
    refused = inventory_step(ledger, Reserve("SKU-1", at, "r2", "o2", "1", "WH-A", 99))
    assert refused.positions == ()
    unknown = inventory_step(ledger, Release("SKU-1", at, "r9", "cancelled")).ledger
    assert inventory_step(unknown, Release("SKU-1", at, "r9", "cancelled")).positions == ()
