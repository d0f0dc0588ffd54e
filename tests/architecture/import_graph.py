"""The import graph of the code as installed, for the architecture tests.

grimp cannot follow setuptools' editable finder, so the graph is built over a symlink tree that
mirrors the installed namespace (the `[tool.setuptools.package-dir]` mapping), the way
`make contracts` reads the code; the `tests` package can be linked in beside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_DUMP = """
import json, sys, grimp
graph = grimp.build_graph(*sys.argv[1:], include_external_packages=False, cache_dir=None)
print(json.dumps({m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}))
"""


def import_graph(tree: Path, *, with_tests: bool = False) -> dict[str, list[str]]:
    """Every orderstream module (and, `with_tests`, every test module) and the modules of
    those packages it imports directly; `tree` is an empty directory to build the links in."""
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-dir"
    ]
    (tree / "orderstream").mkdir()
    for package, folder in mapping.items():
        (tree / Path(*package.split("."))).symlink_to(ROOT / folder, target_is_directory=True)
    packages = ["orderstream"]
    if with_tests:
        (tree / "tests").symlink_to(ROOT / "tests", target_is_directory=True)
        packages.append("tests")
    env = {**os.environ, "PYTHONPATH": str(tree)}
    result = subprocess.run(
        [sys.executable, "-c", _DUMP, *packages],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    graph: dict[str, list[str]] = json.loads(result.stdout)
    return graph
