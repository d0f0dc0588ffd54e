"""The Shopify client against the Shopify simulator over real HTTP on 127.0.0.1: parcels as
fulfillments, repeats found done, the cost bucket respected, Retry-After honoured, failures
classified, cancellations and holds; effects counted by the shop's own identities."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from orderstream.agents.api import listening
from orderstream.agents.sinks.shopify import Answered, ShopifyClient
from orderstream.benchmarks.channels.shopify_sim import ShopifySimulator
from orderstream.codecs.channel_outcomes import Delivered, Rejected, Retryable
from orderstream.codecs.shopify_admin import FulfillmentCreated
from orderstream.codecs.shopify_admin_documents import (
    FULFILLMENT_CREATE,
    FulfillmentCreateVariables,
    FulfillmentTrackingInput,
    ShopifyOrderState,
    fulfillment_input,
)
from tests.builders import (
    FIXTURES,
    SHOPIFY_JACKET,
    SHOPIFY_ORDER_ID,
    SHOPIFY_SCARF,
    shopify_parcel,
)
from tests.integration.sink_channel import SimulatorPaths, sample_carriers, simulating

pytestmark = pytest.mark.integration

TOKEN = "shpat_test_token"


def fixture_order(order_id: str = SHOPIFY_ORDER_ID) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / "shopify/orders_create.json").read_text())
    document["id"] = int(order_id)
    return document


class Shop(SimulatorPaths[ShopifySimulator]):
    def client(self, **options: Any) -> ShopifyClient:
        return ShopifyClient(self.url, TOKEN, carriers=sample_carriers(), **options)


@pytest.fixture
async def shop() -> AsyncIterator[Shop]:
    async with simulating(ShopifySimulator(TOKEN), [fixture_order()], Shop) as opened:
        yield opened


JACKET = shopify_parcel("s1", {SHOPIFY_JACKET: 1}, carrier="postnl", tracking_url="https://t/1")
SCARVES = shopify_parcel(
    "s2", {SHOPIFY_SCARF: 2}, carrier="city-courier", tracking_url="https://c/2"
)


async def test_a_split_orders_two_parcels_are_two_fulfillments_with_their_own_tracking(
    shop: Shop,
) -> None:
    async with shop.client() as client:
        first = await client.confirm_shipment(SHOPIFY_ORDER_ID, JACKET)
        second = await client.confirm_shipment(SHOPIFY_ORDER_ID, SCARVES)
        state = await client.fulfilled(SHOPIFY_ORDER_ID)
    assert isinstance(first, Delivered) and not first.already
    assert isinstance(second, Delivered) and not second.already
    assert isinstance(state, ShopifyOrderState)
    assert [(p.tracking_numbers, p.lines) for p in state.parcels] == [
        (("3SS1",), {SHOPIFY_JACKET: 1}),
        (("3SS2",), {SHOPIFY_SCARF: 2}),
    ]
    effects = (await shop.effects())["effects"]
    assert effects["fulfillments"] == 2 and effects["duplicates"] == 0
    assert effects["units"] == {
        f"{SHOPIFY_ORDER_ID}:{SHOPIFY_JACKET}": 1,
        f"{SHOPIFY_ORDER_ID}:{SHOPIFY_SCARF}": 2,
    }
    made = shop.simulator.store._orders[f"gid://shopify/Order/{SHOPIFY_ORDER_ID}"].fulfillments
    assert [(m.tracking.company, m.tracking.url) for m in made] == [
        ("PostNL", "https://t/1"),  # a company from Shopify's list
        ("City courier", "https://c/2"),  # the free-text form, with the URL
    ]


async def test_a_repeated_confirmation_is_found_done_and_makes_no_second_fulfillment(
    shop: Shop,
) -> None:
    async with shop.client() as client:
        first = await client.confirm_shipment(SHOPIFY_ORDER_ID, JACKET)
        again = await client.confirm_shipment(SHOPIFY_ORDER_ID, JACKET)
    assert isinstance(first, Delivered) and isinstance(again, Delivered)
    assert again.already and again.reference == first.reference
    effects = (await shop.effects())["effects"]
    assert effects["fulfillments"] == 1
    assert effects["per_tracking_number"] == {f"{SHOPIFY_ORDER_ID}:3SS1": 1}


async def test_shopify_refuses_a_repeated_fulfillment_create_as_over_fulfilment(
    shop: Shop,
) -> None:
    async with shop.client() as client:
        state = await client._order(SHOPIFY_ORDER_ID)
        assert not isinstance(state, Retryable | Rejected)
        tracking = FulfillmentTrackingInput(company="PostNL", number="3SS1")
        planned = fulfillment_input(state, JACKET, tracking)
        assert not isinstance(planned, Rejected)
        variables = FulfillmentCreateVariables(fulfillment=planned)
        answers = [
            await client.execute(
                FulfillmentCreated, "FulfillmentCreate", FULFILLMENT_CREATE, variables
            )
            for _ in range(2)
        ]
        other_number = shopify_parcel("s9", {SHOPIFY_JACKET: 1}, tracking_number="3SOTHER")
        refused = await client.confirm_shipment(SHOPIFY_ORDER_ID, other_number)
    payloads = [a.data.fulfillment_create for a in answers if isinstance(a, Answered) and a.data]
    assert [bool(p and p.fulfillment) for p in payloads] == [True, False]
    assert payloads[1] is not None
    assert payloads[1].user_errors[0].message.startswith("Invalid fulfillment order line item")
    assert isinstance(refused, Rejected) and "Invalid fulfillment" in refused.reason
    effects = (await shop.effects())["effects"]
    assert effects["fulfillments"] == 1 and effects["over_fulfilment_refused"] == 2


class _NoBudget:
    """A client that does not track cost: what the budget test must tell apart."""

    async def acquire(self, operation: str) -> tuple[int, float]:
        return 0, 0.0

    def learn(self, operation: str, requested: float) -> None:
        return None

    async def release(self, call: int, cost: float, status: object) -> None:
        return None

    async def hold_off(self, seconds: float) -> None:
        return None


async def confirm_many(shop: Shop, client: ShopifyClient, count: int) -> list[object]:
    ids = [str(7_000_000_000 + n) for n in range(count)]
    await shop.seed(*(fixture_order(order_id) for order_id in ids))
    return list(await asyncio.gather(*(client.confirm_shipment(order, JACKET) for order in ids)))


@pytest.mark.parametrize("tracked", [True, False])
async def test_a_client_tracking_cost_is_never_throttled_and_one_that_does_not_is(
    tracked: bool,
) -> None:
    simulator = ShopifySimulator(TOKEN, maximum=300.0, restore_rate=400.0)
    async with listening(simulator.app(), "127.0.0.1", 0) as url:
        shop = Shop(simulator, url)
        async with shop.client() as client:
            if not tracked:
                client.budget = _NoBudget()  # type: ignore[assignment]
            outcomes = await confirm_many(shop, client, 16)
    throttled = simulator.report().answers.throttled
    if tracked:
        assert all(isinstance(o, Delivered) for o in outcomes), outcomes
        assert throttled == 0
        assert simulator.report().effects.fulfillments == 16
    else:
        assert throttled > 0
        assert any(isinstance(o, Retryable) and "throttled" in o.reason for o in outcomes)


async def test_a_retry_after_holds_the_next_call_until_it_has_passed(shop: Shop) -> None:
    await shop.faults(too_many_next=1, retry_after=0.5)
    async with shop.client() as client:
        first = await client.fulfilled(SHOPIFY_ORDER_ID)
        second = await client.fulfilled(SHOPIFY_ORDER_ID)
    assert first == Retryable("429: too many requests", 0.5)
    assert isinstance(second, ShopifyOrderState)
    arrivals = shop.simulator.arrivals[-2:]
    assert arrivals[1] - arrivals[0] >= 0.45


async def test_5xx_an_outage_and_a_slow_answer_are_retryable_and_change_nothing(
    shop: Shop,
) -> None:
    async with shop.client(timeout=0.3) as client:
        await shop.faults(fail_next=1, fail_status=502)
        failed = await client.confirm_shipment(SHOPIFY_ORDER_ID, JACKET)
        await shop.faults(outage=True)
        down = await client.confirm_shipment(SHOPIFY_ORDER_ID, JACKET)
        await shop.faults(outage=False, slow_seconds=0.6, slow_only="fulfillmentCreate")
        slow = await client.confirm_shipment(SHOPIFY_ORDER_ID, JACKET)
        await shop.faults(slow_seconds=0.0)
        await asyncio.sleep(0.5)  # the slow answer's work ends at Shopify all the same
        recovered = await client.confirm_shipment(SHOPIFY_ORDER_ID, JACKET)
    assert isinstance(failed, Retryable) and failed.reason == "502 from Shopify"
    assert isinstance(down, Retryable) and down.reason == "503 from Shopify"
    assert isinstance(slow, Retryable) and "no answer" in slow.reason
    # A timeout is no proof that nothing happened: the settle read finds the fulfillment.
    assert isinstance(recovered, Delivered) and recovered.already
    assert (await shop.effects())["effects"]["fulfillments"] == 1


async def test_a_wrong_token_is_rejected_with_shopifys_answer(shop: Shop) -> None:
    async with ShopifyClient(shop.url, "shpat_wrong") as client:
        outcome = await client.confirm_shipment(SHOPIFY_ORDER_ID, JACKET)
    assert isinstance(outcome, Rejected) and outcome.reason.startswith("401")
    assert "Invalid API key" in outcome.response


async def test_a_cancellation_is_made_once_and_a_repeat_is_found_done(shop: Shop) -> None:
    await shop.seed(fixture_order("42"))
    async with shop.client() as client:
        first = await client.cancel("42", "customer changed their mind")
        again = await client.cancel("42", "customer changed their mind")
        await client.confirm_shipment(SHOPIFY_ORDER_ID, JACKET)
        fulfilled = await client.cancel(SHOPIFY_ORDER_ID, "out of stock")
        unknown = await client.cancel("404", "customer")
    assert isinstance(first, Delivered) and first.reference.startswith("gid://shopify/Job/")
    assert again == Delivered(already=True)
    assert isinstance(fulfilled, Rejected) and "fulfillments" in fulfilled.reason
    assert isinstance(unknown, Rejected)
    effects = (await shop.effects())["effects"]
    assert effects["cancellations"] == 1 and effects["cancel_refused"] == 3


async def test_a_hold_stops_fulfilment_until_our_release(shop: Shop) -> None:
    async with shop.client() as client:
        held = await client.hold(SHOPIFY_ORDER_ID, "address_invalid", notes="check the street")
        again = await client.hold(SHOPIFY_ORDER_ID, "address_invalid")
        state = await client.fulfilled(SHOPIFY_ORDER_ID)
        blocked = await client.confirm_shipment(SHOPIFY_ORDER_ID, JACKET)
        released = await client.release_hold(SHOPIFY_ORDER_ID)
        confirmed = await client.confirm_shipment(SHOPIFY_ORDER_ID, JACKET)
    assert isinstance(held, Delivered) and held.reference.startswith(
        "gid://shopify/FulfillmentHold/"
    )
    assert again == Delivered(already=True)
    assert isinstance(state, ShopifyOrderState) and state.holds == ("orderstream",)
    assert isinstance(blocked, Rejected) and "unfulfillable" in blocked.reason
    assert isinstance(released, Delivered) and not released.already
    assert isinstance(confirmed, Delivered)
    effects = (await shop.effects())["effects"]
    assert (effects["holds"], effects["releases"], effects["fulfillments"]) == (1, 1, 1)


async def test_variables_outside_the_documented_input_shape_are_refused(shop: Shop) -> None:
    document = {
        "query": "mutation FulfillmentCreate($fulfillment: FulfillmentInput!) "
        "{ fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id } } }",
        "variables": {"fulfillment": {"line_items_by_fulfillment_order": []}},
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{shop.url}/admin/api/2026-10/graphql.json",
            json=document,
            headers={"X-Shopify-Access-Token": TOKEN},
        ) as reply,
    ):
        answer = await reply.json()
    assert answer["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"
    assert (await shop.effects())["effects"]["fulfillments"] == 0
