"""`orderstream dev up|down|status`: the dev stack for a developer's shell and the demo.

`up` obtains the services like `DevStack`, starts what is missing detached, records them and
prints the URLs (`--env`: export lines), or reprints those of a recorded stack that answers.
`status` exits 0 only if a recorded stack fully answers with the processes we started. `down`
stops exactly what `up` recorded (PID and create time verified), leaves borrowed services alone,
removes the state file and exits 0 (also with nothing up).
State dir: `--state-dir`, else `$ORDERSTREAM_STATE_DIR`, else `.orderstream/dev`.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Final, NoReturn
from urllib.parse import urlsplit, urlunsplit

import typer

from . import env
from .errors import DevStackError
from .service import Service, ServiceName
from .stack import DevStack, StackUrls
from .statefile import read_state, remove_state, state_file, state_lock, write_state

dev_app = typer.Typer(
    name="dev",
    help="Run the embedded dev stack: a Kafka-protocol broker, PostgreSQL and Redis.",
    no_args_is_help=True,
    add_completion=False,
)

StateDirOption = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        envvar=env.STATE_DIR,
        help="Where the state file, logs and data live.",
        show_default=".orderstream/dev in the current directory",
        file_okay=False,
    ),
]

#: What `down --purge` may delete inside a state dir: only what `up` creates there, so a state dir
#: pointed at a directory with other content never loses that content.
_PURGEABLE: Final = ("postgres", "redis", "logs", ".lock")


@dev_app.command()
def up(
    state_dir: StateDirOption = None,
    print_env: Annotated[
        bool,
        typer.Option("--env", help="Print `export ORDERSTREAM_...=...` lines for eval."),
    ] = False,
    isolated: Annotated[
        bool,
        typer.Option(
            "--isolated/--prefer-local",
            envvar=env.DEV_ISOLATED,
            help="Start our own PostgreSQL and Redis even if local ones answer on 5432/6379.",
        ),
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds each service gets to answer.")] = 60.0,
) -> None:
    """Start what is missing, record it, print the URLs."""
    directory = _resolve(state_dir)
    with state_lock(directory):
        recorded = read_state(directory)
        if recorded is not None:
            silent = [service.name for service in recorded.values() if not _is_up(service)]
            if not silent:
                _note("dev stack is already up", to_stderr=print_env)
                _show(directory, recorded, print_env)
                return
            if any(service.process_alive() for service in recorded.values()):
                _fail(
                    f"dev stack in {directory} is partly down ({', '.join(silent)} not "
                    "answering); run `orderstream dev down` first"
                )
            # None of its processes is alive (a reboot, a kill): the record describes nothing.
            remove_state(directory)
            _note(f"removed stale state file {state_file(directory)}", to_stderr=print_env)
        stack = DevStack(directory, prefer_local=not isolated, detach=True, timeout=timeout)
        try:
            stack.start()  # records each service in the state file as it obtains it
        except DevStackError as exc:
            _fail(f"dev stack did not come up: {exc}")
        _note("dev stack is up", to_stderr=print_env)
        _show(directory, stack.services, print_env)


@dev_app.command()
def status(state_dir: StateDirOption = None) -> None:
    """Show each recorded service and whether it answers (exit 1 unless all do)."""
    directory = _resolve(state_dir)
    recorded = _read_or_fail(directory)
    if recorded is None:
        typer.echo(f"nothing is up (no state file at {state_file(directory)})")
        raise typer.Exit(1)
    all_up = True
    for service in recorded.values():
        up_now = _is_up(service)
        all_up = all_up and up_now
        typer.echo(f"  {service.name:<9} {'answers' if up_now else 'DOWN':<8} {_describe(service)}")
    raise typer.Exit(0 if all_up else 1)


@dev_app.command()
def down(
    state_dir: StateDirOption = None,
    grace: Annotated[
        float, typer.Option(help="Seconds to wait after the polite signal before SIGKILL.")
    ] = 10.0,
    purge: Annotated[
        bool, typer.Option("--purge", help="Also delete the PostgreSQL data, Redis dir and logs.")
    ] = False,
) -> None:
    """Stop exactly what `up` started and remove the state file."""
    directory = _resolve(state_dir)
    if _read_or_fail(directory) is None:
        typer.echo(f"nothing is up (no state file at {state_file(directory)}); nothing to stop")
        return
    with state_lock(directory):
        recorded = _read_or_fail(directory) or {}
        still_running: dict[ServiceName, Service] = {}
        for service in reversed(list(recorded.values())):
            if not service.started_by_us:
                typer.echo(f"  {service.name:<9} left alone ({service.provenance}, not ours)")
                continue
            assert service.process is not None  # started_by_us says so
            try:
                outcome = service.stop(grace=grace)
            except DevStackError as exc:
                still_running[service.name] = service
                typer.echo(f"  {service.name:<9} NOT stopped: {exc}", err=True)
                continue
            typer.echo(f"  {service.name:<9} {outcome} (pid {service.process.pid})")
        if still_running:
            write_state(directory, still_running)
            _fail(f"could not stop {', '.join(still_running)}; they stay in the state file")
        remove_state(directory)
    if purge:
        for name in _PURGEABLE:
            target = directory / name
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
    typer.echo("dev stack is down" + (" and purged" if purge else ""))


def _resolve(state_dir: Path | None) -> Path:
    return (state_dir if state_dir is not None else env.state_dir()).resolve()


def _read_or_fail(directory: Path) -> dict[ServiceName, Service] | None:
    try:
        return read_state(directory)
    except DevStackError as exc:
        _fail(str(exc))


def _is_up(service: Service) -> bool:
    """Answers now, and for a service we started, its process is still the one we started."""
    if service.started_by_us and not service.process_alive():
        return False
    return service.answers()


def _show(directory: Path, services: Mapping[ServiceName, Service], print_env: bool) -> None:
    if print_env:
        for name, value in StackUrls.from_services(services).as_env().items():
            typer.echo(f"export {name}={shlex.quote(value)}")
        return
    for service in services.values():
        typer.echo(f"  {service.name:<9} {_describe(service)}")
    typer.echo(f"state file: {state_file(directory)}")
    typer.echo('use it in a shell: eval "$(orderstream dev up --env)"')


def _describe(service: Service) -> str:
    origin: str = service.provenance
    if service.process is not None:
        origin += f", pid {service.process.pid}"
    if service.log_path is not None:
        origin += f", log {service.log_path}"
    return f"{_redact(service.url)}  ({origin})"


def _redact(url: str) -> str:
    """Hide a password in a URL for display; `--env` output keeps the real value."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _note(message: str, *, to_stderr: bool) -> None:
    typer.echo(message, err=to_stderr)


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(1)
