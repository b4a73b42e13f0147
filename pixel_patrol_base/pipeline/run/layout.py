"""Names of the files and folders inside a workdir, in one place.

The Snakemake rules (through ``workflow/rules/common.smk``), the jobs, the runner and the
API all go through these names, so the layout of ``<workdir>/`` is defined once::

    .pixel-patrol-workdir        marker: this folder is a PixelPatrol workdir (and whose)
    .lock                        the run lock (who holds it: pid, host, output)
    config.yaml                  the run's config (written by the API, or by hand)
    plan/plan.json               the current plan (checkpoint output)
    plan/handoff.json            a plan the API made while checking for changes, which
                                 this run's plan job takes instead of listing again
    shards/<id>.json             one content-addressed shard: its file entries
    chunks/<id>.parquet          the rows of one shard
    progress/<id>.txt            files done so far by a running shard job
    progress/discovery.txt       files listed so far by the plan job
    logs/                        Snakemake and per-job logs
    benchmarks/                  Snakemake's per-job benchmarks
    run/summary.json             counts and timings of the last merge
    run/error.json               type and message of the last failed job

The ``*_PATTERN`` strings are relative to the workdir (Snakemake's working directory) and
hold the wildcard ``{shard}``; the functions give absolute paths for one shard.
"""

from __future__ import annotations

from pathlib import Path

CONFIG = "config.yaml"
LOCK = ".lock"
MARKER = ".pixel-patrol-workdir"
"""Written by the run lock into every workdir it claims; a folder without it (or a lock) is
not taken for a workdir, so it is never cleared or written into."""
PLAN = "plan/plan.json"
PLAN_HANDOFF = "plan/handoff.json"
SUMMARY = "run/summary.json"
ERROR = "run/error.json"
SHARD_PATTERN = "shards/{shard}.json"
CHUNK_PATTERN = "chunks/{shard}.parquet"
PROGRESS_PATTERN = "progress/{shard}.txt"
DISCOVERY = "progress/discovery.txt"
SNAKEMAKE_LOG = "logs/snakemake.log"
PLAN_LOG = "logs/plan.log"
MERGE_LOG = "logs/merge.log"
SHARD_LOG_PATTERN = "logs/shards/{shard}.log"
MERGE_BENCHMARK = "benchmarks/merge.tsv"
SHARD_BENCHMARK_PATTERN = "benchmarks/shards/{shard}.tsv"
SHARD_FOLDERS = {"shards": ".json", "chunks": ".parquet", "progress": ".txt"}
"""Folders holding one file per shard (named ``<id><suffix>``), by suffix."""


def plan_file(workdir: Path) -> Path:
    """The checkpoint output listing the current shards."""
    return workdir / PLAN


def plan_handoff_file(workdir: Path) -> Path:
    """A plan the API made in this run's change check, for the plan job to take over."""
    return workdir / PLAN_HANDOFF


def shard_file(workdir: Path, shard_id: str) -> Path:
    """The entries of one shard."""
    return workdir / SHARD_PATTERN.format(shard=shard_id)


def chunk_file(workdir: Path, shard_id: str) -> Path:
    """The rows of one processed shard."""
    return workdir / CHUNK_PATTERN.format(shard=shard_id)


def progress_file(workdir: Path, shard_id: str) -> Path:
    """The running count of files a shard job has finished."""
    return workdir / PROGRESS_PATTERN.format(shard=shard_id)


def discovery_file(workdir: Path) -> Path:
    """The running count of files the plan job has listed so far."""
    return workdir / DISCOVERY


def summary_file(workdir: Path) -> Path:
    """Counts and timings of the last successful merge."""
    return workdir / SUMMARY


def error_file(workdir: Path) -> Path:
    """Type and message of the last failure of a job, for the runner to re-raise."""
    return workdir / ERROR


def marker_file(workdir: Path) -> Path:
    """The marker telling a PixelPatrol workdir from any other folder."""
    return workdir / MARKER


def lock_file(workdir: Path) -> Path:
    """The run lock of a workdir."""
    return workdir / LOCK


def snakemake_log(workdir: Path) -> Path:
    """Snakemake's own log of a run started by the API or the CLI."""
    return workdir / SNAKEMAKE_LOG
