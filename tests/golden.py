"""Golden files: every fixture payload next to the canonical event it must normalize to.

Layout: `tests/fixtures/<source>/<name>.json` is a raw payload as the source sends it;
`<name>.headers.json` (optional) holds its transport headers; `tests/golden/<source>/<name>.json`
is the expected outcome (a canonical event or a rejection). Regenerate with
`ORDERSTREAM_UPDATE_GOLDEN=1 pytest tests/unit/test_golden.py` and review the diff by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
GOLDEN = TESTS / "golden"


@dataclass(frozen=True)
class Fixture:
    source: str
    name: str
    payload: Path

    @property
    def raw(self) -> bytes:
        return self.payload.read_bytes()

    @property
    def headers(self) -> dict[str, str]:
        path = self.payload.with_name(f"{self.name}.headers.json")
        return json.loads(path.read_text()) if path.exists() else {}

    @property
    def golden(self) -> Path:
        return GOLDEN / self.source / f"{self.name}.json"

    def __str__(self) -> str:
        return f"{self.source}/{self.name}"


def fixtures() -> list[Fixture]:
    """Every payload fixture, sorted, excluding header files."""
    found = []
    for path in sorted(FIXTURES.glob("*/*.json")):
        if path.name.endswith(".headers.json"):
            continue
        found.append(Fixture(path.parent.name, path.stem, path))
    return found
