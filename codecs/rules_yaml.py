"""Reading a rules document (YAML or JSON) into plain data, keeping the line of every value.

YAML is read as a tree of nodes (`yaml.compose`, safe) and its scalars are converted by JSON's
rules rather than YAML 1.1's: a bare `16:00` stays the text "16:00", `NO` stays Norway (not
false), `2026-12-25` stays a string for msgspec to parse as a date. A duplicate key is an
issue, not "last one wins". Text whose first character is `{` is JSON. Anchors, aliases and
nesting deeper than `MAX_DEPTH` are refused as they are read, each naming its line: a few
lines of aliases can expand to gigabytes, and the composer and msgspec recurse per level.
"""

from __future__ import annotations

import re

import msgspec
import yaml

from orderstream.streams.routing_checks import RuleIssue

MAX_DEPTH = 32  # the sample network nests 6 levels deep

Segment = str | int
Path = tuple[Segment, ...]

_SEGMENT = re.compile(r"\[(\d+)\]|\[\.\.\.\]|\.?([^.\[\]]+)")
_PLAIN_INT = re.compile(r"[-+]?[0-9]+")
_PLAIN_FLOAT = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")
_YAML = "tag:yaml.org,2002:"


class Located:
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
        return msgspec.structs.replace(issue, line=self.line_of(segments(issue.path)))


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


def parse(text: str) -> tuple[object, Located] | RuleIssue:
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
    located = Located()
    issues: list[RuleIssue] = []
    data = _build(tree, (), located, issues)
    located.issues = tuple(issues)
    return data, located


def _parse_json(text: str) -> tuple[object, Located] | RuleIssue:
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
    located = Located()
    if tree is not None:
        _build(tree, (), located, [])
    return data, located


def _json_syntax_issue(text: str, message: str) -> RuleIssue:
    """msgspec names the byte where JSON broke; no byte means it ended early (the last line)."""
    found = re.search(r"\(byte (\d+)\)", message)
    end = int(found[1]) if found else len(text.encode())
    line = text.encode()[:end].count(b"\n") + 1
    return RuleIssue("", f"not valid JSON: {message}", line)


def _build(node: yaml.Node, path: Path, located: Located, issues: list[RuleIssue]) -> object:
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
                    issues.append(RuleIssue(render(where), "duplicate key", _line(key_node)))
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


# Field paths, as messages print them.


def segments(path: str) -> Path:
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


def render(path: Path) -> str:
    text = ""
    for segment in path:
        text += f"[{segment}]" if isinstance(segment, int) else f".{segment}"
    return text.removeprefix(".")
