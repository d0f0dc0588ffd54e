"""Every command fails in one line: 1 rejected, 2 unusable input or configuration, 3 a bug."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka.errors import KafkaConnectionError
from typer.testing import CliRunner, Result

from orderstream.agents import kafka_admin, rules_cli
from orderstream.agents.cli import build_app
from orderstream.agents.samples import sample_rules_path
from orderstream.benchmarks.localrun import free_port
from orderstream.codecs.rules import MAX_RULES_BYTES
from orderstream.codecs.sources import MAX_PAYLOAD_BYTES

runner = CliRunner()
SAMPLE = str(sample_rules_path())
BOMB = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]" for a, b in zip("abcdefg", "bcdefgh", strict=True)]
)


def _invoke(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(build_app(), list(args), input=stdin, env=env)


def _one_line(result: Result, code: int) -> str:
    """The single stderr line of a command that ended with `code` and raised nothing."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ORDERSTREAM_RULES_PATH", "ORDERSTREAM_TOPIC_PARTITIONS"):
        monkeypatch.delenv(name, raising=False)


def test_normalize_reads_no_further_than_the_payload_limit() -> None:
    line = _one_line(_invoke("normalize", "--source", "shopify", "/dev/zero"), 2)
    assert line == f"error: /dev/zero is larger than the limit of {MAX_PAYLOAD_BYTES:,} bytes"


def test_normalize_refuses_standard_input_over_the_limit() -> None:
    result = _invoke("normalize", "-s", "pos", "-", stdin=b" " * (MAX_PAYLOAD_BYTES + 1))
    assert (
        _one_line(result, 2) == f"error: - is larger than the limit of {MAX_PAYLOAD_BYTES:,} bytes"
    )


def test_rules_check_refuses_an_alias_bomb_at_its_first_anchor(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    result = _invoke("rules", "check", str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:1: YAML anchors and aliases are not allowed; write the values out"
    ]


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, '{"a": ' * 5000 + "1" + "}" * 5000])
def test_rules_check_refuses_deep_nesting_with_its_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    result = _invoke("rules", "check", str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"{path}:1: nested deeper than 32 levels"]


def test_rules_check_reads_no_further_than_the_rules_limit() -> None:
    line = _one_line(_invoke("rules", "check", "/dev/zero"), 2)
    assert line == f"error: /dev/zero is larger than the limit of {MAX_RULES_BYTES:,} bytes"


def test_rules_explain_with_a_directory_for_an_order_names_it(tmp_path: Path) -> None:
    args = ("rules", "explain", str(tmp_path), "--rules", SAMPLE, "--stock", str(tmp_path))
    assert _one_line(_invoke(*args), 2) == f"error: cannot read {tmp_path}: Is a directory"


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("env", [{}, {"ORDERSTREAM_RULES_PATH": ""}], ids=["unset", "empty"])
def test_the_worker_refuses_to_start_without_a_rule_set(env: dict[str, str]) -> None:
    line = _one_line(_invoke("worker", env=env), 2)
    assert line.startswith("error: no rule set: pass --rules FILE or set ORDERSTREAM_RULES_PATH")
    assert SAMPLE in line


@pytest.mark.usefixtures("clean_env")
def test_a_missing_rules_file_names_the_setting_it_came_from(tmp_path: Path) -> None:
    missing = tmp_path / "rules.yaml"
    result = _invoke("worker", env={"ORDERSTREAM_RULES_PATH": str(missing)})
    assert _one_line(result, 2) == (
        f"error: cannot read {missing} (ORDERSTREAM_RULES_PATH): No such file or directory"
    )


@pytest.mark.usefixtures("clean_env")
def test_an_invalid_rule_set_stops_the_worker_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    line = _one_line(_invoke("worker", "--rules", str(path)), 2)
    assert (
        line == f"error: {path}:1: YAML anchors and aliases are not allowed; write the values out"
    )


@pytest.mark.usefixtures("clean_env")
def test_a_bad_setting_is_named_by_its_variable_without_its_value() -> None:
    env = {"ORDERSTREAM_TOPIC_PARTITIONS": "abc", "ORDERSTREAM_WEB_PORT": "70000"}
    line = _one_line(_invoke("worker", "--rules", SAMPLE, env=env), 2)
    assert line.startswith("error: invalid setting ")
    assert "ORDERSTREAM_TOPIC_PARTITIONS: Input should be a valid integer" in line
    assert "ORDERSTREAM_WEB_PORT: Input should be less than or equal to 65535" in line
    assert "abc" not in line and "70000" not in line


