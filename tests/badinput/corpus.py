"""Malformed raw payloads for every source, each with the reason `normalize_payload` gives.

Every case starts from a valid fixture (`tests/fixtures/<source>/<name>.json`) and gets exactly
one fault. Faults in the bytes (truncation, broken JSON) are planted in every fixture; bodies
that are no object or nothing, and field faults (parse, change one field, re-serialize; oversize
pads an unread field), in the source's base fixture. `_FIELDS` says, per source, which fixture
that is and where its ids, timestamp, quantity and currency live; the fault functions are
generic.

Quantity and currency faults exist only for sources whose payload has them, and are planted in a
fixture whose event carries its lines (a cancellation reads neither).

Deep nesting is counted from the top: a value nested `d` levels in a field that sits inside `k`
arrays and objects nests `k + d` deep. Past `MAX_JSON_DEPTH` that is `too_deep`, wherever it is
and whatever the field's type; within it, a known field of the wrong type or a top-level array is
`undecodable`. A key given twice keeps its last value, so a good first and a bad last value is
refused for the bad one. One leading UTF-8 BOM is dropped; any other BOM or UTF-16/32 text is
`undecodable`, as are bidi and zero-width characters in ids.

`fuzzed(seed, n)` adds random single faults (seeded `random.Random`, no hypothesis) and keeps
those `normalize_payload` refuses, with the reason it gives: extra refused records for runs that
push the corpus through a broker.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orderstream.codecs.bounds import MAX_JSON_DEPTH, UTF8_BOM
from orderstream.codecs.sources import MAX_PAYLOAD_BYTES, Source, normalize_payload
from orderstream.streams.normalize import MAX_LINE_QTY, MAX_STOCK_QTY
from orderstream.streams.rejections import Rejected, RejectReason
from tests.golden import Fixture, fixtures

Json = Any
Path = tuple[str | int, ...]
RawHeaders = tuple[tuple[str, bytes], ...]

CATEGORIES = (
    "truncated_json",
    "invalid_json",
    "not_an_object",
    "empty_body",
    "wrong_type",
    "missing_field",
    "negative_quantity",
    "huge_quantity",
    "unknown_currency",
    "bad_timestamp",
    "unicode",
    "oversize",
    "deep_nesting",
    "duplicate_key",
    "bom",
    "invisible_in_id",
)

UNDECODABLE = RejectReason.UNDECODABLE
MISSING = RejectReason.MISSING_FIELD
BAD_QUANTITY = RejectReason.INVALID_QUANTITY


@dataclass(frozen=True)
class BadCase:
    """One payload `normalize_payload(source, value, headers)` must refuse with `reason`."""

    source: Source
    name: str  # "{source}/{fixture}/{category}[/{variant}]"
    category: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...]
    reason: RejectReason


@dataclass(frozen=True)
class _Fields:
    """Where one source's base fixture keeps what the field faults break."""

    base: str  # the fixture the field faults start from
    required: tuple[Path, ...]  # no default: removed, the payload is undecodable
    not_blank: tuple[Path, ...]  # text that must not be blank (MISSING_FIELD)
    ids: tuple[Path, ...]  # identifiers: no control characters
    timestamp: Path
    retype: tuple[Path, ...]  # fields given a JSON value of another type
    quantity: Path | None = None
    quantity_range: tuple[int, int] = (1, MAX_LINE_QTY)
    currency: Path | None = None


