"""The static viewer's JavaScript reproduces the shared vectors, run under node.

``viewer/static/test/vectors.mjs`` imports the pure modules of ``viewer/static/src``
(formats, specs, palettes, widgets, compile) straight from the tree, with no bundler
and no npm packages, and prints one outcome per case of each vector file; the Python
twins are held to the same files by tests/widgets.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pixel_patrol_base import resources

VECTOR_DIR = Path(__file__).parents[1] / "widgets"
RUNNER = resources.viewer_dir() / "static" / "test" / "vectors.mjs"


def _node_outcomes(*files: Path) -> dict[str, list[dict[str, Any]]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing; install Node.js (it also builds the static viewer)")
    proc = subprocess.run(
        [node, str(RUNNER), *map(str, files)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    outcomes: dict[str, list[dict[str, Any]]] = json.loads(proc.stdout)
    return outcomes


def test_javascript_reproduces_the_render_vectors() -> None:
    vectors = json.loads((VECTOR_DIR / "render_vectors.json").read_text("utf-8"))
    outcomes = _node_outcomes(VECTOR_DIR / "render_vectors.json")["render_vectors.json"]
    assert len(outcomes) == len(vectors["cases"]) > 80
    wrong = []
    for case, outcome in zip(vectors["cases"], outcomes, strict=True):
        want = {"error": case["error"]} if "error" in case else {"result": case["expected"]}
        if outcome != want:
            wrong.append((case["function"], case["name"], outcome, want))
    assert wrong == []


def test_javascript_compiler_reproduces_the_sql_vectors_under_node() -> None:
    vectors = json.loads((VECTOR_DIR / "sql_vectors.json").read_text("utf-8"))
    outcomes = _node_outcomes(VECTOR_DIR / "sql_vectors.json")["sql_vectors.json"]
    assert len(outcomes) == len(vectors["cases"]) > 10
    for case, outcome in zip(vectors["cases"], outcomes, strict=True):
        assert outcome.get("result", outcome) == case["expected"], case["name"]


SAFETY_VECTORS = Path(__file__).parent / "safety_vectors.json"
SAFETY_RUNNER = resources.viewer_dir() / "static" / "test" / "safety.mjs"


def test_javascript_address_checks_reproduce_the_safety_vectors() -> None:
    """``?data=`` origins and bookmark parameters (source.js, bookmark.js), under node."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing; install Node.js (it also builds the static viewer)")
    proc = subprocess.run(
        [node, str(SAFETY_RUNNER), str(SAFETY_VECTORS)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    cases = json.loads(SAFETY_VECTORS.read_text("utf-8"))["cases"]
    outcomes = json.loads(proc.stdout)
    assert len(outcomes) == len(cases) > 15
    wrong = [
        (c["name"], o, c["expected"])
        for c, o in zip(cases, outcomes, strict=True)
        if o != {"result": c["expected"]}
    ]
    assert wrong == []
    kinds = {c["expected"]["kind"] for c in cases if c["function"] == "data_source"}
    assert kinds == {"local", "confirm", "invalid"}


def test_the_compilers_axes_and_reserved_names_are_pythons() -> None:
    """compile.js spells out the dimension axes and reserved placeholders Python declares."""
    from pixel_patrol_base.viewing import widgets as pw
    from pixel_patrol_base.viewing.widgets.sql import RESERVED

    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing; install Node.js (it also builds the static viewer)")
    module = (resources.viewer_dir() / "static" / "src" / "compile.js").as_uri()
    script = (
        f"import({json.dumps(module)}).then((m) => "
        "console.log(JSON.stringify({axes: m.AXES, reserved: m.RESERVED})))"
    )
    proc = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout) == {"axes": list(pw.DIM_AXES), "reserved": list(RESERVED)}
