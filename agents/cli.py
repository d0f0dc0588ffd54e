"""The `orderstream` command line: one entry point, subcommands per job.

The app is built by `build_app()` when the command runs, never at import time. Its root group
is the one place where an exception that ends any subcommand becomes one line on stderr and
an exit code (`agents/exits.py`), so no command prints a traceback or catches for itself.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from .exits import HELP, explain
from .normalize_cli import normalize

# Exceptions that already carry their exit (or usage message) through Typer.
_PASSED_ON: tuple[type[BaseException], ...] = (
    typer.Exit,
    typer.Abort,
    typer.TyperException,  # usage errors (exit 2 with Click's message)
    BrokenPipeError,
)


class _OneLineFailures(TyperGroup):
    """The root group: every subcommand runs inside its `invoke`."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _PASSED_ON:
            raise
        except Exception as error:  # the one place (module docstring)
            code, line = explain(error)
            typer.echo(line, err=True)
            raise typer.Exit(code) from None


def build_app() -> typer.Typer:
    """Wire every subcommand into one Typer app."""
    from orderstream.benchmarks.bench.cli import bench
    from orderstream.benchmarks.chaos import chaos
    from orderstream.benchmarks.demo import demo
    from orderstream.benchmarks.loadgen.cli import loadgen_app
    from orderstream.deploy.embedded.cli import dev_app

    from .dlq_cli import dlq_app
    from .rules_cli import rules_app
    from .worker import worker

    app = typer.Typer(
        name="orderstream",
        cls=_OneLineFailures,
        help="Order orchestration on Kafka: normalize, dedupe, allocate, route.",
        epilog=HELP,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    for name, command in (
        ("normalize", normalize),
        ("demo", demo),
        ("bench", bench),
        ("chaos", chaos),
        ("worker", worker),
    ):
        app.command(name=name, epilog=HELP)(command)
    app.add_typer(dev_app, name="dev")
    app.add_typer(rules_app, name="rules")
    app.add_typer(loadgen_app, name="loadgen")
    app.add_typer(dlq_app, name="dlq")
    return app


def main() -> None:
    """Console-script entry point."""
    build_app()()
