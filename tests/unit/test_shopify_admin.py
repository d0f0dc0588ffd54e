"""The Shopify Admin GraphQL codec: the documents' variables from our parcels, the answers read
back, and what an HTTP answer comes to."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from orderstream.codecs.channel_outcomes import Delivered, Rejected, Retryable
from orderstream.codecs.shopify_admin import (
    GRAPHQL_PATH,
    FulfillmentCreated,
    Order,
    OrderState,
    Response,
    UserError,
    gid,
    legacy_id,
    read_answer,
    reported_cost,
    retry_after_seconds,
)
from orderstream.codecs.shopify_admin_documents import (
    FulfillmentCreateVariables,
    FulfillmentInput,
    FulfillmentTrackingInput,
    Request,
    cancel_reason,
    fulfillment_input,
    hold_reason,
    is_confirmed,
    mutation_outcome,
    order_state,
)
from tests.builders import SHOPIFY_JACKET, SHOPIFY_SCARF, shopify_parcel

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
FO = "gid://shopify/FulfillmentOrder/1"
TRACKING = FulfillmentTrackingInput(company="PostNL", number="3SABC", url="https://t.example/3SABC")


def order_document(
    remaining: dict[str, int], fulfillments: list[dict[str, object]] | None = None
) -> dict[str, object]:
    """An `order` answer: one open fulfillment order with `remaining` units per line id."""
    totals = {SHOPIFY_JACKET: 1, SHOPIFY_SCARF: 2}
    return {
        "id": gid("Order", "5874123456789"),
        "cancelledAt": None,
        "fulfillmentOrders": {
            "nodes": [
                {
                    "id": FO,
                    "status": "OPEN",
                    "fulfillmentHolds": [],
                    "lineItems": {
                        "nodes": [
                            {
                                "id": f"gid://shopify/FulfillmentOrderLineItem/{line}",
                                "remainingQuantity": remaining.get(line, 0),
                                "totalQuantity": totals[line],
                                "lineItem": {"id": gid("LineItem", line)},
                            }
                            for line in totals
                        ]
                    },
                }
            ]
        },
        "fulfillments": fulfillments or [],
    }


def decoded_order(
    remaining: dict[str, int], fulfillments: list[dict[str, object]] | None = None
) -> Order:
    body = msgspec.json.encode({"data": {"order": order_document(remaining, fulfillments)}})
    answer = read_answer(OrderState, 200, None, body, NOW)
    assert isinstance(answer, Response) and answer.data and answer.data.order
    return answer.data.order


def test_global_ids_round_trip_to_the_rest_ids_of_the_webhooks() -> None:
    assert gid("LineItem", 14123456789001) == "gid://shopify/LineItem/14123456789001"
    assert legacy_id("gid://shopify/LineItem/14123456789001") == "14123456789001"
    assert legacy_id("14123456789001") == ""
    assert GRAPHQL_PATH == "/admin/api/2026-10/graphql.json"


def test_a_split_orders_parcels_are_each_their_own_fulfillment_of_only_their_lines() -> None:
    order = decoded_order({SHOPIFY_JACKET: 1, SHOPIFY_SCARF: 2})
    first = fulfillment_input(order, shopify_parcel("s1", {SHOPIFY_JACKET: 1}), TRACKING)
    second = fulfillment_input(order, shopify_parcel("s2", {SHOPIFY_SCARF: 2}), TRACKING)
    assert isinstance(first, FulfillmentInput) and isinstance(second, FulfillmentInput)
    (group,) = first.line_items_by_fulfillment_order
    assert group.fulfillment_order_id == FO
    assert [(item.id[-3:], item.quantity) for item in group.fulfillment_order_line_items or []] == [
        ("001", 1)
    ]
    (group,) = second.line_items_by_fulfillment_order
    assert [(item.id[-3:], item.quantity) for item in group.fulfillment_order_line_items or []] == [
        ("002", 2)
    ]


def test_the_fulfillment_is_sent_in_the_documented_camel_case_shape() -> None:
    order = decoded_order({SHOPIFY_JACKET: 1, SHOPIFY_SCARF: 2})
    planned = fulfillment_input(order, shopify_parcel("s1", {SHOPIFY_SCARF: 1}), TRACKING)
    assert isinstance(planned, FulfillmentInput)
    body = msgspec.json.decode(
        msgspec.json.encode(Request("mutation", FulfillmentCreateVariables(fulfillment=planned)))
    )
    assert body["variables"] == {
        "fulfillment": {
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": FO,
                    "fulfillmentOrderLineItems": [
                        {
                            "id": f"gid://shopify/FulfillmentOrderLineItem/{SHOPIFY_SCARF}",
                            "quantity": 1,
                        }
                    ],
                }
            ],
            "trackingInfo": {
                "company": "PostNL",
                "number": "3SABC",
                "url": "https://t.example/3SABC",
            },
        }
    }


def test_units_no_longer_open_are_asked_for_anyway_so_shopify_answers_the_over_fulfilment() -> None:
    order = decoded_order({SHOPIFY_JACKET: 0, SHOPIFY_SCARF: 1})
    planned = fulfillment_input(order, shopify_parcel("s1", {SHOPIFY_SCARF: 2}), TRACKING)
    assert isinstance(planned, FulfillmentInput)
    (group,) = planned.line_items_by_fulfillment_order
    assert [item.quantity for item in group.fulfillment_order_line_items or []] == [2]


def test_a_line_the_order_does_not_have_is_refused_before_anything_is_sent() -> None:
    order = decoded_order({SHOPIFY_JACKET: 1})
    planned = fulfillment_input(order, shopify_parcel("s1", {"999": 1}), TRACKING)
    assert isinstance(planned, Rejected)
    assert "999" in planned.reason


def test_a_parcel_is_confirmed_by_a_fulfillment_with_its_tracking_number_and_units() -> None:
    made = {
        "id": "gid://shopify/Fulfillment/9",
        "status": "SUCCESS",
        "trackingInfo": [{"company": "PostNL", "number": "3SS1", "url": None}],
        "fulfillmentLineItems": {
            "nodes": [
                {"id": "f1", "quantity": 1, "lineItem": {"id": gid("LineItem", SHOPIFY_JACKET)}}
            ]
        },
    }
    state = order_state(decoded_order({SHOPIFY_SCARF: 2}, [made]))
    assert state.channel_order_id == "5874123456789"
    assert state.fulfilled(SHOPIFY_JACKET) == 1 and state.remaining[SHOPIFY_SCARF] == 2
    assert state.tracking_numbers == {"3SS1"}
    found = is_confirmed(state, shopify_parcel("s1", {SHOPIFY_JACKET: 1}))
    assert found is not None and found.fulfillment_id == "gid://shopify/Fulfillment/9"
    assert is_confirmed(state, shopify_parcel("s2", {SHOPIFY_JACKET: 1})) is None  # 3SS2
    assert is_confirmed(state, shopify_parcel("s1", {SHOPIFY_SCARF: 1})) is None


def test_throttling_429_and_5xx_may_be_retried_and_say_how_long_to_wait() -> None:
    assert read_answer(OrderState, 429, "2.0", b"", NOW) == Retryable("429: too many requests", 2.0)
    answer = read_answer(OrderState, 503, None, b"down", NOW)
    assert isinstance(answer, Retryable) and answer.retry_after is None
    throttled = msgspec.json.encode(
        {
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {
                "cost": {
                    "requestedQueryCost": 250,
                    "actualQueryCost": None,
                    "throttleStatus": {
                        "maximumAvailable": 2000.0,
                        "currentlyAvailable": 50,
                        "restoreRate": 100.0,
                    },
                }
            },
        }
    )
    assert read_answer(OrderState, 200, None, throttled, NOW) == Retryable(
        "throttled by query cost", 2.0
    )
    cost = reported_cost(throttled)
    assert cost is not None and cost.throttle_status is not None
    assert cost.throttle_status.currently_available == 50
    assert isinstance(read_answer(OrderState, 200, None, b"<html>", NOW), Retryable)


def test_a_refused_token_or_a_malformed_document_is_rejected_with_the_answer() -> None:
    refused = read_answer(OrderState, 401, None, b'{"errors":"[API] Invalid"}', NOW)
    assert isinstance(refused, Rejected) and "Invalid" in refused.response
    broken = msgspec.json.encode({"errors": [{"message": "Field 'x' doesn't exist"}]})
    answer = read_answer(FulfillmentCreated, 200, None, broken, NOW)
    assert isinstance(answer, Rejected) and "doesn't exist" in answer.reason


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds("3", NOW) == 3.0
    assert retry_after_seconds("Thu, 03 Dec 2026 12:00:05 GMT", NOW) == 5.0
    assert retry_after_seconds("soon", NOW) is None
    assert retry_after_seconds(None, NOW) is None


def test_user_errors_reject_and_a_made_id_delivers() -> None:
    refused = mutation_outcome(
        None, [UserError(message="Invalid quantity.", field=["fulfillment", "quantity"])], b"{}"
    )
    assert refused == Rejected("Invalid quantity. (fulfillment.quantity)", "{}")
    assert mutation_outcome("gid://shopify/Fulfillment/1", [], b"") == Delivered(
        reference="gid://shopify/Fulfillment/1"
    )


def test_reasons_become_the_documented_enum_values() -> None:
    assert cancel_reason("cancelled by the merchant as fraud") == "FRAUD"
    assert cancel_reason("customer changed their mind") == "CUSTOMER"
    assert cancel_reason("out of stock") == "INVENTORY"
    assert cancel_reason("cancelled") == "OTHER"
    assert hold_reason("awaiting_payment") == "AWAITING_PAYMENT"
    assert hold_reason("address_invalid") == "INCORRECT_ADDRESS"
    assert hold_reason("manual review") == "OTHER"


@given(
    jackets=st.integers(min_value=0, max_value=1),
    scarves=st.integers(min_value=0, max_value=2),
    wanted=st.integers(min_value=1, max_value=3),
)
def test_a_parcel_asks_for_exactly_its_units_and_never_more_than_remain_when_enough_do(
    jackets: int, scarves: int, wanted: int
) -> None:
    order = decoded_order({SHOPIFY_JACKET: jackets, SHOPIFY_SCARF: scarves})
    planned = fulfillment_input(order, shopify_parcel("s1", {SHOPIFY_SCARF: wanted}), TRACKING)
    assert isinstance(planned, FulfillmentInput)
    asked = [
        (item.id, item.quantity)
        for group in planned.line_items_by_fulfillment_order
        for item in group.fulfillment_order_line_items or []
    ]
    assert sum(qty for _, qty in asked) == wanted
    assert all(item_id.endswith(SHOPIFY_SCARF) for item_id, _ in asked)
    if wanted <= scarves:
        assert all(qty <= scarves for _, qty in asked)
