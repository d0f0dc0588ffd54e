"""When a location can hand a parcel to a carrier, and when the carrier delivers.

Times of day are written "HH:MM" in the location's own time zone and compared with `now`
converted to that zone, so a cut-off follows daylight saving time without any rule change.
A parcel picked before the cut-off on a working day leaves that day plus the handling days;
transit counts only the carrier's delivery days. A calendar with no working or delivery day
within `MAX_CALENDAR_SEARCH` days gives no date rather than looping.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec

from .routing import CarrierOffer, Location, Weekday

MAX_CALENDAR_SEARCH = 400
"""Days searched for a working or delivery day; a calendar with none in a year is broken."""

WEEKDAYS = tuple(Weekday)
"""The days of the week in `date.weekday()` order."""

_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def is_clock(text: str) -> bool:
    """Whether `text` is a "HH:MM" time of day (00:00..23:59)."""
    return _CLOCK.fullmatch(text) is not None


def parse_clock(text: str) -> time:
    """A "HH:MM" time of day (00:00..23:59); anything else is a bug in an unchecked rule set."""
    match = _CLOCK.fullmatch(text)
    if match is None:
        raise ValueError(f'expected "HH:MM", got {text!r}')
    return time(int(match[1]), int(match[2]))


class Dispatch(msgspec.Struct, frozen=True, omit_defaults=True):
    """When a location hands parcels to the carrier: the ship date, and whether by a late pick."""

    ship_date: date
    late_pick: bool = False


def is_working_day(location: Location, day: date) -> bool:
    return WEEKDAYS[day.weekday()] in location.working_days and day not in location.closed_dates


def next_working_day(location: Location, after: date) -> date | None:
    """The first working day strictly after `after`; None if the location never works."""
    day = after
    for _ in range(MAX_CALENDAR_SEARCH):
        day += timedelta(days=1)
        if is_working_day(location, day):
            return day
    return None


def add_working_days(location: Location, start: date, days: int) -> date | None:
    """`days` working days after `start` (handling time); `start` itself when `days` is 0."""
    day: date | None = start
    for _ in range(days):
        if day is None:
            return None
        day = next_working_day(location, day)
    return day


def local_time(location: Location, now: datetime) -> datetime:
    """`now` on the location's wall clock; `now` must be timezone-aware (naive time is a bug)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(location.time_zone))


def dispatch_options(location: Location, now: datetime) -> tuple[Dispatch, ...]:
    """The ways an order released at `now` can leave the location, earliest first.

    Before the cut-off on a working day it is picked today. After it, a late pick (if the location
    has one and it is still before the late cut-off) picks it today at a surcharge, and the
    next working day's regular pick is the cheaper, slower alternative. Handling days are
    added to the pick day. "Before" is strict: an order at 16:00:00 misses a 16:00 cut-off.
    """
    local = local_time(location, now)
    today, clock = local.date(), local.time()
    picks: list[tuple[date | None, bool]] = []
    if is_working_day(location, today) and clock < parse_clock(location.cut_off):
        picks.append((today, False))
    else:
        late = location.late_pick
        if (
            late is not None
            and is_working_day(location, today)
            and clock < parse_clock(late.cut_off)
        ):
            picks.append((today, True))
        picks.append((next_working_day(location, today), False))
    options = []
    for pick_day, late_pick in picks:
        ship = add_working_days(location, pick_day, location.handling_days) if pick_day else None
        if ship is not None:
            options.append(Dispatch(ship, late_pick))
    return tuple(options)


def delivery_date(offer: CarrierOffer, ship_date: date, transit: int) -> date | None:
    """The ETA: `transit` of the carrier's delivery days after shipping (0: the same day)."""
    day = ship_date
    for _ in range(transit):
        for _ in range(MAX_CALENDAR_SEARCH):
            day += timedelta(days=1)
            if WEEKDAYS[day.weekday()] in offer.delivery_days:
                break
        else:
            return None
    return day
