"""`orderstream sinks diff`: what shadow mode would have sent, without personal data unless
asked for; the settings `orderstream sink bol` and `sink shopify-stock` cannot start without."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from orderstream.agents.cli import build_app
from orderstream.agents.settings import load_settings
from orderstream.agents.sinks.bol_sink import retry
from orderstream.agents.sinks.cli import diff_lines
from orderstream.streams.delivery import Entry, EntryState, Lifetimes, SinkMode, recorded
from tests.builders import SINK_EPOCH, sink_effect

LIFETIMES = Lifetimes(request=timedelta(days=30), entry=timedelta(days=90))


def shadowed(order: str, sink: str = "email") -> Entry:
    effect = sink_effect(order, 1, tracking="jan@example.nl")
    return recorded(
        sink, effect, EntryState.SHADOWED, mode=SinkMode.SHADOW, now=SINK_EPOCH, lifetimes=LIFETIMES
    )


def test_diff_names_each_request_by_summary_size_and_digest_not_by_its_content() -> None:
    entries = [shadowed("shopify:1"), shadowed("shopify:2"), shadowed("bol:1", sink="bol")]
    lines = diff_lines(entries)
    assert lines[0].startswith("2026-11-27T09:00:00Z  email  shopify:1:1  ship shopify:1  [")
    assert "bytes, sha256 " in lines[0]
    assert lines[-2:] == [
        "bol: 1 requests shadow mode would have sent",
        "email: 2 requests shadow mode would have sent",
    ]
    assert not any("jan@example.nl" in line for line in lines)
    shown = diff_lines(entries, show_requests=True)
    assert any("jan@example.nl" in line for line in shown)


def test_an_expired_request_is_said_to_be_expired() -> None:
    entry = replace(shadowed("shopify:3"), request=None)
    assert "[request expired]" in diff_lines([entry])[0]


def test_a_since_that_is_no_time_is_an_unusable_argument() -> None:
    result = CliRunner().invoke(build_app(), ["sinks", "diff", "--since", "soon"])
    assert result.exit_code == 2
    assert "--since 'soon'" in result.output


def test_the_bol_sink_without_its_client_credentials_is_unusable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ORDERSTREAM_BOL_CLIENT_ID", raising=False)
    monkeypatch.setenv("ORDERSTREAM_BOL_CLIENT_SECRET", "secret")
    result = CliRunner().invoke(build_app(), ["sink", "bol"])
    assert result.exit_code == 2
    assert "ORDERSTREAM_BOL_CLIENT_ID" in result.output


def test_one_bol_action_has_time_for_its_calls_and_its_process_wait() -> None:
    settings = load_settings(sink_request_timeout_s=2.0, bol_process_wait_s=30.0)
    assert retry(settings).timeout_s > 30.0 + 2.0 * 3
    assert retry(settings).initial_s == settings.sink_retry_initial_s


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "ORDERSTREAM_SHOPIFY_ACCESS_TOKEN"),
        ({"ORDERSTREAM_SHOPIFY_ACCESS_TOKEN": "t"}, "ORDERSTREAM_SHOPIFY_STOCK_LOCATION_ID"),
        (
            {"ORDERSTREAM_SHOPIFY_ACCESS_TOKEN": "t", "ORDERSTREAM_SHOPIFY_STOCK_LOCATION_ID": "1"},
            "ORDERSTREAM_RULES_PATH",
        ),
    ],
)
def test_the_shopify_stock_sink_without_its_settings_is_unusable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], missing: str
) -> None:
    for name in (
        "ORDERSTREAM_SHOPIFY_ACCESS_TOKEN",
        "ORDERSTREAM_SHOPIFY_STOCK_LOCATION_ID",
        "ORDERSTREAM_RULES_PATH",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(build_app(), ["sink", "shopify-stock"])
    assert result.exit_code == 2
    assert missing in result.output
