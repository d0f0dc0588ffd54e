"""Routing rule sets from YAML or JSON text, with errors that name the line and the field.

`load_rules` never raises on bad input: it returns the `RuleSet` or `RuleSetInvalid`, one
`RuleIssue` per problem (`rules.yaml:14: nodes[1].cut_off: expected "HH:MM", got "25:00"`).
msgspec checks structure against `orderstream.streams.routing` (unknown fields refused), then its
semantic checks run. YAML is composed (safe) so each value keeps its line, scalars follow JSON's
rules (`16:00`, `NO`, `2026-12-25` stay strings), duplicate keys are errors; text starting with
`{` is JSON. Over `MAX_RULES_BYTES`, anchors/aliases and nesting past `MAX_DEPTH` are refused.
"""

from __future__ import annotations

import difflib
import enum
import re
import types
import typing

import msgspec
import yaml

from orderstream.streams.routing import FORMAT_VERSION, RuleSet
from orderstream.streams.routing_checks import RuleIssue, check_rule_set

MAX_RULES_BYTES = 1024 * 1024
MAX_DEPTH = 32  # the sample network nests 6 levels deep

Segment = str | int
Path = tuple[Segment, ...]

_AT = re.compile(r"^(?P<message>.*?)(?: - at (?P<key>`key` in )?`\$(?P<path>[^`]*)`)?$", re.DOTALL)
_FIELD = re.compile(r"^Object (?P<what>missing required|contains unknown) field `(?P<name>[^`]+)`")
_ENUM = re.compile(r"^Invalid enum value '(?P<value>[^']*)'")
_SEGMENT = re.compile(r"\[(\d+)\]|\[\.\.\.\]|\.?([^.\[\]]+)")
_PLAIN_INT = re.compile(r"[-+]?[0-9]+")
_PLAIN_FLOAT = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")
_YAML = "tag:yaml.org,2002:"


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
    size = len(document.encode() if isinstance(document, str) else document)
    if size > MAX_RULES_BYTES:
        message = f"{size:,} bytes is larger than the limit of {MAX_RULES_BYTES:,} bytes"
        return RuleSetInvalid(source, (RuleIssue("", message),))
    read = _read(document)
    if isinstance(read, RuleIssue):
        return RuleSetInvalid(source, (read,))
    data, located = read
    outcome = located.issues or _convert(data, located)
    if isinstance(outcome, RuleSet):
        return outcome
    return RuleSetInvalid(source, outcome)


def _convert(data: object, located: _Located) -> RuleSet | tuple[RuleIssue, ...]:
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


def _read(document: str | bytes) -> tuple[object, _Located] | RuleIssue:
    text = _text(document)
    return text if isinstance(text, RuleIssue) else _parse(text)


def _text(document: str | bytes) -> str | RuleIssue:
    if isinstance(document, bytes):
        try:
            document = document.decode("utf-8")
        except UnicodeDecodeError as error:
            return RuleIssue("", f"not UTF-8 text (byte {error.start})")
    return document.removeprefix("\ufeff")


# Parsing, keeping the line of every value.


