"""`orderstream rules check|explain`: exit 0 on success, 1 for invalid rules, 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
from typer.testing import CliRunner

from orderstream.agents.cli import build_app
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import OrderPlaced

ROOT = Path(__file__).parent.parent.parent
SAMPLES = ROOT / "agents" / "samples"
RULES = str(SAMPLES / "rules.yaml")
ATP = str(SAMPLES / "atp.json")
ORDER = str(SAMPLES / "order.json")
NOW = "2026-11-27T09:15:32Z"
runner = CliRunner()


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(build_app(), list(args))
    return result.exit_code, result.stdout, result.stderr


def _explain(
    *extra: str, order: str = ORDER, rules: str = RULES, atp: str = ATP
) -> tuple[int, str, str]:
    return _invoke(
        "rules", "explain", order, "--rules", rules, "--stock", atp, "--now", NOW, *extra
    )


def test_check_of_a_valid_rule_set_prints_one_summary_line_and_exits_0() -> None:
    code, out, _ = _invoke("rules", "check", RULES)
    assert code == 0
    assert out.splitlines() == [
        f"{RULES}: ok: sample-network revision 2026-11-27.1 (version 1): 5 nodes, 3 zones, "
        "6 service levels, max_splits 2"
    ]


def test_check_of_an_invalid_rule_set_prints_one_error_per_line_and_exits_1(tmp_path: Path) -> None:
    text = (SAMPLES / "rules.yaml").read_text()
    broken = text.replace('cut_off: "16:00"', 'cut_off: "25:00"').replace(
        "time_zone: Europe/Brussels", "time_zone: Europe/Brussel"
    )
    path = tmp_path / "rules.yaml"
    path.write_text(broken)
    code, out, _ = _invoke("rules", "check", str(path))
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2
    cut_off_line = 1 + broken.splitlines().index('    cut_off: "25:00"')
    assert lines[0] == f'{path}:{cut_off_line}: nodes[0].cut_off: expected "HH:MM", got "25:00"'
    assert lines[1].endswith("nodes[2].time_zone: unknown time zone 'Europe/Brussel'")


def test_check_of_a_missing_file_is_a_one_line_error_with_exit_2(tmp_path: Path) -> None:
    code, out, err = _invoke("rules", "check", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert out == ""
    assert err.startswith("error: cannot read ") and len(err.splitlines()) == 1


def test_explain_prints_the_plan_and_why_for_people() -> None:
    code, out, _ = _explain()
    assert code == 0
    assert "order     shopify:5874123456789 (shopify, express to NL, 2 lines, 3 units)" in out
    assert "plan      routed, priority 130 (vip +100, service_level:express +30)" in out
    assert "decision  fewest_shipments" in out
    assert "  WH-DUS via dhl: ships 2026-11-27, ETA 2026-11-28, 5.45 EUR, on time" in out
    assert "  STORE-UTR-01  wrong_channel" in out
    assert "  1. WH-DUS: 3/3 units" in out
    assert "  2. WH-AMS+WH-DUS: 3/3 units" in out


def test_explain_json_is_the_plan_with_its_explanation_for_machines() -> None:
    code, out, _ = _explain("--json")
    assert code == 0
    plan = json.loads(out)
    assert plan["kind"] == "routed"
    assert plan["explanation"]["decided_by"] == "fewest_shipments"
    assert [s["node"] for s in plan["shipments"]] == ["WH-DUS"]
    assert {c["rank"]: c["nodes"] for c in plan["explanation"]["candidates"]}[1] == ["WH-DUS"]
    verdicts = {n["node"]: n["verdict"] for n in plan["explanation"]["nodes"]}
    assert verdicts["WH-AMS"] == "eligible"


def test_explain_accepts_an_order_placed_event_and_hands_a_store_sale_over(tmp_path: Path) -> None:
    raw = (ROOT / "tests/fixtures/pos/sale.json").read_bytes()
    event = normalize_payload(Source.POS, raw)
    assert isinstance(event, OrderPlaced)
    path = tmp_path / "event.json"
    path.write_bytes(msgspec.json.encode(event))
    code, out, _ = _explain("--json", order=str(path))
    assert code == 0
    plan = json.loads(out)
    assert plan["kind"] == "store"
    assert plan["explanation"]["decided_by"] == "store_handover"
    assert [s["node"] for s in plan["shipments"]] == ["STORE-AMS-01"]


def test_explain_has_no_side_effects_and_gives_the_same_answer_twice() -> None:
    before = [Path(p).read_bytes() for p in (ORDER, RULES, ATP)]
    first, second = _explain("--json"), _explain("--json")
    assert first == second
    assert [Path(p).read_bytes() for p in (ORDER, RULES, ATP)] == before


def _write(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content)
    return str(path)


def test_explain_refuses_unusable_input_with_one_line_and_exit_2(tmp_path: Path) -> None:
    stock_event = (ROOT / "tests/fixtures/stock/snapshot.json").read_bytes()
    snapshot = normalize_payload(Source.STOCK, stock_event)
    cases = [
        ({"order": _write(tmp_path, "bad.json", "{not json")}, "is not valid JSON"),
        ({"order": _write(tmp_path, "o.json", '{"oms_order_id": 1}')}, "is not a canonical order"),
        (
            {"order": _write(tmp_path, "s.json", msgspec.json.encode(snapshot).decode())},
            "is a stock.snapshotted.v1 event, not an order",
        ),
        ({"atp": _write(tmp_path, "atp.json", '{"SKU": {"WH-AMS": -1}}')}, "ATP is never negative"),
        ({"atp": _write(tmp_path, "atp2.json", '["SKU"]')}, "is not a stock snapshot"),
        ({"rules": _write(tmp_path, "r.yaml", "version: 7\n")}, "r.yaml:1: version: unsupported"),
        ({"atp": str(tmp_path / "missing.json")}, "cannot read"),
    ]
    for files, message in cases:
        code, out, err = _explain(**files)
        assert (code, out) == (2, ""), files
        assert err.startswith("error: ") and message in err, (files, err)
        assert len(err.splitlines()) == 1


def test_explain_wants_now_with_an_offset() -> None:
    code, _, err = _invoke(
        "rules", "explain", ORDER, "--rules", RULES, "--stock", ATP, "--now", "2026-11-27T10:00"
    )
    assert code == 2
    assert "has no UTC offset" in err


def test_explain_after_the_amsterdam_cut_off_shows_the_later_ship_date() -> None:
    code, out, _ = _invoke(
        "rules", "explain", ORDER, "--rules", RULES, "--stock", ATP, "--now", "2026-11-27T19:30:00Z"
    )
    assert code == 0
    # 20:30 in Düsseldorf is after its 20:00 late pick: Saturday is not a working day there.
    assert "WH-DUS via dhl: ships 2026-11-30" in out
