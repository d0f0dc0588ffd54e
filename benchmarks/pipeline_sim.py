"""An in-memory run of the pure core: order process and SKU ledgers talking by messages.

No broker, no Faust: the same `decide` and `step` the agents call, wired by a queue, and the
orders and ledgers kept in memory tables behind the table port with the agents' own codecs
(`state.tables`), so every state is stored as the bytes a worker writes and read back from
them. Tests use it to check the invariants on many orders, and that replaying inputs changes
nothing.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from orderstream.benchmarks.loadgen import RawRecord
from orderstream.codecs.deadletter import DeadLetter, dead_letter
from orderstream.codecs.rules import load_rules
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.state.memory import MemoryTable
from orderstream.state.table import TEXT_KEY, V
from orderstream.state.tables import LEDGER_HEADS, ORDER_STATES, TRACKED_SHIPMENTS
from orderstream.streams.events import (
    InboundExpected,
    ParcelScanned,
    StockAdjusted,
    StockSnapshotted,
)
from orderstream.streams.inventory import (
    ReservationAnswered,
    StockArrived,
    StockPositionChanged,
    command_for,
    step,
)
from orderstream.streams.ledger import SkuLedger
from orderstream.streams.ledger_commands import (
    AwaitStock,
    Commit,
    InventoryCommand,
    Release,
    Reserve,
    SetStock,
)
from orderstream.streams.order_lifetime import OrderLifetime
from orderstream.streams.order_messages import (
    AllocationDecided,
    FulfilmentRequested,
    ShipmentTracked,
    StatusChanged,
)
from orderstream.streams.order_process import (
    OrderContext,
    OrderDecision,
    OrderInput,
    OrderVerdict,
    decide,
    order_id_of,
)
from orderstream.streams.order_state import OrderState
from orderstream.streams.rejections import Rejected
from orderstream.streams.routing import RuleSet
from orderstream.streams.tracking import TrackedShipment, decide_tracking
from orderstream.streams.validation import served_countries

BUNDLE_SECRET = b"unit tests' bundle key secret"
"""The deployment secret the order process keys bundle keys with in these tests."""


def sample_rules() -> RuleSet:
    raw = (
        importlib.resources.files("orderstream.agents.samples").joinpath("rules.yaml").read_bytes()
    )
    rules = load_rules(raw, "rules.yaml")
    assert isinstance(rules, RuleSet), rules
    return rules


def order_table() -> MemoryTable[str, OrderState]:
    """An empty `order_id_to_state`, stored as the order agent stores it."""
    return MemoryTable(TEXT_KEY, ORDER_STATES)


def ledger_table() -> MemoryTable[str, SkuLedger]:
    """An empty `sku_to_ledger` of heads, stored as the ledger agent stores them (the
    simulation keeps each ledger whole: it spills no rows)."""
    return MemoryTable(TEXT_KEY, LEDGER_HEADS)


def tracking_table() -> MemoryTable[str, TrackedShipment]:
    """An empty `tracking_key_to_shipment`, stored as the tracking agent stores it."""
    return MemoryTable(TEXT_KEY, TRACKED_SHIPMENTS)


def stored_keys(table: MemoryTable[str, V]) -> list[str]:
    """The keys `table` holds, in the order first written. The port has no scan (a worker's
    retention sweep walks its Faust table), so the memory table's stored keys are read."""
    return [table.keys.decode(key) for key in table.rows]


