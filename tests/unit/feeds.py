"""Helpers for channel tests: a fixture as a dict, edited, then normalized."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orderstream.codecs.common import Normalized
from orderstream.codecs.sources import Source, normalize_payload

FIXTURES = Path(__file__).parent.parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    """`name` is `source/fixture`, e.g. `stock/snapshot`."""
    document: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return document


def run(source: str, document: dict[str, Any], headers: dict[str, str] | None = None) -> Normalized:
    return normalize_payload(Source(source), json.dumps(document).encode(), headers or {})
