"""The consumer every edge process reads with: its own group, offsets committed by hand only
after the batch is applied, group timings from the settings."""

from __future__ import annotations

from typing import Any

from .settings import Settings


def group_consumer(settings: Settings, topics: list[str], group: str, **options: Any) -> Any:
    """An aiokafka consumer of `topics` (full names) in `group`; `options` add to the defaults."""
    from aiokafka import AIOKafkaConsumer

    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=int(settings.session_timeout_s * 1000),
        heartbeat_interval_ms=int(settings.heartbeat_interval_s * 1000),
        rebalance_timeout_ms=int(settings.rebalance_timeout_s * 1000),
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
        **options,
    )
