"""The Amazon client against the Amazon simulator over real HTTP on 127.0.0.1: the LWA token
kept and fetched anew, a split order's parcels as packages, repeats found done by reading the
order, 429 honoured, refusals and outages classified; effects counted by Amazon's identities."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from orderstream.agents.sinks.amazon import AmazonClient, LwaCredentials
from orderstream.benchmarks.channels.amazon_sim import TOKEN_PATH, AmazonSimulator
from orderstream.codecs.amazon_sp import AmazonShipState
from orderstream.codecs.channel_outcomes import Delivered, Rejected, Retryable
from tests.builders import AMAZON_CANDLE, AMAZON_MUG, AMAZON_ORDER_ID, FIXTURES, amazon_parcel
from tests.integration.sink_channel import SimulatorPaths, sample_carriers, simulating

pytestmark = pytest.mark.integration

CLIENT_ID, SECRET, REFRESH = "amzn1.application-oa2-client.test", "secret", "Atzr|test"


def fixture_order() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / "amazon/order_unshipped.json").read_text())
    return document


class Seller(SimulatorPaths[AmazonSimulator]):
    async def effects(self) -> dict[str, Any]:
        """What Amazon did: the report's `effects`."""
        report: dict[str, Any] = (await super().effects())["effects"]
        return report

    def client(self, refresh_token: str = REFRESH, **options: Any) -> AmazonClient:
        credentials = LwaCredentials(CLIENT_ID, SECRET, refresh_token, f"{self.url}{TOKEN_PATH}")
        return AmazonClient(self.url, credentials, carriers=sample_carriers(), **options)


@pytest.fixture
async def seller() -> AsyncIterator[Seller]:
    simulator = AmazonSimulator(CLIENT_ID, SECRET, REFRESH)
    async with simulating(simulator, [fixture_order()], Seller) as opened:
        yield opened


CANDLES = amazon_parcel("s1", {AMAZON_CANDLE: 2}, carrier="postnl")
REST = amazon_parcel("s2", {AMAZON_CANDLE: 1, AMAZON_MUG: 1}, carrier="dhl-express")


async def test_a_split_orders_two_parcels_are_two_packages_with_their_own_tracking(
    seller: Seller,
) -> None:
    async with seller.client() as client:
        first = await client.confirm_shipment(AMAZON_ORDER_ID, CANDLES)
        between = await client.state(AMAZON_ORDER_ID)
        second = await client.confirm_shipment(AMAZON_ORDER_ID, REST)
        after = await client.state(AMAZON_ORDER_ID)
    assert isinstance(first, Delivered) and not first.already
    assert isinstance(second, Delivered) and not second.already
    assert isinstance(between, AmazonShipState) and between.status == "PartiallyShipped"
    assert isinstance(after, AmazonShipState) and after.status == "Shipped"
    assert after.shipped() == {AMAZON_CANDLE: 3, AMAZON_MUG: 1}
    effects = await seller.effects()
    assert effects["packages"] == 2 and effects["duplicates"] == 0
    assert effects["per_tracking_number"] == {
        f"{AMAZON_ORDER_ID}:3As1": 1,
        f"{AMAZON_ORDER_ID}:3As2": 1,
    }
    packages = next(iter(seller.simulator._orders.values())).packages.values()
    assert [(p["carrierCode"], p.get("carrierName")) for p in packages] == [
        ("Other", "PostNL"),  # not on Amazon's list: named
        ("DHL", None),
    ]
    assert client.rate_limits == {"getOrder": 0.5, "getOrderItems": 0.5, "confirmShipment": 2.0}


async def test_the_access_token_is_kept_until_it_expires_then_fetched_anew(
    seller: Seller,
) -> None:
    async with seller.client() as client:
        await client.state(AMAZON_ORDER_ID)
        await client.state(AMAZON_ORDER_ID)
        assert client.tokens_fetched == 1
        seller.simulator.expire_tokens()  # as an hour later at Amazon
        state = await client.state(AMAZON_ORDER_ID)
    assert isinstance(state, AmazonShipState)
    assert client.tokens_fetched == 2
    effects = await seller.effects()
    assert effects["tokens_issued"] == 2 and effects["refused_token"] == 1


async def test_a_refused_refresh_token_is_rejected_not_retried(seller: Seller) -> None:
    async with seller.client(refresh_token="Atzr|revoked") as client:
        outcome = await client.confirm_shipment(AMAZON_ORDER_ID, CANDLES)
    assert isinstance(outcome, Rejected) and "invalid_grant" in outcome.reason
    assert (await seller.effects())["packages"] == 0


