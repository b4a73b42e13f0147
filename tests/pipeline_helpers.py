"""Helpers shared by the pipeline tests: small real datasets and run utilities.

A module of its own, not conftest: test files import it by a name no other folder uses.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

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


def build_tree(base: Path) -> Path:
    """Write the dataset of the ``tree`` fixture at ``base`` (usable from wider-scoped fixtures)."""
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


TREE_FILES = (
    "a.txt",
    "control/deep/deeper/x.OME.TIF",
    "control/img 01.tif",
    "treated/notes.md",
    "treated/Ünïcødé 画像.png",
)
"""The relative paths a run on ``tree`` must list (sorted), hidden ones and the loop left out."""


def tiny_files(base: Path, n: int, per_folder: int = 100) -> list[Path]:
    """Write ``n`` tiny text files, each with its own content, in folders of ``per_folder``."""
    return [
        write_file(base / f"d{i // per_folder:03d}" / f"f{i:05d}.txt", f"file number {i}\n")
        for i in range(n)
    ]


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail the test, instead of hanging, when the block runs longer than ``seconds``.

    The failure is raised in the main thread, so a run in progress stops its Snakemake
    child on the way out.
    """

    def expire(signum: int, frame: FrameType | None) -> None:
        pytest.fail(f"did not finish within {seconds} s", pytrace=False)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def sorted_table(df: pl.DataFrame) -> pl.DataFrame:
    """Rows sorted by the row key, for comparing tables from different runs."""
    keys = [c for c in ("path", "child_id", "obs_level") if c in df.columns]
    return df.sort(keys, nulls_last=True)


def unprivileged_prefix() -> list[str] | None:
    """A command prefix that runs without root's power to ignore file modes, or None."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}"]
