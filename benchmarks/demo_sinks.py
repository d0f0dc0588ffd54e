"""The demo's sinks: each channel's simulator, a real SMTP server and the sinks in write mode.

`DemoSinks.start` starts `orderstream channel-sim shopify|amazon|bol` and the SMTP server
(`benchmarks/channels/smtp_sink.py`) as edges of the run on free ports, seeds each simulator
with the run's generated orders of its channel (a sink confirms only orders its channel
knows), and starts `orderstream sink shopify|amazon|bol|email` in write mode on the run's
database. `settle` waits until no sink has an entry pending and the log stopped growing;
`counts` reads, per sink, the delivery log by state, the attempts made again and the effects
the channel counted beyond one per event, and per template the messages the SMTP server kept.
"""

from __future__ import annotations

import functools
import json
import socket
import time
import urllib.request
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from orderstream.agents.notify.smtp import KIND_HEADER

from .demo_store import fetch_rows
from .loadgen import RawRecord
from .localrun import Run, free_port, wait_until
from .summary import Notifications, SinkCounts

SHOPIFY_TOKEN = "shpat_demo"
AMAZON = {"client_id": "amzn1.demo.client", "secret": "demo-secret", "refresh": "Atzr|demo"}
BOL = {"client_id": "bol-demo", "secret": "bol-demo-secret"}
CHANNELS = ("shopify", "amazon", "bol")
SINKS = (*CHANNELS, "email")
QUIET_S = 3.0
"""How long the delivery log must stay unchanged, nothing pending, for the sinks to be done."""

_DEMO_SINK_SETTINGS = {
    # The demo plays days in seconds, and the channels' limits are per real second (Amazon's
    # getOrder plan: 0.5 calls a second after a burst of 30), so neither the sinks nor the
    # Amazon simulator apply them here; the sinks' own tests hold them to the limits.
    "ORDERSTREAM_SINK_RATE_LIMITS": "false",
    "ORDERSTREAM_SINK_RETRY_INITIAL_S": "0.1",
    "ORDERSTREAM_SINK_RETRY_MAX_S": "1",
    "ORDERSTREAM_SINK_STORE_POLL_S": "0.2",
}


