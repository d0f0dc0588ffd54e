"""The `orderstream` command line: one entry point, subcommands per job.

The app is built by `build_app()` at run time, never at import. Its root group is the one place
an exception becomes one line on stderr and an exit code (`agents/exits.py`). The product's
commands are wired here; tooling commands come from the `orderstream.commands` entry-point group
(name = subcommand; a `typer.Typer` mounts as a group, a function as one command), mounted in
name order, and a name the product already uses is an error.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

import typer
from typer.core import TyperGroup

from .exits import HELP, explain
from .normalize_cli import normalize

COMMAND_GROUP = "orderstream.commands"

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
    from .api import api
    from .db_cli import db_app
    from .dlq_cli import dlq_app
    from .rules_cli import rules_app
    from .schemas_cli import schemas_app
    from .sinks.cli import sinks_app
    from .sinks.run_cli import sink_app
    from .store_cli import kpis, orders_app
    from .store_writer import store
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
    commands = (
        ("normalize", normalize),
        ("worker", worker),
        ("store", store),
        ("api", api),
        ("kpis", kpis),
    )
    for name, command in commands:
        app.command(name=name, epilog=HELP)(command)
    app.add_typer(rules_app, name="rules")
    app.add_typer(dlq_app, name="dlq")
    app.add_typer(schemas_app, name="schemas")
    app.add_typer(db_app, name="db")
    app.add_typer(orders_app, name="orders")
    app.add_typer(sinks_app, name="sinks")
    app.add_typer(sink_app, name="sink")
    groups = {"rules", "dlq", "schemas", "db", "orders", "sinks", "sink"}
    _mount_registered(app, taken={name for name, _ in commands} | groups)
    return app


def _mount_registered(app: typer.Typer, *, taken: set[str]) -> None:
    """Mount every command of the `orderstream.commands` group (module docstring)."""
    for point in sorted(entry_points(group=COMMAND_GROUP), key=lambda point: point.name):
        if point.name in taken:
            raise ValueError(
                f"{COMMAND_GROUP} entry point {point.value!r}: {point.name!r} is taken"
            )
        taken.add(point.name)
        target = point.load()
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=point.name)
        else:
            app.command(name=point.name, epilog=HELP)(target)


def main() -> None:
    """Console-script entry point."""
    build_app()()
