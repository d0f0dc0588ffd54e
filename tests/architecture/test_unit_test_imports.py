"""tests/unit tests the pure core and the codecs: no module under it imports the runtime
(`agents/`), the tooling (`benchmarks/`) or the embedded stack (`deploy/`); those are tested
in tests/shell and tests/tooling. Only the imports a unit test module makes itself count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.architecture.import_graph import import_graph

UNIT = "tests.unit"
OUTER = ("orderstream.agents", "orderstream.benchmarks", "orderstream.deploy")
ALLOWED = frozenset({"orderstream.benchmarks.pipeline_sim"})
"""The in-memory run of the pure core: `decide` and `step` wired by a queue, the state in
memory tables with the agents' codecs. The order-process, invariant, lifetime and record-size
tests drive the core through it over many inputs; they test streams/, not the tooling, so they
stay here and this one module of benchmarks/ may be imported."""


def _within(module: str, packages: Iterable[str]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def outer_imports(graph: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Per unit test module, the modules of the outer folders it imports (the allowed aside)."""
    found: dict[str, list[str]] = {}
    for module, imported in graph.items():
        if not _within(module, [UNIT]):
            continue
        outer = sorted(m for m in imported if _within(m, OUTER) and m not in ALLOWED)
        if outer:
            found[module] = outer
    return found


def test_a_unit_test_importing_an_outer_folder_is_found_and_the_allowed_module_is_not() -> None:
    graph = {
        "tests.unit": [],
        "tests.unit.test_a": ["orderstream.agents", "orderstream.streams.keys"],
        "tests.unit.test_b": ["orderstream.benchmarks.pipeline_sim", "orderstream.codecs"],
        "tests.unit.test_c": ["orderstream.benchmarks.loadgen", "orderstream.deploy.embedded"],
        "tests.shell.test_d": ["orderstream.agents.cli"],
        "tests.unitary": ["orderstream.agents.cli"],
    }
    assert outer_imports(graph) == {
        "tests.unit.test_a": ["orderstream.agents"],
        "tests.unit.test_c": ["orderstream.benchmarks.loadgen", "orderstream.deploy.embedded"],
    }


def test_no_unit_test_imports_the_runtime_the_tooling_or_the_embedded_stack(
    tmp_path: Path,
) -> None:
    graph = import_graph(tmp_path, with_tests=True)
    assert "tests.unit.test_order_process" in graph, "the tree lost the tests"
    assert "orderstream.benchmarks.pipeline_sim" in graph["tests.unit.test_order_process"]
    found = outer_imports(graph)
    assert not found, f"unit tests import agents/, benchmarks/ or deploy/: {found}"
