"""Settings come from ORDERSTREAM_* once, are frozen, and are all documented."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pydantic
import pytest

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
