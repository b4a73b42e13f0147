"""profiles/slurm against a live single-node SLURM: a full run, grouping, scancel and rerun."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from cluster_helpers import local_table, sorted_rows, write_images
from pipeline_helpers import deadline, tiny_files
from slurm_harness import (
    OTHER_PARTITION,
    LocalSlurm,
    has_partition,
    job_partitions,
    job_states,
    running_jobs,
)

from pixel_patrol_base import api, resources
from pixel_patrol_base.pipeline.run import layout
from pixel_patrol_base.project import workdir_for

pytestmark = pytest.mark.cluster

RUN_TIMEOUT_S = 300
"""A run that takes longer has hung (e.g. lost track of its jobs): the test fails."""
N_IMAGES = 8
MAX_IMAGES_PER_TASK = 6
SUBMITTED = re.compile(r"submitted with SLURM jobid (\d+)")
PIXEL_PATROL = str(Path(sys.executable).with_name("pixel-patrol"))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame]:
    """Eight tiny TIFFs (three shards) and the table of a local-profile run on them."""
    root = tmp_path_factory.mktemp("slurm_data")
    data = root / "data"
    write_images(data, N_IMAGES, seed=6)
    return data, local_table(data, root / "local.parquet", max_images_per_task=MAX_IMAGES_PER_TASK)


def process(data: Path, out: Path, *options: str) -> subprocess.Popen[str]:
    """Start ``pixel-patrol process``, the way a user on a login node would."""
    return subprocess.Popen(
        [PIXEL_PATROL, "process", str(data), "-o", str(out), "-l", "tifffile", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """Exit status and output of a run; fails the test when it does not end on its own."""
    try:
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"the run did not end within {RUN_TIMEOUT_S} s", pytrace=False)
    return proc.returncode, out + (err or "")


def workdir_of(out: Path) -> Path:
    return workdir_for(out.resolve())


def submitted_jobs(workdir: Path) -> list[str]:
    """SLURM job ids Snakemake reported submitting, in order."""
    return SUBMITTED.findall((workdir / "logs" / "snakemake.log").read_text("utf-8"))


def shard_ids(workdir: Path) -> list[str]:
    plan = json.loads(layout.plan_file(workdir).read_text("utf-8"))
    return [shard["id"] for shard in plan["shards"]]


def assert_complete(out: Path, local: pl.DataFrame) -> None:
    """The report has every image once and equals the local-profile table."""
    df = sorted_rows(api.load(out)[0])
    level0 = df.filter(pl.col("obs_level") == 0)
    assert level0["path"].n_unique() == level0.height == N_IMAGES
    assert df.select(["path", "child_id", "obs_level"]).is_duplicated().sum() == 0
    assert df.equals(local)


def test_slurm_profile_runs_every_job_in_slurm(
    slurm: LocalSlurm, dataset: tuple[Path, pl.DataFrame], tmp_path: Path
) -> None:
    data, local = dataset
    out = tmp_path / "report.parquet"
    # The harness's SLURM has a second, non-default partition; ask for it by option.
    partition = ["--slurm-partition", OTHER_PARTITION] if has_partition(OTHER_PARTITION) else []
    started = time.perf_counter()
    returncode, output = finish(
        process(
            data,
            out,
            "--profile",
            "slurm",
            *partition,
            "--max-images-per-task",
            str(MAX_IMAGES_PER_TASK),
        )
    )
    elapsed = time.perf_counter() - started
    assert returncode == 0, output[-3000:]

    workdir = workdir_of(out)
    jobs = submitted_jobs(workdir)
    states = job_states()
    assert jobs, "no job was submitted to SLURM"
    assert all(states.get(job) == "COMPLETED" for job in jobs), (jobs, states)
    if partition:
        partitions = job_partitions()
        assert all(partitions[job] == OTHER_PARTITION for job in jobs), partitions
    shards = shard_ids(workdir)
    # Grouping: the shipped profile puts up to 8 shards in one job; the merge is one more.
    assert len(shards) >= 3
    assert len(jobs) < len(shards)
    assert_complete(out, local)
    print(f"SLURM end-to-end {elapsed:.1f} s: {len(jobs)} jobs for {len(shards)} shards")


def write_run_config(data: Path, out: Path) -> Path:
    """Write the run's config.yaml as `pixel-patrol process` would, without running it."""
    from pixel_patrol_base.pipeline.run.config import build_config, write_config
    from pixel_patrol_base.settings import resolve_settings

    project = api.create_project("by-hand", data, loader="tifffile", output_path=out)
    settings = resolve_settings(max_images_per_task=MAX_IMAGES_PER_TASK, profile="slurm")
    config_path = project.workdir / layout.CONFIG
    write_config(build_config(project, settings), config_path)
    return config_path


