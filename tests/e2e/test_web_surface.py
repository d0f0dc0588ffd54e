"""A running worker serves only `/metrics`, `/health` and `/ready`, on loopback by default:
no Faust view hands out table rows, and the port is not open to other hosts."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime

import psutil
import pytest

from orderstream.benchmarks.drive import wait_for_outcomes
from orderstream.benchmarks.loadgen import Mix, generate
from orderstream.benchmarks.loadgen.send import produce
from orderstream.benchmarks.localrun import Run, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BUILT_IN_VIEWS = (
    "/",
    "/table/",
    "/table/order_id_to_state/",
    "/table/order_id_to_state/shopify:1001/",
    "/table/sku_to_ledger/",
    "/router/",
    "/router/order_id_to_state/shopify:1001/",
    "/stats/",
    "/assignment/",
    "/graph/",
    "/performance/",
)


def get(url: str) -> tuple[int, bytes]:
    """Status and body of a GET; 0 when nothing answers (yet)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def listening_addresses(pid: int, port: int) -> set[str]:
    return {
        conn.laddr.ip
        for conn in psutil.Process(pid).net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port
    }


def test_a_worker_serves_health_ready_and_metrics_only_and_listens_on_loopback(run: Run) -> None:
    records, expected = generate(Mix(orders=8), seed=3, start=datetime.now(UTC))
    worker = run.start_worker("w1")
    base = f"http://127.0.0.1:{worker.web_port}"

    assert wait_until(lambda: get(f"{base}/health")[0] == 200, 60), run.logs()
    not_ready: list[dict[str, str]] = []

    def ready() -> bool:
        status, body = get(f"{base}/ready")
        if status == 503:
            not_ready.append(json.loads(body))
        return status == 200

    assert wait_until(ready, 90, interval=0.2), run.logs()
    assert all(answer["reason"] for answer in not_ready), not_ready
    assert json.loads(get(f"{base}/ready")[1]) == {"status": "ready"}
    assert json.loads(get(f"{base}/health")[1]) == {"status": "alive"}

    # with orders (names, e-mails, addresses) in the tables, no view hands them out
    asyncio.run(produce(run, records))
    assert wait_for_outcomes(run, expected.all_order_ids, timeout=90), run.logs()
    for path in BUILT_IN_VIEWS:
        assert get(base + path)[0] == 404, path
    status, body = get(f"{base}/metrics")
    assert status == 200
    assert b"orderstream_records_total" in body
    assert b"@" not in body

    assert listening_addresses(worker.process.pid, worker.web_port) == {"127.0.0.1"}
    assert worker.alive
