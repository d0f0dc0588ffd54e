"""State left on a real broker after a campaign whose event times span more than twice the
longest row lifetime, with and without retention: rows and bytes per table.

One worker on the embedded stack (benchmarks/localrun.py) gets the loadgen's records stamped with
event time, `--days` compressed into `--seconds`, so its sweeps see partition clocks move. When
quiet, each changelog is folded to its last value per key (what a recovering worker restores)
and the RocksDB directory measured. "With" uses the environment's lifetimes; "without" sets
every lifetime far beyond the campaign.

    .venv/bin/python benchmarks/retention_campaign.py --orders 4000 --days 220
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from orderstream.agents.settings import Settings
from orderstream.agents.topic_reader import read_topic, record_counts
from orderstream.agents.topics import ORDERS_STATUS
from orderstream.benchmarks.drive import wait_for_outcomes
from orderstream.benchmarks.loadgen import LoadRun, Mix
from orderstream.benchmarks.loadgen.send import produce
from orderstream.benchmarks.localrun import Run, broker, settings_of, wait_until
from orderstream.codecs import internal
from orderstream.codecs.sources import Source
from orderstream.state.tables import ROW_SEPARATOR

RESULTS = Path(__file__).parent / "results"
FOREVER_DAYS = 36_500
"""'Without retention': every lifetime a hundred years, far beyond any campaign."""
NO_RETENTION = {
    "ORDERSTREAM_ORDER_RETENTION_DAYS": str(FOREVER_DAYS),
    "ORDERSTREAM_ORDER_MAX_OPEN_DAYS": str(FOREVER_DAYS),
    "ORDERSTREAM_BUNDLE_RETENTION_DAYS": str(FOREVER_DAYS),
    "ORDERSTREAM_LEDGER_MARKER_RETENTION_HOURS": str(FOREVER_DAYS * 24),
    # The start-up check wants the order retention to outlast the dedupe windows.
    **{f"ORDERSTREAM_DEDUPE_HOURS_{s.name}": str(FOREVER_DAYS * 24 // 10) for s in Source},
}
_EXPIRED = re.compile(r'^orderstream_records_total\{([^}]*outcome="row_expired"[^}]*)\} (\S+)$')


def longest_lifetime(settings: Settings) -> timedelta:
    """Open, then finished, then a tombstone: the longest an order row can live."""
    windows = [settings.dedupe_retention(s.value) for s in Source if s is not Source.STOCK]
    return timedelta(days=settings.order_max_open_days + settings.order_retention_days) + max(
        windows
    )


def campaign(bootstrap: str, args: argparse.Namespace, retention: bool) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="orderstream-retention-"))
    run = Run(bootstrap, root, partitions=args.partitions)
    run.settings["ORDERSTREAM_RETENTION_SWEEP_INTERVAL_S"] = str(args.sweep_interval)
    if not retention:
        run.settings.update(NO_RETENTION)
    settings = settings_of(run.env())
    problem = settings.lifetime_problem()
    if problem:
        raise SystemExit(f"refused by the start-up check: {problem}")
    mix = Mix(
        orders=args.orders,
        catalogue_size=args.catalogue,
        orders_per_second=args.orders / (args.days * 86_400),
    )
    load = LoadRun(mix, seed=args.seed, start=args.start, event_time=True)
    label = "with retention" if retention else "without retention"
    try:
        worker = run.start_worker("w1")
        began = time.monotonic()
        speedup = args.days * 86_400 / args.seconds
        produced = asyncio.run(produce(run, load, speedup=speedup))
        sent_s = time.monotonic() - began
        expected = load.expected
        done = wait_for_outcomes(run, expected.all_order_ids, timeout=args.timeout)
        outcomes_s = time.monotonic() - began
        if not done:
            print(f"{label}: not every order had an outcome in {args.timeout} s", file=sys.stderr)
        quiet(run, args.quiet, args.timeout)
        expired = rows_expired(worker.web_port)
        worker.stop()
        log = worker.log.read_text()
        tracebacks = log.count("Traceback")
        if tracebacks:
            first = log.index("Traceback")
            print(f"{label}: {tracebacks} tracebacks, the first:", file=sys.stderr)
            print(log[max(0, first - 400) : first + 3000], file=sys.stderr)
        disk = sum(f.stat().st_size for f in (root / "w1").rglob("*") if f.is_file())
        tables = asyncio.run(fold_changelogs(run))
        ends = asyncio.run(order_ends(run))
    finally:
        run.stop_all()
        shutil.rmtree(root, ignore_errors=True)
    stamps = [r.timestamp_ms or 0 for r, _ in produced]
    span = timedelta(milliseconds=max(stamps) - min(stamps))
    return {
        "retention": retention,
        "settings": {
            "order_max_open_days": settings.order_max_open_days,
            "order_retention_days": settings.order_retention_days,
            "longest_dedupe_days": longest_lifetime(settings).days
            - settings.order_max_open_days
            - settings.order_retention_days,
            "bundle_retention_days": settings.bundle_retention_days,
            "ledger_marker_retention_hours": settings.ledger_marker_retention_hours,
            "retention_sweep_interval_s": settings.retention_sweep_interval_s,
            "event_days_per_wall_second": round(args.days / args.seconds, 2),
            "longest_lifetime_days": longest_lifetime(settings).days,
        },
        "records_sent": len(produced),
        "orders": expected.orders,
        "event_time_span_days": round(span / timedelta(days=1), 1),
        "all_outcomes": done,
        "seconds_to_send": round(sent_s, 1),
        "seconds_to_outcomes": round(outcomes_s, 1),
        "rows_expired_by_stage": expired,
        "order_ends": ends,
        "tables": tables,
        "rocksdb_bytes_on_disk": disk,
        "worker_tracebacks": tracebacks,
    }


def quiet(run: Run, quiet_s: float, timeout: float) -> None:
    """Wait until no topic of the run (changelogs included) has grown for `quiet_s`."""
    last: list[dict[str, int]] = [{}]
    since = [time.monotonic()]

    def settled() -> bool:
        counts = asyncio.run(record_counts(run.bootstrap, run.app_id))
        if counts != last[0]:
            last[0], since[0] = counts, time.monotonic()
        return time.monotonic() - since[0] >= quiet_s

    wait_until(settled, timeout, interval=1.0)


def rows_expired(port: int) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    expired: dict[str, int] = {}
    for line in text.splitlines():
        found = _EXPIRED.match(line)
        if found:
            stage = re.search(r'stage="([^"]*)"', found.group(1))
            expired[stage.group(1) if stage else "?"] = int(float(found.group(2)))
    return expired


async def fold_changelogs(run: Run) -> dict[str, dict[str, int]]:
    """Each table's changelog folded to its last value per key: rows, bytes (key + value)
    and the changelog's records; the order table's tombstones, the ledger's spilled rows."""
    counts = await record_counts(run.bootstrap, f"{run.app_id}-")
    tables: dict[str, dict[str, int]] = {}
    for topic, records in sorted(counts.items()):
        if not topic.endswith("-changelog"):
            continue
        table = topic.removeprefix(f"{run.app_id}-").removesuffix("-changelog")
        rows: dict[bytes | None, bytes] = {}
        for record in await read_topic(run.bootstrap, topic):
            if record.value is None:
                rows.pop(record.key, None)
            else:
                rows[record.key] = record.value
        found = {
            "rows": len(rows),
            "bytes": sum(len(k or b"") + len(v) for k, v in rows.items()),
            "changelog_records": records,
        }
        if table == "order_id_to_state":
            states = [internal.order_state.decode(v) for v in rows.values()]
            found["tombstones"] = sum(1 for s in states if s.retired_at is not None)
        if table == "sku_to_ledger":
            found["spilled_rows"] = sum(1 for k in rows if k and ROW_SEPARATOR in k)
        tables[table] = found
    return tables


