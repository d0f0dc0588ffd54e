"""`orderstream schemas write` writes the generated contract; `check` names what drifted."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from orderstream.agents import cli
from orderstream.agents.schemas_cli import generated_files


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.build_app(), ["schemas", *args])
    return result.exit_code, result.output


def test_write_creates_every_file_and_check_then_passes(tmp_path: Path) -> None:
    code, output = invoke("write", "--dir", str(tmp_path))
    assert code == 0, output
    written = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert written == set(generated_files())
    assert f"{len(written)} written" in output
    code, output = invoke("check", "--dir", str(tmp_path))
    assert (code, output.strip()) == (0, f"{tmp_path}: {len(written)} files up to date")
    code, output = invoke("write", "--dir", str(tmp_path))
    assert (code, output.splitlines()[-1]) == (0, f"{tmp_path}: {len(written)} files, 0 written")


def test_check_names_a_changed_and_a_missing_file_and_exits_1(tmp_path: Path) -> None:
    invoke("write", "--dir", str(tmp_path))
    (tmp_path / "topics" / "orders.status.v1.json").write_text("{}\n")
    (tmp_path / "asyncapi.yaml").unlink()
    (tmp_path / "topics" / "orders.status.v0.json").write_text("{}\n")  # not generated: kept
    code, output = invoke("check", "--dir", str(tmp_path))
    assert code == 1
    assert output.splitlines() == [
        f"{tmp_path}/topics/orders.status.v1.json: missing or out of date",
        f"{tmp_path}/asyncapi.yaml: missing or out of date",
        "run `orderstream schemas write` to rewrite them",
    ]
    code, _ = invoke("write", "--dir", str(tmp_path))
    assert code == 0 and invoke("check", "--dir", str(tmp_path))[0] == 0
    assert (tmp_path / "topics" / "orders.status.v0.json").read_text() == "{}\n"
