"""The worker refuses lifetimes that would forget a finished order while a return or a re-send
can still reach it; the defaults are safe (the rule itself: tests/unit/test_retention.py)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from orderstream.agents.cli import build_app
from orderstream.agents.settings import load_settings


def test_the_default_settings_are_safe_and_the_stock_window_does_not_count() -> None:
    assert load_settings().lifetime_problem() is None
    assert load_settings(dedupe_hours_stock=90 * 24).lifetime_problem() is None
    assert load_settings(order_retention_days=40).lifetime_problem() is not None


def test_the_worker_refuses_to_start_in_one_line_with_unsafe_lifetimes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ORDERSTREAM_ORDER_RETENTION_DAYS", "20")
    result = CliRunner().invoke(build_app(), ["worker"])
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert "ORDERSTREAM_ORDER_RETENTION_DAYS (20)" in line
