"""RSS of one process that writes N 1 KB rows over 64 RocksDB databases opened the way Faust
opens a table partition, with Faust's default options and with orderstream's shared budget
(agents/rocksdb_memory.py). Each mode runs in a process of its own (the budget is
process-wide).

    .venv/bin/python benchmarks/rocksdb_memory.py [ROWS]      # default 1,000,000
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATABASES = 64


def rss_mb() -> int:
    status = Path("/proc/self/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS"))
    return int(line.split()[1]) // 1024


def measure(mode: str, rows: int) -> None:
    from faust.stores.rocksdb import RocksDBOptions

    from orderstream.agents import rocksdb_memory
    from orderstream.agents.settings import load_settings

    if mode == "budget":
        rocksdb_memory.bound(load_settings().rocksdb_budget())
    root = Path(tempfile.mkdtemp(prefix="rocksdb-memory-"))
    databases = [RocksDBOptions().open(root / f"p{i}") for i in range(DATABASES)]
    row = os.urandom(1024)
    started = time.perf_counter()
    for n in range(rows):
        databases[n % DATABASES][b"k%09d" % n] = row
    for n in range(0, rows, 7):
        if databases[n % DATABASES][b"k%09d" % n] != row:
            raise SystemExit(f"row {n} read back wrong")
    seconds = time.perf_counter() - started
    print(f"{mode:8s} {rows:,} rows: RSS {rss_mb()} MB, {seconds:.1f} s to write and read")


def main() -> None:
    if len(sys.argv) > 2:
        measure(sys.argv[1], int(sys.argv[2]))
        return
    rows = sys.argv[1] if len(sys.argv) > 1 else "1000000"
    for mode in ("faust", "budget"):
        subprocess.run([sys.executable, __file__, mode, rows], check=True)


if __name__ == "__main__":
    main()
