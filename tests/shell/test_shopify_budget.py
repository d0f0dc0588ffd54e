"""The client's model of Shopify's query-cost bucket: what it waits for, and why."""

from __future__ import annotations

from orderstream.agents.sinks.shopify_budget import CostBudget
from orderstream.codecs.shopify_admin import ThrottleStatus


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def status(available: float) -> ThrottleStatus:
    return ThrottleStatus(
        maximum_available=1000.0, currently_available=available, restore_rate=50.0
    )


async def test_until_shopify_has_reported_the_bucket_one_call_goes_at_a_time() -> None:
    budget = CostBudget(Clock())
    assert budget.delay(10) == 0
    call, cost = await budget.acquire("FulfillmentCreate")
    assert cost == 10 and budget.delay(10) is None  # wait for the first answer
    await budget.release(call, cost, status(990))
    assert budget.delay(10) == 0


async def test_a_call_waits_until_the_refilled_bucket_minus_what_is_in_flight_holds_it() -> None:
    clock = Clock()
    budget = CostBudget(clock)
    first, cost = await budget.acquire("OrderState")
    await budget.release(first, cost, status(300))
    budget.learn("OrderState", 250)  # what Shopify requested for it
    assert await budget.acquire("OrderState") == (2, 250)  # in flight: 250 of the 300
    assert budget.delay(100) == (100 - 50) / 50.0
    clock.now += 0.5
    assert budget.delay(100) == (100 - 75) / 50.0


async def test_a_report_older_than_the_one_in_use_is_ignored() -> None:
    budget = CostBudget(Clock())
    first, _ = await budget.acquire("OrderState")
    await budget.release(first, 10, status(500))
    (older, _), (newer, _) = await budget.acquire("A"), await budget.acquire("B")
    await budget.release(newer, 10, status(400))
    await budget.release(older, 10, status(900))  # sent before `newer`: stale
    assert budget.status == status(400)


async def test_a_retry_after_holds_every_call() -> None:
    clock = Clock()
    budget = CostBudget(clock)
    await budget.hold_off(2.0)
    assert budget.delay(1) == 2.0
    clock.now += 2.0
    assert budget.delay(1) == 0
