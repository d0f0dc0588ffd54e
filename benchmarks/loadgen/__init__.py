"""The peak-season load generator: seeded, deterministic raw channel records.

`LoadRun(mix, seed=..., start=...)` streams `RawRecord`s (iterate it; `expected` says what
they hold once it is done); `generate(...)` returns them as a list with the `Expected`;
`write_files` / `read_files` keep a run as JSON lines per topic for benchmarks.
"""

from __future__ import annotations

from .files import Manifest, read_files, write_files
from .generator import Expected, Kind, LoadRun, RawRecord, generate
from .mix import Mix
from .network import Network, network_from, sample_network

__all__ = [
    "Expected",
    "Kind",
    "LoadRun",
    "Manifest",
    "Mix",
    "Network",
    "RawRecord",
    "generate",
    "network_from",
    "read_files",
    "sample_network",
    "write_files",
]
