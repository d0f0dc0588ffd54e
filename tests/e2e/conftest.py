"""End-to-end runs: workers as processes on the session's broker, one isolated run per test."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from orderstream.benchmarks.localrun import Run


@pytest.fixture
def run(kafka_bootstrap: str) -> Iterator[Run]:
    root = Path(tempfile.mkdtemp(prefix="orderstream-e2e-"))
    pipeline = Run(kafka_bootstrap, root)
    try:
        yield pipeline
    finally:
        pipeline.stop_all()
        shutil.rmtree(root, ignore_errors=True)
