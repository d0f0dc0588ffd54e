"""The order process: one order's state, one input, the next state and what to publish.

`decide(state, message, context)` is the whole of the order agent's logic. It never raises
on a business case and never reads a clock: `context.now` is the input record's timestamp,
so a replayed input is decided exactly as the first time.

Idempotency: every input has a key (its idempotency key; `answer:{reservation id}` for a
ledger answer). A key already in `state.seen` changes nothing. If it comes from the same
record position as the first delivery, it is a replay after a crash: the outputs the first
delivery caused are returned again (they carry deterministic ids, so downstream drops them
if they did arrive; if the crash lost them, they arrive now). From another position it is a
duplicate sent again by a channel or an upstream stage: dropped and counted.

Reservations are asked of the SKU owner for every planned unit; the ledger's answer, not
the possibly stale replica, decides what is allocated. Reservation ids are
`{order}|{attempt}|{line}|{part}`, independent of the node chosen, so a replayed plan that
picks another node is still recognised by the ledger as the same reservation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import msgspec

from .events import (
    FulfilmentStatus,
    OrderCancelled,
    OrderPlaced,
    OrderUpdated,
    PaymentUpdated,
    ReturnInspected,
    ReturnReceived,
    ReturnRequested,
    ShipmentUpdated,
    TrackingStatus,
    TrackingUpdated,
)
from .inventory import UNREADABLE, ReservationAnswered, StockArrived
from .ledger import AwaitStock, Commit, Release, Reserve
from .model import Order, PaymentState, ServiceLevel
from .order_lifetime import (
    OrderLifetime,
    OrderTimedOut,
    age,
    is_stale,
    live_seen,
    opened_at,
)
from .order_messages import AllocatedShipment, FulfilmentRequested, LineQty, StatusChanged
from .order_state import (
    AppliedInput,
    EarlyCancel,
    LineReservation,
    LineState,
    OrderState,
    Output,
    stored_order,
)
from .plan_types import Atp, Explanation
from .planning import plan
from .routing import PartialAllocation, RuleSet, ShortageAction, StaleAction
from .status import Moved, OrderStatus, transition_order
from .validation import Hold, HoldReason, validate

OrderInput = (
    OrderPlaced
    | OrderUpdated
    | OrderCancelled
    | PaymentUpdated
    | ShipmentUpdated
    | TrackingUpdated
    | ReturnRequested
    | ReturnReceived
    | ReturnInspected
    | ReservationAnswered
    | StockArrived
    | OrderTimedOut
)

MAX_OUTBOX_CAUSES = 8
"""Inputs whose outputs are kept for re-emission; replays reach back a few inputs at most."""

_S = OrderStatus
_RESUMABLE = frozenset({HoldReason.AWAITING_PAYMENT, HoldReason.PAYMENT_FAILED})


@dataclass(frozen=True)
class Context:
    """What the shell hands in besides the state: time, rules, the ATP replica."""

    now: datetime
    rules: RuleSet
    atp: Atp
    served: frozenset[str]
    retention: Mapping[str, timedelta] = field(default_factory=dict)
    default_retention: timedelta = timedelta(days=14)
    max_attempts: int = 3
    reservation_ttl: timedelta = timedelta(days=7)
    position: str = ""  # "{topic}:{partition}:{offset}" of the input record
    bundle_secret: bytes = b""  # keys bundle keys (HMAC); the shell reads it from settings
    lifetime: OrderLifetime | None = None  # None: rows never age (tests of other rules)


class Allocation(msgspec.Struct, frozen=True):
    """What an allocation outcome reports: shipments, short units and the explanation."""

    shipments: tuple[AllocatedShipment, ...] = ()
    backordered: tuple[LineQty, ...] = ()
    held: tuple[LineQty, ...] = ()
    explanation: Explanation | None = None


class Decision(msgspec.Struct, frozen=True):
    state: OrderState
    outputs: tuple[Output, ...]
    verdict: str  # applied | duplicate | replay | closed | too_many_inputs
    notes: tuple[str, ...] = ()


def input_key(message: OrderInput) -> tuple[str, str]:
    """The input's idempotency key and its source."""
    if isinstance(message, ReservationAnswered):
        # A refusal for a quarantined ledger is not the ledger's verdict: the real answer
        # may follow once the SKU is released and its reserve replayed.
        unreadable = ":unreadable" if message.reason == UNREADABLE else ""
        return f"answer:{message.reservation_id}{unreadable}", "inventory"
    if isinstance(message, StockArrived):
        return f"arrived:{message.sku}:{message.notice}", "inventory"
    if isinstance(message, OrderTimedOut):
        return message.idempotency_key, "lifetime"
    return message.idempotency_key, message.source