class _Located:
    """Lines of the values of one document by path, and the issues found while reading it."""

    def __init__(self) -> None:
        self.lines: dict[Path, int] = {}
        self.values: dict[Path, object] = {}
        self.issues: tuple[RuleIssue, ...] = ()

    def line_of(self, path: Path) -> int:
        """The line of the deepest part of `path` the document has (a missing field's
        object, an unknown key's own line)."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 0

    def place(self, issue: RuleIssue) -> RuleIssue:
        return msgspec.structs.replace(issue, line=self.line_of(_segments(issue.path)))


class _Refused(yaml.YAMLError):
    """A document the strict loader will not compose (an anchor, an alias, too deep)."""

    def __init__(self, problem: str, event: yaml.Event) -> None:
        super().__init__(problem)
        mark = event.start_mark
        self.issue = RuleIssue("", problem, int(mark.line) + 1 if mark is not None else 0)


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing anchors, aliases and nesting beyond `MAX_DEPTH` as the
    events arrive (its scanner and parser are iterative; only the composer recurses)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            problem = "YAML anchors and aliases are not allowed; write the values out"
            raise _Refused(problem, event)
        nests = isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent)
        if nests:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                problem = f"nested deeper than {MAX_DEPTH} levels"
                raise _Refused(problem, event)
        try:
            return super().compose_node(parent, index)
        finally:
            if nests:
                self._depth -= 1


def _parse(text: str) -> tuple[object, _Located] | RuleIssue:
    """The plain data of the document (dicts, lists, str, int, float, bool, None) and where
    each value is."""
    if text.lstrip().startswith("{"):
        return _parse_json(text)
    try:
        tree = yaml.compose(text, Loader=_StrictLoader)
    except _Refused as error:
        return error.issue
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 0
        return RuleIssue("", f"not valid YAML: {error.problem or error.context}", line)
    except yaml.YAMLError as error:
        return RuleIssue("", f"not valid YAML: {error}")
    if tree is None:
        return RuleIssue("", "the document is empty", 1)
    located = _Located()
    issues: list[RuleIssue] = []
    data = _build(tree, (), located, issues)
    located.issues = tuple(issues)
    return data, located


def _parse_json(text: str) -> tuple[object, _Located] | RuleIssue:
    """JSON decoded by msgspec; its lines (and its depth) come from the same text as YAML."""
    try:
        # JSON is YAML (tabs aside, and raw tabs are invalid inside JSON strings anyway):
        # the YAML tree of the same text gives the lines, and refuses deep nesting before
        # msgspec would recurse into it.
        tree = yaml.compose(text.replace("\t", " "), Loader=_StrictLoader)
    except _Refused as error:
        return error.issue
    except yaml.YAMLError:
        tree = None
    try:
        data = msgspec.json.decode(text)
    except msgspec.DecodeError as error:
        return _json_syntax_issue(text, str(error))
    except RecursionError:  # deep JSON that is not YAML: no line to name
        return RuleIssue("", f"nested deeper than {MAX_DEPTH} levels")
    located = _Located()
    if tree is not None:
        _build(tree, (), located, [])
    return data, located


def _json_syntax_issue(text: str, message: str) -> RuleIssue:
    """msgspec names the byte where JSON broke; no byte means it ended early (the last line)."""
    found = re.search(r"\(byte (\d+)\)", message)
    end = int(found[1]) if found else len(text.encode())
    line = text.encode()[:end].count(b"\n") + 1
    return RuleIssue("", f"not valid JSON: {message}", line)


def _build(node: yaml.Node, path: Path, located: _Located, issues: list[RuleIssue]) -> object:
    """Plain data from a YAML node, recording the line of every value (a key's line for the
    value under it, so a nested object is located at its key)."""
    located.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, object] = {}
        merged, explicit = _pairs(node)
        own: set[str] = set()
        for pairs, is_own in ((merged, False), (explicit, True)):
            for key_node, value_node in pairs:
                key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else ""
                where = (*path, key)
                if is_own and key in own:
                    issues.append(RuleIssue(_render(where), "duplicate key", _line(key_node)))
                if is_own:
                    own.add(key)
                located.lines[where] = _line(key_node)
                result[key] = _build(value_node, where, located, issues)
                located.values[where] = result[key]
        return result
    if isinstance(node, yaml.SequenceNode):
        items = enumerate(node.value)
        return [_build(item, (*path, index), located, issues) for index, item in items]
    value = _scalar(node)
    located.values[path] = value
    return value


def _pairs(
    node: yaml.MappingNode,
) -> tuple[list[tuple[yaml.Node, yaml.Node]], list[tuple[yaml.Node, yaml.Node]]]:
    """Merged (`<<: *defaults`) pairs first, then the mapping's own, which override them."""
    merged: list[tuple[yaml.Node, yaml.Node]] = []
    explicit: list[tuple[yaml.Node, yaml.Node]] = []
    for key_node, value_node in node.value:
        if key_node.tag != _YAML + "merge":
            explicit.append((key_node, value_node))
            continue
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if isinstance(source, yaml.MappingNode):
                inner_merged, inner_explicit = _pairs(source)
                merged.extend(inner_merged + inner_explicit)
    return merged, explicit


