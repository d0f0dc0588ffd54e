"""`orderstream worker`: run one pipeline worker until it is stopped (SIGTERM/SIGINT).

A worker routes only with a rule set it was given (`--rules` or `ORDERSTREAM_RULES_PATH`):
without one it refuses to start (exit 2), rather than route real orders on the sample
network. The broker is waited for at start for `ORDERSTREAM_BROKER_WAIT_S`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from orderstream.codecs.rules import MAX_RULES_BYTES, RuleSetInvalid, load_rules
from orderstream.streams.routing import RuleSet

from .exits import UnusableError
from .input_files import read_limited
from .samples import sample_rules_path
from .settings import Settings, load_settings


def read_rules(path: Path | None, *, setting: str | None = None) -> RuleSet:
    """The rule set at `path`; a missing, unreadable or invalid one stops the start (`setting`
    names the variable the path came from)."""
    if path is None:
        raise UnusableError(
            "no rule set: pass --rules FILE or set ORDERSTREAM_RULES_PATH "
            f"(the sample network is {sample_rules_path()})"
        )
    loaded = load_rules(read_limited(path, MAX_RULES_BYTES, setting=setting), str(path))
    if isinstance(loaded, RuleSetInvalid):
        raise UnusableError(loaded.summary())
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
            TopicNames(settings.topic_prefix).configs(settings.topic_retention()),
            wait_s=settings.broker_wait_s,
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
    from .task_dump import install

    install(worker)
    worker.execute_from_commandline()


def worker(
    rules: Annotated[
        Path | None,
        typer.Option(help="Routing rule set (YAML/JSON); default: ORDERSTREAM_RULES_PATH."),
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
        raise UnusableError(problem)
    if rules is not None:
        rule_set = read_rules(rules)
    else:
        rule_set = read_rules(settings.rules_path, setting="ORDERSTREAM_RULES_PATH")
    try:
        settings.bundle_secret(rule_set.bundling.enabled)
    except ValueError as error:
        raise UnusableError(str(error)) from None
    run_worker(settings, rule_set, loglevel)
