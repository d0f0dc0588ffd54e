"""How a failed attempt reads: whether the channel may have acted, and its metric label."""

from __future__ import annotations

import aiohttp
import pytest

from orderstream.agents.sinks.ports import ChannelBusyError, failed, failure, failure_kind
from orderstream.codecs.channel_outcomes import Retryable


def test_the_adapters_reasons_get_a_bounded_label() -> None:
    assert failure_kind("429: too many requests") == "throttled"
    assert failure_kind("throttled by query cost") == "throttled"
    assert failure_kind("503 from Shopify") == "server_error"
    assert failure_kind("Shopify reported an internal error") == "server_error"
    assert failure_kind("smtp SMTPServerDisconnected") == "error"
    assert failure_kind("quiet_hours") == "error"


def test_an_adapter_s_retryable_answer_is_settled_before_it_goes_again() -> None:
    assert failed(Retryable("503 from Shopify", 2.0)).maybe_applied


def test_only_a_refused_connection_is_known_to_have_done_nothing() -> None:
    assert failure(TimeoutError()).maybe_applied
    assert failure(aiohttp.ServerDisconnectedError()).maybe_applied
    assert not failure(ConnectionRefusedError()).maybe_applied
    assert failure(ConnectionRefusedError()).kind == "unreachable"
    with pytest.raises(KeyError):
        failure(KeyError("a bug in the adapter"))


def test_a_channel_still_running_the_change_is_asked_again_and_labelled_pending() -> None:
    busy = failure(ChannelBusyError("Bol.com still runs process 7 (CONFIRM_SHIPMENT)"))
    assert busy.maybe_applied and busy.kind == "pending"
    assert "still runs process 7" in busy.outcome.reason