async def order_ends(run: Run) -> dict[str, int]:
    """How each order stands at the end: its last status and why, per channel."""
    last: dict[str, Any] = {}
    for record in await read_topic(run.bootstrap, run.topic(ORDERS_STATUS)):
        if record.value:
            event = internal.status_changed.decode(record.value)
            last[event.oms_order_id] = event
    ends = Counter(
        f"{e.channel} {e.status.value}" + (f" ({e.reason.split(':')[0]})" if e.reason else "")
        for e in last.values()
    )
    return dict(sorted(ends.items()))


def report(results: list[dict[str, Any]]) -> None:
    off, on = (next(r for r in results if r["retention"] is flag) for flag in (False, True))
    print(
        f"{on['orders']:,} orders, {on['records_sent']:,} records over "
        f"{on['event_time_span_days']} days of event time; longest lifetime "
        f"{on['settings']['longest_lifetime_days']} days with retention"
    )
    heading = f"{'table':32} {'rows off':>9} {'bytes off':>12} {'rows on':>9} {'bytes on':>12}"
    print(heading)
    totals = [0, 0]
    for table in sorted(set(off["tables"]) | set(on["tables"])):
        a = off["tables"].get(table, {"rows": 0, "bytes": 0})
        b = on["tables"].get(table, {"rows": 0, "bytes": 0})
        totals[0] += a["bytes"]
        totals[1] += b["bytes"]
        print(f"{table:32} {a['rows']:9,} {a['bytes']:12,} {b['rows']:9,} {b['bytes']:12,}")
    print(f"{'total (changelogs folded)':32} {'':9} {totals[0]:12,} {'':9} {totals[1]:12,}")
    print(
        f"{'RocksDB dir on disk':32} {'':9} {off['rocksdb_bytes_on_disk']:12,} {'':9} "
        f"{on['rocksdb_bytes_on_disk']:12,}"
    )
    for result in (off, on):
        name = "with" if result["retention"] else "without"
        print(f"order ends {name} retention: {result['order_ends']}")
        print(f"rows expired {name} retention: {result['rows_expired_by_stage']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=4000)
    parser.add_argument("--days", type=float, default=220, help="Event time the orders span.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--start",
        type=datetime.fromisoformat,
        default=datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
        help="Event time of the first record; the campaign must end before now (brokers "
        "may refuse timestamps in the future).",
    )
    parser.add_argument("--catalogue", type=int, default=500)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument(
        "--seconds", type=float, default=150.0, help="Wall time the event time is compressed into."
    )
    parser.add_argument("--sweep-interval", type=float, default=1.0)
    parser.add_argument("--quiet", type=float, default=15.0, help="Seconds without new records.")
    parser.add_argument("--timeout", type=float, default=480.0)
    parser.add_argument("--bootstrap", default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.start + timedelta(days=args.days * 1.2) > datetime.now(UTC):
        parser.error("--start + --days must lie in the past")
    results = []
    with broker(args.bootstrap) as bootstrap:
        for retention in (False, True):
            began = time.monotonic()
            results.append(campaign(bootstrap, args, retention))
            results[-1]["seconds"] = round(time.monotonic() - began, 1)
            print(f"run {'with' if retention else 'without'} retention: {results[-1]['seconds']} s")
    report(results)
    out = args.out or RESULTS / f"retention-campaign-{datetime.now(UTC).date()}.json"
    document = {
        "machine": "2-core dev machine, embedded tansu broker (memory storage), one worker",
        "command": " ".join(["benchmarks/retention_campaign.py", *sys.argv[1:]]),
        "orders": args.orders,
        "days": args.days,
        "seed": args.seed,
        "start": args.start.isoformat(),
        "partitions": args.partitions,
        "runs": results,
    }
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
