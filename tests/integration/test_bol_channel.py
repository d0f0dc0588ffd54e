"""The Bol.com client against the Bol.com simulator over real HTTP on 127.0.0.1: a cached
token renewed at expiry, a parcel per order item, delivery only at process SUCCESS, repeats
found done by reading the order, Retry-After honoured, cancellations (a customer's request
among them); effects counted by Bol.com's own order item ids and track-and-trace codes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from orderstream.agents.sinks.bol import BolClient
from orderstream.agents.sinks.bol_channel import BolChannel
from orderstream.agents.sinks.ports import ChannelBusyError
from orderstream.benchmarks.channels.bol_sim import BolSimulator
from orderstream.codecs.bol import BolOrder
from orderstream.codecs.bol_actions import CancelItems, ShipParcel, encode_action
from orderstream.codecs.channel_outcomes import Delivered, Rejected, Retryable
from orderstream.streams.delivery import Effect
from orderstream.streams.order_messages import AllocatedShipment, LineQty, ShipmentStatus
from tests.builders import FIXTURES
from tests.integration.sink_channel import SimulatorPaths, sample_carriers, simulating

pytestmark = pytest.mark.integration

CLIENT_ID, SECRET = "bol-client", "bol-secret"
ORDER = "1043965710"
MUGS, TOWELS = "3214567890", "3214567891"


def fixture_order(order_id: str = ORDER, name: str = "order.json") -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / "bol" / name).read_text())
    document["orderId"] = order_id
    for entry in document["orderItems"]:
        entry["orderItemId"] = item(order_id, entry["orderItemId"])
    return document


def item(order_id: str, base: str) -> str:
    """Bol.com's order item ids are unique across orders: the fixture's, per order."""
    return base if order_id == ORDER else f"{base}{order_id}"


def parcel(shipment_id: str, lines: dict[str, int], carrier: str = "postnl") -> AllocatedShipment:
    return AllocatedShipment(
        shipment_id=shipment_id,
        location="WH-AMS",
        lines=tuple(LineQty(line, f"SKU-{line}", qty) for line, qty in lines.items()),
        carrier=carrier,
        status=ShipmentStatus.SHIPPED,
        tracking_number=f"3S{shipment_id.upper()}",
    )


class Bol(SimulatorPaths[BolSimulator]):
    async def effects(self) -> dict[str, Any]:
        """What Bol.com did: the report's `effects`."""
        report: dict[str, Any] = (await super().effects())["effects"]
        return report

    def client(self, secret: str = SECRET, **options: Any) -> BolClient:
        options.setdefault("poll_interval", 0.02)
        return BolClient(
            self.url, f"{self.url}/token", CLIENT_ID, secret, carriers=sample_carriers(), **options
        )


@pytest.fixture
async def bol() -> AsyncIterator[Bol]:
    simulator = BolSimulator(CLIENT_ID, SECRET, process_delay=0.05)
    async with simulating(simulator, [fixture_order()], Bol) as opened:
        yield opened


async def test_a_split_orders_parcels_are_shipped_per_order_item_at_process_success(
    bol: Bol,
) -> None:
    async with bol.client() as client:
        first = await client.confirm_shipment(ORDER, parcel("s1", {MUGS: 3}))
        second = await client.confirm_shipment(ORDER, parcel("s2", {MUGS: 1}, carrier="dhl"))
        order = await client.order(ORDER)
    assert isinstance(first, Delivered) and not first.already and first.reference
    assert isinstance(second, Delivered) and not second.already
    assert isinstance(order, BolOrder)
    assert {i.order_item_id: i.quantity_shipped for i in order.order_items} == {MUGS: 4, TOWELS: 0}
    effects = await bol.effects()
    assert effects["shipments"] == 2 and effects["refused_units"] == 0
    assert effects["shipped_units"] == {f"{ORDER}:{MUGS}": 4}
    assert effects["per_track_and_trace"] == {"3SS1": 1, "3SS2": 1}
    assert effects["transporters"] == {"TNT": 1, "DHL_DE": 1}  # PostNL is TNT at Bol.com


async def test_a_repeated_shipment_is_found_done_by_its_track_and_trace(bol: Bol) -> None:
    mugs = parcel("s1", {MUGS: 4})
    async with bol.client() as client:
        first = await client.confirm_shipment(ORDER, mugs)
        again = await client.confirm_shipment(ORDER, mugs)
    assert isinstance(first, Delivered) and not first.already
    assert again == Delivered(reference=f"{ORDER}-1", already=True)  # Bol.com's shipment id
    effects = await bol.effects()
    assert effects["shipments"] == 1 and effects["per_track_and_trace"] == {"3SS1": 1}
    assert effects["refused_units"] == 0  # the repeat was never sent


