"""The embedded dev stack: a Kafka-protocol broker, PostgreSQL and Redis for tests, demo, laptop.

One API behind the pytest fixtures, the demo and `orderstream dev up|down|status`:

- `DevStack` obtains all three (env URL > local server that answers > started by us) and stops
  exactly what it started; `start()` returns `StackUrls` with each service's provenance.
- `obtain_broker` / `obtain_postgres` / `obtain_redis` do the same for one service, and
  `start_broker` / `start_embedded_postgres` / `start_redis` always start our own.
- `FAST_GROUP_TIMEOUTS` are aiokafka consumer settings that form groups quickly on tansu.

Importing this package starts nothing and imports no client library; that happens on use.
"""

from .broker import FAST_GROUP_TIMEOUTS, obtain_broker, start_broker
from .errors import DevStackError
from .postgres import LOCAL_DSN, obtain_postgres, start_embedded_postgres
from .process import ProcessRecord, StopOutcome, is_running, stop_process
from .redis import LOCAL_URL, RedisBinary, find_redis_binaries, obtain_redis, start_redis
from .service import Provenance, Service, ServiceName
from .stack import DevStack, StackProvenance, StackUrls

__all__ = [
    "FAST_GROUP_TIMEOUTS",
    "LOCAL_DSN",
    "LOCAL_URL",
    "DevStack",
    "DevStackError",
    "ProcessRecord",
    "Provenance",
    "RedisBinary",
    "Service",
    "ServiceName",
    "StackProvenance",
    "StackUrls",
    "StopOutcome",
    "find_redis_binaries",
    "is_running",
    "obtain_broker",
    "obtain_postgres",
    "obtain_redis",
    "start_broker",
    "start_embedded_postgres",
    "start_redis",
    "stop_process",
]
