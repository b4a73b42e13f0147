"""The package's modules import each other without a cycle.

The graph is read from the source with :mod:`ast`, never by importing anything: a node
per module of ``pixel_patrol_base/`` (a package is its ``__init__``), an edge from a
module to each module of the package that it imports. Rules:

- Every ``import x`` and ``from x import y`` counts, at module level and inside
  functions and classes alike. A function-level import runs only when the function is
  called, so it cannot break an import, but a cycle through it still means that two
  modules each need the other (the kernels / statistics cycle that this test was written
  for went through one); a module that needs a lazy import to stay cheap names a
  module that does not import it back.
- Imports under ``if TYPE_CHECKING:`` do not count: they never run.
- ``from pkg import name`` is an edge to the submodule ``pkg.name`` when there is one,
  else to ``pkg``; ``import a.b.c`` and relative imports are resolved to the longest
  module of the package they name.
- A module is not given an edge to its parent packages. Python runs a package's
  ``__init__`` before its submodules, and such edges would make every ``__init__`` that
  re-exports its submodules a cycle with them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import pixel_patrol_base

PACKAGE_ROOT = Path(pixel_patrol_base.__file__).parent

Graph = dict[str, set[str]]


def _modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> source file, for the package in folder ``root``."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name, *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement of ``tree``, nested ones too, but none under
    ``if TYPE_CHECKING:`` (its ``else:`` branch still counts)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The longest module of the package that ``name`` starts with (``None``: outside)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in modules:
            return prefix
    return None


def _targets(
    node: ast.Import | ast.ImportFrom, module: str, modules: dict[str, Path]
) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            target = _known(alias.name, modules)
            if target is not None:
                yield target
        return
    base = node.module or ""
    if node.level:
        is_package = modules[module].name == "__init__.py"
        package = module.split(".")
        package = package if is_package else package[:-1]
        anchor = package[: len(package) - (node.level - 1)]
        base = ".".join([*anchor, *([base] if base else [])])
    for alias in node.names:
        target = _known(f"{base}.{alias.name}", modules) if alias.name != "*" else None
        if target != f"{base}.{alias.name}":
            target = _known(base, modules)
        if target is not None:
            yield target


def import_graph(root: Path) -> Graph:
    """module -> the modules of the package it imports (see the module docstring)."""
    modules = _modules(root)
    graph: Graph = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _import_nodes(tree):
            graph[name].update(t for t in _targets(node, name, modules) if t != name)
    return graph


def find_cycle(graph: Graph) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or ``None`` when the graph has none."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path, on_path = [start], {start}
        branches = [iter(sorted(graph[start]))]
        while branches:
            step = next(branches[-1], None)
            if step is None:  # every import of path[-1] explored: no cycle through it
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                branches.pop()
                continue
            if step in on_path:
                return [*path[path.index(step) :], step]
            if step not in done:
                path.append(step)
                on_path.add(step)
                branches.append(iter(sorted(graph[step])))
    return None


def _cycle_message(cycle: list[str]) -> str:
    return "import cycle: " + " -> ".join(cycle)


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph(PACKAGE_ROOT)
    assert len(graph) > 50  # the walk found the package's modules
    assert "pixel_patrol_base.imaging.types" in graph["pixel_patrol_base.imaging.stats"]
    cycle = find_cycle(graph)
    assert cycle is None, _cycle_message(cycle or [])


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / next(iter(files)).split("/")[0]


def test_a_planted_cycle_is_found(tmp_path: Path) -> None:
    package = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/c.py": "def later():\n    from ..a import thing\n",
            "pkg/b.py": "import os\nimport pkg.sub.c\n",
        },
    )
    cycle = find_cycle(import_graph(package))
    assert cycle == ["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"], cycle
    with pytest.raises(AssertionError, match=r"import cycle: pkg\.a -> pkg\.b"):
        assert cycle is None, _cycle_message(cycle)


def test_type_checking_imports_and_attributes_make_no_edge(tmp_path: Path) -> None:
    package = _write(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.a import VALUE\n",
            "pkg/a.py": (
                "from typing import TYPE_CHECKING\n"
                "from pkg import helper\n"
                "if TYPE_CHECKING:\n"
                "    from pkg.b import Thing\n"
                "else:\n"
                "    from . import c\n"
                "VALUE = 1\n"
            ),
            "pkg/b.py": "from pkg.a import VALUE\n",
            "pkg/c.py": "from pkg import VALUE\n",
            "pkg/helper.py": "",
        },
    )
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg.helper", "pkg.c"}
    assert graph["pkg.b"] == {"pkg.a"}
    assert graph["pkg.c"] == {"pkg"}  # VALUE is an attribute of pkg, not a module
    assert graph["pkg"] == {"pkg.a"}
    assert find_cycle(graph) == ["pkg", "pkg.a", "pkg.c", "pkg"]
