"""Topics the worker creates carry the settings the broker's defaults lack: dead letters,
which hold the original payload, are kept only for `ORDERSTREAM_DLQ_RETENTION_DAYS`, every
other topic that holds personal data only for `ORDERSTREAM_PERSONAL_DATA_RETENTION_DAYS`, every
topic states its largest record (`codecs.limits`), and every topic is in the published contract
(`codecs.contract.TOPICS`)."""

from __future__ import annotations

from datetime import timedelta

from orderstream.agents.settings import load_settings
from orderstream.agents.topics import (
    DEAD_LETTER_MAX_BYTES,
    DEAD_LETTER_TOPICS,
    INTERNAL_TOPICS,
    PERSONAL_DATA_TOPICS,
    PRODUCER_MAX_REQUEST_BYTES,
    TopicNames,
    TopicRetention,
    changelog_configs,
    sink_dead_letters,
    sink_letter_configs,
)
from orderstream.benchmarks.localrun import settings_of
from orderstream.codecs.contract import TOPICS
from orderstream.codecs.limits import RECORD_MAX_BYTES
from orderstream.codecs.sources import Source

DAY_MS = 24 * 60 * 60 * 1000
RETENTION = TopicRetention(dead_letters=timedelta(days=14), personal_data=timedelta(days=30))


def test_a_sink_s_dead_letters_are_kept_as_long_and_as_large_as_the_others() -> None:
    retention = load_settings(dlq_retention_days=3).topic_retention()
    assert sink_dead_letters("shopify") == "dlq.sink.shopify"
    assert sink_letter_configs(retention) == {
        "max.message.bytes": str(DEAD_LETTER_MAX_BYTES),
        "retention.ms": str(3 * DAY_MS),
    }


def test_dead_letter_topics_are_created_with_the_configured_retention_and_size() -> None:
    retention = load_settings(dlq_retention_days=3).topic_retention()
    configs = TopicNames("run1.").configs(retention)
    letters = {"run1.dlq.ingest", "run1.dlq.inventory", "run1.dlq.orders"}
    for config in (configs[name] for name in {*letters, "run1.dlq.replays"}):
        assert config["retention.ms"] == str(3 * DAY_MS)
    for config in (configs[name] for name in letters):
        assert config["max.message.bytes"] == str(DEAD_LETTER_MAX_BYTES)


def test_dead_letters_are_kept_fourteen_days_by_default() -> None:
    assert load_settings().dlq_retention() == timedelta(days=14)
    configs = TopicNames().configs(load_settings().topic_retention())
    assert configs["dlq.orders"]["retention.ms"] == "1209600000"


def test_every_topic_with_personal_data_is_kept_only_the_personal_data_retention() -> None:
    retention = load_settings(personal_data_retention_days=5).topic_retention()
    names = TopicNames("p.")
    configs = names.configs(retention)
    personal = {names.raw(source) for source in Source} | {
        names.name(base) for base in PERSONAL_DATA_TOPICS
    }
    assert {"p.raw.shopify", "p.orders.events", "p.tracking.shipments"} <= personal
    for name in personal:
        assert configs[name]["retention.ms"] == str(5 * DAY_MS), name
    # tracking registrations stay compacted, and are deleted after the retention too
    assert configs["p.tracking.shipments"]["cleanup.policy"] == "compact,delete"
    assert "cleanup.policy" not in configs["p.orders.events"]


def test_personal_data_is_kept_thirty_days_by_default() -> None:
    assert load_settings().topic_retention().personal_data == timedelta(days=30)
    configs = TopicNames().configs(load_settings().topic_retention())
    assert configs["raw.shopify"]["retention.ms"] == str(30 * DAY_MS)


def test_the_topics_given_the_personal_data_retention_are_those_the_contract_says_hold_it() -> None:
    holding = {c.topic for c in TOPICS if c.personal_data} - set(DEAD_LETTER_TOPICS)
    assert holding == set(PERSONAL_DATA_TOPICS)
    for contract in TOPICS:  # and the contract states how long each keeps it
        if contract.personal_data:
            assert "RETENTION_DAYS" in contract.retention, contract.topic


def test_topics_without_personal_data_keep_the_broker_retention() -> None:
    names = TopicNames()
    configs = names.configs(RETENTION)
    holding = {c.topic for c in TOPICS if c.personal_data} | {
        c.topic for c in TOPICS if c.retention
    }
    others = [name for name in names.all() if name not in holding and not name.startswith("raw.")]
    assert set(others) == {
        "orders.status",
        "orders.allocations",
        "inventory.positions",
        "fulfilment.bundles",
        "inventory.availability",
        "inventory.commands",
        "inventory.replies",
    }
    assert all("retention.ms" not in configs[name] for name in others)


def test_a_local_run_creates_its_topics_with_the_retention_its_workers_are_given() -> None:
    assert settings_of({"ORDERSTREAM_DLQ_RETENTION_DAYS": "2"}).dlq_retention() == timedelta(days=2)


def test_every_topic_the_worker_creates_states_its_largest_record() -> None:
    names = TopicNames("p.")
    configs = names.configs(RETENTION)
    assert set(configs) == set(names.all())
    sizes = {name: int(config["max.message.bytes"]) for name, config in configs.items()}
    letters = {names.name(base) for base in ("dlq.ingest", "dlq.inventory", "dlq.orders")}
    assert {sizes[name] for name in letters} == {DEAD_LETTER_MAX_BYTES}
    assert {sizes[name] for name in set(sizes) - letters} == {RECORD_MAX_BYTES}
    assert changelog_configs() == {"max.message.bytes": str(RECORD_MAX_BYTES)}
    assert changelog_configs(timedelta(days=30)) == {
        "max.message.bytes": str(RECORD_MAX_BYTES),
        "max.compaction.lag.ms": str(30 * 24 * 3600 * 1000),
    }
    assert max(sizes.values()) == PRODUCER_MAX_REQUEST_BYTES


def test_every_flow_topic_has_a_contract_and_every_contract_a_topic() -> None:
    assert [c.topic for c in TOPICS] and {c.topic for c in TOPICS} == set(INTERNAL_TOPICS)
