"""Hand-overs the shard jobs logged, repeated in the process that ran the workflow.

Shard jobs run in processes of their own (under Snakemake) and log to
``logs/shards/<id>.log``. When the ``bioio`` loader hands a file to a format's own library
(:mod:`pixel_patrol_base.loaders.bioio.fallback`), the job logs it there at INFO.
:func:`relay_hand_overs` repeats those records of the jobs that ran in this run through
the same logger here, so that whoever listens at INFO (``pixel-patrol process -v``) sees
which file went to which library and why. Not here: the jobs' own logging
(:mod:`pixel_patrol_base.pipeline.jobs`).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from pixel_patrol_base.pipeline.run import layout

HAND_OVER_LOGGER = "pixel_patrol_base.loaders.bioio.fallback"
"""The logger whose INFO records of the shard jobs are repeated."""
MAX_RELAYED = 200
"""Most records repeated; the rest are counted in one line that names the logs' folder."""

_RECORD = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (?P<level>[A-Z]+) (?P<name>[\w.]+): (?P<message>.*)$"
)
"""One record as the jobs' handler writes it (``%(asctime)s %(levelname)s %(name)s: ...``)."""


def relay_hand_overs(workdir: Path, since_ns: int) -> int:
    """Repeat the hand-over records of the shard logs written since ``since_ns``.

    Nothing is read when the logger would drop INFO records. Logs of shards this run
    reused (not rewritten since ``since_ns``) are left alone.

    Returns:
        How many hand-over records the logs hold (0 when nothing listens).
    """
    logger = logging.getLogger(HAND_OVER_LOGGER)
    if not logger.isEnabledFor(logging.INFO):
        return 0
    folder = (workdir / layout.SHARD_LOG_PATTERN.format(shard="x")).parent
    logs = sorted(folder.glob("*.log")) if folder.is_dir() else []
    found = 0
    for log in logs:
        try:
            if log.stat().st_mtime_ns < since_ns:
                continue
            lines = log.read_text("utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            record = _RECORD.match(line)
            if record is None or record["name"] != HAND_OVER_LOGGER or record["level"] != "INFO":
                continue
            found += 1
            if found <= MAX_RELAYED:
                logger.info("%s", record["message"])
    if found > MAX_RELAYED:
        logger.info("... and %d more hand-overs; see the shard logs in %s",
                    found - MAX_RELAYED, folder)  # fmt: skip
    return found