_FIELDS: dict[Source, _Fields] = {
    Source.SHOPIFY: _Fields(
        base="orders_create",
        required=(("id",), ("line_items", 0, "id"), ("line_items", 0, "quantity")),
        not_blank=(("line_items", 0, "sku"),),
        ids=(("line_items", 0, "sku"), ("line_items", 1, "sku")),
        timestamp=("created_at",),
        retype=(("id",), ("line_items",), ("total_price",), ("taxes_included",)),
        quantity=("line_items", 0, "quantity"),
        currency=("currency",),
    ),
    Source.BOL: _Fields(
        base="order",
        required=(("orderId",), ("orderItems", 0, "orderItemId"), ("orderItems", 0, "product")),
        not_blank=(("orderId",), ("orderItems", 0, "orderItemId")),
        ids=(
            ("orderId",),
            ("orderItems", 0, "orderItemId"),
            ("orderItems", 0, "offer", "reference"),
            ("orderItems", 0, "product", "ean"),
        ),
        timestamp=("orderPlacedDateTime",),
        retype=(("orderId",), ("orderItems", 0, "quantity"), ("pickupPoint",)),
        quantity=("orderItems", 0, "quantity"),
    ),
    Source.AMAZON: _Fields(
        base="order_unshipped",
        required=(
            ("order", "AmazonOrderId"),
            ("order", "OrderStatus"),
            ("items", "OrderItems", 0, "OrderItemId"),
        ),
        not_blank=(("order", "AmazonOrderId"), ("items", "OrderItems", 0, "OrderItemId")),
        ids=(
            ("order", "AmazonOrderId"),
            ("items", "OrderItems", 0, "OrderItemId"),
            ("items", "OrderItems", 0, "SellerSKU"),
            ("items", "OrderItems", 1, "ASIN"),
        ),
        timestamp=("order", "LastUpdateDate"),
        retype=(
            ("order", "IsPrime"),
            ("order", "OrderTotal"),
            ("items", "OrderItems", 0, "QuantityOrdered"),
        ),
        quantity=("items", "OrderItems", 0, "QuantityOrdered"),
        currency=("order", "OrderTotal", "CurrencyCode"),
    ),
    Source.POS: _Fields(
        base="sale",
        required=(("store_id",), ("transaction_id",), ("lines", 0, "sku")),
        not_blank=(("store_id",), ("register_id",), ("transaction_id",), ("lines", 0, "sku")),
        ids=(
            ("store_id",),
            ("register_id",),
            ("transaction_id",),
            ("lines", 0, "sku"),
            ("lines", 1, "ean"),
        ),
        timestamp=("occurred_at",),
        retype=(("type",), ("lines", 0, "qty"), ("lines", 0, "line_no")),
        quantity=("lines", 0, "qty"),
        currency=("currency",),
    ),
    Source.STOCK: _Fields(
        base="snapshot",
        required=(("sku",), ("location",), ("sequence",)),
        not_blank=(("source_system",), ("location",), ("sku",)),
        ids=(("source_system",), ("location",), ("sku",)),
        timestamp=("occurred_at",),
        retype=(("sequence",), ("on_hand",), ("sku",)),
        quantity=("on_hand",),
        quantity_range=(0, MAX_STOCK_QTY),
    ),
    Source.WMS: _Fields(
        base="shipped",
        required=(("event_id",), ("order_reference",), ("node",), ("lines", 0, "sku")),
        not_blank=(
            ("event_id",),
            ("provider",),
            ("order_reference",),
            ("shipment_id",),
            ("node",),
            ("lines", 1, "sku"),
            ("carrier",),
            ("tracking_number",),
        ),
        ids=(
            ("event_id",),
            ("provider",),
            ("order_reference",),
            ("shipment_id",),
            ("node",),
            ("lines", 1, "sku"),
            ("tracking_number",),
        ),
        timestamp=("occurred_at",),
        retype=(("event_id",), ("lines",), ("lines", 0, "qty")),
        quantity=("lines", 1, "qty"),
    ),
    Source.CARRIER: _Fields(
        base="delivered",
        # A scan without references is attributed by its tracking number; one naming only
        # one of its order and shipment is refused (`not_blank`).
        required=(("carrier",), ("tracking_number",), ("status",)),
        not_blank=(
            ("carrier",),
            ("tracking_number",),
            ("order_reference",),
            ("shipment_reference",),
        ),
        ids=(("carrier",), ("tracking_number",), ("order_reference",), ("shipment_reference",)),
        timestamp=("occurred_at",),
        retype=(("tracking_number",), ("status",), ("description",)),
    ),
    Source.PAYMENT: _Fields(
        base="captured",
        required=(("provider",), ("event_id",), ("merchant_reference",), ("status",)),
        not_blank=(("provider",), ("event_id",), ("merchant_reference",)),
        ids=(("provider",), ("event_id",), ("merchant_reference",), ("psp_reference",)),
        timestamp=("occurred_at",),
        retype=(("event_id",), ("amount",), ("status",)),
        currency=("amount", "currency"),
    ),
    Source.RETURNS: _Fields(
        base="requested",
        required=(("event_id",), ("rma_id",), ("order_reference",), ("lines",)),
        not_blank=(("event_id",), ("rma_id",), ("order_reference",), ("lines", 0, "sku")),
        ids=(("event_id",), ("rma_id",), ("order_reference",), ("lines", 0, "sku")),
        timestamp=("occurred_at",),
        retype=(("rma_id",), ("lines",), ("lines", 0, "qty")),
        quantity=("lines", 0, "qty"),
    ),
}

