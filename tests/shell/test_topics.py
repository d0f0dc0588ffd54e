"""Topics the worker creates carry the settings the broker's defaults lack: dead letters,
which hold the original payload, are kept only for `ORDERSTREAM_DLQ_RETENTION_DAYS`, every
topic states its largest record (`codecs.limits`), and every topic is in the published contract
(`codecs.contract.TOPICS`)."""

from __future__ import annotations

from datetime import timedelta

from orderstream.agents.settings import load_settings
from orderstream.agents.topics import (
    DEAD_LETTER_MAX_BYTES,
    INTERNAL_TOPICS,
    PRODUCER_MAX_REQUEST_BYTES,
    TopicNames,
    changelog_configs,
)
from orderstream.benchmarks.localrun import settings_of
from orderstream.codecs.contract import TOPICS
from orderstream.codecs.limits import RECORD_MAX_BYTES


def test_dead_letter_topics_are_created_with_the_configured_retention_and_size() -> None:
    configs = TopicNames("run1.").configs(load_settings(dlq_retention_days=3).dlq_retention())
    letters = {"run1.dlq.ingest", "run1.dlq.inventory", "run1.dlq.orders"}
    kept = {name for name, config in configs.items() if "retention.ms" in config}
    assert kept == {*letters, "run1.dlq.replays"}
    for config in (configs[name] for name in letters):
        assert config["retention.ms"] == str(3 * 24 * 60 * 60 * 1000)
        assert config["max.message.bytes"] == str(DEAD_LETTER_MAX_BYTES)


def test_dead_letters_are_kept_fourteen_days_by_default() -> None:
    assert load_settings().dlq_retention() == timedelta(days=14)
    configs = TopicNames().configs(load_settings().dlq_retention())
    assert configs["dlq.orders"]["retention.ms"] == "1209600000"


def test_topics_other_than_dead_letters_keep_the_broker_retention() -> None:
    names = TopicNames()
    configs = names.configs(timedelta(days=1))
    others = [name for name in names.all() if not name.startswith("dlq.")]
    assert others and all("retention.ms" not in configs.get(name, {}) for name in others)


def test_a_local_run_creates_its_topics_with_the_retention_its_workers_are_given() -> None:
    assert settings_of({"ORDERSTREAM_DLQ_RETENTION_DAYS": "2"}).dlq_retention() == timedelta(days=2)


def test_every_topic_the_worker_creates_states_its_largest_record() -> None:
    names = TopicNames("p.")
    configs = names.configs(timedelta(days=14))
    assert set(configs) == set(names.all())
    sizes = {name: int(config["max.message.bytes"]) for name, config in configs.items()}
    letters = {names.name(base) for base in ("dlq.ingest", "dlq.inventory", "dlq.orders")}
    assert {sizes[name] for name in letters} == {DEAD_LETTER_MAX_BYTES}
    assert {sizes[name] for name in set(sizes) - letters} == {RECORD_MAX_BYTES}
    assert changelog_configs() == {"max.message.bytes": str(RECORD_MAX_BYTES)}
    assert max(sizes.values()) == PRODUCER_MAX_REQUEST_BYTES


def test_every_flow_topic_has_a_contract_and_every_contract_a_topic() -> None:
    assert [c.topic for c in TOPICS] and {c.topic for c in TOPICS} == set(INTERNAL_TOPICS)
