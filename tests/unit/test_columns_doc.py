"""docs/columns.md lists every column exactly as ``pixel-patrol schema`` declares it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).parents[2] / "docs" / "columns.md"


def test_the_columns_page_equals_the_schema_output() -> None:
    # A fresh process: only the installed (built-in) plugins, nothing a test registered.
    printed = subprocess.run(
        [sys.executable, "-m", "pixel_patrol_base.cli", "schema", "--format", "markdown"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    table = DOC.read_text("utf-8").split("\n\n", 2)[2]
    assert table == printed, (
        "docs/columns.md is out of date; regenerate its table with "
        "`pixel-patrol schema --format markdown`"
    )