async def test_a_repeat_is_found_done_by_reading_the_order_and_sends_nothing(
    seller: Seller,
) -> None:
    async with seller.client() as client:
        await client.confirm_shipment(AMAZON_ORDER_ID, CANDLES)
        await client.confirm_shipment(AMAZON_ORDER_ID, REST)
        again = await client.confirm_shipment(AMAZON_ORDER_ID, CANDLES)
    assert isinstance(again, Delivered) and again.already
    effects = await seller.effects()
    assert effects["packages"] == 2 and effects["edits"] == 0 and effects["refused"] == 0


async def test_a_partly_shipped_item_sent_again_edits_its_package_and_adds_none(
    seller: Seller,
) -> None:
    async with seller.client() as client:
        first = await client.confirm_shipment(AMAZON_ORDER_ID, CANDLES)
        again = await client.confirm_shipment(AMAZON_ORDER_ID, CANDLES)  # 2 of 3: not settled
    assert isinstance(first, Delivered) and isinstance(again, Delivered)
    effects = await seller.effects()
    assert effects["packages"] == 1 and effects["edits"] == 1 and effects["duplicates"] == 0
    assert effects["units"] == {
        f"{AMAZON_ORDER_ID}:{AMAZON_CANDLE}": 2,
        f"{AMAZON_ORDER_ID}:{AMAZON_MUG}": 0,
    }


async def test_a_429_is_retryable_after_the_wait_amazon_names(seller: Seller) -> None:
    await seller.faults(too_many_next=1, retry_after=2.5)
    async with seller.client() as client:
        throttled = await client.confirm_shipment(AMAZON_ORDER_ID, CANDLES)
        await seller.faults(too_many_next=1, retry_after=0)
        by_plan = await client.confirm_shipment(AMAZON_ORDER_ID, CANDLES)
        done = await client.confirm_shipment(AMAZON_ORDER_ID, CANDLES)
    assert throttled == Retryable("429: QuotaExceeded", 2.5)
    assert by_plan == Retryable("429: QuotaExceeded", 2.0)  # 1 / getOrder's 0.5 a second
    assert isinstance(done, Delivered)
    assert (await seller.effects())["packages"] == 1


async def test_the_usage_plan_throttles_a_burst_of_reads(seller: Seller) -> None:
    async with seller.client() as client:
        answers = [await client.state(AMAZON_ORDER_ID) for _ in range(32)]
    throttled = [a for a in answers if isinstance(a, Retryable)]
    assert throttled and all(a.reason == "429: QuotaExceeded" for a in throttled)
    assert 30 <= len(answers) - len(throttled) <= 31  # getOrder's burst of 30, 0.5 a second


async def test_invalid_input_is_rejected_with_amazons_answer(seller: Seller) -> None:
    async with seller.client() as client:
        await client.confirm_shipment(AMAZON_ORDER_ID, REST)
        # one candle left with s2: three more is more than ordered, refused by Amazon
        outcome = await client.confirm_shipment(
            AMAZON_ORDER_ID, amazon_parcel("s8", {AMAZON_CANDLE: 3})
        )
    assert isinstance(outcome, Rejected) and outcome.reason.startswith("400 InvalidInput")
    assert "more units than ordered" in outcome.response
    effects = await seller.effects()
    assert effects["refused"] == 1 and effects["packages"] == 1


async def test_a_parcel_of_items_amazon_shows_fully_shipped_is_found_done(seller: Seller) -> None:
    async with seller.client() as client:
        await client.confirm_shipment(AMAZON_ORDER_ID, REST)
        mug = await client.confirm_shipment(AMAZON_ORDER_ID, amazon_parcel("s9", {AMAZON_MUG: 1}))
    assert isinstance(mug, Delivered) and mug.already
    assert (await seller.effects())["packages"] == 1


async def test_an_outage_and_a_5xx_are_retryable_and_leave_nothing(seller: Seller) -> None:
    await seller.faults(outage=True)
    async with seller.client() as client:
        down = await client.confirm_shipment(AMAZON_ORDER_ID, CANDLES)
        await seller.faults(outage=False, fail_next=1, fail_status=500)
        failing = await client.confirm_shipment(AMAZON_ORDER_ID, CANDLES)
        back = await client.confirm_shipment(AMAZON_ORDER_ID, CANDLES)
    assert isinstance(down, Retryable) and "503" in down.reason
    assert isinstance(failing, Retryable) and "500" in failing.reason
    assert isinstance(back, Delivered)
    assert (await seller.effects())["packages"] == 1


async def test_a_slow_amazon_times_out_as_retryable(seller: Seller) -> None:
    await seller.faults(slow_seconds=0.5)
    async with seller.client(timeout=0.2) as client:
        outcome = await client.state(AMAZON_ORDER_ID)
    assert isinstance(outcome, Retryable) and "TimeoutError" in outcome.reason