# Fault values. Each timestamp / unicode entry: (variant, value or raw JSON token, reason).
_BAD_TIMESTAMPS: tuple[tuple[str, Json, RejectReason], ...] = (
    ("garbage", "yesterday", UNDECODABLE),
    ("impossible_date", "2026-13-45T25:61:00Z", UNDECODABLE),
    ("epoch_number", 1764236132, UNDECODABLE),
    ("empty", "", UNDECODABLE),
    ("date_only", "2026-11-27", UNDECODABLE),
    ("offset_out_of_range", "2026-11-27T10:15:32+25:00", UNDECODABLE),
    ("null", None, UNDECODABLE),
    # Valid RFC 3339, but with no UTC equivalent inside datetime's range.
    ("year_1_ahead_of_utc", "0001-01-01T00:00:00+01:00", RejectReason.INVALID_TIMESTAMP),
    ("year_9999_behind_utc", "9999-12-31T23:59:59-01:00", RejectReason.INVALID_TIMESTAMP),
    # Valid and in range for datetime, but no channel event happened then.
    ("year_1_utc", "0001-01-01T00:00:00Z", RejectReason.INVALID_TIMESTAMP),
    ("year_2999", "2999-01-01T00:00:00Z", RejectReason.INVALID_TIMESTAMP),
)
_BAD_TEXT: tuple[tuple[str, bytes], ...] = (  # raw JSON string tokens, all undecodable
    ("invalid_utf8", b'"ID-\xff\xfe"'),
    ("overlong_utf8", b'"ID-\xc0\xaf"'),
    ("utf8_encoded_surrogate", b'"ID-\xed\xa0\x80"'),
    ("truncated_utf8", b'"ID-\xe2\x82"'),
    ("lone_surrogate_escape", b'"\\ud800ID"'),
    ("lone_low_surrogate_escape", b'"ID\\udc00"'),
    ("raw_control_byte", b'"ID-\x01"'),
)
_CONTROL_CHARACTERS = ("\x00", "\x1f", "\n", "\x7f", "\x1b", "\t", "\x08")
INVISIBLE_CHARACTERS = (  # bidi controls, zero-width and other invisible format characters
    *map(chr, range(0x200B, 0x2010)),
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
    "\ufeff",
    "\u2060",
    "\u00ad",
    "\u061c",
    "\u2028",
    "\x85",
)
_UNREAD_TEXT: tuple[tuple[str, bytes], ...] = (  # raw tokens in a field no codec reads
    ("invalid_utf8_in_unknown_field", b'"note \xff"'),
    ("utf8_encoded_surrogate_in_unknown_field", b'"\xed\xa0\x80"'),
    ("latin1_in_unknown_field", '"caf\u00e9"'.encode("latin-1")),
    ("invalid_utf8_in_unknown_key", b'0, "\xc0\xaf": 0'),
)
DEEP = (10, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 1_200, 100_000)
"""Total nesting depths planted: within the bound, at it, just past it, the depth that broke the
decoder, and the deepest a payload under the size limit can sensibly hold."""
_BIG_INTEGERS = (2**31, 2**63, 2**64, 10**30)
_TOO_MANY_DIGITS = b"9" * 5000  # beyond what msgspec decodes as an int
_UNKNOWN_CURRENCIES = ("ZZZ", "EURO", "", "E")
_OVERSIZE = 600 * 1024
_MARKER = "\ue000corpus-marker\ue000"


