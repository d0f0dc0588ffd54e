"""The SMTP sink as a process: it keeps each message it accepts as a file, and stops on
SIGTERM saying how many it kept."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from orderstream.benchmarks.localrun import free_port


async def _send(port: int) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@shop.example", "b@x.example", "hi"
    message.set_content("hello")
    for _ in range(100):  # until the process listens
        try:
            await aiosmtplib.send(message, hostname="127.0.0.1", port=port, start_tls=False)
            return
        except aiosmtplib.SMTPConnectError:
            await asyncio.sleep(0.1)
    raise AssertionError("the sink never listened")


def test_the_sink_process_keeps_messages_as_files_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "orderstream.benchmarks.channels.smtp_sink"]
    command += ["--port", str(port), "--directory", str(tmp_path / "mail")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        asyncio.run(_send(port))
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert out.strip().splitlines()[-1] == "smtp sink stopped: 1 messages"
    (kept,) = (tmp_path / "mail").iterdir()
    assert b"Subject: hi" in kept.read_bytes()
