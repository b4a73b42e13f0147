"""Run the Snakemake workflow for a written config. No other module starts Snakemake.

Call graph::

    run_workflow(workdir, config_path, profile, ...)
      ├─ snakemake_command(...)      python -m snakemake -s Snakefile --configfile ...
      ├─ subprocess (output -> log)  dies with its parent (PR_SET_PDEATHSIG)
      ├─ ProgressMonitor.poll()      plan/plan.json + progress/<id>.txt, every 0.25 s
      ├─ RunSummary.read             run/summary.json, or raise the recorded job error
      └─ relay_hand_overs(...)       the shard jobs' fallback hand-overs, logged here

Snakemake runs as a child process rather than through its Python API: the child owns
its logging and global state, can be stopped cleanly, and a plain user script calling
the API needs no ``if __name__ == "__main__"`` guard.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pixel_patrol_base import resources
from pixel_patrol_base.errors import ReportValidationError, WorkflowError
from pixel_patrol_base.pipeline.counts import read_count
from pixel_patrol_base.pipeline.run import layout
from pixel_patrol_base.pipeline.run.joblogs import relay_hand_overs
from pixel_patrol_base.pipeline.run.outputs import log_header
from pixel_patrol_base.pipeline.run.records import JobError, PlanRecord, RunSummary
from pixel_patrol_base.pipeline.run.slurm import slurm_arguments

ProgressCallback = Callable[[int, int], None]
POLL_S = 0.25


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _available_mem_mb() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def profile_dir(profile: str) -> Path:
    """Folder of a bundled profile name, or the given folder."""
    bundled = resources.profiles_dir() / profile
    return bundled if bundled.is_dir() else Path(profile)


def snakemake_command(config_path: Path, profile: str, cores: int | None) -> list[str]:
    """The Snakemake command line for a run."""
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(resources.snakefile()),
        "--configfile",
        str(config_path),
        "--profile",
        str(profile_dir(profile)),
        "--nolock",
    ]
    command += slurm_arguments(profile_dir(profile))
    if cores is not None:
        command += ["--cores", str(cores)]
    if profile == "local":
        mem = _available_mem_mb()
        if mem:
            command += ["--resources", f"mem_mb={int(mem * 0.8)}"]
    return command


class ProgressMonitor:
    """Reads progress of the current run from the workdir, without touching Snakemake."""

    def __init__(self, workdir: Path, started_ns: int, callback: ProgressCallback | None) -> None:
        self._workdir = workdir
        self._started_ns = started_ns
        self._callback = callback
        self._plan: PlanRecord | None = None
        self.done = 0
        self.total = -1

    def _load_plan(self) -> PlanRecord | None:
        if self._plan is None:
            try:
                plan = PlanRecord.read(layout.plan_file(self._workdir))
            except (OSError, ValueError):
                return None
            if plan.planned_at_ns >= self._started_ns:
                self._plan = plan
        return self._plan

    def poll(self) -> None:
        """Update ``done``/``total`` and call the callback.

        Until the plan is known, a callback with a ``listing(found)`` method (the CLI's
        progress bar) is also told how many files the plan job has listed so far.
        """
        plan = self._load_plan()
        listing = getattr(self._callback, "listing", None)
        if plan is None and callable(listing):
            found = read_count(layout.discovery_file(self._workdir), since_ns=self._started_ns)
            if found is not None:
                listing(found)
        if plan is not None:
            self.total = plan.n_files
            done = 0
            for shard in plan.shards:
                if shard.reused:
                    done += shard.n_files
                    continue
                done += read_count(layout.progress_file(self._workdir, shard.id)) or 0
            self.done = min(done, self.total)
        if self._callback is not None:
            self._callback(self.done, self.total)


def _raise_job_error(workdir: Path, log_path: Path, returncode: int) -> None:
    try:
        record: JobError | None = JobError.read(layout.error_file(workdir))
    except (OSError, ValueError):
        record = None
    if record is not None and record.type == "ReportValidationError":
        raise ReportValidationError(f"{record.message}\n(the chunks are kept in {workdir})")
    if record is not None:
        raise WorkflowError(f"{record.step} failed: {record.message} (log: {log_path})")
    lines = log_path.read_text("utf-8", errors="replace").splitlines() if log_path.exists() else []
    errors = [ln for ln in lines if "Error" in ln or "error" in ln][-5:]
    detail = "; ".join(e.strip() for e in errors) or f"exit status {returncode}"
    raise WorkflowError(f"the workflow failed: {detail} (full log: {log_path})")


def run_workflow(
    workdir: Path,
    config_path: Path,
    *,
    profile: str,
    cores: int | None,
    log_path: Path,
    progress_callback: ProgressCallback | None = None,
) -> RunSummary:
    """Run Snakemake on ``config_path`` (the config of ``workdir``) and return the summary.

    Raises:
        ReportValidationError: when the merge found rows that violate the catalog.
        WorkflowError: for any other failure (the message names the step and the log).
    """
    layout.error_file(workdir).unlink(missing_ok=True)
    layout.summary_file(workdir).unlink(missing_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started_ns = time.time_ns()
    monitor = ProgressMonitor(workdir, started_ns, progress_callback)
    monitor.poll()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log_path.open("w", encoding="utf-8") as log:
        log.write(log_header(workdir))  # marks the file as a run's log (outputs.py)
        log.flush()
        proc = subprocess.Popen(
            snakemake_command(config_path, profile, cores),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
            env=env,
            preexec_fn=_die_with_parent,
        )
        try:
            while proc.poll() is None:
                time.sleep(POLL_S)
                monitor.poll()
        except BaseException:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            raise
    monitor.poll()
    if proc.returncode != 0:
        _raise_job_error(workdir, log_path, proc.returncode)
    try:
        summary = RunSummary.read(layout.summary_file(workdir))
    except (OSError, ValueError) as exc:
        raise WorkflowError(
            f"the workflow ended without a run summary ({exc}); see the log: {log_path}"
        ) from exc
    relay_hand_overs(workdir, started_ns)
    return summary