# Generic mutations: each returns a new document or the bytes to send.


def _get(document: Json, path: Path) -> Json:
    for step in path:
        document = document[step]
    return document


def _set(document: Json, path: Path, value: Json) -> Json:
    changed = copy.deepcopy(document)
    _get(changed, path[:-1])[path[-1]] = value
    return changed


def _delete(document: Json, path: Path) -> Json:
    changed = copy.deepcopy(document)
    del _get(changed, path[:-1])[path[-1]]
    return changed


def _encode(document: Json) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=1).encode()


def _raw_at(document: Json, path: Path, token: bytes) -> bytes:
    """The document with the JSON token at `path` replaced by raw bytes (which may not be
    valid JSON or UTF-8: that is the point)."""
    marker = json.dumps(_MARKER, ensure_ascii=False).encode()
    encoded = _encode(_set(document, path, _MARKER))
    assert encoded.count(marker) == 1
    return encoded.replace(marker, token)


def _other_type(value: Json) -> Json:
    """A JSON value of another type than `value`: `3` -> `"3"`, `"3.5"` -> `3.5`, `"id"` ->
    `12345`, a list -> an object, an object -> a list holding it."""
    if isinstance(value, bool | int | float):
        return str(value).lower()
    if isinstance(value, str):
        return float(value) if value.replace(".", "", 1).isdigit() else 12345
    if isinstance(value, list):
        return {str(index): item for index, item in enumerate(value)}
    return [value]


def _naive(stamp: str) -> str:
    """The same wall time without its offset."""
    return datetime.fromisoformat(stamp).replace(tzinfo=None).isoformat()


