"""The `orderstream` command line: one entry point, subcommands per job.

The app is built by `build_app()` when the command runs, never at import time.
"""

from __future__ import annotations

import typer

from .normalize_cli import normalize


def build_app() -> typer.Typer:
    """Wire every subcommand into one Typer app."""
    from .bench.cli import bench
    from .chaos import chaos
    from .demo import demo
    from .devstack.cli import dev_app
    from .loadgen.cli import loadgen_app
    from .rules_cli import rules_app
    from .worker import worker

    app = typer.Typer(
        name="orderstream",
        help="Order orchestration on Kafka: normalize, dedupe, allocate, route.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    app.command(name="normalize")(normalize)
    app.command(name="demo")(demo)
    app.command(name="bench")(bench)
    app.command(name="chaos")(chaos)
    app.command(name="worker")(worker)
    app.add_typer(dev_app, name="dev")
    app.add_typer(rules_app, name="rules")
    app.add_typer(loadgen_app, name="loadgen")
    return app


def main() -> None:
    """Console-script entry point."""
    build_app()()
