"""Running counts that a job writes to a small file and the runner reads back.

Belongs here: :class:`CountWriter` (throttled, atomic writes of one integer) and
:func:`read_count`. The shard jobs write the files they have finished
(``progress/<shard>.txt``) and the plan job the files it has listed so far
(``progress/discovery.txt``); :class:`~pixel_patrol_base.pipeline.run.runner.ProgressMonitor`
reads them to drive the progress callback, without talking to Snakemake.
"""

from __future__ import annotations

import time
from pathlib import Path

from pixel_patrol_base.pipeline.atomic import write_text_atomic


class CountWriter:
    """Writes a running count to ``path``, at most once per ``interval_s`` (atomically)."""

    def __init__(self, path: Path, interval_s: float = 0.5) -> None:
        self._path = path
        self._interval = interval_s
        self._last = 0.0
        path.parent.mkdir(parents=True, exist_ok=True)

    def update(self, count: int, *, force: bool = False) -> None:
        """Record ``count`` if the interval has passed (or ``force``)."""
        now = time.monotonic()
        if force or now - self._last >= self._interval:
            write_text_atomic(self._path, str(count), "ascii")
            self._last = now


def read_count(path: Path, *, since_ns: int = 0) -> int | None:
    """The count in ``path``; ``None`` when it is missing, unreadable or older than ``since_ns``."""
    try:
        if path.stat().st_mtime_ns < since_ns:
            return None
        return int(path.read_text("ascii"))
    except (OSError, ValueError):
        return None