def test_plain_snakemake_cancelled_job_then_rerun_does_only_the_missing_shards(
    slurm: LocalSlurm, dataset: tuple[Path, pl.DataFrame], tmp_path: Path
) -> None:
    data, local = dataset
    out = tmp_path / "report.parquet"
    workdir = workdir_of(out)
    # Plain snakemake with the shipped profile, from the workdir, as on a login node (the
    # profile's slurm-logdir is relative to where Snakemake starts). From the command line:
    # no retries (the cancelled job fails the run instead of being resubmitted) and one
    # shard per job (so the other jobs complete).
    command = [sys.executable, "-m", "snakemake", "-s", str(resources.snakefile())]
    command += ["--configfile", str(write_run_config(data, out))]
    command += ["--profile", str(resources.profiles_dir() / "slurm"), "--cores", "2"]
    command += ["--retries", "0", "--group-components", "shards=1"]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=workdir
    )
    limit = time.monotonic() + RUN_TIMEOUT_S
    while not (running := running_jobs(workdir)):
        if proc.poll() is not None or time.monotonic() > limit:
            proc.kill()
            pytest.fail(f"no job ran: {finish(proc)[1][-3000:]}", pytrace=False)
        time.sleep(0.2)
    subprocess.run(["scancel", running[0]], check=True, timeout=30)
    returncode, output = finish(proc)
    assert returncode == 1, output[-3000:]
    states = job_states()
    assert states.get(running[0]) == "CANCELLED", states
    jobs = SUBMITTED.findall(output)
    assert running[0] in jobs
    assert any(states.get(job) == "COMPLETED" for job in jobs), (jobs, states)

    shards = shard_ids(workdir)
    chunks = workdir / "chunks"
    kept = {p.name: p.stat().st_mtime_ns for p in chunks.glob("*.parquet")}
    assert 0 < len(kept) < len(shards), (kept, shards)

    project = api.create_project("by-hand", data, loader="tifffile", output_path=out)
    with deadline(RUN_TIMEOUT_S):
        api.process_files(project, profile="slurm", max_images_per_task=MAX_IMAGES_PER_TASK)
    summary = project.last_run or {}
    assert summary["shards_processed"] == len(shards) - len(kept)
    assert summary["shards_reused"] == len(kept)
    assert {name: (chunks / name).stat().st_mtime_ns for name in kept} == kept
    assert_complete(out, local)


def test_a_20k_file_run_is_submitted_as_few_jobs(slurm: LocalSlurm, tmp_path: Path) -> None:
    # File information only (-l none): 20,000 rows are a second of work, so the planner
    # makes a few shards of them (content-defined cuts: 4 for these names), not forty as
    # it did; grouped, and with the merge, SLURM sees two or three jobs.
    data = tmp_path / "many"
    tiny_files(data, 20_000, per_folder=1000)
    out = tmp_path / "many.parquet"
    command = [PIXEL_PATROL, "process", str(data), "-o", str(out), "-l", "none"]
    proc = subprocess.Popen(
        [*command, "--profile", "slurm"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    returncode, output = finish(proc)
    assert returncode == 0, output[-3000:]
    jobs = submitted_jobs(workdir_of(out))
    assert 1 <= len(jobs) <= 3, jobs
    assert all(job_states().get(job) == "COMPLETED" for job in jobs)
    assert len(shard_ids(workdir_of(out))) <= 4
    assert api.load(out)[0].filter(pl.col("obs_level") == 0).height == 20_000
