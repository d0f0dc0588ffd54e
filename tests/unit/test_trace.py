"""A record's trace id is the one its input carried (`trace-id`, else W3C `traceparent`), or
one derived from the input's position: well formed, the same on every replay, never invented."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from orderstream.codecs.trace import (
    carried_trace_id,
    derived_trace_id,
    position,
    trace_id,
)

W3C_EXAMPLE = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
"""The example of the W3C Trace Context recommendation."""
AT = position("raw.shopify", 3, 1042)
WELL_FORMED = re.compile(r"[0-9a-f]{32}")


def test_a_traceparent_header_gives_its_trace_id() -> None:
    assert trace_id([("traceparent", W3C_EXAMPLE)], AT) == b"4bf92f3577b34da6a3ce929d0e0e4736"


def test_a_trace_id_header_wins_over_a_traceparent_and_names_are_case_insensitive() -> None:
    headers = [
        ("Traceparent", W3C_EXAMPLE),
        ("Trace-ID", b"0AF7651916CD43DD8448EB211C80319C"),
    ]
    assert trace_id(headers, AT) == b"0af7651916cd43dd8448eb211c80319c"


def test_a_malformed_trace_id_falls_back_to_the_traceparent() -> None:
    headers = [("trace-id", b"not-a-trace"), ("traceparent", W3C_EXAMPLE)]
    assert trace_id(headers, AT) == b"4bf92f3577b34da6a3ce929d0e0e4736"


def test_a_record_without_a_usable_trace_gets_one_derived_from_its_position() -> None:
    unusable = [
        [],
        [("x-shopify-webhook-id", b"b54557e4")],
        [("trace-id", b"0" * 32)],  # all zero: invalid in W3C
        [("trace-id", b"4bf92f3577b34da6a3ce929d0e0e473")],  # 31 digits
        [("traceparent", b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")],
        [("traceparent", W3C_EXAMPLE + b"-extra")],  # version 00 has no further fields
        [("traceparent", b"00-" + b"0" * 32 + b"-00f067aa0ba902b7-01")],
        [("trace-id", b"a" * 32 + b" " * 600)],  # longer than a header that names a trace
    ]
    for headers in unusable:
        assert carried_trace_id(headers) is None, headers
        assert trace_id(headers, AT) == derived_trace_id(AT)


def test_a_later_traceparent_version_may_add_fields() -> None:
    later = b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-next"
    assert carried_trace_id([("traceparent", later)]) == b"4bf92f3577b34da6a3ce929d0e0e4736"


def test_a_derived_trace_id_is_the_same_for_the_same_position_and_differs_for_another() -> None:
    assert derived_trace_id(AT) == derived_trace_id(position("raw.shopify", 3, 1042))
    others = {derived_trace_id(position("raw.shopify", p, o)) for p in range(4) for o in range(50)}
    assert len(others) == 200
    assert WELL_FORMED.fullmatch(derived_trace_id(AT).decode())


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["trace-id", "traceparent", "TRACEPARENT", "other"]),
            st.binary(max_size=80),
        ),
        max_size=4,
    )
)
def test_whatever_the_headers_hold_the_trace_id_is_well_formed(
    headers: list[tuple[str, bytes]],
) -> None:
    found = trace_id(headers, AT).decode()
    assert WELL_FORMED.fullmatch(found) and found != "0" * 32
