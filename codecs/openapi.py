"""The API's OpenAPI 3.1 document, generated from the response Structs (codecs/api.py).

Committed as `schemas/openapi.json`; `orderstream schemas check` fails when it drifts, and
the API serves this same document at `/openapi.json`. Percentages are decimal strings with
two places ("66.67"), money is integer minor units with a currency.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from .api import QUEUE_KINDS, RESPONSES

OPENAPI_FILE = "openapi.json"
"""Where the document lives under the schemas folder."""

AGE_PATTERN = r"^[0-9]{1,6}[smhd]$"
"""`older_than`: a whole number of seconds, minutes, hours or days."""

MAX_PAGE = 500
DEFAULT_PAGE = 50

_REF = "#/components/schemas/{name}"


def _body(name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _REF.format(name=name)}}},
    }


def _errors(*codes: int) -> dict[str, Any]:
    meaning = {
        400: "A parameter is unknown, given twice or not valid; `error` says which and why.",
        401: "No bearer token, or not the API's token.",
        404: "Nothing is known by that identifier.",
        500: "An internal error; the details are in the API's log, not here.",
        503: "The event store does not answer; try again shortly.",
    }
    return {str(code): _body("ErrorBody", meaning[code]) for code in (*codes, 401, 500, 503)}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _path(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1},
    }


_TIME = {"type": "string"}
_OPEN: list[dict[str, list[str]]] = []


def _paths() -> dict[str, Any]:
    return {
        "/health": {
            "get": {
                "operationId": "health",
                "summary": "Liveness, and whether PostgreSQL answers.",
                "security": _OPEN,
                "responses": {"200": _body("Health", "The process is alive.")},
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document.",
                "security": _OPEN,
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/orders/{oms_order_id}": {
            "get": {
                "operationId": "getOrder",
                "summary": "One order: details with the customer's contact, every status "
                "event in seq order, shipments with tracking, holds and exceptions, and each "
                "allocation's explanation.",
                "parameters": [_path("oms_order_id", "`{channel}:{channel_order_id}`.")],
                "responses": {
                    "200": _body("OrderView", "The order's record."),
                    **_errors(404),
                },
            }
        },
        "/orders": {
            "get": {
                "operationId": "exceptionQueue",
                "summary": "The exceptions queue: open holds, backorders, partial allocations "
                "and exceptions, oldest first, with reason, age, owner and resolve-by time.",
                "parameters": [
                    _query(
                        "status",
                        "Only rows of this kind.",
                        {"type": "string", "enum": list(QUEUE_KINDS)},
                    ),
                    _query("channel", "Only orders of this channel.", {"type": "string"}),
                    _query(
                        "node",
                        "Only rows a location owns or whose parcels leave from it.",
                        {"type": "string"},
                    ),
                    _query(
                        "older_than",
                        "Only rows opened longer ago than this age (90m, 6h, 2d).",
                        {"type": "string", "pattern": AGE_PATTERN},
                    ),
                    _query(
                        "cursor",
                        "A page's `next_cursor`, to fetch the page after it; absent or "
                        "empty: the first page.",
                        {"type": "string"},
                    ),
                    _query(
                        "limit",
                        f"Rows per page (default {DEFAULT_PAGE}).",
                        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                    ),
                ],
                "responses": {"200": _body("QueuePage", "One page."), **_errors(400)},
            }
        },
        "/atp/{sku}": {
            "get": {
                "operationId": "getStock",
                "summary": "A SKU's stock per location: on hand, reserved, safety, inbound, "
                "available to promise, and when each was reported.",
                "parameters": [_path("sku", "The SKU.")],
                "responses": {
                    "200": _body("StockView", "The SKU's stock."),
                    **_errors(404),
                },
            }
        },
        "/kpis": {
            "get": {
                "operationId": "getKpis",
                "summary": "Fulfilment KPIs of the orders placed in [from, to), a window of "
                "366 days at most (README, 'API'). Percentages are decimal strings with two "
                "places.",
                "parameters": [
                    _query(
                        "from",
                        "ISO 8601 time or date (UTC without an offset), or an age "
                        "before now (7d); absent or empty: `to` minus 7 days.",
                        _TIME,
                    ),
                    _query("to", "As `from`; absent or empty: now.", _TIME),
                    _query("channel", "Only orders of this channel.", {"type": "string"}),
                ],
                "responses": {"200": _body("KpiReport", "The KPIs."), **_errors(400)},
            }
        },
    }


def openapi_document() -> dict[str, Any]:
    """The document as a JSON-ready mapping."""
    _, components = msgspec.json.schema_components(RESPONSES, ref_template=_REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "orderstream API",
            "version": "1",
            "description": "Read-only support and operations view of the event store. "
            "Every path but /health and /openapi.json needs `Authorization: Bearer "
            "<ORDERSTREAM_API_TOKEN>`. Money is integer minor units with a currency; "
            "percentages are decimal strings with two places.",
        },
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": dict(sorted(components.items())),
        },
    }


def openapi_text() -> str:
    """The committed file's text: stable key order, two-space indents, a final newline."""
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"
