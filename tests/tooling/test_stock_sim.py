"""The stock simulation: a lag-aware buffer oversells less than a fixed one when a feed lags."""

from __future__ import annotations

from typer.testing import CliRunner

from orderstream.agents import cli
from orderstream.benchmarks.stock_sim import Scenario, compare


def test_the_lag_aware_buffer_oversells_less_when_a_feed_lags() -> None:
    fixed, aware = compare(Scenario(seed=7, lag_s=300))
    assert fixed.oversold > 0
    assert aware.oversold < fixed.oversold
    # Holding units back does not strand them: the channel that does not lag sells them.
    assert aware.sold >= Scenario().stock - Scenario().base_buffer - 1


def test_with_no_lag_both_buffers_sell_and_oversell_alike() -> None:
    fixed, aware = compare(Scenario(seed=7, lag_s=0))
    assert fixed == aware
    assert fixed.oversold == 0


def test_the_same_seed_gives_the_same_outcome() -> None:
    assert compare(Scenario(seed=3)) == compare(Scenario(seed=3))


def test_the_command_prints_both_buffers_per_seed_and_the_oversell_prevented() -> None:
    result = CliRunner().invoke(cli.build_app(), ["stock-sim", "--seeds", "2", "--lag-s", "120"])
    assert result.exit_code == 0, result.output
    rows = result.output.splitlines()
    assert rows[0].startswith("stock 120, 1800 s")
    assert [row.split()[0] for row in rows[2:]] == ["1", "2", "all"]
    assert "oversold prevented:" in rows[-1]