@dataclass
class Simulation:
    rules: RuleSet
    now: datetime
    orders: MemoryTable[str, OrderState] = field(default_factory=order_table)
    ledgers: MemoryTable[str, SkuLedger] = field(default_factory=ledger_table)
    available: dict[str, dict[str, int]] = field(default_factory=dict)
    """ATP per SKU and location as `inventory` last wrote each ledger: the replica the order
    process plans on (a worker's is fed by `inventory.availability`), so that planning does
    not decode every ledger for each message."""
    statuses: list[StatusChanged] = field(default_factory=list)
    allocations: list[AllocationDecided] = field(default_factory=list)
    requests: list[FulfilmentRequested] = field(default_factory=list)
    commands: list[InventoryCommand] = field(default_factory=list)
    answers: list[ReservationAnswered] = field(default_factory=list)
    arrivals: list[StockArrived] = field(default_factory=list)
    stock_positions: list[StockPositionChanged] = field(default_factory=list)
    tracking: MemoryTable[str, TrackedShipment] = field(default_factory=tracking_table)
    positions: dict[int, str] = field(default_factory=dict)
    duplicates: int = 0
    replays: int = 0
    delivered: int = 0
    on_decision: Callable[[OrderDecision], None] = lambda decision: None
    lifetime: OrderLifetime | None = None
    """Order rows age as in the worker (None: they never do)."""
    windows: dict[str, timedelta] = field(default_factory=dict)
    """Dedupe windows per source (default: the lifetime's, else 14 days for every key)."""

    def publish(self, event: StatusChanged) -> None:
        """Keep each event id once, as a consumer would; a re-emission must be identical."""
        first = next((s for s in self.statuses if s.event_id == event.event_id), None)
        if first is None:
            self.statuses.append(event)
        else:
            assert first == event, f"two different events share {event.event_id}"

    def order(self, order_id: str) -> OrderState:
        """The stored state of `order_id`; `KeyError` when none is stored."""
        state = self.orders.get(order_id)
        if state is None:
            raise KeyError(order_id)
        return state

    def ledger(self, sku: str) -> SkuLedger:
        """The stored ledger of `sku`; `KeyError` when none is stored."""
        ledger = self.ledgers.get(sku)
        if ledger is None:
            raise KeyError(sku)
        return ledger

    def stored_orders(self) -> dict[str, OrderState]:
        """Every stored order state, by order id."""
        return self.orders.get_many(stored_keys(self.orders))

    def stored_ledgers(self) -> dict[str, SkuLedger]:
        """Every stored ledger, by SKU."""
        return self.ledgers.get_many(stored_keys(self.ledgers))

    def atp(self) -> dict[str, dict[str, int]]:
        return {sku: dict(places) for sku, places in self.available.items()}

    def stock(self, sku: str, location: str, on_hand: int, sequence: int = 1) -> None:
        """A stock feed count; orders waiting for the SKU hear of it and re-plan."""
        replies = self.inventory(SetStock(sku, self.now, location, on_hand, "wms", sequence))
        if replies:
            self.send(replies)

    def inventory(self, command: InventoryCommand) -> list[OrderInput]:
        """Apply a command at its SKU owner; return the replies it sends to orders."""
        self.commands.append(command)
        ledger = self.ledgers.get(command.sku) or SkuLedger(sku=command.sku)
        result = step(ledger, command)
        self.ledgers.put(command.sku, result.ledger)
        locations = result.ledger.locations
        self.available[command.sku] = {loc: stock.atp for loc, stock in locations.items()}
        self.answers.extend(result.answers)
        self.arrivals.extend(result.arrivals)
        self.stock_positions.extend(result.positions)
        return [*result.answers, *result.arrivals]

    def track(self, message: ShipmentTracked | ParcelScanned) -> list[OrderInput]:
        """Apply a registration or a scan to its tracking row; return the attributed scans."""
        decision = decide_tracking(self.tracking.get(message.key), message)
        self.tracking.put(message.key, decision.row)
        return list(decision.updates)

    def send(
        self, messages: Iterable[OrderInput], *, stale_replica: bool = False, replay: bool = False
    ) -> None:
        """Deliver order inputs and everything they cause, until the system is quiet.

        With `stale_replica`, every decision plans on the ATP as it was when `send` began, as
        a replica lagging behind the ledgers would: orders then contend, and the ledgers'
        refusals and the re-plans they cause are exercised. With `replay`, the messages are
        redelivered from the positions of the first `send` (as after a crash), not re-sent.
        """
        queue: deque[OrderInput] = deque(messages)
        frozen = self.atp()
        context = OrderContext(
            now=self.now,
            rules=self.rules,
            atp={},
            served=served_countries(self.rules),
            bundle_secret=BUNDLE_SECRET,
            retention=self.windows or (self.lifetime.windows if self.lifetime else {}),
            lifetime=self.lifetime,
        )
        while queue:
            message = queue.popleft()
            order_id = order_id_of(message)
            state = self.orders.get(order_id) or OrderState(oms_order_id=order_id)
            replica = frozen if stale_replica else self.atp()
            position = self.positions.get(id(message)) if replay else None
            if position is None:
                self.delivered += 1
                position = f"sim:0:{self.delivered}"
                self.positions[id(message)] = position
            decision = decide(state, message, _with_atp(context, replica, position))
            self.on_decision(decision)
            self.orders.put(order_id, decision.state)
            if decision.verdict is OrderVerdict.DUPLICATE:
                self.duplicates += 1
            if decision.verdict is OrderVerdict.REPLAY:
                self.replays += 1
            for output in decision.outputs:
                if isinstance(output, StatusChanged):
                    self.publish(output)
                elif isinstance(output, AllocationDecided):
                    self.allocations.append(output)
                elif isinstance(output, FulfilmentRequested):
                    self.requests.append(output)
                elif isinstance(output, (Reserve, Release, Commit, AwaitStock)):
                    queue.extend(self.inventory(output))
                elif isinstance(output, ShipmentTracked):
                    queue.extend(self.track(output))


def _with_atp(context: OrderContext, atp: dict[str, dict[str, int]], position: str) -> OrderContext:
    return dataclasses.replace(context, atp=atp, position=position)


@dataclass(frozen=True)
class SimulatedRun:
    """What a load made of the core: statuses as consumed (3 ms after each input), dead
    letters for what no normalizer accepted, the ledgers' final counts."""

    sim: Simulation
    consumed: list[tuple[StatusChanged, int]]
    dead_letters: list[DeadLetter]
    ledger: dict[str, dict[str, tuple[int, int, int]]]


def simulate(records: Iterable[RawRecord], start: datetime) -> SimulatedRun:
    """Every raw record through the normalizers and the core, in order."""
    sim = Simulation(sample_rules(), start)
    consumed: list[tuple[StatusChanged, int]] = []
    letters: list[DeadLetter] = []
    for offset, record in enumerate(records):
        headers = {name: value.decode() for name, value in record.headers}
        event = normalize_payload(Source(record.topic.removeprefix("raw.")), record.value, headers)
        sim.now = start + timedelta(milliseconds=record.offset_ms)
        if isinstance(event, Rejected):
            letters.append(
                dead_letter(
                    stage="ingest",
                    rejected=event,
                    topic=record.topic,
                    partition=0,
                    offset=offset,
                    value=record.value,
                    key=record.key,
                    headers=record.headers,
                    now=sim.now,
                )
            )
            continue
        if isinstance(event, (StockSnapshotted, StockAdjusted, InboundExpected)):
            sim.inventory(command_for(event))
            continue
        known = len(sim.statuses)
        sim.send(sim.track(event) if isinstance(event, ParcelScanned) else [event])
        consumed += [(s, record.offset_ms + 3) for s in sim.statuses[known:]]
    ledger = {
        sku: {loc: (s.on_hand, s.reserved, s.safety_stock) for loc, s in book.locations.items()}
        for sku, book in sim.stored_ledgers().items()
    }
    return SimulatedRun(sim, consumed, letters, ledger)
