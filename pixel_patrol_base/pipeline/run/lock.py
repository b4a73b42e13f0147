"""One run per workdir at a time: an advisory lock on ``<workdir>/.lock``.

The lock is an ``fcntl.flock`` held for the whole run, so the kernel releases it when
the process dies, even on ``kill -9``; a crashed run never leaves a stale lock. The file
also records who holds it (pid, host, start time, command and the output it writes),
which a second run names in its error message. Taking the lock claims the folder as a
workdir: it writes the marker (:data:`~pixel_patrol_base.pipeline.run.layout.MARKER`)
that :mod:`pixel_patrol_base.pipeline.run.outputs` looks for before it lets a run write
into an existing folder.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from pixel_patrol_base.errors import RunLockedError
from pixel_patrol_base.pipeline.atomic import FILE_MODE, write_text_atomic
from pixel_patrol_base.pipeline.run import layout


class RunLock:
    """Context manager holding the run lock of a workdir."""

    def __init__(self, workdir: Path, output: Path) -> None:
        self._workdir = workdir
        self._path = layout.lock_file(workdir)
        self._output = output
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            message = self._locked_message(fd)
            os.close(fd)
            raise RunLockedError(message) from None
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv),
            "output": str(self._output),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode("utf-8"), 0)
        self._fd = fd
        claim_workdir(self._workdir, self._output)
        return self

    def _locked_message(self, fd: int) -> str:
        """Why the lock is refused: the holder's output, pid, host, start and command."""
        try:
            record = json.loads(os.pread(fd, 65536, 0).decode("utf-8"))
            holder = (
                f"pid {record['pid']} on {record['host']}, started {record['started_at']}: "
                f"{record['command']}"
            )
            holder_output = str(record.get("output") or self._output)
        except (ValueError, KeyError, TypeError, OSError):
            holder, holder_output = "holder unknown", str(self._output)
        if holder_output == str(self._output):
            return (
                f"another run is already writing '{self._output}' ({holder}); wait for it "
                "to finish or stop it, then run again"
            )
        return (
            f"the workdir '{self._workdir}' of '{self._output}' is in use by another run, "
            f"writing '{holder_output}' ({holder}); wait for it to finish, or give this "
            "output a workdir of its own"
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def claim_workdir(workdir: Path, output: Path) -> None:
    """Mark ``workdir`` as the PixelPatrol workdir of ``output`` (once; a marker stays).

    Both the run lock and :func:`~pixel_patrol_base.pipeline.run.config.write_config` claim
    the folder, so a workdir prepared for a by-hand ``snakemake`` run is recognised later.
    """
    marker = layout.marker_file(workdir)
    if not marker.exists():
        claim = {"pixel_patrol_workdir": 1, "output": str(output)}
        write_text_atomic(marker, json.dumps(claim) + "\n")