def order_id_of(message: OrderInput) -> str:
    if isinstance(message, (OrderPlaced, OrderUpdated)):
        return message.order.oms_order_id
    return message.oms_order_id


def decide(state: OrderState, message: OrderInput, context: Context) -> Decision:
    """Apply one input to one order's state (first aged to the input's time)."""
    lifetime = context.lifetime
    if lifetime is not None:
        state = age(state, context.now, lifetime) or OrderState(oms_order_id=state.oms_order_id)
    key, source = input_key(message)
    refused = _refused(state, key, context)
    if refused is not None:
        return refused
    work = _Work(state, context, key)
    match message:
        case OrderPlaced() | OrderUpdated():
            work.order_arrived(message.order)
        case OrderCancelled():
            work.cancel(message.line_ids, message.reason)
        case PaymentUpdated():
            work.payment(message.payment_state)
        case ReservationAnswered():
            work.answer(message)
        case StockArrived():
            work.stock_arrived(message)
        case ShipmentUpdated():
            work.shipment(message)
        case TrackingUpdated():
            work.tracking(message.status, message.description)
        case ReturnRequested() | ReturnReceived() | ReturnInspected():
            work.note("returns are recorded; the RMA flow acts on them")
        case OrderTimedOut():
            work.timed_out()
    return work.finish(key, source)


def _refused(state: OrderState, key: str, context: Context) -> Decision | None:
    """The decision for an input that changes nothing: seen already, or the order closed
    for good, or its dedupe set full (forgetting a live key would let its re-send apply
    twice, so this input is refused instead)."""
    seen = state.seen.get(key)
    if seen is not None:
        if context.position and seen.position == context.position:
            return Decision(state, state.outbox.get(key, ()), "replay")
        return Decision(state, (), "duplicate")
    if state.retired_at is not None:
        return Decision(state, (), "closed")
    lifetime = context.lifetime
    if lifetime is not None and len(_live(state, context)) >= lifetime.max_seen:
        return Decision(state, (), "too_many_inputs")
    return None


def _live(state: OrderState, context: Context) -> dict[str, AppliedInput]:
    return live_seen(state.seen, context.now, context.retention, context.default_retention)


