"""`orderstream normalize`: exit 0 with the event, 1 with the reason, 2 on unusable input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from orderstream.agents.cli import build_app

FIXTURES = Path(__file__).parent.parent / "fixtures"
runner = CliRunner()


def _invoke(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = runner.invoke(build_app(), list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_a_good_payload_prints_its_canonical_event_and_exits_0() -> None:
    code, out, _ = _invoke("normalize", "--source", "stock", str(FIXTURES / "stock/snapshot.json"))
    assert code == 0
    event = json.loads(out)
    assert event["type"] == "stock.snapshotted.v1"
    assert event["on_hand"] == 1240


def test_headers_reach_the_normalizer() -> None:
    code, out, _ = _invoke(
        "normalize",
        "-s",
        "shopify",
        str(FIXTURES / "shopify/orders_create.json"),
        "-H",
        "X-Shopify-Topic=orders/cancelled",
    )
    assert code == 0
    assert json.loads(out)["type"] == "order.cancelled.v1"


def test_standard_input_is_read_for_a_dash() -> None:
    raw = (FIXTURES / "pos/sale.json").read_bytes()
    code, out, _ = _invoke("normalize", "--source", "pos", "-", stdin=raw)
    assert code == 0
    assert json.loads(out)["order"]["oms_order_id"] == "pos:STORE-AMS-01:R03:000184223"


def test_a_rejected_payload_prints_the_reason_and_exits_1(tmp_path: Path) -> None:
    document = json.loads((FIXTURES / "stock/snapshot.json").read_text())
    document["on_hand"] = -3
    path = tmp_path / "negative.json"
    path.write_text(json.dumps(document))
    code, out, _ = _invoke("normalize", "--source", "stock", str(path))
    assert code == 1
    assert out.strip() == "rejected: invalid_quantity at on_hand: -3 is outside 0..1000000000"


def test_bad_json_is_a_one_line_error_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"sku": ')
    code, _, err = _invoke("normalize", "--source", "stock", str(path))
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "is not valid JSON" in err


def test_an_unknown_source_is_a_one_line_error_with_exit_2() -> None:
    code, _, err = _invoke("normalize", "--source", "ebay", str(FIXTURES / "pos/sale.json"))
    assert code == 2
    assert err.strip().splitlines() == [
        "error: unknown source 'ebay'; choose one of "
        "shopify, bol, amazon, pos, stock, wms, carrier, payment, returns"
    ]


def test_a_missing_file_is_a_one_line_error_with_exit_2(tmp_path: Path) -> None:
    code, _, err = _invoke("normalize", "--source", "pos", str(tmp_path / "nope.json"))
    assert code == 2
    assert len(err.strip().splitlines()) == 1
