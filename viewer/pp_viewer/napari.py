""" "Open in napari": the local viewer starts napari on the image's original file.

Only where napari is importable in the viewer's Python (:func:`available`); the button is
absent otherwise. napari runs as a new, detached process (``python -m napari FILE``, no
shell, its own session), so closing either program leaves the other running. The file is
the report's ``base_dir`` joined with the image's ``path``; a report that omits its base
folder has no file to open. Nothing here is imported by the static viewer.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import threading
from pathlib import Path


def available() -> bool:
    """Whether ``import napari`` would find a module (without importing it)."""
    return importlib.util.find_spec("napari") is not None


def original_file(base_dir: str | None, path: str) -> Path | None:
    """The image's file on disk (links resolved), or None when the report has no base_dir."""
    if not base_dir:
        return None
    file = Path(base_dir) / path
    return file.resolve() if file.exists() else file


def open_file(file: Path) -> subprocess.Popen[bytes]:
    """Start ``python -m napari FILE`` detached from the viewer (new session, no shell).

    A daemon thread waits for it, so that it is reaped when the user closes napari.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "napari", str(file)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )
    threading.Thread(target=process.wait, name="napari-reaper", daemon=True).start()
    return process
