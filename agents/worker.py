"""`orderstream worker`: run one pipeline worker until it is stopped (SIGTERM/SIGINT)."""

from __future__ import annotations

import asyncio
import importlib.resources
from pathlib import Path
from typing import Annotated, Any

import typer

from orderstream.codecs.rules import RuleSetInvalid, load_rules
from orderstream.streams.routing import RuleSet

from .settings import Settings, load_settings


def read_rules(path: Path | None) -> RuleSet:
    """The rule set at `path`, or the packaged sample network; invalid rules stop the start."""
    if path is None:
        raw = importlib.resources.files("orderstream.agents.samples").joinpath("rules.yaml")
        loaded = load_rules(raw.read_bytes(), "samples/rules.yaml")
    else:
        loaded = load_rules(path.read_bytes(), str(path))
    if isinstance(loaded, RuleSetInvalid):
        raise typer.BadParameter("\n".join(loaded.describe()), param_hint="rules")
    return loaded


def run_worker(settings: Settings, rules: RuleSet, loglevel: str = "info") -> None:
    """Build the app and its agents, then hand control to Faust's worker."""
    import uvloop

    from .app import create_app
    from .kafka_admin import ensure_topics
    from .pipeline import build_pipeline
    from .topics import TopicNames

    asyncio.run(
        ensure_topics(
            settings.kafka_bootstrap,
            TopicNames(settings.topic_prefix).all(),
            settings.topic_partitions,
            settings.topic_replication_factor,
            TopicNames(settings.topic_prefix).configs(),
        )
    )
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    app = create_app(settings)
    build_pipeline(app, settings, rules)
    execute(app, loglevel)


def execute(app: Any, loglevel: str) -> None:
    """Run a Faust app's worker until it is stopped (the pipeline, the bench's peer and floor)."""
    import faust

    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    # Faust's start-up spinner sets the root logger to DEBUG (at WARNING and above) so every
    # debug call spins it: ~10% of the worker's CPU under load, measured with py-spy.
    worker.spinner = None
    worker.execute_from_commandline()


def worker(
    rules: Annotated[
        Path | None, typer.Option(help="Routing rule set (YAML/JSON); default: the sample network.")
    ] = None,
    web_port: Annotated[int | None, typer.Option(help="Port for /metrics and health.")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where RocksDB tables live.")] = None,
    loglevel: Annotated[str, typer.Option(help="debug, info, warning, error")] = "info",
) -> None:
    """Run a pipeline worker (settings from ORDERSTREAM_* environment variables)."""
    overrides: dict[str, object] = {}
    if web_port is not None:
        overrides["web_port"] = web_port
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    settings = load_settings(**overrides)
    problem = settings.lifetime_problem()
    if problem is not None:
        typer.echo(f"orderstream worker: {problem}", err=True)
        raise typer.Exit(2)
    run_worker(settings, read_rules(rules if rules is not None else settings.rules_path), loglevel)
