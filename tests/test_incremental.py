"""Incremental reruns on real Snakemake runs: what is reprocessed, and what survives.

A shard's id hashes its files (path, size, mtime) and the processing fingerprint, so a
rerun reprocesses only shards whose files or result-changing settings changed; a killed
run resumes; a bad chunk fails the merge without touching the previous report.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from pipeline_helpers import TREE_FILES, build_tree, deadline, sorted_table, tiny_files, write_file

from pixel_patrol_base import api
from pixel_patrol_base.errors import ReportValidationError, RunLockedError
from pixel_patrol_base.pipeline.run import layout
from pixel_patrol_base.project import workdir_for

pytestmark = pytest.mark.slow

COMMON: dict[str, Any] = {"processors_included": set(), "max_workers": 2}
KEY = ["path", "child_id", "obs_level", "dim_t", "dim_c", "dim_z", "dim_y", "dim_x", "dim_s"]


@pytest.fixture(autouse=True)
def _fail_instead_of_hanging() -> Iterator[None]:
    with deadline(240):
        yield


def _chunks(workdir: Path) -> list[Path]:
    folder = workdir / "chunks"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == ".parquet" and p.name[0] != ".")


def _summary_file(workdir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((workdir / "run" / "summary.json").read_text("utf-8"))
    return data


def _last_run(project: api.Project) -> dict[str, Any]:
    assert project.last_run is not None
    return project.last_run


def _assert_unique_keys(df: pl.DataFrame) -> None:
    key = [c for c in KEY if c in df.columns]
    assert not df.select(key).is_duplicated().any(), "duplicate row keys"


# --- nothing changed / cosmetic change ------------------------------------------------


@dataclass
class Processed:
    project: api.Project
    base: Path
    first: dict[str, Any]
    df: pl.DataFrame


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> Processed:
    base = build_tree(tmp_path_factory.mktemp("incremental") / "data")
    project = api.create_project("inc", base)
    with deadline(240):
        api.process_files(project, description="original", **COMMON)
    df, _ = api.load(project.output_path)
    return Processed(project, base, dict(_last_run(project)), df)


def test_no_change_rerun_processes_nothing(
    processed: Processed,
    snakemake_by_hand: Callable[[Path], subprocess.CompletedProcess[str]],
) -> None:
    project = processed.project
    before = project.output_path.stat()
    calls: list[tuple[int, int]] = []
    api.process_files(
        project,
        description="original",
        progress_callback=lambda done, total: calls.append((done, total)),
        **COMMON,
    )
    run = _last_run(project)
    assert run["shards_processed"] == 0
    assert run["shards_reused"] == run["shards"] == processed.first["shards"]
    assert run["shard_ids"] == processed.first["shard_ids"]
    assert run["files"] == len(TREE_FILES)
    assert calls and calls[-1] == (len(TREE_FILES), len(TREE_FILES))
    after = project.output_path.stat()
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)
    assert sorted_table(api.load(project.output_path)[0]).equals(sorted_table(processed.df))

    # The same through Snakemake itself (by hand, as documented in the Snakefile).
    result = snakemake_by_hand(project.workdir)
    log = result.stdout + result.stderr
    assert "rule process_shard:" not in log  # matches 'localrule process_shard:' too
    summary = _summary_file(project.workdir)
    assert summary["shards_processed"] == 0
    assert summary["shards_reused"] == summary["shards"] == processed.first["shards"]
    assert sorted_table(api.load(project.output_path)[0]).equals(sorted_table(processed.df))


def test_cosmetic_change_only_merges(processed: Processed) -> None:
    project = processed.project
    api.process_files(project, description="a new description", flavor="brightfield", **COMMON)
    run = _last_run(project)
    assert run["shards_processed"] == 0
    assert run["shards_reused"] == run["shards"]
    df, meta = api.load(project.output_path)
    assert meta.description == "a new description"
    assert meta.flavor == "brightfield"
    assert meta.counts["shards_processed"] == 0
    assert sorted_table(df).equals(sorted_table(processed.df))


def test_processors_changed_reprocesses_every_shard(tmp_path: Path) -> None:
    base = tmp_path / "data"
    names = ["one.txt", "sub/two.txt"]
    for name in names:
        write_file(base / name, name)
    project = api.create_project("procs", base)
    api.process_files(project, processors_included={"raster-basic"}, max_workers=2)
    first = dict(_last_run(project))
    api.process_files(
        project, processors_included={"raster-basic", "raster-histogram"}, max_workers=2
    )
    second = _last_run(project)
    assert second["shards_reused"] == 0
    assert second["shards_processed"] == second["shards"] >= 1
    assert not set(second["shard_ids"]) & set(first["shard_ids"])
    df, meta = api.load(project.output_path)
    assert set(meta.processors) == {"raster-basic", "raster-histogram"}
    assert sorted(df["path"].to_list()) == names


# --- one file added / removed in a large dataset ---------------------------------------


@dataclass
class Large:
    project: api.Project
    base: Path
    settings: dict[str, Any]


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Large:
    base = tmp_path_factory.mktemp("large") / "data"
    tiny_files(base, 1000)
    project = api.create_project("large", base, output_path=base.parent / "large.parquet")
    settings = {**COMMON, "max_images_per_task": 600}
    with deadline(240):
        api.process_files(project, **settings)
    run = _last_run(project)
    assert run["files"] == 1000
    assert run["shards"] >= 8, "too few shards for the test to mean anything"
    return Large(project, base, settings)


def test_adding_one_file_reprocesses_at_most_two_shards(large: Large) -> None:
    project = large.project
    before = dict(_last_run(project))
    new = write_file(large.base / "d004" / "f00450-new.txt", "a brand new file\n")
    api.process_files(project, **large.settings)
    run = _last_run(project)
    assert 1 <= run["shards_processed"] <= 2
    assert run["shards_reused"] == run["shards"] - run["shards_processed"]
    assert len(set(run["shard_ids"]) - set(before["shard_ids"])) == run["shards_processed"]
    assert run["files"] == before["files"] + 1
    # The files were listed once: by the change check, whose plan the plan job took over.
    plan_log = (project.workdir / layout.PLAN_LOG).read_text("utf-8")
    assert "took over the plan" in plan_log and "discovered" not in plan_log
    assert not layout.plan_handoff_file(project.workdir).exists()
    df, _ = api.load(project.output_path)
    row = df.filter(pl.col("path") == "d004/f00450-new.txt")
    assert row.height == 1
    assert row["size_bytes"][0] == new.stat().st_size
    assert df.height == before["rows"] + 1
    _assert_unique_keys(df)


def test_deleting_one_file_reprocesses_at_most_two_shards(large: Large) -> None:
    project = large.project
    before = dict(_last_run(project))
    gone = large.base / "d007" / "f00707.txt"
    gone.unlink()
    api.process_files(project, **large.settings)
    run = _last_run(project)
    assert 1 <= run["shards_processed"] <= 2
    assert run["shards_reused"] == run["shards"] - run["shards_processed"]
    assert run["files"] == before["files"] - 1
    df, _ = api.load(project.output_path)
    assert "d007/f00707.txt" not in set(df["path"].to_list())
    assert df.height == before["rows"] - 1
    on_disk = sorted(p.relative_to(large.base).as_posix() for p in large.base.rglob("*.txt"))
    assert sorted(df["path"].to_list()) == on_disk
    _assert_unique_keys(df)


# --- kill -9 mid-way, then rerun -------------------------------------------------------

KILLED_RUN = """
import sys
from pixel_patrol_base import api

