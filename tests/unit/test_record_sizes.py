"""Bounded record sizes: a large valid order is allocated with every state and output far
below the limits, an order too large for its state is refused at ingest, and a state at the
limit still makes a changelog record (the topics' sizes: tests/shell/test_topics.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from orderstream.benchmarks.pipeline_sim import Simulation, sample_rules
from orderstream.codecs import internal
from orderstream.codecs.limits import (
    MAX_ORDER_LINES,
    RECORD_MAX_BYTES,
    STATE_MAX_BYTES,
    admit,
    fits,
    state_bound,
)
from orderstream.codecs.sources import MAX_PAYLOAD_BYTES, Source, normalize_payload
from orderstream.streams.events import CanonicalEvent, OrderPlaced
from orderstream.streams.order_process import OrderDecision
from orderstream.streams.order_state import OrderState
from orderstream.streams.rejections import Rejected, RejectReason
from orderstream.streams.status import OrderStatus
from tests.builders import large_shopify_order

NOW = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)
CREATE = {"x-shopify-topic": "orders/create"}


def normalized(raw: bytes) -> CanonicalEvent | Rejected:
    event = normalize_payload(Source.SHOPIFY, raw, CREATE)
    return event if isinstance(event, Rejected) else admit(event, MAX_ORDER_LINES)


def test_a_240_line_order_of_498_kb_is_allocated_with_every_state_far_below_the_limits() -> None:
    raw, skus = large_shopify_order(240, at=NOW, title_chars=766, sku_chars=255)
    assert 497_000 < len(raw) < 499_000  # the 498 KB order (under MAX_PAYLOAD_BYTES)
    placed = normalized(raw)
    assert isinstance(placed, OrderPlaced)
    assert len(internal.encode(placed)) < RECORD_MAX_BYTES
    sim = Simulation(sample_rules(), NOW)
    for sku in skus:
        sim.stock(sku, "WH-AMS", 5)
    decisions: list[OrderDecision] = []
    sim.on_decision = decisions.append
    sim.send([placed])

    order_id = placed.order.oms_order_id
    statuses = [s for s in sim.statuses if s.oms_order_id == order_id]
    assert [s.status for s in statuses] == [OrderStatus.PLACED, OrderStatus.ALLOCATED]
    allocated = {ln.line_id for shipment in statuses[-1].shipments for ln in shipment.lines}
    assert allocated == {line.line_id for line in placed.order.lines}
    assert len(decisions) == 241  # the order, then one answer per line
    states = [len(internal.encode(d.state)) for d in decisions]
    outputs = [len(internal.encode(o)) for d in decisions for o in d.outputs]
    # well below: half the record limit, where the full copy of the order took 736 KB
    assert max(states) < RECORD_MAX_BYTES // 2
    assert max(states) <= state_bound(placed.order) <= STATE_MAX_BYTES
    assert max(outputs) < RECORD_MAX_BYTES // 2


def test_the_state_keeps_no_line_titles_and_no_billing_address() -> None:
    raw, skus = large_shopify_order(3, at=NOW, title_chars=900, sku_chars=20)
    placed = normalized(raw)
    assert isinstance(placed, OrderPlaced)
    sim = Simulation(sample_rules(), NOW)
    sim.send([placed])
    stored = sim.order(placed.order.oms_order_id)  # read back from the bytes stored
    assert stored.order is not None
    assert [ln.title for ln in stored.order.lines] == ["", "", ""]
    assert [ln.sku for ln in stored.order.lines] == skus
    assert stored.order.customer.billing_address is None
    assert stored.order.customer.shipping_address == placed.order.customer.shipping_address
    assert stored.order.customer.email == placed.order.customer.email


def test_a_1000_line_order_is_refused_at_ingest_as_order_too_large() -> None:
    raw, _ = large_shopify_order(1000, at=NOW, title_chars=20, sku_chars=12)
    assert len(raw) < MAX_PAYLOAD_BYTES  # refused for its lines, not its bytes
    refused = normalized(raw)
    assert isinstance(refused, Rejected)
    assert refused.reason is RejectReason.ORDER_TOO_LARGE
    assert refused.detail == "1000 lines exceed the limit of 500"


def test_the_line_limit_is_the_one_handed_in() -> None:
    raw, _ = large_shopify_order(12, at=NOW, title_chars=20, sku_chars=12)
    placed = normalize_payload(Source.SHOPIFY, raw, CREATE)
    assert isinstance(placed, OrderPlaced)
    assert admit(placed, 12) is placed
    refused = admit(placed, 11)
    assert isinstance(refused, Rejected)
    assert refused.reason is RejectReason.ORDER_TOO_LARGE


def test_an_order_within_the_line_limit_whose_state_would_pass_the_limit_is_refused() -> None:
    """Each SKU is copied into the state five times (the line, its reservation and reserve
    command, the allocated status and the fulfilment request): 240 SKUs of 1,000
    characters cannot fit, whatever the titles."""
    raw, _ = large_shopify_order(240, at=NOW, title_chars=300, sku_chars=1000)
    assert len(raw) < MAX_PAYLOAD_BYTES
    refused = normalized(raw)
    assert isinstance(refused, Rejected)
    assert refused.reason is RejectReason.ORDER_TOO_LARGE
    assert "state would take about" in refused.detail


def test_events_that_are_not_orders_pass_the_size_check_untouched() -> None:
    raw, _ = large_shopify_order(2, at=NOW, title_chars=20, sku_chars=12)
    cancelled = normalize_payload(Source.SHOPIFY, raw, {"x-shopify-topic": "orders/cancelled"})
    assert not isinstance(cancelled, Rejected)
    assert admit(cancelled, 1) is cancelled


def test_a_table_value_over_the_limit_is_refused_and_one_at_it_fits() -> None:
    assert fits(b"x" * STATE_MAX_BYTES) is None
    refused = fits(b"x" * (STATE_MAX_BYTES + 1))
    assert refused is not None
    assert refused.reason is RejectReason.ORDER_TOO_LARGE
    assert fits(internal.encode(OrderState("shopify:1")), 10) is not None


def test_a_state_at_the_limit_still_makes_a_changelog_record_with_a_long_key() -> None:
    key = ("shopify:" + "9" * 1000).encode()
    framing = 61 + 32  # a record batch's header and one record's own framing, at most
    assert STATE_MAX_BYTES + len(key) + framing < RECORD_MAX_BYTES
