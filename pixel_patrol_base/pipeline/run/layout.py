"""Names of the files and folders inside a workdir, in one place.

Every rule, job and the runner go through these helpers, so the layout of
``<workdir>/`` is defined once::

    config.yaml            the run's config (written by the API, or by hand)
    plan/plan.json         the current plan (checkpoint output)
    shards/<id>.json       one content-addressed shard: its file entries
    chunks/<id>.parquet    the rows of one shard
    progress/<id>.txt      files done so far by a running shard job
    logs/                  Snakemake and per-job logs
    run/                   summary and error record of the last merge
"""

from __future__ import annotations

from pathlib import Path

CONFIG = "config.yaml"
PLAN = "plan/plan.json"
LOCK = ".lock"


def plan_file(workdir: Path) -> Path:
    """The checkpoint output listing the current shards."""
    return workdir / PLAN


def shard_file(workdir: Path, shard_id: str) -> Path:
    """The entries of one shard."""
    return workdir / "shards" / f"{shard_id}.json"


def chunk_file(workdir: Path, shard_id: str) -> Path:
    """The rows of one processed shard."""
    return workdir / "chunks" / f"{shard_id}.parquet"


def progress_file(workdir: Path, shard_id: str) -> Path:
    """The running count of files a shard job has finished."""
    return workdir / "progress" / f"{shard_id}.txt"


def summary_file(workdir: Path) -> Path:
    """Counts and timings of the last successful merge."""
    return workdir / "run" / "summary.json"


def error_file(workdir: Path) -> Path:
    """Type and message of the last failure of a job, for the runner to re-raise."""
    return workdir / "run" / "error.json"
