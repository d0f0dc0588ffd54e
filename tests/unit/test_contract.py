"""The committed contract (`schemas/`) is what the types generate: a JSON Schema per topic and
an AsyncAPI 3 document whose channels are the topic table's, each payload a committed file."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from orderstream.codecs.asyncapi import ASYNCAPI_PATH, asyncapi, channel_id, documents
from orderstream.codecs.contract import TOPICS, Visibility

SCHEMAS = Path(__file__).parents[2] / "schemas"
REWRITE = "orderstream schemas write"


def test_the_committed_schemas_and_asyncapi_document_are_what_the_types_generate() -> None:
    drifted = [
        relative
        for relative, text in documents().items()
        if not (SCHEMAS / relative).is_file()
        or (SCHEMAS / relative).read_text(encoding="utf-8") != text
    ]
    assert not drifted, f"schemas/ differs from the types in {drifted}: run `{REWRITE}`"


def test_every_topic_schema_is_a_valid_json_schema_of_its_dialect() -> None:
    for contract in TOPICS:
        schema = json.loads(documents()[contract.schema_path])
        Draft202012Validator.check_schema(schema)


def test_every_channel_is_a_topic_with_its_visibility_and_a_committed_payload_schema() -> None:
    document = yaml.safe_load((SCHEMAS / ASYNCAPI_PATH).read_text(encoding="utf-8"))
    assert document == asyncapi()
    assert document["asyncapi"] == "3.0.0"
    channels, messages = document["channels"], document["components"]["messages"]
    assert [channel["address"] for channel in channels.values()] == [c.topic for c in TOPICS]
    for contract in TOPICS:
        channel = channels[channel_id(contract)]
        assert channel["x-visibility"] == contract.visibility.value
        assert channel["tags"] == [{"name": contract.visibility.value}]
        payload = messages[channel_id(contract)]["payload"]["schema"]["$ref"]
        assert (SCHEMAS / payload).is_file(), payload


def test_restricted_topics_say_what_personal_data_they_hold_and_public_ones_hold_none() -> None:
    for contract in TOPICS:
        description = asyncapi()["channels"][channel_id(contract)]["description"]
        if contract.visibility is Visibility.PUBLIC:
            assert not contract.personal_data, contract.topic
        else:
            assert "Restricted" in description
        if contract.personal_data:
            assert f"Holds personal data: {contract.personal_data}" in description
        if contract.known_gap:
            assert f"Known gap, to be closed: {contract.known_gap}." in description
    holding = {c.topic for c in TOPICS if c.personal_data}
    assert {"orders.events", "fulfilment.requests", "fulfilment.bundling"} <= holding
    assert {"dlq.ingest", "dlq.inventory", "dlq.orders"} <= holding
