"""Shared fixtures: small real datasets on disk and helpers to run the real pipeline."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest


def write_file(path: Path, content: bytes | str) -> Path:
    """Write ``content`` to ``path``, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, "utf-8")
    else:
        path.write_bytes(content)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A nested folder with hidden entries, a symlink loop, unicode and spaces in names."""
    base = tmp_path / "data"
    write_file(base / "a.txt", "alpha")
    write_file(base / "control" / "img 01.tif", b"\x00" * 10)
    write_file(base / "control" / "deep" / "deeper" / "x.OME.TIF", b"\x01" * 20)
    write_file(base / "treated" / "Ünïcødé 画像.png", b"\x02" * 30)
    write_file(base / "treated" / "notes.md", "# notes")
    write_file(base / ".hidden_file", "secret")
    write_file(base / ".hidden_dir" / "inside.tif", b"\x03")
    write_file(base / "control" / ".DS_Store", b"\x04")
    (base / "control" / "loop").symlink_to(base)  # a loop back to the base
    return base


def sorted_table(df: pl.DataFrame) -> pl.DataFrame:
    """Rows sorted by the row key, for comparing tables from different runs."""
    keys = [c for c in ("path", "child_id", "obs_level") if c in df.columns]
    return df.sort(keys, nulls_last=True)
