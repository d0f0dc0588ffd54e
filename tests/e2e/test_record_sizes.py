"""Bounded record sizes on a running worker: the 240-line, 498 KB order is allocated, a
1,000-line order lands in `dlq.ingest` as `order_too_large`."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import pytest

from orderstream.benchmarks.drive import dead_letters, ledger_view, statuses, wait_for_outcomes
from orderstream.benchmarks.loadgen import RawRecord
from orderstream.benchmarks.loadgen.payloads import stock_snapshot
from orderstream.benchmarks.loadgen.send import produce
from orderstream.benchmarks.localrun import Run, wait_until
from orderstream.streams.status import OrderStatus
from tests.builders import large_shopify_order

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CREATE = [("X-Shopify-Topic", b"orders/create")]


def test_a_240_line_order_is_allocated_and_a_1000_line_order_is_dead_lettered(run: Run) -> None:
    now = datetime.now(UTC)
    large, skus = large_shopify_order(240, at=now, title_chars=766, sku_chars=255)
    huge, _ = large_shopify_order(1000, at=now, title_chars=20, sku_chars=12, number=2)
    stock = [
        RawRecord(
            "raw.stock",
            sku.encode(),
            json.dumps(
                stock_snapshot(
                    system="wms-ams",
                    location="WH-AMS",
                    sku=sku,
                    sequence=number,
                    on_hand=5,
                    at=now,
                )
            ).encode(),
            [],
            "stock",
        )
        for number, sku in enumerate(skus, start=1)
    ]
    large_id = f"shopify:{json.loads(large)['id']}"
    worker = run.start_worker("w1")
    asyncio.run(produce(run, stock))
    # the worker's planning replica follows what the ledger published: plan on all of it
    assert wait_until(lambda: len(asyncio.run(ledger_view(run))) == len(skus), 60), run.logs()
    time.sleep(2)
    asyncio.run(
        produce(
            run,
            [
                RawRecord("raw.shopify", b"2", huge, CREATE, "order"),
                RawRecord("raw.shopify", b"1", large, CREATE, "order"),
            ],
        )
    )
    assert wait_for_outcomes(run, {large_id}, timeout=120), run.logs()

    steps = [s.status for s, _ in asyncio.run(statuses(run)) if s.oms_order_id == large_id]
    assert steps == [OrderStatus.PLACED, OrderStatus.ALLOCATED]
    letters = asyncio.run(dead_letters(run))
    assert [(d.stage, d.reason) for d in letters] == [("ingest", "order_too_large")]
    assert worker.alive