def seeds(records: Iterable[RawRecord]) -> dict[str, list[Any]]:
    """Per channel simulator, the run's orders in the channel's own JSON: the bodies of its
    `order` records (a duplicate or a malformed record seeds nothing)."""
    seeded: dict[str, list[Any]] = {channel: [] for channel in CHANNELS}
    for record in records:
        channel = record.topic.removeprefix("raw.")
        if record.kind == "order" and channel in seeded:
            seeded[channel].append(json.loads(record.value))
    return seeded


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _http(url: str, body: object | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


@dataclass(frozen=True)
class DemoSinks:
    dsn: str
    ports: dict[str, int]
    """Per simulator (and `smtp`), its port on 127.0.0.1."""
    mail: Path
    """Where the SMTP server keeps each message as `<n>.eml`."""

    @classmethod
    def start(cls, run: Run, dsn: str, records: Iterable[RawRecord]) -> DemoSinks:
        ports = {name: free_port() for name in (*CHANNELS, "smtp")}
        sinks = cls(dsn, ports, run.root / "mail")
        options = {
            "shopify": ["--token", SHOPIFY_TOKEN],
            "amazon": [
                "--client-id", AMAZON["client_id"],
                "--client-secret", AMAZON["secret"],
                "--refresh-token", AMAZON["refresh"],
            ],
            "bol": ["--client-id", BOL["client_id"], "--client-secret", BOL["secret"]],
        }  # fmt: skip
        for channel in CHANNELS:
            port = str(ports[channel])
            run.start_edge(
                "channel-sim", channel, "--port", port, *options[channel], name=f"{channel}-sim"
            )
        run.start_edge(
            "orderstream.benchmarks.channels.smtp_sink",
            "--port", str(ports["smtp"]), "--directory", str(sinks.mail),
            name="smtp", module=True,
        )  # fmt: skip
        for name, bound in ports.items():
            if not wait_until(functools.partial(_listening, bound), 60, 0.2):
                raise RuntimeError(f"the {name} server did not listen on {bound}")
        for channel, orders in seeds(records).items():
            if orders:
                _http(f"{sinks.url(channel)}/_simulator/orders", orders)
        _http(f"{sinks.url('amazon')}/_simulator/faults", {"rate_limits": False})
        for sink, env in sinks._settings().items():
            run.start_edge(
                "sink",
                sink,
                "--loglevel",
                run.loglevel,
                name=f"sink-{sink}",
                env={
                    "ORDERSTREAM_POSTGRES_DSN": dsn,
                    "ORDERSTREAM_SINK_MODE": "write",
                    "ORDERSTREAM_SINK_METRICS_PORT": str(free_port()),
                    **_DEMO_SINK_SETTINGS,
                    **env,
                },
            )
        return sinks

    def url(self, channel: str) -> str:
        return f"http://127.0.0.1:{self.ports[channel]}"

    def _settings(self) -> dict[str, dict[str, str]]:
        return {
            "shopify": {
                "ORDERSTREAM_SHOPIFY_SHOP_URL": self.url("shopify"),
                "ORDERSTREAM_SHOPIFY_ACCESS_TOKEN": SHOPIFY_TOKEN,
                "ORDERSTREAM_SHOPIFY_RATE_LIMIT_PER_S": "100",
            },
            "amazon": {
                "ORDERSTREAM_AMAZON_SP_ENDPOINT": self.url("amazon"),
                "ORDERSTREAM_AMAZON_LWA_TOKEN_URL": f"{self.url('amazon')}/auth/o2/token",
                "ORDERSTREAM_AMAZON_LWA_CLIENT_ID": AMAZON["client_id"],
                "ORDERSTREAM_AMAZON_LWA_CLIENT_SECRET": AMAZON["secret"],
                "ORDERSTREAM_AMAZON_LWA_REFRESH_TOKEN": AMAZON["refresh"],
            },
            "bol": {
                "ORDERSTREAM_BOL_API_URL": self.url("bol"),
                "ORDERSTREAM_BOL_TOKEN_URL": f"{self.url('bol')}/token",
                "ORDERSTREAM_BOL_CLIENT_ID": BOL["client_id"],
                "ORDERSTREAM_BOL_CLIENT_SECRET": BOL["secret"],
                "ORDERSTREAM_BOL_PROCESS_POLL_S": "0.1",
                "ORDERSTREAM_BOL_RATE_LIMIT_PER_S": "100",
            },
            "email": {
                "ORDERSTREAM_NOTIFY_SMTP_HOST": "127.0.0.1",
                "ORDERSTREAM_NOTIFY_SMTP_PORT": str(self.ports["smtp"]),
            },
        }

    def settle(self, timeout: float) -> bool:
        """Whether, within `timeout`, no entry is pending and the log stayed unchanged for
        `QUIET_S` seconds."""
        deadline = time.monotonic() + timeout
        last: tuple[int, int] | None = None
        since = time.monotonic()
        while time.monotonic() < deadline:
            ((rows, pending, attempts),) = self._fetch(
                "SELECT count(*), count(*) FILTER (WHERE state = 'pending'),"
                " coalesce(sum(attempts), 0) FROM delivery_log"
            )
            now = (int(rows), int(attempts))
            if now != last or pending:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= QUIET_S:
                return True
            time.sleep(0.5)
        return False

    def log_counts(self) -> dict[str, SinkCounts]:
        """Per sink, its delivery log by state and the attempts made again (duplicates 0:
        `with_effects` fills them in from the channels)."""
        rows = self._fetch(
            "SELECT sink, state, count(*), coalesce(sum(greatest(attempts - 1, 0)), 0)"
            " FROM delivery_log GROUP BY sink, state"
        )
        by_state: dict[str, Counter[str]] = {sink: Counter() for sink in SINKS}
        for sink, state, count, retried in rows:
            counted = by_state.setdefault(sink, Counter())
            counted[state] += int(count)
            counted["retried"] += int(retried)
        return {
            sink: SinkCounts(
                delivered=c["done"],
                shadowed=c["shadowed"],
                retried=c["retried"],
                dead_lettered=c["dead_lettered"],
                withheld=c["withheld"],
                pending=c["pending"],
                duplicates=0,
            )
            for sink, c in by_state.items()
        }

    def channel_duplicates(self) -> dict[str, int]:
        """Per channel, the effects its simulator counted beyond one per event (by its own
        identity: an order and its tracking number)."""
        reports = {c: _http(f"{self.url(c)}/_simulator/effects")["effects"] for c in CHANNELS}
        bol_repeats = sum(n - 1 for n in reports["bol"]["per_track_and_trace"].values())
        return {
            "shopify": int(reports["shopify"]["duplicates"]),
            "amazon": int(reports["amazon"]["duplicates"]),
            "bol": bol_repeats,
        }

    def notifications(self) -> tuple[Notifications, int]:
        """The messages the SMTP server kept, per template, and those beyond one per
        Message-ID (one per dispatch)."""
        kinds: Counter[str] = Counter()
        ids: Counter[str] = Counter()
        for path in sorted(self.mail.glob("*.eml")):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            kinds[str(message.get(KIND_HEADER, ""))] += 1
            ids[str(message.get("Message-ID", ""))] += 1
        repeats = sum(n - 1 for n in ids.values())
        return Notifications(sent=dict(sorted(kinds.items()))), repeats

    def _fetch(self, sql: str) -> list[Any]:
        return fetch_rows(self.dsn, sql)
