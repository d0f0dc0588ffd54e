"""The demo's system of record: the event store writer and the API beside the worker.

`DemoStore.start` makes a database for the run on the stack's PostgreSQL (migrated) and starts
`orderstream store` and `orderstream api` as edges of the run. At the end, `check` holds the
store against what `orders.status` carried (every distinct event id stored, none twice), and
`kpis` and `order` read the KPIs and one order's record back over HTTP with the run's token,
as support would. `drop` removes the database once the processes are stopped.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple

import msgspec

from orderstream.codecs.api import KpiReport, OrderView
from orderstream.state.schema import migrate
from orderstream.streams.order_messages import StatusChanged
from orderstream.streams.status import OrderStatus

from .localrun import Run, free_port, wait_until
from .scratch_db import create_database, drop_database
from .summary import EventStoreCheck


class Readback(NamedTuple):
    """What the API answered at the end of the run."""

    kpis: KpiReport
    order: OrderView


def shown_order(statuses: Iterable[tuple[StatusChanged, int]]) -> str:
    """The order whose record the demo shows: one delivered parcel by parcel if there is one,
    else one delivered, else the first placed."""
    reached: dict[str, set[OrderStatus]] = {}
    for event, _ in statuses:
        reached.setdefault(event.oms_order_id, set()).add(event.status)
    for wanted in (
        {OrderStatus.PARTIALLY_DELIVERED, OrderStatus.DELIVERED},
        {OrderStatus.DELIVERED},
    ):
        for order, seen in sorted(reached.items()):
            if wanted <= seen:
                return order
    return min(reached)


@dataclass(frozen=True)
class DemoStore:
    admin_dsn: str
    dsn: str
    token: str
    api_port: int

    @classmethod
    def start(cls, run: Run, admin_dsn: str) -> DemoStore:
        """A migrated database of the run's own, and the writer and the API on it."""
        dsn = asyncio.run(create_database(admin_dsn, "demo"))
        asyncio.run(migrate(dsn))
        store = cls(admin_dsn, dsn, secrets.token_urlsafe(24), free_port())
        env = {"ORDERSTREAM_POSTGRES_DSN": dsn}
        run.start_edge(
            "store",
            "--loglevel",
            "warning",
            name="store",
            env={**env, "ORDERSTREAM_STORE_METRICS_PORT": "0"},
        )
        run.start_edge(
            "api",
            "--loglevel",
            "warning",
            name="api",
            env={
                **env,
                "ORDERSTREAM_API_TOKEN": store.token,
                "ORDERSTREAM_API_PORT": str(store.api_port),
            },
        )
        return store

    def check(
        self, statuses: Iterable[tuple[StatusChanged, int]], timeout: float
    ) -> EventStoreCheck:
        """Once the store holds every event id the topic carried (or `timeout` passed)."""
        wanted = {event.event_id for event, _ in statuses}
        wait_until(lambda: wanted <= self._stored_ids(), timeout, 0.5)
        (counts,) = self._fetch(
            "SELECT count(*), count(DISTINCT event_id) FROM order_status_events"
        )
        rows, distinct = int(counts[0]), int(counts[1])
        return EventStoreCheck(rows, len(wanted - self._stored_ids()), rows - distinct)

    def kpis(self) -> KpiReport:
        """The KPIs of every order the run placed (a window a minute wider either side)."""
        ((first, last),) = self._fetch("SELECT min(placed_at), max(placed_at) FROM order_details")
        window = {
            "from": (first - timedelta(minutes=1)).isoformat(),
            "to": (last + timedelta(minutes=1)).isoformat(),
        }
        return msgspec.json.decode(
            self._get(f"/kpis?{urllib.parse.urlencode(window)}"), type=KpiReport
        )

    def order(self, oms_order_id: str) -> OrderView:
        path = f"/orders/{urllib.parse.quote(oms_order_id, safe='')}"
        return msgspec.json.decode(self._get(path), type=OrderView)

    def drop(self) -> None:
        asyncio.run(drop_database(self.admin_dsn, self.dsn))

    def _get(self, path: str) -> bytes:
        """The API's answer to `path`, once it answers at all (it starts beside the worker)."""
        wait_until(self._healthy, 30, 0.2)
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.api_port}{path}",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body: bytes = response.read()
            return body

    def _healthy(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.api_port}/health"
            with urllib.request.urlopen(url, timeout=2) as page:
                return bool(json.loads(page.read()).get("postgres"))
        except OSError:
            return False

    def _stored_ids(self) -> set[str]:
        return {row[0] for row in self._fetch("SELECT event_id FROM order_status_events")}

    def _fetch(self, sql: str) -> list[Any]:
        return fetch_rows(self.dsn, sql)


def fetch_rows(dsn: str, sql: str) -> list[Any]:
    """The rows of one query, on a connection of its own (the demo's synchronous reads)."""

    async def fetch() -> list[Any]:
        import asyncpg

        conn = await asyncpg.connect(dsn)
        try:
            return list(await conn.fetch(sql))
        finally:
            await conn.close()

    return asyncio.run(fetch())
