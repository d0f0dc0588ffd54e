"""Routing rule sets from YAML or JSON text, with errors that name the line and the field.

`load_rules` never raises on bad input: it returns the `RuleSet` or `RuleSetInvalid`, one
`RuleIssue` per problem (`rules.yaml:14: nodes[1].cut_off: expected "HH:MM", got "25:00"`).
msgspec checks structure against `orderstream.streams.routing` (unknown fields refused), then its
semantic checks run. The document is read with the line of every value by `rules_yaml`; over
`MAX_RULES_BYTES` it is refused unread.
"""

from __future__ import annotations

import difflib
import enum
import re
import types
import typing

import msgspec

from orderstream.streams.routing import FORMAT_VERSION, RuleSet
from orderstream.streams.routing_checks import RuleIssue, check_rule_set

from .rules_yaml import Located, Path, Segment, parse, render, segments

MAX_RULES_BYTES = 1024 * 1024

_AT = re.compile(r"^(?P<message>.*?)(?: - at (?P<key>`key` in )?`\$(?P<path>[^`]*)`)?$", re.DOTALL)
_FIELD = re.compile(r"^Object (?P<what>missing required|contains unknown) field `(?P<name>[^`]+)`")
_ENUM = re.compile(r"^Invalid enum value '(?P<value>[^']*)'")


class RuleSetInvalid(msgspec.Struct, frozen=True):
    """A rule set that cannot be used, and every reason found (at least one)."""

    source: str
    issues: tuple[RuleIssue, ...]

    def describe(self) -> tuple[str, ...]:
        """One line per issue: `source:line: field: message`."""
        return tuple(format_issue(self.source, issue) for issue in self.issues)

    def summary(self) -> str:
        """The first issue, and how many more there are, on one line."""
        lines = self.describe()
        more = f" (and {len(lines) - 1} more; see `orderstream rules check`)"
        return lines[0] + (more if len(lines) > 1 else "")


def format_issue(source: str, issue: RuleIssue) -> str:
    """`rules.yaml:14: nodes[1].cut_off: message`; line and field are left out when unknown."""
    where = f"{source}:{issue.line}" if issue.line else source
    return f"{where}: {issue.path}: {issue.message}" if issue.path else f"{where}: {issue.message}"


def load_rules(document: str | bytes, source: str = "rules") -> RuleSet | RuleSetInvalid:
    """The rule set in `document` (YAML or JSON), or every reason it is refused.

    `source` names the document in messages (usually its file name). A document in another
    format version is refused on that alone: its other fields may mean something else.
    """
    read = read_document(document, source)
    if isinstance(read, RuleSetInvalid):
        return read
    data, located = read
    outcome = located.issues or _convert(data, located)
    if isinstance(outcome, RuleSet):
        return outcome
    return RuleSetInvalid(source, outcome)


def read_document(document: str | bytes, source: str) -> tuple[object, Located] | RuleSetInvalid:
    """A rules document (YAML or JSON, UTF-8, at most `MAX_RULES_BYTES`) as data with the
    line of each value, or why it cannot be read: shared by every rules file's loader."""
    size = len(document.encode() if isinstance(document, str) else document)
    if size > MAX_RULES_BYTES:
        message = f"{size:,} bytes is larger than the limit of {MAX_RULES_BYTES:,} bytes"
        return RuleSetInvalid(source, (RuleIssue("", message),))
    text = _text(document)
    read = text if isinstance(text, RuleIssue) else parse(text)
    return RuleSetInvalid(source, (read,)) if isinstance(read, RuleIssue) else read


def _convert(data: object, located: Located) -> RuleSet | tuple[RuleIssue, ...]:
    """Version, then structure, then meaning: each stage runs only on what passed the last."""
    if isinstance(data, dict) and data.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        message = f"unsupported version {data['version']!r}; this build reads {FORMAT_VERSION}"
        return (located.place(RuleIssue("version", message)),)
    try:
        rules = msgspec.convert(data, RuleSet)
    except msgspec.ValidationError as error:
        return (located.place(_structural_issue(str(error), located)),)
    issues = check_rule_set(rules)
    return tuple(located.place(issue) for issue in issues) if issues else rules


def _text(document: str | bytes) -> str | RuleIssue:
    if isinstance(document, bytes):
        try:
            document = document.decode("utf-8")
        except UnicodeDecodeError as error:
            return RuleIssue("", f"not UTF-8 text (byte {error.start})")
    return document.removeprefix("\ufeff")


# Structural errors: msgspec's message, located and reworded.


