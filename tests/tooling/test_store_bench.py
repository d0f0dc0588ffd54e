"""The store bench's synthetic events: whole orders in seq order, unique event ids."""

from __future__ import annotations

from orderstream.benchmarks.scratch_db import with_database
from orderstream.benchmarks.store_bench import STEPS_PER_ORDER, synthetic_events


def test_synthetic_events_are_orders_in_seq_order_with_unique_ids() -> None:
    events = list(synthetic_events(10))
    assert len(events) == 10
    assert len({e.event_id for e in events}) == 10
    assert [e.seq for e in events] == [1, 2, 3, 4, 1, 2, 3, 4, 1, 2]
    assert all(e.event_id == f"{e.oms_order_id}:{e.seq}" for e in events)
    assert STEPS_PER_ORDER == 4


def test_only_the_allocation_names_its_deciding_rule() -> None:
    events = list(synthetic_events(4))
    assert [e.decided_by is not None for e in events] == [False, True, False, False]


def test_a_scratch_dsn_names_its_database_and_keeps_the_rest() -> None:
    assert (
        with_database("postgresql://postgres@127.0.0.1:5432/test", "x")
        == "postgresql://postgres@127.0.0.1:5432/x"
    )
    socket = "postgresql://postgres@/postgres?host=/tmp/pg"
    assert with_database(socket, "x") == "postgresql://postgres@/x?host=/tmp/pg"