async def test_bol_ends_a_shipment_of_units_already_shipped_as_failure(bol: Bol) -> None:
    async with bol.client() as client:
        await client.confirm_shipment(ORDER, parcel("s1", {MUGS: 3}))
        too_many = await client.confirm_shipment(ORDER, parcel("s2", {MUGS: 2}))
    assert isinstance(too_many, Rejected) and too_many.reason.startswith("FAILURE")
    assert "only 1 open units" in too_many.reason and "processStatusId" in too_many.response
    assert (await bol.effects())["refused_units"] == 2


async def test_a_process_failure_is_rejected_and_changes_nothing(bol: Bol) -> None:
    await bol.faults(fail_process_next=1)
    async with bol.client() as client:
        failed = await client.confirm_shipment(ORDER, parcel("s1", {MUGS: 4}))
        retried = await client.confirm_shipment(ORDER, parcel("s1", {MUGS: 4}))
    assert isinstance(failed, Rejected) and "Internal processing error" in failed.reason
    assert isinstance(retried, Delivered) and not retried.already
    effects = await bol.effects()
    assert effects["failed_processes"] == 1 and effects["shipments"] == 1


async def test_a_process_still_pending_is_retryable_and_settled_on_the_next_call(
    bol: Bol,
) -> None:
    bol.simulator.process_delay = 0.4
    async with bol.client(poll_for=0.1) as client:
        pending = await client.confirm_shipment(ORDER, parcel("s1", {MUGS: 4}))
        await asyncio.sleep(0.45)
        settled = await client.confirm_shipment(ORDER, parcel("s1", {MUGS: 4}))
    assert isinstance(pending, Retryable) and "still PENDING" in pending.reason
    assert settled == Delivered(reference=f"{ORDER}-1", already=True)
    assert (await bol.effects())["shipments"] == 1


async def test_the_token_is_cached_and_fetched_again_at_expiry(bol: Bol) -> None:
    bol.simulator.expires_in = 0.5
    async with bol.client() as client:
        for _ in range(3):
            assert isinstance(await client.order(ORDER), BolOrder)
        assert client.tokens_fetched == 1
        await asyncio.sleep(0.5)
        assert isinstance(await client.order(ORDER), BolOrder)
        assert client.tokens_fetched == 2
    assert (await bol.effects())["tokens"] == 2


async def test_a_token_refused_by_the_api_is_renewed_once(bol: Bol) -> None:
    async with bol.client() as client:
        assert isinstance(await client.order(ORDER), BolOrder)
        bol.simulator._tokens.clear()  # Bol.com revoked it before its expiry
        assert isinstance(await client.order(ORDER), BolOrder)
        assert client.tokens_fetched == 2


async def test_wrong_client_credentials_are_rejected(bol: Bol) -> None:
    async with bol.client(secret="wrong") as client:
        outcome = await client.confirm_shipment(ORDER, parcel("s1", {MUGS: 4}))
    assert isinstance(outcome, Rejected) and "credentials are refused" in outcome.reason
    assert (await bol.effects())["tokens"] == 0


async def test_a_429_is_retryable_and_its_retry_after_holds_the_next_call(bol: Bol) -> None:
    await bol.faults(too_many_next=1, retry_after=0.4)
    async with bol.client() as client:
        first = await client.order(ORDER)
        second = await client.order(ORDER)
    assert first == Retryable("429: too many requests", 0.4)
    assert isinstance(second, BolOrder)
    arrivals = bol.simulator.arrivals[-2:]
    assert arrivals[1] - arrivals[0] >= 0.35


async def test_5xx_an_outage_and_a_slow_answer_are_retryable(bol: Bol) -> None:
    async with bol.client(timeout=0.3) as client:
        await bol.faults(fail_next=1, fail_status=502)
        failed = await client.confirm_shipment(ORDER, parcel("s1", {MUGS: 4}))
        await bol.faults(outage=True)
        down = await client.confirm_shipment(ORDER, parcel("s1", {MUGS: 4}))
        await bol.faults(outage=False, slow_seconds=0.5)
        slow = await client.order(ORDER)
        await bol.faults(slow_seconds=0.0)
        recovered = await client.confirm_shipment(ORDER, parcel("s1", {MUGS: 4}))
    assert isinstance(failed, Retryable) and failed.reason == "502 from Bol.com"
    assert isinstance(down, Retryable) and "503" in down.reason
    assert isinstance(slow, Retryable) and "no answer" in slow.reason
    assert isinstance(recovered, Delivered) and not recovered.already
    assert (await bol.effects())["shipments"] == 1