def _label(path: Path) -> str:
    """`("lines", 0, "sku")` as `lines[0].sku`."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return text.removeprefix(".")


def _cut(raw: bytes, at: int) -> bytes:
    while at > 0 and 0x80 <= raw[at] < 0xC0:  # cut between characters: UTF-8, never JSON
        at -= 1
    return raw[:at]


# Faults by category: (category, variant, value, reason).

Planted = tuple[str, str, bytes, RejectReason]


def _byte_faults(raw: bytes) -> Iterator[Planted]:
    """Faults in the fixture's own bytes: planted in every fixture."""
    yield "truncated_json", "", _cut(raw, len(raw) // 2), UNDECODABLE
    yield "truncated_json", "last_brace", raw.rstrip()[:-1], UNDECODABLE
    yield "invalid_json", "trailing_comma", raw.rstrip()[:-1].rstrip() + b",}", UNDECODABLE
    yield "invalid_json", "single_quotes", raw.replace(b'"', b"'"), UNDECODABLE
    yield "invalid_json", "nan_literal", b'{"nan": NaN, ' + raw.lstrip()[1:], UNDECODABLE
    yield "invalid_json", "two_documents", raw + b"\n" + raw, UNDECODABLE
    yield "invalid_json", "comment", b"// exported\n" + raw, UNDECODABLE


def _body_faults(document: Json) -> Iterator[Planted]:
    """Bodies that are no object, or nothing: once per source."""
    yield "truncated_json", "first_byte", b"{", UNDECODABLE
    for variant, value in (
        ("array", [document]),
        ("empty_array", []),
        ("string", "order"),
        ("number", 42),
        ("null", None),
        ("boolean", True),
    ):
        yield "not_an_object", variant, json.dumps(value).encode(), UNDECODABLE
    yield "empty_body", "", b"", UNDECODABLE
    yield "empty_body", "whitespace", b" \r\n\t ", UNDECODABLE
    yield "empty_body", "empty_object", b"{}", UNDECODABLE
    yield from _bom_faults(_encode(document))


def _bom_faults(raw: bytes) -> Iterator[Planted]:
    """Byte order marks that are not the one leading UTF-8 BOM `normalize_payload` drops."""
    text = raw.decode()
    for variant, value in (
        ("two_boms", UTF8_BOM * 2 + raw),
        ("after_whitespace", b" " + UTF8_BOM + raw),
        ("at_the_end", raw + UTF8_BOM),
        ("before_an_array", UTF8_BOM + b"[" + raw + b"]"),
        ("only_a_bom", UTF8_BOM),
        ("utf16_le", text.encode("utf-16")),  # Python writes the BOM little-endian first
        ("utf16_be", b"\xfe\xff" + text.encode("utf-16-be")),
        ("utf16_without_bom", text.encode("utf-16-le")),
        ("utf32", text.encode("utf-32")),
    ):
        yield "bom", variant, value, UNDECODABLE


def _field_faults(fields: _Fields, document: Json) -> Iterator[Planted]:
    """One changed field each, in the source's base fixture."""

    def put(path: Path, value: Json) -> bytes:
        return _encode(_set(document, path, value))

    for path in fields.retype:
        yield "wrong_type", _label(path), put(path, _other_type(_get(document, path))), UNDECODABLE
    first = fields.required[0]
    yield "wrong_type", f"null_{_label(first)}", put(first, None), UNDECODABLE

    for path in fields.required:
        yield "missing_field", _label(path), _encode(_delete(document, path)), UNDECODABLE
    for path in fields.not_blank:
        yield "missing_field", f"blank_{_label(path)}", put(path, ""), MISSING
    spaces = fields.not_blank[0]
    yield "missing_field", f"spaces_{_label(spaces)}", put(spaces, "   "), MISSING

    naive = _naive(_get(document, fields.timestamp))
    yield "bad_timestamp", "naive", put(fields.timestamp, naive), UNDECODABLE
    for variant, value, reason in _BAD_TIMESTAMPS:
        yield "bad_timestamp", variant, put(fields.timestamp, value), reason

    yield from _unicode_faults(fields, document)
    yield from _depth_faults(fields, document)
    yield from _duplicate_key_faults(fields, document)
    yield from _invisible_faults(fields, document)

    if fields.quantity is not None:
        minimum, maximum = fields.quantity_range
        quantity = fields.quantity
        for value in sorted({minimum - 1, -1, -max(_get(document, quantity), 1000)}):
            yield "negative_quantity", str(value), put(quantity, value), BAD_QUANTITY
        for value in (maximum + 1, *_BIG_INTEGERS):
            yield "huge_quantity", str(value), put(quantity, value), BAD_QUANTITY
        too_long = _raw_at(document, quantity, _TOO_MANY_DIGITS)
        yield "huge_quantity", f"{len(_TOO_MANY_DIGITS)}_digits", too_long, UNDECODABLE

    if fields.currency is not None:
        for code in _UNKNOWN_CURRENCIES:
            planted = put(fields.currency, code)
            yield "unknown_currency", code or "empty", planted, RejectReason.UNKNOWN_CURRENCY

    # An otherwise valid payload, padded with a field no codec reads, just over the limit.
    padded = put(("note",), "x" * _OVERSIZE)
    assert len(padded) > MAX_PAYLOAD_BYTES
    yield "oversize", "", padded, RejectReason.OVERSIZE


def _unicode_faults(fields: _Fields, document: Json) -> Iterator[Planted]:
    """A NUL and one other control character in every id; broken text in the ids in turn."""
    for index, path in enumerate(fields.ids):
        original = str(_get(document, path))
        other = _CONTROL_CHARACTERS[1 + index % (len(_CONTROL_CHARACTERS) - 1)]
        for char, what in (("\x00", "nul"), (other, f"U+{ord(other):04X}")):
            changed = _encode(_set(document, path, original[:2] + char + original[2:]))
            yield "unicode", f"{what}_in_{_label(path)}", changed, UNDECODABLE
    for index, (variant, token) in enumerate(_BAD_TEXT):
        path = fields.ids[index % len(fields.ids)]
        yield "unicode", f"{variant}_in_{_label(path)}", _raw_at(document, path, token), UNDECODABLE
    for variant, token in _UNREAD_TEXT:  # the text must be UTF-8 where no codec reads it too
        yield "unicode", variant, _raw_at(document, ("x_note",), token), UNDECODABLE


def nested(depth: int, kind: str = "array", *, closed: bool = True) -> bytes:
    """`depth` arrays (`[[0]]`) or objects (`{"":{"":0}}`) inside each other, as JSON."""
    opener, closer = (b"[", b"]") if kind == "array" else (b'{"":', b"}")
    return opener * depth + b"0" + (closer * depth if closed else b"")


def with_raw(document: Json, path: Path, token: bytes) -> bytes:
    """The document with the JSON value at `path` (added if missing) replaced by raw bytes."""
    return _raw_at(document, path, token)


def _depth_faults(fields: _Fields, document: Json) -> Iterator[Planted]:
    """Nesting of every depth in `DEEP`: at the top, in a known field (an id, where nothing
    nests), in an unknown field at the top and in an unknown field of a nested object."""
    known = fields.ids[0]
    inner = (*fields.ids[-1][:-1], "x_nested")
    for total in DEEP:
        over = total > MAX_JSON_DEPTH
        for kind in ("array", "object"):
            if kind == "object" and total == DEEP[-1]:
                continue  # 100,000 objects pass the size limit with the fixture around them
            yield (
                "deep_nesting",
                f"top_level_{kind}_{total}",
                nested(total, kind),
                (RejectReason.TOO_DEEP if over else UNDECODABLE),
            )
        value = nested(total - len(known))
        yield (
            "deep_nesting",
            f"in_{_label(known)}_{total}",
            _raw_at(document, known, value),
            (RejectReason.TOO_DEEP if over else UNDECODABLE),
        )
        if over:  # within the bound an unknown field is ignored, and the payload accepted
            unknown = nested(total - 1, "object" if total < DEEP[-1] else "array")
            yield (
                "deep_nesting",
                f"in_unknown_field_{total}",
                _raw_at(document, ("x_nested",), unknown),
                RejectReason.TOO_DEEP,
            )
            deeper = nested(total - len(inner))
            yield (
                "deep_nesting",
                f"in_{_label(inner)}_{total}",
                _raw_at(document, inner, deeper),
                RejectReason.TOO_DEEP,
            )
    unclosed = nested(DEEP[-1], closed=False)
    yield "deep_nesting", "unclosed_100000", unclosed, RejectReason.TOO_DEEP
    yield (
        "deep_nesting",
        "unclosed_in_unknown_field",
        _raw_at(document, ("x_nested",), unclosed),
        RejectReason.TOO_DEEP,
    )


def _duplicate_key_faults(fields: _Fields, document: Json) -> Iterator[Planted]:
    """A key given twice, a good value first and a bad one last: the last one counts."""
    for path, bad, reason in (
        (fields.not_blank[0], "", MISSING),
        (fields.ids[-1], "ID\x00", UNDECODABLE),
        (fields.timestamp, _naive(_get(document, fields.timestamp)), UNDECODABLE),
    ):
        good = json.dumps(_get(document, path), ensure_ascii=False)
        twice = f"{good}, {json.dumps(path[-1])}: {json.dumps(bad)}".encode()
        yield "duplicate_key", _label(path), _raw_at(document, path, twice), reason


def _invisible_faults(fields: _Fields, document: Json) -> Iterator[Planted]:
    """Bidi and zero-width characters in ids: every one in the first id, two in each other."""
    chars = INVISIBLE_CHARACTERS
    placed = [(fields.ids[0], char) for char in chars]
    for index, path in enumerate(fields.ids[1:], start=1):
        placed += [
            (path, chars[(2 * index) % len(chars)]),
            (path, chars[(2 * index + 1) % len(chars)]),
        ]
    for path, char in placed:
        original = str(_get(document, path))
        changed = _encode(_set(document, path, original[:2] + char + original[2:]))
        yield "invisible_in_id", f"U+{ord(char):04X}_in_{_label(path)}", changed, UNDECODABLE


# The public API.


def raw_headers(fixture: Fixture) -> RawHeaders:
    """The fixture's transport headers as a Kafka record carries them."""
    return tuple((name, value.encode()) for name, value in fixture.headers.items())


def base_fixture(source: Source) -> Fixture:
    """The fixture the field faults of `source` start from."""
    return next(f for f in _fixtures_of(source) if f.name == _FIELDS[source].base)


def id_paths(source: Source) -> tuple[Path, ...]:
    """Where the base fixture of `source` keeps its ids (all `Identifier` fields)."""
    return _FIELDS[source].ids


def header_map(headers: RawHeaders) -> dict[str, str]:
    """Record headers as `normalize_payload` takes them (the ingest stage's conversion)."""
    return {name.lower(): value.decode("utf-8", "replace") for name, value in headers}


def _fixtures_of(source: Source) -> list[Fixture]:
    return [fixture for fixture in fixtures() if fixture.source == source.value]


def corpus() -> list[BadCase]:
    """Every fault for every source; deterministic, names unique."""
    cases: list[BadCase] = []
    for source in Source:
        fields = _FIELDS[source]
        for fixture in _fixtures_of(source):
            raw = fixture.raw
            document = json.loads(raw)
            planted = list(_byte_faults(raw))
            if fixture.name == fields.base:
                planted.extend(_body_faults(document))
                planted.extend(_field_faults(fields, document))
            for category, variant, value, reason in planted:
                name = f"{source.value}/{fixture.name}/{category}" + (
                    f"/{variant}" if variant else ""
                )
                cases.append(BadCase(source, name, category, value, raw_headers(fixture), reason))
    return cases


def good_cases() -> list[tuple[Source, str, bytes, RawHeaders]]:
    """Every fixture as it is: (source, "{source}/{name}", value, headers); all accepted."""
    return [
        (Source(fixture.source), str(fixture), fixture.raw, raw_headers(fixture))
        for fixture in fixtures()
    ]


# Seeded random faults.

_FUZZ_VALUES: tuple[Json, ...] = (
    None,
    True,
    -1,
    0,
    2**64,
    1.5,
    "",
    " ",
    "ZZZ",
    "yesterday",
    "2026-13-45T25:61:00Z",
    "0001-01-01T00:00:00+01:00",
    "shopify:",
    "a\x00b",
    [],
    {},
    [{}],
    {"a": [1, "b"]},
)
_FUZZ_BYTES = (b"\x00", b"\xff", b"\xc0\xaf", b"}", b"]", b'"', b",", b"\\", b"\\ud800", b"NaN")


def json_paths(value: Json, prefix: Path = ()) -> list[Path]:
    """Every path into a JSON document (keys and list indexes), the root excluded."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(json_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(json_paths(child, (*prefix, index)))
    return found


def _fuzz_once(rng: random.Random, raw: bytes) -> tuple[str, bytes]:
    """One random fault: (category it falls under, bytes)."""
    document = json.loads(raw)
    paths = json_paths(document)
    kind = rng.randrange(5)
    if kind == 0:
        return "truncated_json", raw[: rng.randrange(len(raw))]
    if kind == 1:
        at = rng.randrange(len(raw) + 1)
        return "invalid_json", raw[:at] + rng.choice(_FUZZ_BYTES) + raw[at:]
    if kind == 2:
        return "missing_field", _encode(_delete(document, rng.choice(paths)))
    texts = [path for path in paths if isinstance(_get(document, path), str)]
    if kind == 3 and texts:
        path = rng.choice(texts)
        original = _get(document, path)
        at = rng.randrange(len(original) + 1)
        char = rng.choice(_CONTROL_CHARACTERS)
        return "unicode", _encode(_set(document, path, original[:at] + char + original[at:]))
    return "wrong_type", _encode(_set(document, rng.choice(paths), rng.choice(_FUZZ_VALUES)))


def fuzzed(seed: int, per_source: int) -> list[BadCase]:
    """`per_source` random single faults per source that `normalize_payload` refuses, each
    with the reason it gives; the same seed gives the same cases."""
    rng = random.Random(seed)
    cases: list[BadCase] = []
    for source in Source:
        pool = _fixtures_of(source)
        found = 0
        for attempt in range(per_source * 50):
            if found == per_source:
                break
            fixture = rng.choice(pool)
            category, value = _fuzz_once(rng, fixture.raw)
            headers = raw_headers(fixture)
            outcome = normalize_payload(source, value, header_map(headers))
            if isinstance(outcome, Rejected):
                name = f"{fixture}/{category}/fuzz-{seed}-{attempt}"
                cases.append(BadCase(source, name, category, value, headers, outcome.reason))
                found += 1
    return cases
