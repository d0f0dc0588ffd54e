"""The AsyncAPI 3.0 document of the flow topics, generated from `codecs.contract.TOPICS`.

One channel per topic (address = the topic's base name; a deployment prepends its
`ORDERSTREAM_TOPIC_PREFIX`), one message per channel whose payload is a `$ref` to the
committed JSON Schema file (2020-12, said by `schemaFormat`), the key in the Kafka message
binding, the record headers (`codecs.headers`), the visibility as a tag and `x-visibility`,
and for a restricted topic the personal data it holds. `documents()` is every file under
`schemas/` as text: `orderstream schemas write` writes them, a test compares them.
"""

from __future__ import annotations

from typing import Any

import yaml

from .contract import TOPICS, TopicContract, Visibility, dump_json, json_schema
from .headers import headers_schema

ASYNCAPI_PATH = "asyncapi.yaml"
"""The AsyncAPI document, relative to `schemas/`."""

KAFKA_BINDING_VERSION = "0.5.0"
PAYLOAD_FORMAT = "application/schema+json;version=2020-12"

_HEADER = (
    "# Generated from codecs/contract.py by `orderstream schemas write`: do not edit by hand.\n"
)

_DESCRIPTION = (
    "The Kafka topics orderstream writes. Public topics are a contract for other teams and hold "
    "no personal data; restricted topics are read by orderstream and its operators only. Every "
    "value is compact JSON, its `type` field naming a versioned tag; payload schemas are JSON "
    "Schema 2020-12, generated from the wire types. Compatibility: fields are only added, with "
    "defaults (consumers ignore fields they do not know and treat an absent field as its "
    "default); a breaking change is a new tag and a new schema version. Consumers drop "
    "duplicates by `event_id` and order an order's events by `seq`. Every record but a dead "
    "letter carries the headers `event-type`, `schema-version`, `event-id` and `trace-id` "
    "(UTF-8); a dead letter keeps the headers of the record it holds."
)


def channel_id(contract: TopicContract) -> str:
    """AsyncAPI ids allow letters, digits, `_` and `-`: the topic with `_` for `.`."""
    return contract.topic.replace(".", "_")


def _description(contract: TopicContract) -> str:
    lines = [contract.summary]
    if contract.visibility is Visibility.RESTRICTED:
        lines.append("Restricted: read by orderstream and its operators only.")
        if contract.personal_data:
            lines.append(f"Holds personal data: {contract.personal_data}.")
    if contract.known_gap:
        lines.append(f"Known gap, to be closed: {contract.known_gap}.")
    if contract.retention:
        lines.append(f"Retention: {contract.retention}.")
    return " ".join(lines)


def _channel(contract: TopicContract) -> dict[str, Any]:
    ident = channel_id(contract)
    return {
        "address": contract.topic,
        "title": contract.topic,
        "description": _description(contract),
        "tags": [{"name": contract.visibility.value}],
        "x-visibility": contract.visibility.value,
        "x-personal-data": contract.personal_data or "none",
        "messages": {ident: {"$ref": f"#/components/messages/{ident}"}},
    }


def _message(contract: TopicContract) -> dict[str, Any]:
    headers = {"headers": headers_schema(contract)} if contract.flow_headers else {}
    return {
        "name": contract.topic,
        "title": f"{contract.topic} v{contract.version}",
        "summary": contract.summary,
        "contentType": "application/json",
        **headers,
        # A multi-format schema: msgspec writes JSON Schema 2020-12 (its OpenAPI-style
        # `discriminator` object is no AsyncAPI Schema, which wants a string there).
        "payload": {
            "schemaFormat": PAYLOAD_FORMAT,
            "schema": {"$ref": f"./{contract.schema_path}"},
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": contract.key},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _operation(contract: TopicContract) -> dict[str, Any]:
    ident = channel_id(contract)
    return {
        "action": "send",
        "channel": {"$ref": f"#/channels/{ident}"},
        "messages": [{"$ref": f"#/channels/{ident}/messages/{ident}"}],
    }


def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0 document as a mapping."""
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "orderstream topics", "version": "1", "description": _DESCRIPTION},
        "defaultContentType": "application/json",
        "channels": {channel_id(c): _channel(c) for c in TOPICS},
        "operations": {f"send_{channel_id(c)}": _operation(c) for c in TOPICS},
        "components": {"messages": {channel_id(c): _message(c) for c in TOPICS}},
    }


def dump_yaml(document: dict[str, Any]) -> str:
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    return _HEADER + body


def documents() -> dict[str, str]:
    """Every file under `schemas/`, by path relative to it, as the text to commit."""
    files = {c.schema_path: dump_json(json_schema(c)) for c in TOPICS}
    files[ASYNCAPI_PATH] = dump_yaml(asyncapi())
    return files