@pytest.mark.usefixtures("clean_env")
def test_an_unreachable_broker_is_tried_for_the_wait_then_one_line(tmp_path: Path) -> None:
    closed = f"127.0.0.1:{free_port()}"
    env = {
        "ORDERSTREAM_KAFKA_BOOTSTRAP": closed,
        "ORDERSTREAM_BROKER_WAIT_S": "0.3",
        "ORDERSTREAM_DATA_DIR": str(tmp_path),
        "ORDERSTREAM_BUNDLE_KEY_SECRET": "the sample network bundles",
    }
    line = _one_line(_invoke("worker", "--rules", SAMPLE, env=env), 2)
    assert line == (
        f"error: no Kafka broker answers at {closed} (ORDERSTREAM_KAFKA_BOOTSTRAP); "
        "tried for 0.3 s (ORDERSTREAM_BROKER_WAIT_S)"
    )


def test_an_unexpected_exception_is_an_internal_error_with_exit_3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise KeyError("nodes")

    monkeypatch.setattr(rules_cli, "load_rules", broken)
    assert _one_line(_invoke("rules", "check", SAMPLE), 3) == "internal error: KeyError: 'nodes'"


def test_the_exit_codes_are_in_the_help() -> None:
    for args in ([], ["normalize"], ["worker"], ["rules"], ["rules", "check"]):
        result = _invoke(*args, "--help")
        assert result.exit_code == 0
        text = " ".join(result.stdout.replace("│", " ").split())
        assert (
            "Exit codes: 0 done, 1 rejected by a rule, 2 unusable input or configuration, 3" in text
        )


def test_the_installed_command_fails_in_one_line_too() -> None:
    """The console entry point goes through the same root group: no traceback on stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "orderstream.agents", "worker", "--rules", SAMPLE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "ORDERSTREAM_TOPIC_PARTITIONS": "abc"},
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: invalid setting ORDERSTREAM_TOPIC_PARTITIONS: Input should be a valid integer, "
        "unable to parse string as an integer"
    ]


class _LateBroker:
    """An admin client whose broker answers from the `answers_from`-th connection on."""

    answers_from = 3
    starts = 0

    def __init__(self, **_: object) -> None:
        pass

    async def start(self) -> None:
        type(self).starts += 1
        if type(self).starts < self.answers_from:
            raise KafkaConnectionError("refused")

    async def close(self) -> None:
        pass

    async def list_topics(self) -> list[str]:
        return ["t"]

    async def describe_topics(self, names: list[str]) -> list[dict[str, object]]:
        return [{"topic": name, "partitions": [{"partition": 0}]} for name in names]


def test_a_broker_that_answers_within_the_wait_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka_admin, "AIOKafkaAdminClient", _LateBroker)
    monkeypatch.setattr(_LateBroker, "starts", 0)
    counts = asyncio.run(kafka_admin.ensure_topics("b:9092", ["t"], 1, 1, wait_s=30))
    assert counts == {"t": 1}
    assert _LateBroker.starts == 3


def test_without_a_wait_the_broker_is_tried_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka_admin, "AIOKafkaAdminClient", _LateBroker)
    monkeypatch.setattr(_LateBroker, "starts", 0)
    with pytest.raises(kafka_admin.BrokerUnreachableError, match="tried once"):
        asyncio.run(kafka_admin.ensure_topics("b:9092", ["t"], 1, 1))
    assert _LateBroker.starts == 1


def test_db_erase_refuses_a_customer_that_is_no_email_in_one_line() -> None:
    line = _one_line(_invoke("db", "erase", "--customer", "Sanne de Vries"), 2)
    assert "--customer: expected an email address" in line
    assert "Sanne" not in line


def test_the_store_writer_refuses_bad_exception_rules_naming_the_line(tmp_path: Path) -> None:
    rules = tmp_path / "exception_rules.yaml"
    rules.write_text("version: 1\ndefault: {owner: team, resolve_within: soon}\n")
    env = {"ORDERSTREAM_STORE_EXCEPTION_RULES_PATH": str(rules)}
    line = _one_line(_invoke("store", env=env), 2)
    assert "exception_rules.yaml:2: default.resolve_within: expected days, hours" in line
