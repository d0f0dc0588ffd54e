"""`orderstream orders show` and `orderstream kpis` print the API's data as tables, read from
a real PostgreSQL holding the hand-written store."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from orderstream.agents import cli
from orderstream.agents.samples import sample_rules_path
from tests.builders import STORE_CONTACT, seeded_store

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def store_dsn(postgres_dsn: str) -> Iterator[str]:
    with seeded_store(postgres_dsn, "storecli") as dsn:
        yield dsn


def invoke(dsn: str, *args: str) -> tuple[int, str]:
    env = {
        "ORDERSTREAM_POSTGRES_DSN": dsn,
        "ORDERSTREAM_RULES_PATH": str(sample_rules_path()),
        "COLUMNS": "220",
    }
    result = CliRunner().invoke(cli.build_app(), list(args), env=env)
    return result.exit_code, result.output


def test_orders_show_prints_the_record(store_dsn: str) -> None:
    code, output = invoke(store_dsn, "orders", "show", "shopify:1002")
    assert code == 0, output
    for expected in ("order shopify:1002", "49.99 EUR", "ON_HOLD", "payment_pending", "B1"):
        assert expected in output
    events = re.findall(r"^│\s*(\d)\s*│\s*([A-Z_]+)\s*│", output, re.MULTILINE)
    assert events == [("1", "PLACED"), ("2", "ON_HOLD"), ("3", "ALLOCATED"), ("4", "SHIPPED")]


def test_orders_show_prints_the_contact_for_support(store_dsn: str) -> None:
    _, output = invoke(store_dsn, "orders", "show", "shopify:1001")
    assert STORE_CONTACT["customer_email"] in output


def test_an_unknown_order_is_one_line_and_exit_1(store_dsn: str) -> None:
    code, output = invoke(store_dsn, "orders", "show", "shopify:404")
    assert (code, output.strip()) == (1, "error: no order 'shopify:404' in the event store")


def test_kpis_prints_the_day_s_figures(store_dsn: str) -> None:
    code, output = invoke(store_dsn, "kpis", "--from", "2026-11-27", "--to", "2026-11-28")
    assert code == 0, output
    rows = {
        cells[0]: cells[1]
        for line in output.splitlines()
        if (cells := [c.strip() for c in line.strip("│ ").split("│")]) and len(cells) == 2
    }
    assert rows["orders"] == "8"
    assert rows["placement to shipped p50"] == "6h 00m (21600 s)"
    assert rows["on-time shipping"] == "25.00 % (1/4)"
    assert rows["first-attempt allocation"] == "42.86 % (3/7)"
    assert rows["fulfilment accuracy"] == "50.00 % (4/8)"
    assert rows["cost per shipment without bundling"] == "4.95 EUR (4 parcels)"
    assert rows["cost per shipment with bundling"] == "4.78 EUR (3 parcels)"
    assert rows["return rate"] == "not recorded yet"


def test_kpis_of_one_channel_and_a_bad_window(store_dsn: str) -> None:
    code, output = invoke(
        store_dsn, "kpis", "--from", "2026-11-27", "--to", "2026-11-28", "--channel", "bol"
    )
    assert code == 0 and "channel bol" in output
    code, output = invoke(store_dsn, "kpis", "--from", "2026-11-28", "--to", "2026-11-27")
    assert (code, output.strip()) == (2, "error: --from: must be before to")