class _Work:
    """A mutable working copy of one order's state for the length of one decision."""

    def __init__(self, state: OrderState, context: Context, cause: str) -> None:
        self.state = state
        self.ctx = context
        self.cause = cause
        self.order = state.order
        self.status = state.status
        self.seq = state.seq
        self.hold = state.hold
        self.attempt = state.attempt
        self.reservations = dict(state.reservations)
        self.backordered = list(state.backordered)
        self.held = list(state.held)
        self.external = list(state.external)
        self.explanation = state.explanation
        self.shipments = dict(state.shipments)
        self.cancelled_lines = list(state.cancelled_lines)
        self.early_payment = state.early_payment
        self.early_cancel = state.early_cancel
        self.stale_at = state.stale_at
        self.outputs: list[Output] = []
        self.notes: list[str] = []
        self.replanned_on_arrival = False

    # -- bookkeeping -------------------------------------------------------------------

    @property
    def oms_order_id(self) -> str:
        return self.state.oms_order_id

    def note(self, text: str) -> None:
        self.notes.append(text)

    def move(
        self,
        target: OrderStatus,
        reason: str = "",
        *,
        outcome: Allocation | None = None,
    ) -> bool:
        moved = transition_order(self.status, target)
        if not isinstance(moved, Moved):
            self.note(f"refused {self.status} -> {target}: {moved.reason}")
            return False
        allocation = outcome or Allocation()
        self.seq += 1
        self.outputs.append(
            StatusChanged(
                event_id=f"{self.oms_order_id}:{self.seq}",
                oms_order_id=self.oms_order_id,
                seq=self.seq,
                status=target,
                occurred_at=self.ctx.now,
                caused_by=self.cause,
                channel=self.order.channel.value if self.order else "",
                previous=self.status,
                reason=reason,
                shipments=allocation.shipments,
                backordered=allocation.backordered,
                held=allocation.held,
                explanation=allocation.explanation,
            )
        )
        self.status = target
        return True

    def finish(self, key: str, source: str) -> Decision:
        seen = _live(self.state, self.ctx)  # each key kept for its own source's window
        seen[key] = AppliedInput(self.ctx.now, source, self.ctx.position)
        outbox = _unanswered(self.state.outbox, self.reservations)
        if self.outputs:
            outbox[key] = tuple(self.outputs)
            while len(outbox) > MAX_OUTBOX_CAUSES:
                del outbox[next(iter(outbox))]
        state = OrderState(
            oms_order_id=self.oms_order_id,
            order=self.order,
            status=self.status,
            seq=self.seq,
            hold=self.hold,
            attempt=self.attempt,
            reservations=self.reservations,
            backordered=tuple(self.backordered),
            held=tuple(self.held),
            external=tuple(self.external),
            explanation=self.explanation,
            shipments=self.shipments,
            cancelled_lines=tuple(self.cancelled_lines),
            early_payment=self.early_payment,
            early_cancel=self.early_cancel,
            seen=seen,
            outbox=outbox,
            opened_at=(opened_at(self.state) or self.ctx.now) if self.order else None,
            stale_at=self.stale_at,
        )
        return Decision(state, tuple(self.outputs), "applied", tuple(self.notes))

    # -- orders and payments -------------------------------------------------------------

    def order_arrived(self, order: Order) -> None:
        order = stored_order(order)
        if self.early_payment:
            order = msgspec.structs.replace(order, payment_state=PaymentState(self.early_payment))
            self.early_payment = ""
        if self.order is None:
            self.order = order
            if not self.move(_S.PLACED):
                return
            if self.early_cancel is not None:
                early, self.early_cancel = self.early_cancel, None
                self.cancel(early.line_ids, early.reason)
                if self.status is _S.CANCELLED:
                    return
            self.validate_and_plan()
            return
        if self.status not in (_S.PLACED, _S.ON_HOLD) or (self.hold and self.hold.hard_stop):
            self.note(f"update ignored in {self.status}")
            return
        self.order = order
        if self.status is _S.ON_HOLD:
            self.validate_and_plan()

    def payment(self, payment_state: PaymentState) -> None:
        if self.order is None:
            self.early_payment = payment_state.value
            return
        self.order = msgspec.structs.replace(self.order, payment_state=payment_state)
        if self.status is _S.ON_HOLD and self.hold and self.hold.reason in _RESUMABLE:
            self.validate_and_plan()

    def validate_and_plan(self) -> None:
        assert self.order is not None
        hold = validate(self.order, self.ctx.served)
        if hold is not None:
            changed = self.hold != hold
            self.hold = hold
            if self.status is not _S.ON_HOLD:
                self.move(_S.ON_HOLD, f"{hold.reason.value}: {hold.detail}")
            elif changed:
                self.note(f"still on hold: {hold.reason.value}")
            return
        self.hold = None
        if self.order.delivery.service_level is ServiceLevel.CARRY_OUT:
            self.hand_over_at_till()
            return
        self.plan(self.open_lines())

    def open_lines(self) -> list[LineQty]:
        """The order's lines that are not cancelled."""
        assert self.order is not None
        cancelled = set(self.cancelled_lines)
        return [
            LineQty(ln.line_id, ln.sku, ln.qty)
            for ln in self.order.lines
            if ln.line_id not in cancelled
        ]

    def hand_over_at_till(self) -> None:
        """A till sale left the store with the customer; the store's own stock feed counts it."""
        assert self.order is not None
        self.external = self.open_lines()
        self.finalize()

    # -- planning and reservations -------------------------------------------------------

    def plan(self, lines: Sequence[LineQty], atp: Atp | None = None) -> None:
        assert self.order is not None
        wanted = {line.line_id: line.qty for line in lines}
        subset = msgspec.structs.replace(
            self.order,
            lines=tuple(
                msgspec.structs.replace(ln, qty=wanted[ln.line_id])
                for ln in self.order.lines
                if ln.line_id in wanted
            ),
        )
        result = plan(
            subset,
            atp if atp is not None else self.ctx.atp,
            self.ctx.rules,
            self.ctx.now,
            bundle_secret=self.ctx.bundle_secret,
        )
        self.attempt += 1
        self.explanation = result.explanation
        self.external += [LineQty(pl.line_id, pl.sku, pl.qty) for pl in result.external]
        for short in result.backordered:
            self.backordered.append(LineQty(short.line_id, short.sku, short.qty))
        for short in result.held:
            self.held.append(LineQty(short.line_id, short.sku, short.qty))
        parts: dict[str, int] = {}
        expires = self.ctx.now + self.ctx.reservation_ttl
        for shipment in result.shipments:
            for planned in shipment.lines:
                part = parts.get(planned.line_id, 0)
                parts[planned.line_id] = part + 1
                rid = f"{self.oms_order_id}|{self.attempt}|{planned.line_id}|{part}"
                self.reservations[rid] = LineReservation(
                    line_id=planned.line_id,
                    sku=planned.sku,
                    node=shipment.node,
                    qty=planned.qty,
                    attempt=self.attempt,
                    carrier=shipment.carrier,
                    ship_date=shipment.ship_date,
                    eta=shipment.eta,
                    bundle_key=shipment.bundle_key,
                )
                self.outputs.append(
                    Reserve(
                        sku=planned.sku,
                        issued_at=self.ctx.now,
                        reservation_id=rid,
                        oms_order_id=self.oms_order_id,
                        line_id=planned.line_id,
                        location=shipment.node,
                        qty=planned.qty,
                        expires_at=expires,
                    )
                )
        if not self.pending():
            self.finalize()

    def pending(self) -> list[str]:
        return [rid for rid, r in self.reservations.items() if r.state is LineState.PENDING]

    def answer(self, answer: ReservationAnswered) -> None:
        current = self.reservations.get(answer.reservation_id)
        if current is None:
            if answer.granted:
                # Granted for a reservation this order does not know (its state was lost
                # before it recorded the ask): give the units back rather than leak them.
                self.release(answer.reservation_id, answer.sku, "unknown_reservation")
            return
        if current.state is not LineState.PENDING:
            if answer.granted and current.state is LineState.REFUSED:
                # Refused first, granted later: the SKU's ledger was quarantined and the
                # reserve replayed after its release. The order has planned without it.
                self.release(answer.reservation_id, answer.sku, "granted_after_refusal")
            return
        self.reservations[answer.reservation_id] = msgspec.structs.replace(
            current,
            state=LineState.GRANTED if answer.granted else LineState.REFUSED,
            node=answer.location,
            qty=answer.qty,
        )
        if answer.granted and (
            self.status is _S.CANCELLED or current.line_id in self.cancelled_lines
        ):
            self.release(answer.reservation_id, answer.sku, "cancelled")
            return
        if self.status is _S.CANCELLED or self.pending():
            return
        self.after_attempt()

    def after_attempt(self) -> None:
        refused = [
            (rid, r)
            for rid, r in sorted(self.reservations.items())
            if r.state is LineState.REFUSED and r.attempt == self.attempt
        ]
        if refused and self.attempt < self.ctx.max_attempts:
            atp = {sku: dict(nodes) for sku, nodes in self.ctx.atp.items()}
            for _, r in refused:
                # The ledger refused: whatever the replica says, that node has too little.
                atp.setdefault(r.sku, {})[r.node] = 0
            self.plan([LineQty(r.line_id, r.sku, r.qty) for _, r in refused], atp)
            return
        for _, r in refused:
            self.shortfall(LineQty(r.line_id, r.sku, r.qty))
        self.finalize()

    def stock_arrived(self, arrived: StockArrived) -> None:
        """Re-plan the units backordered for the SKU, on the ledger's own ATP figures."""
        waiting = [line for line in self.backordered if line.sku == arrived.sku]
        if self.status not in (_S.BACKORDERED, _S.PARTIALLY_ALLOCATED) or not waiting:
            self.note(f"stock arrived for {arrived.sku}; nothing of it is backordered")
            return
        if self.pending():
            self.note("stock arrived while reservations are pending; re-planned after them")
            return
        self.backordered = [line for line in self.backordered if line.sku != arrived.sku]
        self.replanned_on_arrival = True
        atp = {**self.ctx.atp, arrived.sku: arrived.atp}
        self.plan(waiting, atp)

    def shortfall(self, line: LineQty) -> None:
        assert self.order is not None
        action = self.ctx.rules.backorders.action_for(self.order.channel)
        (self.backordered if action is ShortageAction.BACKORDER else self.held).append(line)

    def release(self, rid: str, sku: str, reason: str) -> None:
        current = self.reservations.get(rid)
        if current is not None:
            self.reservations[rid] = msgspec.structs.replace(current, state=LineState.RELEASED)
        self.outputs.append(
            Release(sku=sku, issued_at=self.ctx.now, reservation_id=rid, reason=reason)
        )

    def finalize(self) -> None:
        """All answers are in: group granted units into shipments and publish the outcome."""
        assert self.order is not None
        new = [
            (rid, r)
            for rid, r in sorted(self.reservations.items())
            if r.state is LineState.GRANTED and not r.shipment_id
        ]
        short = self.backordered + self.held
        if short and new and self.ctx.rules.allocation.partial is PartialAllocation.NONE:
            for rid, r in new:
                self.release(rid, r.sku, "ship_complete")
                self.shortfall(LineQty(r.line_id, r.sku, r.qty))
            new = []
        shipments = self.make_shipments(new)
        granted_any = any(r.state is LineState.GRANTED for r in self.reservations.values())
        outcome = Allocation(
            tuple(shipments), tuple(self.backordered), tuple(self.held), self.explanation
        )
        self.await_stock()
        if not self.backordered and not self.held:
            self.move(_S.ALLOCATED, outcome=outcome)
        elif granted_any or self.external:
            self.move(_S.PARTIALLY_ALLOCATED, outcome=outcome)
        elif self.held:
            self.move(_S.ON_HOLD, "no stock to promise", outcome=outcome)
        else:
            self.move(_S.BACKORDERED, "no stock to promise", outcome=outcome)

    def await_stock(self) -> None:
        """Ask each backordered SKU's owner to say when stock arrives."""
        units: dict[str, int] = {}
        for line in self.backordered:
            units[line.sku] = units.get(line.sku, 0) + line.qty
        for sku, qty in sorted(units.items()):
            self.outputs.append(
                AwaitStock(
                    sku=sku,
                    issued_at=self.ctx.now,
                    wait_id=f"{self.oms_order_id}|wait|{self.attempt}",
                    oms_order_id=self.oms_order_id,
                    qty=qty,
                    now_if_available=not self.replanned_on_arrival,
                )
            )

    def make_shipments(
        self, granted: Iterable[tuple[str, LineReservation]]
    ) -> list[AllocatedShipment]:
        assert self.order is not None
        by_node: dict[str, list[tuple[str, LineReservation]]] = {}
        for rid, r in granted:
            by_node.setdefault(r.node, []).append((rid, r))
        shipments: list[AllocatedShipment] = []
        for node in sorted(by_node):
            shipment_id = f"{self.oms_order_id}/{len(self.shipments) + 1}"
            self.shipments[shipment_id] = "requested"
            members = by_node[node]
            first = members[0][1]
            lines = tuple(LineQty(r.line_id, r.sku, r.qty) for _, r in members)
            for rid, r in members:
                self.reservations[rid] = msgspec.structs.replace(r, shipment_id=shipment_id)
            shipment = AllocatedShipment(
                shipment_id=shipment_id,
                node=node,
                lines=lines,
                carrier=first.carrier,
                ship_date=first.ship_date,
                eta=first.eta,
                bundle_key=first.bundle_key,
            )
            shipments.append(shipment)
            self.outputs.append(
                FulfilmentRequested(
                    request_id=shipment_id,
                    oms_order_id=self.oms_order_id,
                    node=node,
                    lines=lines,
                    service_level=self.order.delivery.service_level,
                    requested_at=self.ctx.now,
                    carrier=first.carrier,
                    ship_date=shipment.ship_date,
                    eta=shipment.eta,
                    bundle_key=first.bundle_key,
                    address=self.order.customer.shipping_address,
                )
            )
        if self.external:
            shipments.append(
                AllocatedShipment(
                    shipment_id=f"{self.oms_order_id}/external",
                    node=self.order.delivery.pickup_node or self.order.channel.value,
                    lines=tuple(self.external),
                    external=True,
                )
            )
        return shipments

    # -- cancellation --------------------------------------------------------------------

    def cancel(self, line_ids: Sequence[str], reason: str) -> None:
        if self.order is None:
            self.remember_early_cancel(line_ids, reason)
            return
        all_lines = {ln.line_id for ln in self.order.lines}
        targets = set(line_ids) & all_lines if line_ids else all_lines
        self.cancelled_lines = sorted(set(self.cancelled_lines) | targets)
        if set(self.cancelled_lines) != all_lines:
            for rid, r in sorted(self.reservations.items()):
                if r.line_id in targets and r.state in (LineState.PENDING, LineState.GRANTED):
                    self.release(rid, r.sku, reason)
            self.backordered = [ln for ln in self.backordered if ln.line_id not in targets]
            self.held = [ln for ln in self.held if ln.line_id not in targets]
            self.note(f"lines cancelled: {sorted(targets)}")
            return
        if not self.move(_S.CANCELLED, reason):
            return
        for rid, r in sorted(self.reservations.items()):
            if r.state in (LineState.PENDING, LineState.GRANTED):
                self.release(rid, r.sku, reason)

    def remember_early_cancel(self, line_ids: Sequence[str], reason: str) -> None:
        early = self.early_cancel
        if early is None:
            self.early_cancel = EarlyCancel(tuple(sorted(set(line_ids))), reason)
        elif early.line_ids and line_ids:  # both name lines: cancel all of them
            self.early_cancel = EarlyCancel(
                tuple(sorted(set(early.line_ids) | set(line_ids))), early.reason
            )
        elif early.line_ids:  # this one cancels the whole order
            self.early_cancel = EarlyCancel((), reason)
        self.note("cancellation before its order: applied when the order arrives")

    # -- lifetime --------------------------------------------------------------------------

    def timed_out(self) -> None:
        """Open past the maximum open time: a `stale_order` exception, then the channel's
        rule cancels it or holds it for a person; either way its units go back on sale."""
        lifetime = self.ctx.lifetime
        if (
            lifetime is None
            or self.order is None
            or not is_stale(self.state, self.ctx.now, lifetime)
        ):
            self.note("not stale: finished, or still within its open time")
            return
        reason = f"stale_order: open more than {lifetime.max_open.days} days"
        if self.status is not _S.EXCEPTION and not self.move(_S.EXCEPTION, reason):
            return
        self.stale_at = self.ctx.now
        if self.ctx.rules.stale_orders.action_for(self.order.channel) is StaleAction.CANCEL:
            self.cancel((), "stale_order")
            return
        self.hold = Hold(HoldReason.STALE_ORDER, reason, hard_stop=True)
        for rid, r in sorted(self.reservations.items()):
            if r.state in (LineState.PENDING, LineState.GRANTED):
                self.release(rid, r.sku, "stale_order")

    # -- fulfilment and tracking ---------------------------------------------------------

    def shipment(self, event: ShipmentUpdated) -> None:
        if event.shipment_id not in self.shipments:
            self.note(f"unknown shipment {event.shipment_id}")
            return
        members = sorted(
            (rid, r) for rid, r in self.reservations.items() if r.shipment_id == event.shipment_id
        )
        if event.status is FulfilmentStatus.REJECTED:
            self.reject(event, members)
            return
        self.shipments[event.shipment_id] = event.status.value
        if event.status is FulfilmentStatus.PICKED:
            self.catch_up((_S.PICKED,))
        elif event.status is FulfilmentStatus.PACKED:
            self.catch_up((_S.PICKED, _S.PACKED))
        else:
            for rid, r in members:
                if r.state is LineState.GRANTED:
                    self.reservations[rid] = msgspec.structs.replace(r, state=LineState.COMMITTED)
                    self.outputs.append(
                        Commit(sku=r.sku, issued_at=self.ctx.now, reservation_id=rid)
                    )
            done = all(status == "shipped" for status in self.shipments.values())
            final = (
                _S.SHIPPED
                if done and not self.backordered and not self.held
                else _S.PARTIALLY_SHIPPED
            )
            self.catch_up((_S.PICKED, _S.PACKED, final))

    def catch_up(self, path: tuple[OrderStatus, ...]) -> None:
        """Move along `path`, skipping steps already taken: a WMS that reports only
        'shipped' still gives the order its picked and packed steps, in order."""
        for position, target in enumerate(path):
            if self.status in path[position:]:
                continue  # already at or past this step
            last = position == len(path) - 1
            if last or isinstance(transition_order(self.status, target), Moved):
                self.move(target)

    def reject(self, event: ShipmentUpdated, members: list[tuple[str, LineReservation]]) -> None:
        del self.shipments[event.shipment_id]
        lines = []
        atp = {sku: dict(nodes) for sku, nodes in self.ctx.atp.items()}
        for rid, r in members:
            if r.state is LineState.GRANTED:
                self.release(rid, r.sku, f"rejected by {event.node}")
            lines.append(LineQty(r.line_id, r.sku, r.qty))
            atp.setdefault(r.sku, {})[event.node] = 0
        if not self.move(_S.EXCEPTION, f"{event.node} rejected the shipment: {event.reason}"):
            return
        if lines:
            self.plan(lines, atp)

    def tracking(self, status: TrackingStatus, description: str) -> None:
        target = {
            TrackingStatus.IN_TRANSIT: _S.IN_TRANSIT,
            TrackingStatus.OUT_FOR_DELIVERY: _S.IN_TRANSIT,
            TrackingStatus.DELIVERED: _S.DELIVERED,
            TrackingStatus.EXCEPTION: _S.EXCEPTION,
        }[status]
        if self.status is target:
            return
        self.move(target, description)


def _unanswered(
    outbox: Mapping[str, tuple[Output, ...]], reservations: Mapping[str, LineReservation]
) -> dict[str, tuple[Output, ...]]:
    """The outbox less the reserve commands the ledger has answered: an answer proves its
    command arrived, so a replay need not send it again. (A 240-line order kept 240 reserve
    commands in its outbox after all of them were answered.)"""
    kept: dict[str, tuple[Output, ...]] = {}
    for cause, outputs in outbox.items():
        left = tuple(
            output
            for output in outputs
            if not isinstance(output, Reserve) or _pending(reservations.get(output.reservation_id))
        )
        if left:
            kept[cause] = left
    return kept


def _pending(reservation: LineReservation | None) -> bool:
    return reservation is not None and reservation.state is LineState.PENDING