project = api.create_project("killed", sys.argv[1], output_path=sys.argv[2])
api.process_files(
    project, processors_included=set(), max_images_per_task=2000, max_workers=1
)
"""


def _wait_for_group_to_die(pgid: int, seconds: float = 15) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    pytest.fail(f"processes of group {pgid} still alive after SIGKILL")


def test_kill_9_mid_run_then_rerun_gives_the_uninterrupted_table(tmp_path: Path) -> None:
    base = tmp_path / "killed" / "data"
    tiny_files(base, 2000)
    reference_base = tmp_path / "reference" / "data"  # same folder name: same labels
    shutil.copytree(base, reference_base, copy_function=shutil.copy2)
    output = tmp_path / "killed" / "out" / "killed.parquet"
    workdir = workdir_for(output)

    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, str(base), str(output)],
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    pgid = os.getpgid(proc.pid)
    try:
        end = time.monotonic() + 120
        while not _chunks(workdir):
            if proc.poll() is not None:
                assert proc.stdout is not None
                pytest.fail(f"the run ended before any chunk:\n{proc.stdout.read()[-4000:]}")
            assert time.monotonic() < end, "no chunk appeared within 120 s"
            time.sleep(0.05)
        assert proc.poll() is None, "the run finished before it could be killed"
        # While it runs, a second run of the same output is refused, naming the holder.
        project = api.create_project("killed", base, output_path=output)
        with pytest.raises(RunLockedError, match=f"pid {proc.pid}"):
            api.process_files(project, max_images_per_task=2000, **COMMON)
    finally:
        os.killpg(pgid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.stdout is not None
        proc.stdout.close()
    _wait_for_group_to_die(pgid)
    assert not output.exists()
    survivors = _chunks(workdir)
    assert survivors

    api.process_files(project, max_images_per_task=2000, **COMMON)
    run = _last_run(project)
    assert run["files"] == 2000
    assert run["shards_processed"] >= 1
    assert run["shards_reused"] >= len(survivors) - 1  # the last one may be redone
    assert run["shards_processed"] + run["shards_reused"] == run["shards"]
    resumed, _ = api.load(output)
    _assert_unique_keys(resumed)

    reference = api.create_project(
        "killed", reference_base, output_path=tmp_path / "reference" / "killed.parquet"
    )
    api.process_files(reference, max_images_per_task=5000, **COMMON)
    expected, _ = api.load(reference.output_path)
    assert resumed.height == expected.height == 2000
    assert sorted_table(resumed).equals(sorted_table(expected))


# --- a corrupted chunk -----------------------------------------------------------------


def test_corrupted_chunk_fails_the_merge_and_keeps_everything(tree: Path) -> None:
    project = api.create_project("corrupt", tree)
    api.process_files(project, **COMMON)
    report_before = project.output_path.read_bytes()
    chunks = _chunks(project.workdir)
    assert chunks

    # Rewrite the chunk holding a.txt under the same name: a negative size and a
    # duplicated row, with its chunk metadata kept.
    target = next(c for c in chunks if "a.txt" in pq.read_table(c)["path"].to_pylist())
    table = pq.read_table(target)
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    bad = df.with_columns(
        size_bytes=pl.when(pl.col("path") == "a.txt")
        .then(pl.lit(-5, pl.Int64))
        .otherwise(pl.col("size_bytes"))
    )
    duplicated = next(p for p in df["path"].to_list() if p != "a.txt")
    bad = pl.concat([bad, bad.filter(pl.col("path") == duplicated)])
    footer = pq.read_metadata(target).metadata or {}
    kept = {k: v for k, v in footer.items() if k != b"ARROW:schema"}  # the chunk info
    corrupted = bad.to_arrow().cast(table.schema).replace_schema_metadata(kept)
    pq.write_table(corrupted, target)
    corrupted_bytes = target.read_bytes()

    with pytest.raises(ReportValidationError) as info:
        api.process_files(project, description="forces a merge", **COMMON)
    message = str(info.value)
    assert "size_bytes" in message
    assert "'a.txt'" in message
    assert "-5" in message
    assert "duplicate" in message
    assert repr(duplicated) in message.split("duplicate", 1)[1]

    assert _chunks(project.workdir) == chunks
    assert target.read_bytes() == corrupted_bytes
    assert project.output_path.read_bytes() == report_before
    leftovers = [p.name for p in project.output_path.parent.iterdir() if p.suffix == ".tmp"]
    assert leftovers == []
    df_after, meta = api.load(project.output_path)
    assert meta.description == ""
    assert sorted(df_after["path"].to_list()) == list(TREE_FILES)
