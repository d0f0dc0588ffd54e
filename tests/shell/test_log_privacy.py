"""Faust's and aiokafka's debug lines keep their shape but lose the record bytes they print."""

from __future__ import annotations

import logging

import pytest
from aiokafka.protocol.produce import ProduceRequest_v7

from orderstream.agents import log_privacy

VALUE = b'{"email":"sanne.devries.1@example.nl","phone":"+31612345678"}'


@pytest.fixture(autouse=True)
def installed() -> None:
    log_privacy.install()


@pytest.mark.parametrize("name", log_privacy.LOGGERS)
def test_a_record_value_logged_at_debug_shows_only_its_size(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger=name):
        logging.getLogger(name).debug("Sending (key=%s value=%s) to %s", b"shopify:1", VALUE, "tp")
    (line,) = [r.getMessage() for r in caplog.records if r.name == name]
    assert line == f"Sending (key=<9 bytes> value=<{len(VALUE)} bytes>) to tp"


def test_a_produce_request_is_logged_by_its_type_not_its_bytes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    request = ProduceRequest_v7(None, -1, 1000, [("t", [(0, VALUE)])])
    with caplog.at_level(logging.DEBUG, logger="aiokafka.conn"):
        logging.getLogger("aiokafka.conn").debug("Request to %s:%d %d: %s", "h", 1, 2, request)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "aiokafka.conn"]
    assert "example.nl" not in line
    assert line == "Request to h:1 2: <ProduceRequest_v7>"


def test_other_loggers_and_arguments_are_left_alone(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="faust.topics"):
        logging.getLogger("faust.topics").debug("send: topic=%r partition=%r", "orders", 3)
        logging.getLogger("orderstream.test").warning("raw %r", b"kept")
    assert [r.getMessage() for r in caplog.records] == [
        "send: topic='orders' partition=3",
        "raw b'kept'",
    ]
    installed_once = [f for f in logging.getLogger("aiokafka.conn").filters]
    log_privacy.install()
    assert logging.getLogger("aiokafka.conn").filters == installed_once
