"""The API's query parameters: each read from the request's text into a value, or refused
with a `ParameterError` that names the parameter and what it takes (a 400 for the client)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from orderstream.codecs.api import QUEUE_KINDS
from orderstream.codecs.openapi import DEFAULT_PAGE, MAX_PAGE
from orderstream.state.queries import QueueFilter

from .dlq_view import parse_age, parse_since

KPI_WINDOW = timedelta(days=7)
"""The KPI window when `from` is not given: the 7 days before `to`."""

MAX_KPI_WINDOW = timedelta(days=366)
"""The longest KPI window: a year of orders is read in one request, no more."""


class ParameterError(ValueError):
    """A query parameter the API cannot use; the message is for the client."""


QUEUE_PARAMETERS = ("status", "channel", "node", "older_than", "cursor", "limit")
KPI_PARAMETERS = ("from", "to", "channel")


def parameters(given: Iterable[tuple[str, str]], known: tuple[str, ...]) -> dict[str, str]:
    """The query as a mapping; a name the path does not take, a name given twice or a NUL
    character (PostgreSQL text holds none) is refused, so a misspelt filter is never ignored."""
    found: dict[str, str] = {}
    for name, value in given:
        shown = name if len(name) <= 40 else name[:40] + "..."
        if name not in known:
            raise ParameterError(
                f"{shown!r}: unknown parameter; this path takes {', '.join(known)}"
            )
        if name in found:
            raise ParameterError(f"{name}: given more than once")
        if "\x00" in value:
            raise ParameterError(f"{name}: must not contain a NUL character")
        found[name] = value
    return found


def queue_filter(query: Mapping[str, str], now: datetime) -> tuple[QueueFilter, int, str | None]:
    """`GET /orders`: the filter, the page size and the cursor."""
    kinds: tuple[str, ...] = QUEUE_KINDS
    status = query.get("status")
    if status is not None:
        if status.upper() not in QUEUE_KINDS:
            raise ParameterError(f"status: expected one of {', '.join(QUEUE_KINDS)}")
        kinds = (status.upper(),)
    opened_before = None
    older_than = query.get("older_than")
    if older_than is not None:
        age = parse_age(older_than)
        if age is None or age > now - datetime.min.replace(tzinfo=now.tzinfo):
            raise ParameterError("older_than: expected an age such as 90m, 6h or 2d")
        opened_before = now - age
    return (
        QueueFilter(
            kinds=kinds,
            channel=query.get("channel") or None,
            location=query.get("node") or None,
            opened_before=opened_before,
        ),
        page_size(query.get("limit")),
        query.get("cursor") or None,
    )


def page_size(text: str | None) -> int:
    if text is None:
        return DEFAULT_PAGE
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise ParameterError(f"limit: expected a whole number from 1 to {MAX_PAGE}")
    return int(text)


def kpi_window(query: Mapping[str, str], now: datetime) -> tuple[datetime, datetime, str | None]:
    """`GET /kpis`: [from, to) and the channel; `to` defaults to now, `from` to a week before."""
    end = _instant(query, "to", now) or now
    start = _instant(query, "from", now) or end - KPI_WINDOW
    if start >= end:
        raise ParameterError("from: must be before to")
    if end - start > MAX_KPI_WINDOW:
        raise ParameterError(f"from: the window spans {MAX_KPI_WINDOW.days} days at most")
    return start, end, query.get("channel") or None


def _instant(query: Mapping[str, str], name: str, now: datetime) -> datetime | None:
    text = query.get(name)
    if not text:  # absent or empty: the default
        return None
    try:
        when = parse_since(text, now)
    except OverflowError:  # an age reaching before year 1
        when = None
    if when is None:
        raise ParameterError(f"{name}: expected an ISO 8601 time or date, or an age such as 7d")
    return when
