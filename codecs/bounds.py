"""What raw bytes must be before a codec decodes them.

- A JSON text is UTF-8 throughout (RFC 8259 section 8.1), in fields no codec reads too.
- One UTF-8 byte order mark at the very start is ignored, as RFC 8259 allows a parser to do;
  the event is the same as without it. A BOM anywhere else is invalid JSON.
- Arrays and objects nest at most `MAX_JSON_DEPTH` deep, counted on the bytes outside strings,
  in known fields, unknown fields and at the top level alike.

These checks run on the bytes before decoding, so the reason a payload gets depends on its
bytes only: not on its type errors, nor on how deep the caller's stack already is.
"""

from __future__ import annotations

from array import array
from itertools import accumulate

from orderstream.streams.rejections import Rejected, RejectReason

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects decoded. The deepest fixture nests 5 levels (an order,
its lines, a line, its tax lines, a tax line); 64 leaves room for any channel's export and stays
far below the decoder's recursion limit (about 1,000 frames, less what the caller uses)."""

UTF8_BOM = b"\xef\xbb\xbf"

_ALL_BUT_STRUCTURE = bytes(range(256)).translate(None, b'"[]{}')
_OBJECTS_AS_ARRAYS = bytes.maketrans(b"{}", b"[]")
_STEPS = bytes.maketrans(b"[]", b"\x01\xff")  # +1 and -1 as signed bytes
_PEELS = 8  # passes of innermost-pair removal tried before the exact scan
_CHUNK = 64 * 1024  # the exact scan stops at the first chunk that goes too deep


def admit(raw: bytes) -> bytes | Rejected:
    """The bytes to decode (a leading BOM dropped), or why they are refused."""
    if raw.startswith(UTF8_BOM):
        raw = raw[len(UTF8_BOM) :]
    if not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as error:
            return Rejected(
                RejectReason.UNDECODABLE,
                f"the payload is not UTF-8: byte {error.start} {error.reason}",
            )
    if nests_deeper(raw, MAX_JSON_DEPTH):
        return Rejected(
            RejectReason.TOO_DEEP, f"arrays and objects nest deeper than {MAX_JSON_DEPTH} levels"
        )
    return raw


def nests_deeper(raw: bytes, limit: int) -> bool:
    """Whether more than `limit` arrays and objects are open at once outside strings.

    Nesting cannot pass the number of `[` and `{` bytes, so a payload with at most `limit` of
    them (every fixture) is done after one C-level pass. Otherwise the brackets inside strings
    are dropped, and the rest is measured with C-level loops only: removing every innermost
    `[]` pair lowers a balanced nesting by exactly one, so a sequence gone after a few such
    passes is shallow (every real order); anything else is followed bracket by bracket, which
    costs about 30 ns a bracket (10 to 20 ms for the worst 512 KB payload).
    """
    marks = _marks(raw)
    if marks.count(b"[") + marks.count(b"{") <= limit:
        return False
    brackets = _outside_strings(marks)
    if b"[" * (limit + 1) in brackets:  # the plain attack, found without a full scan
        return True
    if len(brackets) <= _CHUNK:  # a big order; a longer sequence is rather an attack
        peeled = brackets
        for _ in range(min(limit, _PEELS)):
            peeled = peeled.replace(b"[]", b"")
            if not peeled:
                return False
    return _deepest(brackets, limit) > limit


def _marks(raw: bytes) -> bytes:
    """The quotes and brackets of `raw`, in order, with escaped quotes and backslashes gone.

    Escaped backslashes go first, then escaped quotes, so every `"` left delimits a string.
    """
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    return raw.translate(None, _ALL_BUT_STRUCTURE)


def _outside_strings(marks: bytes) -> bytes:
    """The brackets outside strings, objects written as arrays.

    Dropping `""` pairs removes or merges strings without a bracket between them; what stays
    between the remaining quote pairs is string content. Malformed JSON gives some bracket
    sequence too: deterministic, and the decoder refuses the payload anyway.
    """
    marks = marks.replace(b'""', b"")
    if b'"' in marks:
        marks = b"".join(marks.split(b'"')[::2])
    return marks.translate(_OBJECTS_AS_ARRAYS)


def _deepest(brackets: bytes, limit: int) -> int:
    """The most brackets open at once, or a number above `limit` once it is passed."""
    deepest = depth = 0
    for start in range(0, len(brackets), _CHUNK):
        chunk = brackets[start : start + _CHUNK]
        steps = array("b", chunk.translate(_STEPS))
        chunk_deepest = max(accumulate(steps, initial=depth))
        deepest = max(deepest, chunk_deepest)
        if deepest > limit:
            break
        depth += chunk.count(b"[") - chunk.count(b"]")
    return deepest
