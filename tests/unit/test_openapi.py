"""The API's committed OpenAPI 3.1 document (schemas/openapi.json) is what the response types
generate, its schemas are valid JSON Schema, and it asks a token of every data path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from orderstream.codecs.api import KpiReport, encoder
from orderstream.codecs.openapi import OPENAPI_FILE, openapi_document, openapi_text
from orderstream.streams.kpis import kpis

COMMITTED = Path(__file__).parents[2] / "schemas" / OPENAPI_FILE


def test_the_committed_document_is_what_the_types_generate() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == openapi_text(), (
        "schemas/openapi.json differs from codecs/api.py: run `orderstream schemas write`"
    )


def test_every_component_is_a_valid_json_schema() -> None:
    for schema in openapi_document()["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_only_health_and_the_document_answer_without_a_token() -> None:
    document = openapi_document()
    assert document["openapi"] == "3.1.0"
    assert document["security"] == [{"bearer": []}]
    open_paths = {
        path for path, item in document["paths"].items() if item["get"].get("security") == []
    }
    assert open_paths == {"/health", "/openapi.json"}
    for path in set(document["paths"]) - open_paths:
        assert "401" in document["paths"][path]["get"]["responses"], path


def test_an_encoded_report_matches_its_schema_with_percentages_as_strings() -> None:
    document = openapi_document()
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:openapi", resource)
    validator = Draft202012Validator(
        {"$ref": "urn:openapi#/components/schemas/KpiReport"}, registry=registry
    )
    when = datetime(2026, 11, 27, tzinfo=UTC)
    report = json.loads(encoder.encode(KpiReport(when, when, None, kpis([], [], {}, UTC))))
    validator.validate(report)
    assert document["components"]["schemas"]["KpiReport"]["properties"]["from"] == {
        "type": "string",
        "format": "date-time",
    }
    rate = document["components"]["schemas"]["Rate"]["properties"]["percent"]
    assert {"type": "string"} in rate["anyOf"]
