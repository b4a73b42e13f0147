"""Atomic file writes: a reader sees the old content or the new, never half a file."""

from __future__ import annotations

import os
from pathlib import Path


def write_text_atomic(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` through a hidden temporary file beside it and a rename.

    The folder is created when missing. A by-hand Snakemake run, the progress reader or
    a concurrent planner therefore never reads a partly written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
