"""No two modules or packages import each other, directly or through others.

The import graph is grimp's over the installed namespace (`import_graph`). A cycle is looked
for among the children of every package, a child standing for itself and everything under it,
so `a.x -> b` and `b -> a.y` count as a cycle between `a` and `b` even when no single module
closes it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.architecture.import_graph import import_graph

# Cycles that are known and being worked on, each as the set of children that form it.
ALLOWED: frozenset[frozenset[str]] = frozenset()


def _strong_components(nodes: Iterable[str], edges: Mapping[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components with more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return found


def import_cycles(graph: Mapping[str, Iterable[str]]) -> list[set[str]]:
    """The cycles among the children of each package (module docstring)."""
    children: dict[str, set[str]] = defaultdict(set)
    for module in graph:
        if "." in module:
            children[module.rsplit(".", 1)[0]].add(module)
    cycles: list[set[str]] = []
    for package, kids in children.items():
        prefix = package + "."

        def child_of(module: str, prefix: str = prefix) -> str | None:
            if not module.startswith(prefix):
                return None
            return prefix + module[len(prefix) :].split(".", 1)[0]

        edges: dict[str, set[str]] = defaultdict(set)
        for module, imported in graph.items():
            source = child_of(module)
            if source is None:
                continue
            for target in map(child_of, imported):
                if target is not None and target != source:
                    edges[source].add(target)
        cycles.extend(_strong_components(kids, edges))
    return cycles


def test_a_cycle_is_found_between_sibling_packages_through_their_modules() -> None:
    graph = {"p.a": [], "p.a.x": ["p.b"], "p.b": ["p.a.y"], "p.a.y": [], "p": []}
    assert import_cycles(graph) == [{"p.a", "p.b"}]


def test_no_modules_import_each_other_but_the_allowed(tmp_path: Path) -> None:
    graph = import_graph(tmp_path)
    assert "orderstream.agents.cli" in graph, "the tree lost the code"
    cycles = import_cycles(graph)
    unexpected = [sorted(cycle) for cycle in cycles if frozenset(cycle) not in ALLOWED]
    assert not unexpected, f"import cycles: {unexpected}"
