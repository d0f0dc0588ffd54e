"""Settings come from ORDERSTREAM_* once, are frozen, and are all documented."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pydantic
import pytest
from typer.testing import CliRunner

from orderstream.agents.cli import build_app
from orderstream.agents.settings import Settings, load_settings

EXAMPLE = Path(__file__).parents[2] / "deploy" / ".env.example"


def test_every_setting_is_documented_in_env_example_with_its_default() -> None:
    documented = dict(
        re.findall(r"^ORDERSTREAM_([A-Z0-9_]+)=(\S*)", EXAMPLE.read_text(), re.MULTILINE)
    )
    assert set(documented) == {name.upper() for name in Settings.model_fields}
    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else str(field.default)
        assert documented[name.upper()] == default, name


def test_the_environment_is_read_with_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERSTREAM_TOPIC_PARTITIONS", "12")
    monkeypatch.setenv("ORDERSTREAM_DEDUPE_HOURS_SHOPIFY", "6")
    settings = load_settings()
    assert settings.topic_partitions == 12
    assert settings.dedupe_retention("shopify") == timedelta(hours=6)


def test_settings_are_frozen_and_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    with pytest.raises(pydantic.ValidationError):
        settings.app_id = "other"  # type: ignore[misc]
    monkeypatch.setenv("ORDERSTREAM_TOPIC_PARTITIONS", "0")
    with pytest.raises(pydantic.ValidationError):
        load_settings()


def test_bundling_needs_a_shared_secret_and_nothing_else_does() -> None:
    with pytest.raises(ValueError, match="ORDERSTREAM_BUNDLE_KEY_SECRET"):
        load_settings().bundle_secret(bundling=True)
    with pytest.raises(ValueError, match="at least 16"):
        load_settings(bundle_key_secret="short").bundle_secret(bundling=True)
    assert load_settings().bundle_secret(bundling=False) == b""
    secret = load_settings(bundle_key_secret="sixteen or more characters")
    assert secret.bundle_secret(bundling=True) == b"sixteen or more characters"
    assert "sixteen" not in repr(secret)


def test_a_worker_with_bundling_rules_and_no_secret_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ORDERSTREAM_BUNDLE_KEY_SECRET", raising=False)
    rules = Path(__file__).parents[2] / "agents" / "samples" / "rules.yaml"  # bundles
    result = CliRunner().invoke(build_app(), ["worker", "--rules", str(rules)])
    assert result.exit_code == 2
    assert "ORDERSTREAM_BUNDLE_KEY_SECRET" in result.output
    assert "Traceback" not in result.output


def test_a_sink_s_own_mode_overrides_the_deployment_s(monkeypatch: pytest.MonkeyPatch) -> None:
    from orderstream.streams.delivery import SinkMode

    assert load_settings().sink_mode_for("shopify") is SinkMode.SHADOW  # safe by default
    monkeypatch.setenv("ORDERSTREAM_SINK_MODE", "write")
    monkeypatch.setenv("ORDERSTREAM_SINK_MODE_SHOPIFY", "shadow")
    settings = load_settings()
    assert settings.sink_mode_for("shopify") is SinkMode.SHADOW
    assert settings.sink_mode_for("bol") is SinkMode.WRITE
    assert settings.sink_mode_for("some_other_sink") is SinkMode.WRITE
    monkeypatch.setenv("ORDERSTREAM_SINK_MODE_BOL", "live")
    with pytest.raises(pydantic.ValidationError):
        load_settings()


def test_a_sink_request_cannot_outlive_its_delivery_log_entry() -> None:
    assert load_settings().sink_lifetimes().entry == timedelta(days=90)
    with pytest.raises(ValueError, match="outlives"):
        load_settings(sink_request_retention_days=120).sink_lifetimes()
