"""A regular (non-editable) build maps the code folders into the orderstream namespace."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_wheel_holds_each_folder_under_orderstream_and_the_samples(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("orderstream-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("streams", "codecs", "state", "agents", "benchmarks", "deploy"):
        for init in (ROOT / folder).rglob("__init__.py"):
            assert f"orderstream/{init.relative_to(ROOT).as_posix()}" in names
    assert "orderstream/agents/samples/rules.yaml" in names
    assert "orderstream/agents/notify/templates/order_shipped.html" in names
    assert "orderstream/agents/notify/templates/phrases/nl.yaml" in names
    assert "orderstream/deploy/embedded/cli.py" in names
    assert "orderstream/benchmarks/loadgen/cli.py" in names
    for migration in (ROOT / "state" / "migrations").glob("*.sql"):  # `orderstream db migrate`
        assert f"orderstream/state/migrations/{migration.name}" in names
    assert not any(name.startswith("orderstream/benchmarks/results/") for name in names)
    assert not any(
        name.startswith(("streams/", "codecs/", "benchmarks/", "deploy/", "tests/"))
        for name in names
    )
    # A top-level `codecs` package would shadow the standard library's; there is none.
    assert "codecs/__init__.py" not in names


def test_the_installed_namespace_imports_from_any_directory(tmp_path: Path) -> None:
    probe = (
        "import codecs, orderstream.codecs.sources as s, orderstream.streams.money as m;"
        "assert codecs.lookup('utf-8');"
        "print(s.__name__, m.__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["orderstream.codecs.sources", "orderstream.streams.money"]
