"""Environment variables the dev stack reads and hands out.

The three URL variables are the same ones the workers read, so `eval "$(orderstream dev up --env)"`
wires a shell, and a CI job that exports them makes the stack use its services instead of starting
any.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

KAFKA_BOOTSTRAP: Final = "ORDERSTREAM_KAFKA_BOOTSTRAP"
POSTGRES_DSN: Final = "ORDERSTREAM_POSTGRES_DSN"
REDIS_URL: Final = "ORDERSTREAM_REDIS_URL"
#: Set for workers on a started tansu broker, which lists short changelog ends (agents/settings.py).
HIGH_WATERMARK_FROM_FETCH: Final = "ORDERSTREAM_BROKER_HIGH_WATERMARK_FROM_FETCH"
#: Truthy ("1", "true", "yes", "on") means: never use the local services found on 5432/6379.
DEV_ISOLATED: Final = "ORDERSTREAM_DEV_ISOLATED"
#: Where `orderstream dev` keeps its state file, logs and data.
STATE_DIR: Final = "ORDERSTREAM_STATE_DIR"

DEFAULT_STATE_DIR: Final = Path(".orderstream") / "dev"

_TRUTHY: Final = frozenset({"1", "true", "yes", "on"})


def configured(environ: Mapping[str, str], name: str) -> str | None:
    """Return the variable's value, treating unset and blank alike (an empty export means unset)."""
    value = environ.get(name, "").strip()
    return value or None


def isolated(environ: Mapping[str, str]) -> bool:
    """True when the environment asks to start our own services even if local ones answer."""
    return environ.get(DEV_ISOLATED, "").strip().lower() in _TRUTHY


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The state directory: `$ORDERSTREAM_STATE_DIR`, else `.orderstream/dev` under the cwd."""
    env = os.environ if environ is None else environ
    chosen = configured(env, STATE_DIR)
    return Path(chosen) if chosen is not None else Path.cwd() / DEFAULT_STATE_DIR
