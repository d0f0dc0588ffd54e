"""The tooling's subcommands reach the CLI through entry points, next to the product's own."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from unittest import mock

import pytest
import typer
from typer.testing import CliRunner

from orderstream.agents import cli

PRODUCT = {
    "normalize",
    "worker",
    "store",
    "api",
    "kpis",
    "orders",
    "rules",
    "dlq",
    "schemas",
    "db",
    "sinks",
    "sink",
}
TOOLING = {
    "demo",
    "bench",
    "chaos",
    "loadgen",
    "dev",
    "store-bench",
    "simulate",
    "channel-sim",
    "stock-sim",
}


def _commands(app: typer.Typer) -> set[str]:
    group = typer.main.get_group(app)
    return set(group.commands)


def test_the_app_holds_the_product_commands_and_the_registered_tooling() -> None:
    assert _commands(cli.build_app()) == PRODUCT | TOOLING


def test_every_tooling_command_is_registered_outside_agents() -> None:
    points = cli.entry_points(group=cli.COMMAND_GROUP)
    assert {point.name for point in points} == TOOLING
    assert all(
        point.value.startswith(("orderstream.benchmarks.", "orderstream.deploy."))
        for point in points
    )


def test_the_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli.build_app(), ["--help"])
    assert result.exit_code == 0, result.output
    for name in PRODUCT | TOOLING:
        assert f" {name} " in result.output


def test_a_registered_command_may_not_take_a_product_name() -> None:
    clash = EntryPoint("worker", "orderstream.benchmarks.demo:demo", cli.COMMAND_GROUP)
    with (
        mock.patch.object(cli, "entry_points", return_value=[clash]),
        pytest.raises(ValueError, match="'worker' is taken"),
    ):
        cli.build_app()
