"""Exit codes of every `orderstream` command, and the one place an exception becomes one line.

0 done; 1 rejected by a rule (a payload a normalizer refuses, an invalid rule set in `rules
check`, a run whose invariants failed); 2 unusable input or configuration (a file that cannot
be read or is too large, a bad setting, a service that cannot be reached); 3 internal error
(a bug); 130 interrupted (Ctrl-C). No command prints a traceback: `explain` turns whatever
exception reaches the top of the app into `error: ...`, naming what is wrong and where, or
`internal error: ...` (exit 3), whose traceback goes to the `orderstream.cli` log at debug
level only.
"""

from __future__ import annotations

import enum
import logging

log = logging.getLogger("orderstream.cli")

HELP = (
    "Exit codes: 0 done, 1 rejected by a rule, 2 unusable input or configuration, "
    "3 internal error, 130 interrupted."
)


class ExitCode(enum.IntEnum):
    DONE = 0
    REJECTED = 1
    UNUSABLE = 2
    INTERNAL = 3
    INTERRUPTED = 130


class UnusableError(Exception):
    """Input or configuration that cannot be used; the message says what is wrong and where."""


def explain(error: BaseException) -> tuple[ExitCode, str]:
    """The exit code and the one line for an exception that ended a command."""
    if isinstance(error, UnusableError):
        return ExitCode.UNUSABLE, f"error: {_one_line(str(error))}"
    settings = _settings_problem(error)
    if settings is not None:
        return ExitCode.UNUSABLE, f"error: {settings}"
    if isinstance(error, ConnectionError | TimeoutError) or _is_kafka_connection(error):
        return ExitCode.UNUSABLE, f"error: cannot reach a service: {_one_line(str(error))}"
    if isinstance(error, OSError) and error.filename is not None:
        return ExitCode.UNUSABLE, f"error: {error.filename}: {error.strerror or error}"
    log.debug("internal error", exc_info=error)
    return ExitCode.INTERNAL, f"internal error: {type(error).__name__}: {_one_line(str(error))}"


def _settings_problem(error: BaseException) -> str | None:
    """A bad `ORDERSTREAM_*` value, named by its variable (never its value: it may be secret)."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from .settings import Settings

    prefix = str(Settings.model_config.get("env_prefix", "")).upper()
    if isinstance(error, SettingsError):
        return f"invalid setting: {_one_line(str(error))}"
    if not isinstance(error, ValidationError) or error.title != Settings.__name__:
        return None
    problems = [
        f"{prefix}{'_'.join(str(part) for part in entry['loc']).upper()}: {entry['msg']}"
        for entry in error.errors(include_url=False, include_input=False)
    ]
    return "invalid setting " + "; ".join(problems)


def _is_kafka_connection(error: BaseException) -> bool:
    from aiokafka.errors import KafkaConnectionError

    return isinstance(error, KafkaConnectionError)


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "(no message)"
