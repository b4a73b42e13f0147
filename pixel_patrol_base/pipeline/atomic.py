"""Atomic file writes: a reader sees the old content or the new, never half a file.

Every file PixelPatrol writes through a temporary file (the report, the chunks, the
config and the run records) gets its temporary from :func:`new_temp_file`, which creates
it with mode ``0o666`` filtered by the process umask, as ``open()`` would. So what a run
writes honours the umask (``022`` gives ``0644``, ``077`` gives ``0600``); Python's
``tempfile.mkstemp`` would make every one of them ``0600`` whatever the umask.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

FILE_MODE = 0o666
"""Mode asked for new files; the kernel clears the umask's bits from it."""

_ATTEMPTS = 100


def temp_name(path: Path) -> str:
    """The name pattern of the temporary files beside ``path``: ``.<name>.<random>.tmp``."""
    return f".{path.name}.{secrets.token_hex(4)}.tmp"


def new_temp_file(path: Path) -> Path:
    """Create a new, empty, hidden temporary file beside ``path`` and return its path.

    The name is ``.<name>.<8 hex digits>.tmp`` (what :func:`temp_name` gives), created
    exclusively (``O_EXCL``), so it never replaces an existing file. Its mode is
    :data:`FILE_MODE` less the umask. The folder must exist.

    Raises:
        FileExistsError: when no free name was found (practically never).
        OSError: when the folder cannot be written.
    """
    for _ in range(_ATTEMPTS):
        candidate = path.with_name(temp_name(path))
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            continue
        os.close(fd)
        return candidate
    raise FileExistsError(f"no free temporary name beside '{path}'")


def write_text_atomic(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` through a hidden temporary file beside it and a rename.

    The folder is created when missing. A by-hand Snakemake run, the progress reader or
    a concurrent planner therefore never reads a partly written file. The file's mode
    honours the umask.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = new_temp_file(path)
    try:
        tmp.write_text(text, encoding)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
