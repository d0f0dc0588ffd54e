"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it accepts.

For the notification tests and the demo: `SmtpSink` runs on the caller's event loop and
keeps each message parsed (`received`), and in `directory` as `<n>.eml` when given;
recipients in `refuse` are answered 550, as a real server answers an unknown mailbox.
`python -m orderstream.benchmarks.channels.smtp_sink --port N --directory DIR` runs one
until SIGTERM or SIGINT. It logs no addresses: aiosmtpd's own log (`mail.log`) is kept at warnings.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from orderstream.agents.notify.smtp import KIND_HEADER


@dataclass(frozen=True, slots=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


@dataclass
class _Handler:
    refuse: frozenset[str]
    directory: Path | None
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=policy.default)
        self.received.append(Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), parsed))
        if self.directory is not None:
            (self.directory / f"{len(self.received):06d}.eml").write_bytes(content)
        return "250 2.0.0 accepted"


class SmtpSink:
    """An SMTP server on `host`, port `port` (0: a free one, see `port` once started)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        refuse: Collection[str] = (),
        directory: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self._handler = _Handler(frozenset(a.lower() for a in refuse), directory)
        self._server: asyncio.Server | None = None

    @property
    def received(self) -> list[Received]:
        return self._handler.received

    def kinds(self) -> Counter[str]:
        """Messages received per template (`X-Orderstream-Kind`)."""
        return Counter(str(r.message.get(KIND_HEADER, "")) for r in self.received)

    async def start(self) -> int:
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self._handler, hostname="sink.localhost", loop=loop),
            self.host,
            self.port,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> SmtpSink:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()


async def _serve(port: int, directory: Path) -> None:
    """Run a sink until SIGTERM or SIGINT, then say how many messages it kept."""
    sink = SmtpSink(port=port, directory=directory)
    await sink.start()
    print(f"smtp sink on 127.0.0.1:{sink.port}, messages in {directory}", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    try:
        await stopped.wait()
    finally:
        await sink.stop()
    print(f"smtp sink stopped: {len(sink.received)} messages", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--directory", type=Path, default=Path(".orderstream/mail"))
    arguments = parser.parse_args()
    asyncio.run(_serve(arguments.port, arguments.directory))


if __name__ == "__main__":
    main()
