"""Session-wide services for integration and end-to-end tests: one dev stack per test session.

`dev_stack` obtains a broker, PostgreSQL and Redis the way `orderstream dev up` does: URLs set in
the environment win (`eval "$(orderstream dev up --env)"` before pytest reuses a running stack),
then the local PostgreSQL/Redis on 5432/6379 if they answer (unless ORDERSTREAM_DEV_ISOLATED=1),
then services we start. It stops what it started when the session ends. Nothing starts unless a
test asks for one of these fixtures, so unit-test runs never pay for it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings

from orderstream.deploy.embedded import DevStack, StackUrls

# Property tests check behaviour, never speed: a loaded CI machine must not fail them on time.
settings.register_profile("orderstream", deadline=None)
settings.load_profile("orderstream")

_STACK_KEY = pytest.StashKey[StackUrls]()


@pytest.fixture(scope="session")
def dev_stack(request: pytest.FixtureRequest) -> Iterator[StackUrls]:
    """The session's broker, PostgreSQL and Redis URLs (with how each was obtained)."""
    stack = DevStack()
    urls = stack.start()
    request.config.stash[_STACK_KEY] = urls
    try:
        yield urls
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(dev_stack: StackUrls) -> str:
    """Bootstrap servers ("host:port") of the session's Kafka-protocol broker."""
    return dev_stack.kafka_bootstrap


@pytest.fixture(scope="session")
def postgres_dsn(dev_stack: StackUrls) -> str:
    """DSN of the session's PostgreSQL (asyncpg/libpq URL form)."""
    return dev_stack.postgres_dsn


@pytest.fixture(scope="session")
def redis_url(dev_stack: StackUrls) -> str:
    """URL of the session's Redis."""
    return dev_stack.redis_url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which services the session used, so a failure report shows where tests ran."""
    urls = terminalreporter.config.stash.get(_STACK_KEY, None)
    if urls is None:
        return
    terminalreporter.write_sep("-", "dev stack used by this session")
    for name, url, provenance in (
        ("kafka", urls.kafka_bootstrap, urls.provenance.kafka),
        ("postgres", urls.postgres_dsn, urls.provenance.postgres),
        ("redis", urls.redis_url, urls.provenance.redis),
    ):
        terminalreporter.write_line(f"{name:<9} {url}  ({provenance})")
