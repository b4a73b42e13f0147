"""One run per output at a time: an advisory lock on ``<workdir>/.lock``.

The lock is an ``fcntl.flock`` held for the whole run, so the kernel releases it when
the process dies, even on ``kill -9``; a crashed run never leaves a stale lock. The file
also records who holds it (pid, host, start time, command), which a second run names in
its error message.
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
from pixel_patrol_base.pipeline.run import layout


class RunLock:
    """Context manager holding the run lock of a workdir."""

    def __init__(self, workdir: Path, output: Path) -> None:
        self._path = workdir / layout.LOCK
        self._output = output
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._describe_holder(fd)
            os.close(fd)
            raise RunLockedError(
                f"another run is already writing '{self._output}' ({holder}); wait for it "
                "to finish or stop it, then run again"
            ) from None
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode("utf-8"), 0)
        self._fd = fd
        return self

    @staticmethod
    def _describe_holder(fd: int) -> str:
        try:
            record = json.loads(os.pread(fd, 65536, 0).decode("utf-8"))
            return (
                f"pid {record['pid']} on {record['host']}, started {record['started_at']}: "
                f"{record['command']}"
            )
        except (ValueError, KeyError, OSError):
            return "holder unknown"

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
