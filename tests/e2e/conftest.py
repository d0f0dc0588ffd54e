"""End-to-end runs: workers as processes on the session's broker, one isolated run per test,
and a migrated event store database of the test's own."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from orderstream.benchmarks.localrun import Run
from orderstream.benchmarks.scratch_db import create_database, drop_database
from orderstream.state.schema import migrate


@pytest.fixture
def run(kafka_bootstrap: str) -> Iterator[Run]:
    root = Path(tempfile.mkdtemp(prefix="orderstream-e2e-"))
    pipeline = Run(kafka_bootstrap, root)
    try:
        yield pipeline
    finally:
        pipeline.stop_all()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def store_dsn(postgres_dsn: str) -> Iterator[str]:
    dsn = asyncio.run(create_database(postgres_dsn, "e2e"))
    try:
        asyncio.run(migrate(dsn))
        yield dsn
    finally:
        asyncio.run(drop_database(postgres_dsn, dsn))