def _scalar(node: yaml.Node) -> object:
    """A scalar by JSON's rules: quoted text is text; plain true/false, null, decimal ints and
    floats are what they look like; everything else (16:00, NO, yes, dates) is text."""
    text = str(node.value)
    if getattr(node, "style", None) is not None:
        return text
    tag = node.tag.removeprefix(_YAML)
    if tag == "null":
        return None
    if tag == "bool" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if tag == "int" and _PLAIN_INT.fullmatch(text):
        return int(text)
    if tag == "float" and _PLAIN_FLOAT.fullmatch(text):
        return float(text)
    return text


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


# Structural errors: msgspec's message, located and reworded.


def _structural_issue(error: str, located: _Located) -> RuleIssue:
    """msgspec reports the first structural error with a JSON path; name the field as the
    rule-set author wrote it (`nodes[1].cut_off`, `zones.Benelux`) and say what was found."""
    match = _AT.match(error)
    assert match is not None  # every text matches: the location part is optional
    message, on_key = match["message"], match["key"] is not None
    # A bad mapping key is reported at the mapping; "[...]" lets `_resolve` name the key.
    at = (match["path"] or "") + ("[...]" if on_key else "")
    path = _resolve(_segments(at), message, located)
    field = _FIELD.match(message)
    if field:
        name = field["name"]
        path = (*path, name)
        if field["what"] == "missing required":
            return RuleIssue(_render(path), "required field is missing")
        return RuleIssue(_render(path), f"unknown field{_suggest(path)}")
    enum_value = _ENUM.match(message)
    if enum_value:
        declared = _key_type_at(path[:-1]) if on_key else _type_at(path)
        what = "key" if on_key else "value"
        choices = _choices(declared)
        return RuleIssue(_render(path), f"unknown {what} {enum_value['value']!r}{choices}")
    found = located.values.get(path)
    got = ""
    if isinstance(found, str | int | float):
        got = f" ({_show(found)})" if ", got" in message else f", got {_show(found)}"
    return RuleIssue(_render(path), _reword(message) + got)


def _resolve(path: Path, message: str, located: _Located) -> Path:
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


def _value_at(located: _Located, path: Path) -> object:
    return located.values.get(path)


def _type_at(path: Path) -> object:
    """The declared type of the rule-set field at `path` (None when the path leaves it)."""
    current: object = RuleSet
    for segment in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, msgspec.Struct):
            hints = typing.get_type_hints(current)
            current = hints.get(str(segment))
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
    names = [field.name for field in msgspec.structs.fields(parent)]
    close = difflib.get_close_matches(str(path[-1]), names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _reword(message: str) -> str:
    """msgspec's "Expected `int`, got `str`" as "expected int, got str"."""
    text = message.replace("`", "")
    return text[:1].lower() + text[1:]


def _show(value: str | int | float) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def _segments(path: str) -> Path:
    """`nodes[1].cut_off` (or msgspec's `.nodes[1].cut_off`) as ("nodes", 1, "cut_off");
    msgspec's `[...]` (a mapping entry it does not name) stays as the segment "[...]"."""
    segments: list[Segment] = []
    for index, name in _SEGMENT.findall(path):
        if index:
            segments.append(int(index))
        elif name:
            segments.append(name)
        else:
            segments.append("[...]")
    return tuple(segments)


def _render(path: Path) -> str:
    text = ""
    for segment in path:
        text += f"[{segment}]" if isinstance(segment, int) else f".{segment}"
    return text.removeprefix(".")
