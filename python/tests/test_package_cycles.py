"""No import cycle inside ``dspex_worker``, between its modules or between its subpackages.

The imports are read with :mod:`ast`, every one of them: at the top of a module, inside a
function (a lazy import is still a dependency) and under ``TYPE_CHECKING``. An import
``from a.b import c`` depends on module ``a.b.c`` when there is one, else on ``a.b``.
Importing a module also runs its packages' ``__init__``; those implied edges are left out,
since every package's ``__init__`` may import its own modules.

At the subpackage level a module counts as its top-level part of ``dspex_worker``
(``dspex_worker.protocol.frames`` is ``dspex_worker.protocol``; ``dspex_worker.boot`` is
itself), so ``codec`` importing ``protocol`` while ``protocol`` imports ``codec`` is a cycle
even when no two modules import each other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

PYTHON_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "dspex_worker"
TEST_PACKAGE = "dspex_testing"

Graph = Mapping[str, set[str]]


def modules(root: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` (under ``root``) by dotted name; a package is its ``__init__``."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported_names(path: Path, name: str) -> Iterator[str]:
    """The dotted names a module imports (``from a import b`` gives ``a.b``), relative ones resolved."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports."""
    known = modules(root, package)
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        targets = set()
        for imported in imported_names(path, name):
            while imported and imported not in known:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def subpackage_graph(graph: Graph) -> dict[str, set[str]]:
    """The graph with every module replaced by its top-level part of the package."""

    def top(name: str) -> str:
        return ".".join(name.split(".")[:2])

    collapsed: dict[str, set[str]] = {}
    for name, targets in graph.items():
        group = collapsed.setdefault(top(name), set())
        group.update(top(t) for t in targets if top(t) != top(name))
    return collapsed


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or ``None`` when the graph has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def assert_no_cycle(graph: Graph, level: str) -> None:
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle between {level}: {' -> '.join(cycle or [])}"


# -- the checker itself ---------------------------------------------------------------


def test_the_checker_finds_a_cycle_and_names_it() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    with pytest.raises(AssertionError, match=r"import cycle between modules: a -> b -> c -> a"):
        assert_no_cycle(graph, "modules")
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_checker_reads_imports_and_sees_a_subpackage_cycle(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/low/__init__.py": "from pkg.low import one\n",
        "pkg/low/one.py": "import json\nfrom . import two\n",
        "pkg/low/two.py": "def later():\n    from pkg.high.api import thing\n",
        "pkg/high/__init__.py": "",
        "pkg/high/api.py": "from ..low.one import something\nfrom pkg import __doc__\n",
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    graph = import_graph(tmp_path, "pkg")
    assert graph == {
        "pkg": set(),
        "pkg.low": {"pkg.low.one"},
        "pkg.low.one": {"pkg.low.two"},
        "pkg.low.two": {"pkg.high.api"},
        "pkg.high": set(),
        "pkg.high.api": {"pkg.low.one", "pkg"},
    }
    # Modules: low.one -> low.two -> high.api -> low.one, through the lazy import.
    assert find_cycle(graph) == ["pkg.high.api", "pkg.low.one", "pkg.low.two", "pkg.high.api"]
    assert find_cycle(subpackage_graph(graph)) == ["pkg.high", "pkg.low", "pkg.high"]


# -- dspex_worker -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(PYTHON_ROOT, PACKAGE)


def test_no_import_cycle_between_modules_of_dspex_worker(graph: Graph) -> None:
    assert "dspex_worker.protocol.frames" in graph  # the package was read
    assert_no_cycle(graph, "modules")


def test_no_import_cycle_between_subpackages_of_dspex_worker(graph: Graph) -> None:
    subpackages = subpackage_graph(graph)
    assert {"dspex_worker.codec", "dspex_worker.protocol"} <= set(subpackages)
    assert "dspex_worker.protocol" not in subpackages["dspex_worker.codec"]  # codec is the bottom
    assert_no_cycle(subpackages, "subpackages")


def test_dspex_worker_never_imports_the_test_package() -> None:
    offenders = [
        f"{name} imports {imported}"
        for name, path in modules(PYTHON_ROOT, PACKAGE).items()
        for imported in imported_names(path, name)
        if imported.split(".")[0] == TEST_PACKAGE
    ]
    assert offenders == [], "the shipped worker must not need the test package: " + "; ".join(offenders)
