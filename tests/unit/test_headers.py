"""Every flow record carries event-type, schema-version, event-id and trace-id: the type and
version from the topic's contract, the record's own id where it has one (else one derived from
its input's position and its bytes, the same on a replay), and its cause's trace."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest
from jsonschema import Draft7Validator

from orderstream.codecs import internal
from orderstream.codecs.asyncapi import asyncapi, channel_id
from orderstream.codecs.contract import TOPICS, by_topic
from orderstream.codecs.headers import (
    HEADER_NAMES,
    Cause,
    TopicHeaders,
    own_id_field,
    tag_of,
    value_types,
)
from orderstream.codecs.trace import derived_trace_id
from orderstream.streams.bundling import ShipmentsBundled
from orderstream.streams.inventory import AvailabilityChanged
from orderstream.streams.ledger_commands import Commit, Reserve
from orderstream.streams.order_messages import (
    AllocationDecided,
    FulfilmentRequested,
    LineQty,
    StatusChanged,
)
from orderstream.streams.order_state import OrderStatus
from tests.builders import fulfilment_request

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
TRACE = b"4bf92f3577b34da6a3ce929d0e0e4736"
FROM_ORDER = Cause.of(
    "orders.events", 2, 17, [("traceparent", b"00-" + TRACE + b"-00f067aa0ba902b7-01")]
)


def as_dict(headers: list[tuple[str, bytes]]) -> dict[str, bytes]:
    assert [name for name, _ in headers] == list(HEADER_NAMES)
    return dict(headers)


def status_changed() -> StatusChanged:
    return StatusChanged(
        event_id="shopify:1001:2",
        oms_order_id="shopify:1001",
        seq=2,
        status=OrderStatus.ALLOCATED,
        occurred_at=NOW,
        caused_by="shopify:webhook:1",
        channel="shopify",
        previous=OrderStatus.PLACED,
    )


def reserve(line: str) -> Reserve:
    return Reserve(
        sku="TSHIRT-BLK-M",
        issued_at=NOW,
        reservation_id=f"shopify:1001:{line}",
        oms_order_id="shopify:1001",
        line_id=line,
        location="WH-AMS",
        qty=1,
    )


def headers_of(topic: str, record: msgspec.Struct, cause: Cause = FROM_ORDER) -> dict[str, bytes]:
    value = internal.encode(record)
    return as_dict(TopicHeaders.for_topic(topic).of(record, value, cause))


def test_a_status_change_carries_its_tag_its_contract_version_its_event_id_and_the_trace() -> None:
    assert headers_of("orders.status", status_changed()) == {
        "event-type": b"order.status_changed.v1",
        "schema-version": str(by_topic()["orders.status"].version).encode(),
        "event-id": b"shopify:1001:2",
        "trace-id": TRACE,
    }


def test_a_fulfilment_request_is_identified_by_its_request_id_on_both_of_its_topics() -> None:
    request = fulfilment_request("shopify:1001")
    for topic in ("fulfilment.requests", "fulfilment.bundling"):
        headers = headers_of(topic, request)
        assert headers["event-type"] == b"fulfilment.requested.v1"
        assert headers["event-id"] == request.request_id.encode()


def test_a_bundle_instruction_is_identified_by_its_event_id() -> None:
    bundled = ShipmentsBundled(
        event_id="k1:2",
        bundle_key="k1",
        version=2,
        location="WH-AMS",
        request_ids=("a/1", "b/1"),
        oms_order_ids=("a", "b"),
        lines=(LineQty("1", "SKU-a", 1),),
    )
    assert headers_of("fulfilment.bundles", bundled)["event-id"] == b"k1:2"


def test_a_record_without_an_id_of_its_own_gets_one_from_its_inputs_position_and_bytes() -> None:
    first = headers_of("inventory.commands", reserve("1"))["event-id"]
    assert first.startswith(b"orders.events:2:17/")
    # a replay of the same input repeats it
    again = Cause.of("orders.events", 2, 17, [("trace-id", TRACE)])
    assert headers_of("inventory.commands", reserve("1"), again)["event-id"] == first
    # another record of the same input, or the same record from another input, differs
    assert headers_of("inventory.commands", reserve("2"))["event-id"] != first
    later = Cause.of("orders.events", 2, 18, [])
    assert headers_of("inventory.commands", reserve("1"), later)["event-id"] != first
    # a release and a commit of one reservation are two records
    commit = Commit(sku="TSHIRT-BLK-M", issued_at=NOW, reservation_id="shopify:1001:1")
    assert headers_of("inventory.commands", commit)["event-id"] not in {first, b""}


def test_a_record_of_an_input_without_a_trace_carries_the_trace_derived_from_its_position() -> None:
    cause = Cause.of("raw.shopify", 0, 5, [("x-shopify-topic", b"orders/create")])
    change = AvailabilityChanged("SKU-1", "WH-AMS", 3)
    headers = headers_of("inventory.availability", change, cause)
    assert headers["trace-id"] == derived_trace_id("raw.shopify:0:5")


def test_a_record_no_input_caused_starts_its_trace_at_its_origin_the_same_every_time() -> None:
    swept = Cause.root("timed_out:shopify:1001:2026-11-27T09:30:00+00:00")
    assert swept == Cause.root("timed_out:shopify:1001:2026-11-27T09:30:00+00:00")
    assert swept.trace_id == derived_trace_id(swept.origin)


def test_exactly_status_changes_their_explanations_bundles_and_requests_have_own_ids() -> None:
    owned = {
        kind: own_id_field(kind) for contract in TOPICS for kind in value_types(contract.value)
    }
    assert {kind: name for kind, name in owned.items() if name} == {
        StatusChanged: "event_id",
        AllocationDecided: "event_id",  # the id of the status change it explains
        ShipmentsBundled: "event_id",
        FulfilmentRequested: "request_id",
    }


def test_every_contract_type_has_a_versioned_tag_for_its_event_type() -> None:
    for contract in TOPICS:
        TopicHeaders(contract)
        for kind in value_types(contract.value):
            assert tag_of(kind).endswith(f".v{contract.version}"), (contract.topic, kind)


def test_a_type_the_topics_contract_does_not_name_is_refused() -> None:
    with pytest.raises(KeyError):
        headers_of("orders.status", reserve("1"))


def test_the_contract_declares_the_headers_of_every_flow_topic_and_a_record_meets_them() -> None:
    messages = asyncapi()["components"]["messages"]
    for contract in TOPICS:
        message = messages[channel_id(contract)]
        if contract.topic.startswith("dlq."):  # a letter keeps its original record's headers
            assert not contract.flow_headers and "headers" not in message
            continue
        assert message["headers"]["required"] == list(HEADER_NAMES), contract.topic
    records = {
        "orders.status": status_changed(),
        "fulfilment.requests": fulfilment_request("shopify:1001"),
        "inventory.commands": reserve("1"),
    }
    for topic, record in records.items():
        schema = messages[channel_id(by_topic()[topic])]["headers"]
        found = headers_of(topic, record)
        as_text = {name: value.decode() for name, value in found.items()}
        assert list(Draft7Validator(schema).iter_errors(as_text)) == [], topic
    wrong = {**as_text, "trace-id": "4BF9", "schema-version": "2"}
    assert len(list(Draft7Validator(schema).iter_errors(wrong))) == 2
