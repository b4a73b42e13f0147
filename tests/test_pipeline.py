"""End-to-end runs of the real Snakemake workflow: what is listed and what the rows hold.

Expected values come from the file system (``os.stat``) and from the fixture's own list
of files, not from the code under test.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from pipeline_helpers import TREE_FILES, build_tree, deadline, sorted_table

from pixel_patrol_base import api
from pixel_patrol_base.errors import RunLockedError
from pixel_patrol_base.pipeline.run.lock import RunLock
from pixel_patrol_base.table.footer import ProjectMetadata

pytestmark = pytest.mark.slow

COMMON: dict[str, Any] = {"processors_included": set(), "max_workers": 2}
EXTENSIONS = {
    "a.txt": "txt",
    "control/deep/deeper/x.OME.TIF": "ome.tif",
    "control/img 01.tif": "tif",
    "treated/notes.md": "md",
    "treated/Ünïcødé 画像.png": "png",
}


@pytest.fixture(autouse=True)
def _fail_instead_of_hanging() -> Iterator[None]:
    with deadline(240):
        yield


@dataclass
class TreeRun:
    """The ``tree`` dataset processed with the output inside base_dir, twice."""

    project: api.Project
    base: Path
    first: dict[str, Any]
    df: pl.DataFrame
    meta: ProjectMetadata
    second: dict[str, Any]
    df_second: pl.DataFrame


@pytest.fixture(scope="module")
def tree_run(tmp_path_factory: pytest.TempPathFactory) -> TreeRun:
    base = build_tree(tmp_path_factory.mktemp("pipeline") / "data")
    project = api.create_project("pipeline", base)  # output: <base>/pipeline.parquet
    assert project.output_path.parent == base.resolve()
    with deadline(240):
        api.process_files(project, parquet_row_group_size=2, **COMMON)
    assert project.last_run is not None
    first = dict(project.last_run)
    df, meta = api.load(project.output_path)
    # Again, with a change that makes Snakemake plan anew: now the output and the
    # workdir exist inside base_dir and must still not be listed.
    with deadline(240):
        api.process_files(project, parquet_row_group_size=2, description="rerun", **COMMON)
    assert project.last_run is not None
    df_second, _ = api.load(project.output_path)
    return TreeRun(project, base, first, df, meta, dict(project.last_run), df_second)


def _paths(df: pl.DataFrame) -> list[str]:
    return sorted(df["path"].to_list())


def test_lists_exactly_the_visible_files_once(tree_run: TreeRun) -> None:
    paths = tree_run.df["path"].to_list()
    assert sorted(paths) == list(TREE_FILES)
    assert len(set(paths)) == len(paths)
    assert not any(part.startswith(".") for p in paths for part in p.split("/"))
    assert not any("loop" in p for p in paths)


def test_file_columns_match_the_file_system(tree_run: TreeRun) -> None:
    df = tree_run.df
    assert df.height == len(TREE_FILES)
    for row in df.iter_rows(named=True):
        rel = row["path"]
        st = (tree_run.base / rel).stat()
        posix = PurePosixPath(rel)
        assert row["name"] == rel.rsplit("/", 1)[-1]
        assert row["parent"] == (str(posix.parent) if "/" in rel else ".")
        assert row["depth"] == rel.count("/")
        assert row["file_extension"] == EXTENSIONS[rel]
        assert row["size_bytes"] == st.st_size
        assert row["type"] == "file"
        assert row["obs_level"] == 0
        assert row["imported_path"] == "."
        assert row["imported_path_short"] == "data"  # the base folder's name
        assert row["load_error"] is None
    dates = df.select("path", us=pl.col("modification_date").dt.epoch("us"))
    for rel, us in dates.iter_rows():
        expected_us = (tree_run.base / rel).stat().st_mtime_ns // 1000
        assert abs(us - expected_us) <= 1, rel
    assert df.schema["modification_date"] == pl.Datetime("us", "UTC")


def test_footer_counts(tree_run: TreeRun) -> None:
    counts, first = tree_run.meta.counts, tree_run.first
    n = len(TREE_FILES)
    assert counts["files_found"] == counts["files"] == counts["rows"] == n
    assert counts["images"] == counts["failed"] == 0
    assert counts["skipped_by_extension"] == {}
    assert counts["shards"] == first["shards"] == len(first["shard_ids"]) >= 1
    assert counts["shards_processed"] == first["shards"]
    assert counts["shards_reused"] == 0
    assert (first["files_found"], first["files"], first["rows"]) == (n, n, n)


def test_parquet_row_group_size_sets_row_groups(tree_run: TreeRun) -> None:
    metadata = pq.ParquetFile(tree_run.project.output_path).metadata
    assert metadata.num_rows == len(TREE_FILES)
    sizes = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    assert sizes == [2, 2, 1]


def test_output_and_workdir_inside_base_dir_are_not_listed(tree_run: TreeRun) -> None:
    assert tree_run.project.output_path.exists()
    assert tree_run.project.workdir.is_relative_to(tree_run.base.resolve())
    second = tree_run.second
    assert _paths(tree_run.df_second) == list(TREE_FILES)
    assert second["files_found"] == len(TREE_FILES)
    assert second["skipped_by_extension"] == {}
    # nothing new was found, so every shard was reused
    assert second["shard_ids"] == tree_run.first["shard_ids"]
    assert (second["shards_processed"], second["shards_reused"]) == (0, second["shards"])
    assert sorted_table(tree_run.df_second).equals(sorted_table(tree_run.df))


def test_second_run_while_locked_fails_at_once(tree_run: TreeRun) -> None:
    project = tree_run.project
    before = project.output_path.read_bytes()
    config_before = (project.workdir / "config.yaml").read_bytes()
    outcome: list[BaseException | None] = []

    def second_run() -> None:
        try:
            api.process_files(project, description="while locked", **COMMON)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    with RunLock(project.workdir, project.output_path):
        worker = threading.Thread(target=second_run, daemon=True)
        worker.start()
        worker.join(timeout=60)
        assert not worker.is_alive(), "the second run waited for the lock instead of failing"
    assert len(outcome) == 1
    error = outcome[0]
    assert isinstance(error, RunLockedError), error
    assert f"pid {os.getpid()}" in str(error)
    assert str(project.output_path) in str(error)
    assert project.output_path.read_bytes() == before
    assert (project.workdir / "config.yaml").read_bytes() == config_before
    # the lock is free again: the next run goes through and the report still loads
    api.process_files(project, parquet_row_group_size=2, description="rerun", **COMMON)
    assert project.last_run is not None
    assert project.last_run["shards_processed"] == 0
    assert sorted_table(api.load(project.output_path)[0]).equals(sorted_table(tree_run.df))


def test_by_hand_snakemake_run_gives_the_same_table(
    tree_run: TreeRun,
    snakemake_by_hand: Callable[[Path], subprocess.CompletedProcess[str]],
) -> None:
    project = tree_run.project
    project.output_path.unlink()
    snakemake_by_hand(project.workdir)
    df, meta = api.load(project.output_path)
    assert sorted_table(df).equals(sorted_table(tree_run.df))
    assert meta.project_name == "pipeline"
    summary = json.loads((project.workdir / "run" / "summary.json").read_text("utf-8"))
    assert summary["files"] == len(TREE_FILES)
    assert summary["shards_processed"] == 0  # the chunks of the API run were reused


def test_added_paths_set_imported_path_and_label(tree: Path) -> None:
    project = api.create_project("added", tree)
    api.add_paths(project, ["control", "treated"])
    api.process_files(project, **COMMON)
    df, meta = api.load(project.output_path)
    expected = [p for p in TREE_FILES if p.startswith(("control/", "treated/"))]
    assert _paths(df) == expected
    for rel, imported, short in df.select(
        "path", "imported_path", "imported_path_short"
    ).iter_rows():
        top = rel.split("/")[0]
        assert (imported, short) == (top, top), rel
    assert meta.paths == ["control", "treated"]


def test_extension_filter(tree: Path) -> None:
    project = api.create_project("tifs", tree)
    api.process_files(project, selected_file_extensions={"TIF"}, **COMMON)
    df, meta = api.load(project.output_path)
    # 'ome.tif' is kept by 'tif'; the hidden .hidden_dir/inside.tif is not listed
    assert _paths(df) == ["control/deep/deeper/x.OME.TIF", "control/img 01.tif"]
    assert sorted(df["file_extension"].to_list()) == ["ome.tif", "tif"]
    assert meta.counts["skipped_by_extension"] == {"md": 1, "png": 1, "txt": 1}
    assert meta.counts["files_found"] == 2
    assert meta.settings["file_extensions"] == ["tif"]