def _structural_issue(error: str, located: Located) -> RuleIssue:
    """msgspec reports the first structural error with a JSON path; name the field as the
    rule-set author wrote it (`nodes[1].cut_off`, `zones.Benelux`) and say what was found."""
    match = _AT.match(error)
    assert match is not None  # every text matches: the location part is optional
    message, on_key = match["message"], match["key"] is not None
    # A bad mapping key is reported at the mapping; "[...]" lets `_resolve` name the key.
    at = (match["path"] or "") + ("[...]" if on_key else "")
    path = _resolve(segments(at), message, located)
    field = _FIELD.match(message)
    if field:
        name = field["name"]
        path = (*path, name)
        if field["what"] == "missing required":
            return RuleIssue(render(path), "required field is missing")
        return RuleIssue(render(path), f"unknown field{_suggest(path)}")
    enum_value = _ENUM.match(message)
    if enum_value:
        declared = _key_type_at(path[:-1]) if on_key else _type_at(path)
        what = "key" if on_key else "value"
        choices = _choices(declared)
        return RuleIssue(render(path), f"unknown {what} {enum_value['value']!r}{choices}")
    found = located.values.get(path)
    got = ""
    if isinstance(found, str | int | float):
        got = f" ({_show(found)})" if ", got" in message else f", got {_show(found)}"
    return RuleIssue(render(path), _reword(message) + got)


def _resolve(path: Path, message: str, located: Located) -> Path:
    """Replace msgspec's `[...]` (some entry of a mapping) by the key that is wrong: the one
    whose key or value does not convert to the mapping's key or value type."""
    resolved: list[Segment] = []
    for segment in path:
        if segment != "[...]":
            resolved.append(segment)
            continue
        mapping = _value_at(located, tuple(resolved))
        culprit = _culprit(mapping, _type_at(tuple(resolved)), message)
        if culprit is None:
            return tuple(resolved)
        resolved.append(culprit)
    return tuple(resolved)


def _culprit(mapping: object, mapping_type: object, message: str) -> str | None:
    if not isinstance(mapping, dict):
        return None
    enum_value = _ENUM.match(message)
    if enum_value and enum_value["value"] in mapping:
        return enum_value["value"]
    args = typing.get_args(mapping_type)
    if len(args) != 2:
        return None
    key_type, value_type = args
    for key, value in mapping.items():
        try:
            msgspec.convert(key, key_type)
            msgspec.convert(value, value_type)
        except msgspec.ValidationError:
            return str(key)
    return None


def _value_at(located: Located, path: Path) -> object:
    return located.values.get(path)


def _type_at(path: Path) -> object:
    """The declared type of the rule-set field at `path` (None when the path leaves it).

    Paths name fields as the rules file spells them, which is not always the attribute name
    (`nodes` is `RuleSet.locations`)."""
    current: object = RuleSet
    for segment in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, msgspec.Struct):
            hints = typing.get_type_hints(current)
            names = {field.encode_name: field.name for field in msgspec.structs.fields(current)}
            current = hints.get(names.get(str(segment), ""))
        elif typing.get_origin(current) is tuple:
            current = typing.get_args(current)[0]
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return None
    return _unwrap(current)


def _key_type_at(path: Path) -> object:
    """The key type of the mapping at `path` (None when it is not a mapping)."""
    declared = _type_at(path)
    return typing.get_args(declared)[0] if typing.get_origin(declared) is dict else None


def _unwrap(declared: object) -> object:
    """`X | None` is X here: None is never what an error is about."""
    if isinstance(declared, types.UnionType) or typing.get_origin(declared) is typing.Union:
        members = [arg for arg in typing.get_args(declared) if arg is not type(None)]
        return members[0] if len(members) == 1 else declared
    return declared


def _choices(declared: object) -> str:
    if isinstance(declared, type) and issubclass(declared, enum.Enum):
        return "; expected one of " + ", ".join(str(member.value) for member in declared)
    return ""


def _suggest(path: Path) -> str:
    """`unknown field (did you mean 'cut_off'?)` from the fields of the struct it sits in."""
    parent = _type_at(path[:-1])
    if not (isinstance(parent, type) and issubclass(parent, msgspec.Struct)):
        return ""
    names = [field.encode_name for field in msgspec.structs.fields(parent)]
    close = difflib.get_close_matches(str(path[-1]), names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _reword(message: str) -> str:
    """msgspec's "Expected `int`, got `str`" as "expected int, got str"."""
    text = message.replace("`", "")
    return text[:1].lower() + text[1:]


def _show(value: str | int | float) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)
