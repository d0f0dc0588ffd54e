"""The commit rule that replaces Faust's: a commit never passes an unacknowledged offset."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from orderstream.agents.faust_fixes import next_commit


def test_a_hole_at_the_committed_offset_means_no_commit() -> None:
    # Faust's own rule committed 19 here: its check was `min(acked) - committed > 1`.
    assert next_commit(17, [18]) == (None, 0)


def test_commit_advances_over_the_contiguous_run_from_the_committed_offset() -> None:
    assert next_commit(17, [17, 18, 20]) == (19, 2)


def test_offsets_below_the_committed_offset_are_consumed_without_moving_it() -> None:
    assert next_commit(17, [15, 16]) == (None, 2)
    assert next_commit(17, [16, 17, 17, 18]) == (19, 4)


def test_nothing_known_about_the_start_means_no_commit() -> None:
    assert next_commit(None, [0, 1, 2]) == (None, 0)


@given(
    start=st.integers(0, 50),
    acked=st.lists(st.integers(0, 80), max_size=40),
)
def test_every_offset_below_the_commit_was_acknowledged_or_already_committed(
    start: int, acked: list[int]
) -> None:
    acked.sort()
    offset, used = next_commit(start, acked)
    if offset is not None:
        assert offset > start
        assert set(range(start, offset)) <= set(acked)
        assert offset not in acked  # the run stops at the first hole
    assert 0 <= used <= len(acked)
    assert all(a < (offset if offset is not None else start) for a in acked[:used])
