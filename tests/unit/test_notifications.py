"""The notification rules: which status event tells the customer what, by which medium, when."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderstream.streams.money import Money
from orderstream.streams.notifications import (
    Medium,
    MessageKind,
    NotificationRules,
    QuietHours,
    TrackedParcel,
    notice_for,
)
from orderstream.streams.notify_plan import (
    CustomerContact,
    dispatches,
    e164,
    language_for,
    message_id,
    quiet_until,
    withheld_because,
)
from orderstream.streams.order_messages import LineQty, StatusChanged
from orderstream.streams.order_shipments import ShipmentStatus
from orderstream.streams.status import ORDER_TRANSITIONS, OrderStatus
from tests.builders import notify_event, parcel

_O = OrderStatus
_P = ShipmentStatus
_K = MessageKind
RULES = NotificationRules()
SHORT = (LineQty("2", "SKU-2", 1),)
TRACKED = parcel(
    "shopify:1001/1",
    _P.SHIPPED,
    tracking_number="3SABCD1234567",
    tracking_url="https://postnl.example/track/3SABCD1234567",
)

# Every status the order machine has, with the event that reaches it and what it tells.
CASES = [
    (notify_event(_O.PLACED, None, seq=1), _K.CONFIRMED),
    (notify_event(_O.ON_HOLD, _O.PLACED), None),
    (notify_event(_O.ALLOCATED, _O.PLACED, shipments=[parcel("s/1", _P.REQUESTED)]), None),
    (notify_event(_O.PARTIALLY_ALLOCATED, _O.PLACED, backordered=SHORT), _K.DELAYED),
    (notify_event(_O.BACKORDERED, _O.PLACED, backordered=SHORT), _K.DELAYED),
    (notify_event(_O.PICKED, _O.ALLOCATED, shipments=[parcel("s/1", _P.PICKED)]), None),
    (notify_event(_O.PACKED, _O.PICKED, shipments=[parcel("s/1", _P.PACKED)]), None),
    (notify_event(_O.SHIPPED, _O.PACKED, shipments=[TRACKED]), _K.SHIPPED),
    (notify_event(_O.PARTIALLY_SHIPPED, _O.PACKED, shipments=[TRACKED]), _K.SHIPPED),
    (notify_event(_O.IN_TRANSIT, _O.SHIPPED, shipments=[parcel("s/1", _P.IN_TRANSIT)]), None),
    (
        notify_event(_O.PARTIALLY_DELIVERED, _O.SHIPPED, shipments=[parcel("s/1", _P.DELIVERED)]),
        None,
    ),
    (
        notify_event(_O.DELIVERED, _O.IN_TRANSIT, shipments=[parcel("s/1", _P.DELIVERED)]),
        _K.DELIVERED,
    ),
    (notify_event(_O.CANCELLED, _O.ALLOCATED), _K.CANCELLED),
    (notify_event(_O.EXCEPTION, _O.ALLOCATED, shipments=[parcel("s/1", _P.REQUESTED)]), None),
]


def test_every_status_of_the_order_machine_has_its_case() -> None:
    assert {event.status for event, _ in CASES} == set(OrderStatus)


@pytest.mark.parametrize(("event", "kind"), CASES, ids=[e.status.value for e, _ in CASES])
def test_each_status_gives_its_message_or_none(
    event: StatusChanged, kind: MessageKind | None
) -> None:
    notice = notice_for(event, RULES)
    assert (notice.kind if notice else None) == kind


def test_a_shipped_notice_carries_carrier_and_tracking_of_each_parcel_that_left() -> None:
    second = parcel("shopify:1001/2", _P.SHIPPED, carrier="dhl", tracking_number="JVGL1")
    waiting = parcel("shopify:1001/3", _P.PACKED)
    event = notify_event(_O.SHIPPED, _O.PACKED, shipments=[TRACKED, second, waiting])
    notice = notice_for(event, RULES)
    assert notice is not None
    assert notice.parcels == (
        TrackedParcel(
            "shopify:1001/1",
            "postnl",
            "3SABCD1234567",
            "https://postnl.example/track/3SABCD1234567",
        ),
        TrackedParcel("shopify:1001/2", "dhl", "JVGL1", ""),
    )


def test_a_later_parcel_leaving_while_the_order_stays_is_announced_and_a_scan_is_not() -> None:
    later = parcel("shopify:1001/2", _P.SHIPPED, tracking_number="JVGL2")
    moved = notify_event(_O.PARTIALLY_SHIPPED, _O.PARTIALLY_SHIPPED, shipments=[later])
    scanned = notify_event(
        _O.PARTIALLY_SHIPPED, _O.PARTIALLY_SHIPPED, shipments=[parcel("s/1", _P.IN_TRANSIT)]
    )
    assert getattr(notice_for(moved, RULES), "kind", None) is _K.SHIPPED
    assert notice_for(scanned, RULES) is None


def test_a_parcel_the_marketplace_or_a_till_hands_over_is_not_ours_to_announce() -> None:
    handed_over = parcel("pos:1/1", _P.SHIPPED, external=True)
    assert notice_for(notify_event(_O.SHIPPED, _O.PACKED, shipments=[handed_over]), RULES) is None


def test_a_replanned_order_is_delayed_with_its_new_promised_date_when_it_carries_one() -> None:
    later = date(2026, 12, 9)
    replanned = notify_event(
        _O.ALLOCATED,
        _O.BACKORDERED,
        shipments=[
            parcel("s/1", _P.REQUESTED, eta=date(2026, 12, 8)),
            parcel("s/2", _P.REQUESTED, eta=later),
        ],
    )
    notice = notice_for(replanned, RULES)
    assert notice is not None
    assert (notice.kind, notice.promised_date) == (_K.DELAYED, later)
    # after a location's rejection too, and with units still waiting no date is promised
    rejected = msgspec.structs.replace(replanned, previous=_O.EXCEPTION, backordered=SHORT)
    again = notice_for(rejected, RULES)
    assert again is not None
    assert (again.kind, again.promised_date) == (_K.DELAYED, None)
    # a backorder of its own carries no date; a replan without news says nothing
    backordered = notify_event(_O.BACKORDERED, _O.ALLOCATED, backordered=SHORT)
    assert getattr(notice_for(backordered, RULES), "promised_date", 1) is None
    undated = notify_event(_O.ALLOCATED, _O.EXCEPTION, shipments=[parcel("s/3", _P.REQUESTED)])
    assert notice_for(undated, RULES) is None


def test_a_first_allocation_promises_no_date_even_when_its_parcels_have_one() -> None:
    event = notify_event(
        _O.PARTIALLY_ALLOCATED,
        _O.PLACED,
        shipments=[parcel("s/1", _P.REQUESTED, eta=date(2026, 12, 1))],
        backordered=SHORT,
    )
    notice = notice_for(event, RULES)
    assert notice is not None
    assert (notice.kind, notice.promised_date) == (_K.DELAYED, None)


@pytest.mark.parametrize("channel", ["bol", "amazon"])
def test_a_marketplace_that_mails_its_own_customers_gets_nothing_by_default(channel: str) -> None:
    for event, kind in CASES:
        moved = msgspec.structs.replace(event, channel=channel)
        assert notice_for(moved, RULES) is None
        if kind is not None:  # the rule is data: a deployment may mail them after all
            assert notice_for(moved, NotificationRules(silent_channels=frozenset())) is not None


def test_a_kind_opted_out_of_every_medium_gives_no_notice_and_of_one_medium_no_message() -> None:
    shipped = notify_event(_O.SHIPPED, _O.PACKED, shipments=[TRACKED])
    off = NotificationRules(email_kinds=frozenset(_K) - {_K.SHIPPED}, sms_kinds=frozenset())
    assert notice_for(shipped, off) is None
    sms_only = NotificationRules(email_kinds=frozenset(), sms_kinds=frozenset({_K.SHIPPED}))
    notice = notice_for(shipped, sms_only)
    assert notice is not None
    contact = CustomerContact(email="sanne@example.nl", phone="06 1234 5678", country="NL")
    assert [d.medium for d in dispatches(notice, contact, sms_only, NOON)] == [Medium.SMS]
    assert [d.medium for d in dispatches(notice, contact, RULES, NOON)] == [
        Medium.EMAIL,
        Medium.SMS,
    ]


NOON = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)  # 12:00 in Amsterdam
QUIET = QuietHours(time(21, 0), time(8, 0), "Europe/Amsterdam")


@pytest.mark.parametrize(
    ("now", "until"),
    [
        (NOON, None),
        (datetime(2026, 12, 3, 21, 30, tzinfo=UTC), datetime(2026, 12, 4, 7, 0, tzinfo=UTC)),
        (datetime(2026, 12, 3, 6, 59, tzinfo=UTC), datetime(2026, 12, 3, 7, 0, tzinfo=UTC)),
        (datetime(2026, 12, 3, 7, 0, tzinfo=UTC), None),  # 08:00 local: the window is over
        (datetime(2026, 12, 3, 20, 0, tzinfo=UTC), datetime(2026, 12, 4, 7, 0, tzinfo=UTC)),
        # summer time: 08:00 in Amsterdam is 06:00 UTC
        (datetime(2026, 7, 1, 23, 0, tzinfo=UTC), datetime(2026, 7, 2, 6, 0, tzinfo=UTC)),
    ],
)
def test_quiet_hours_hold_a_message_until_the_local_window_ends(
    now: datetime, until: datetime | None
) -> None:
    assert quiet_until(now, QUIET, Medium.SMS) == until


def test_quiet_hours_within_a_day_cover_only_their_media_and_an_empty_window_holds_nothing() -> (
    None
):
    lunch = QuietHours(time(12, 0), time(13, 0), "Europe/Amsterdam", frozenset(Medium))
    assert quiet_until(NOON, lunch, Medium.EMAIL) == datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert quiet_until(NOON, QUIET, Medium.EMAIL) is None  # SMS only, by default
    assert quiet_until(NOON, QuietHours(time(9, 0), time(9, 0)), Medium.SMS) is None
    night = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)
    rules = NotificationRules(quiet_hours=QUIET)
    notice = notice_for(notify_event(_O.SHIPPED, _O.PACKED, shipments=[TRACKED]), rules)
    assert notice is not None
    contact = CustomerContact(email="sanne@example.nl", phone="+31612345678", country="NL")
    held = {d.medium: d.not_before for d in dispatches(notice, contact, rules, night)}
    assert held == {Medium.EMAIL: night, Medium.SMS: datetime(2026, 12, 4, 7, 0, tzinfo=UTC)}


def test_an_erased_or_unreachable_contact_gets_no_message() -> None:
    notice = notice_for(notify_event(_O.CANCELLED, _O.ALLOCATED), RULES)
    assert notice is not None
    assert dispatches(notice, CustomerContact(erased=True), RULES, NOON) == ()
    assert dispatches(notice, CustomerContact(name="Sanne", country="NL"), RULES, NOON) == ()
    everything = NotificationRules(sms_kinds=frozenset(_K))
    no_number = CustomerContact(email="sanne@example.nl", phone="12", country="NL")
    assert [d.medium for d in dispatches(notice, no_number, everything, NOON)] == [Medium.EMAIL]


def test_a_message_a_medium_does_not_send_says_why_without_personal_data() -> None:
    notice = notice_for(notify_event(_O.PLACED, None, seq=1), RULES)
    assert notice is not None
    sanne = CustomerContact(email="sanne@example.nl", phone="06 1234 5678", country="NL")
    assert withheld_because(notice, sanne, RULES, Medium.EMAIL) == ""
    assert withheld_because(notice, sanne, RULES, Medium.SMS) == "order_confirmed is off for sms"
    erased = CustomerContact(country="NL", erased=True)
    assert withheld_because(notice, erased, RULES, Medium.EMAIL) == "contact erased"
    no_mail = CustomerContact(phone="06 1234 5678", country="NL")
    assert withheld_because(notice, no_mail, RULES, Medium.EMAIL) == "no email address"


@pytest.mark.parametrize(
    ("country", "language"),
    [
        ("NL", "nl"),
        ("be", "nl"),
        ("DE", "de"),
        ("AT", "de"),
        ("FR", "fr"),
        ("GB", "en"),
        ("", "en"),
    ],
)
def test_the_language_is_the_shipping_countrys_else_the_default(
    country: str, language: str
) -> None:
    assert language_for(country) == language
    contact = CustomerContact(email="a@example.com", country=country, total=Money(100, "EUR"))
    notice = notice_for(CASES[0][0], RULES)
    assert notice is not None
    assert dispatches(notice, contact, RULES, NOON)[0].language == language


def test_a_default_language_without_templates_falls_back_to_english() -> None:
    assert language_for("US", "es") == "en"
    assert language_for("US", "de") == "de"


@pytest.mark.parametrize(
    ("phone", "country", "number"),
    [
        ("06-12 34 56 78", "NL", "+31612345678"),
        ("+49 (0)30 1234567", "DE", "+49301234567"),
        ("+49 30 1234567", "AT", "+49301234567"),
        ("+31 6 1234 567a", "NL", ""),
        ("0032 470 12 34 56", "BE", "+32470123456"),
        ("0612345678", "US", ""),
        ("", "NL", ""),
    ],
)
def test_phone_numbers_become_e164_or_nothing(phone: str, country: str, number: str) -> None:
    assert e164(phone, country) == number


statuses = st.sampled_from([s for s in ORDER_TRANSITIONS if s is not None])


@given(
    status=statuses,
    previous=st.none() | statuses,
    parcels=st.lists(st.sampled_from(list(ShipmentStatus)), max_size=3),
    waiting=st.booleans(),
    channel=st.sampled_from(["shopify", "bol", "pos"]),
)
def test_one_event_gives_at_most_one_message_per_medium_under_one_key_each_time(
    status: OrderStatus,
    previous: OrderStatus | None,
    parcels: list[ShipmentStatus],
    waiting: bool,
    channel: str,
) -> None:
    event = notify_event(
        status,
        previous,
        shipments=[parcel(f"s/{n}", p, eta=date(2026, 12, n + 1)) for n, p in enumerate(parcels)],
        backordered=SHORT if waiting else (),
        channel=channel,
    )
    rules = NotificationRules(sms_kinds=frozenset(_K))
    contact = CustomerContact(email="a@example.com", phone="+31612345678", country="NL")
    first, again = notice_for(event, rules), notice_for(event, rules)
    assert first == again  # a re-delivered event: the same notice, the same key
    if first is None:
        return
    assert first.key == f"{event.event_id}/{first.kind}"
    sent = dispatches(first, contact, rules, NOON)
    assert len({d.medium for d in sent}) == len(sent) <= 2
    assert len({d.key for d in sent}) == len(sent)


def test_the_message_id_is_made_from_the_key_alone_and_is_a_valid_one() -> None:
    key = "shopify:1001:5/order_shipped/email"
    made = message_id(key, "shop.example")
    assert made == message_id(key, "shop.example")
    assert made != message_id("shopify:1001:6/order_shipped/email", "shop.example")
    assert made.startswith("<") and made.endswith("@shop.example>")
    assert ":" not in made and "1001" not in made