async def test_a_cancellation_is_made_once_and_a_repeat_is_found_done(bol: Bol) -> None:
    await bol.seed(fixture_order("42"))
    async with bol.client() as client:
        first = await client.cancel("42", (item("42", MUGS),), "out of stock")
        again = await client.cancel("42", (item("42", MUGS),), "out of stock")
        await client.confirm_shipment(ORDER, parcel("s1", {MUGS: 4}))
        shipped = await client.cancel(ORDER, (MUGS,), "out of stock")
        unknown = await client.cancel("404", (), "out of stock")
    assert isinstance(first, Delivered) and not first.already
    assert again == Delivered(already=True)
    assert isinstance(shipped, Rejected) and "no open item" in shipped.reason
    assert isinstance(unknown, Rejected) and unknown.reason.startswith("404")
    effects = await bol.effects()
    assert effects["cancellations"] == 1 and effects["cancel_reasons"] == {"OUT_OF_STOCK": 1}
    assert effects["cancelled_units"] == {f"42:{item('42', MUGS)}": 4}


async def test_a_customers_cancellation_request_is_answered_by_cancelling_its_items(
    bol: Bol,
) -> None:
    await bol.seed(fixture_order("77", "cancellation_request.json"))
    async with bol.client() as client:
        order = await client.order("77")
        answered = await client.answer_cancellation_request("77")
        again = await client.answer_cancellation_request("77")
        none_asked = await client.answer_cancellation_request(ORDER)
    assert isinstance(order, BolOrder)
    asked = [i.order_item_id for i in order.order_items if i.cancellation_request]
    assert asked and isinstance(answered, Delivered) and not answered.already
    assert again == Delivered(already=True)
    assert isinstance(none_asked, Rejected)
    effects = await bol.effects()
    assert effects["cancel_reasons"] == {"REQUESTED_BY_CUSTOMER": len(asked)}
    assert set(effects["cancelled_units"]) == {f"77:{item}" for item in asked}


async def test_requests_without_the_v10_media_type_are_refused(bol: Bol) -> None:
    async with bol.client() as client:
        token = await client.token()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{bol.url}/retailer/orders/{ORDER}", headers=headers) as reply,
    ):
        assert reply.status == 406


def effect(action: ShipParcel | CancelItems, event_id: str = "bol:1:1") -> Effect:
    return Effect(
        event_id=event_id,
        oms_order_id=f"bol:{action.order_id}",
        seq=1,
        request=encode_action(action),
        summary="bol",
        occurred_at=datetime(2026, 11, 28, tzinfo=UTC),
    )


async def test_the_channel_adapter_sends_once_and_settles_by_bols_state(bol: Bol) -> None:
    await bol.seed(fixture_order("77", "cancellation_request.json"))
    ship = effect(ShipParcel(ORDER, parcel("s1", {MUGS: 4})))
    answer = effect(CancelItems("77", customer_request=True))
    async with bol.client() as client:
        channel = BolChannel(client)
        before = [await channel.settle(ship), await channel.settle(answer)]
        sent = [await channel.send(ship), await channel.send(answer)]
        after = [await channel.settle(ship), await channel.settle(answer)]
        unknown = await channel.settle(effect(CancelItems("404")))
    assert before == [False, False] and after == [True, True] and unknown is False
    assert all(isinstance(outcome, Delivered) for outcome in sent)
    effects = await bol.effects()
    assert (effects["shipments"], effects["cancellations"]) == (1, 1)
    assert effects["cancel_reasons"] == {"REQUESTED_BY_CUSTOMER": 2}  # one per requested item


async def test_a_settle_read_without_an_answer_raises_so_it_is_asked_again(bol: Bol) -> None:
    async with bol.client() as client:
        await bol.faults(outage=True)
        with pytest.raises(ConnectionError):
            await BolChannel(client).settle(effect(ShipParcel(ORDER, parcel("s1", {MUGS: 4}))))


async def test_a_change_still_pending_at_bol_is_waited_for_not_sent_twice(bol: Bol) -> None:
    bol.simulator.process_delay = 0.4
    first = effect(ShipParcel(ORDER, parcel("s1", {MUGS: 1})))  # a split parcel: units stay open
    async with bol.client(poll_for=0.05) as client:
        channel = BolChannel(client)
        sent = await channel.send(first)
        with pytest.raises(ChannelBusyError, match="still runs process"):
            await channel.settle(first)
        await asyncio.sleep(0.45)
        settled = await channel.settle(first)
    assert isinstance(sent, Retryable) and "still PENDING" in sent.reason
    assert settled is True
    effects = await bol.effects()
    assert effects["shipments"] == 1 and effects["per_track_and_trace"] == {"3SS1": 1}
