"""Logs carry no record payloads, at any level.

At debug level Faust's send path (`faust.topics`, `faust.transport.drivers.aiokafka`) and
aiokafka's producer print each record's key and value in full, and aiokafka's connection
prints the first bytes of every produce request and fetch response: order payloads with
names, e-mails, phone numbers and addresses. A filter on exactly those loggers replaces
every bytes argument of a log call with its size, and a produce or fetch struct with its
type name; the line stays (topic, partition, offsets, timing), the payload goes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

LOGGERS = (
    "faust.topics",
    "faust.transport.drivers.aiokafka",
    "aiokafka.producer.producer",
    "aiokafka.conn",
)
"""The loggers whose debug lines print record bytes (faust-streaming 0.15.3, aiokafka)."""

_CARRIES_RECORDS = ("ProduceRequest", "FetchResponse")


def _without_payload(arg: object) -> object:
    if isinstance(arg, bytes | bytearray | memoryview):
        return f"<{len(arg)} bytes>"
    name = type(arg).__name__
    if name.startswith(_CARRIES_RECORDS):
        return f"<{name}>"
    return arg


class WithoutPayloads(logging.Filter):
    """Rewrites a log record's arguments so that no record bytes reach a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_without_payload(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: _without_payload(arg) for key, arg in record.args.items()}
        return True


def install() -> None:
    """Put the filter on each logger that prints payloads (once per process)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, WithoutPayloads) for existing in logger.filters):
            logger.addFilter(WithoutPayloads())
