"""The public API (pixel_patrol_base.api): every function, its defaults and its errors.

Bad input must raise the documented typed error before any work starts (no workdir, no
output), with a message naming the offending value. The slow tests run the real
Snakemake workflow on the ``tree`` dataset.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points, version
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipeline_helpers import TREE_FILES, build_tree, deadline, sorted_table

from pixel_patrol_base import api
from pixel_patrol_base.errors import (
    BaseDirError,
    InvalidInputError,
    NotAReportError,
    OutputError,
    PathError,
    ProjectNameError,
    SettingsError,
    UnknownPluginError,
)
from pixel_patrol_base.table.footer import ProjectMetadata

NO_PROCESSORS: set[str] = set()


def _no_workdir_anywhere(root: Path) -> bool:
    return not any(p.name == ".pixel_patrol" for p in root.rglob(".pixel_patrol"))


# --- create_project -------------------------------------------------------------------


def test_create_project_defaults(tree: Path) -> None:
    project = api.create_project("my-experiment", tree)
    assert project.name == "my-experiment"
    assert project.base_dir == tree.resolve()
    assert project.output_path == tree.resolve() / "my-experiment.parquet"
    assert project.loader is None
    assert project.paths == []
    assert project.last_run is None
    assert _no_workdir_anywhere(tree.parent)


def test_create_project_relative_base_dir_and_output(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree.parent)
    project = api.create_project("rel", "data", loader="bioio", output_path="out/r.parquet")
    assert project.base_dir == tree.resolve()
    assert project.output_path == (tree.parent / "out" / "r.parquet").resolve()
    assert project.output_path.is_absolute()
    assert project.loader == "bioio"
    assert not (tree.parent / "out").exists()  # nothing is created before processing


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_create_project_rejects_empty_name(tree: Path, name: str) -> None:
    with pytest.raises(ProjectNameError) as info:
        api.create_project(name, tree)
    assert repr(name) in str(info.value)
    assert isinstance(info.value, InvalidInputError)
    assert _no_workdir_anywhere(tree.parent)


def test_create_project_rejects_missing_base_dir(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    with pytest.raises(BaseDirError) as info:
        api.create_project("p", missing)
    assert str(missing) in str(info.value)
    assert not missing.exists()


def test_create_project_rejects_file_as_base_dir(tree: Path) -> None:
    with pytest.raises(BaseDirError) as info:
        api.create_project("p", tree / "a.txt")
    assert str(tree / "a.txt") in str(info.value)
    assert _no_workdir_anywhere(tree.parent)


def test_create_project_rejects_unknown_loader_listing_known_ones(tree: Path) -> None:
    with pytest.raises(UnknownPluginError) as info:
        api.create_project("p", tree, loader="no-such-loader")
    message = str(info.value)
    assert "no-such-loader" in message
    known = [ep.name for ep in entry_points(group="pixel_patrol.loaders")]
    assert known, "the package's loaders are not registered as entry points"
    for name in known:
        assert name in message
    assert _no_workdir_anywhere(tree.parent)


def test_create_project_rejects_folder_as_output(tree: Path) -> None:
    with pytest.raises(OutputError) as info:
        api.create_project("p", tree, output_path=tree / "control")
    assert str(tree / "control") in str(info.value)


# --- add_paths / delete_path ----------------------------------------------------------


def test_add_paths_relative_absolute_list_and_dedupe(tree: Path) -> None:
    project = api.create_project("p", tree)
    assert api.add_paths(project, "control") is project
    assert project.paths == ["control"]
    api.add_paths(project, str(tree / "treated"))  # absolute, as a string
    assert project.paths == ["control", "treated"]
    # the same folders again, spelled differently: no duplicates
    api.add_paths(project, ["control", "./control/", tree / "treated", "treated/../control"])
    assert project.paths == ["control", "treated"]
    api.add_paths(project, [Path("control/deep"), "control/deep/deeper"])
    assert project.paths == ["control", "treated", "control/deep", "control/deep/deeper"]


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("no-such-folder", "does not exist"),
        ("../", "outside"),
        ("control/../../", "outside"),
        ("a.txt", "is a file"),
        ("control/img 01.tif", "is a file"),
    ],
)
def test_add_paths_rejects_bad_paths(tree: Path, path: str, why: str) -> None:
    project = api.create_project("p", tree)
    api.add_paths(project, "control")
    with pytest.raises(PathError) as info:
        api.add_paths(project, path)
    assert path in str(info.value)
    assert why in str(info.value)
    assert project.paths == ["control"]


def test_add_paths_rejects_absolute_path_outside_base_dir(tree: Path) -> None:
    outside = tree.parent / "elsewhere"
    outside.mkdir()
    project = api.create_project("p", tree)
    with pytest.raises(PathError) as info:
        api.add_paths(project, outside)
    assert str(outside) in str(info.value)
    assert project.paths == []


def test_add_paths_list_with_one_bad_entry_adds_nothing(tree: Path) -> None:
    project = api.create_project("p", tree)
    with pytest.raises(PathError, match="missing-one"):
        api.add_paths(project, ["control", "missing-one", "treated"])
    assert project.paths == []


def test_delete_path(tree: Path) -> None:
    project = api.create_project("p", tree)
    api.add_paths(project, ["control", "treated", "control/deep"])
    assert api.delete_path(project, "control") is project
    assert project.paths == ["treated", "control/deep"]
    api.delete_path(project, tree / "treated")  # absolute
    api.delete_path(project, "./control/deep/")
    assert project.paths == []


def test_delete_path_never_added(tree: Path) -> None:
    project = api.create_project("p", tree)
    api.add_paths(project, "control")
    with pytest.raises(PathError) as info:
        api.delete_path(project, "treated")
    assert "'treated'" in str(info.value)
    with pytest.raises(PathError, match="no-such-folder"):
        api.delete_path(project, "no-such-folder")
    assert project.paths == ["control"]


# --- process_files: bad input is refused before any work ------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "named"),
    [
        ({"processors_included": {"no-such-processor"}}, UnknownPluginError, "no-such-processor"),
        ({"processors_excluded": {"nope-proc"}}, UnknownPluginError, "nope-proc"),
        ({"processors_included": "raster-basic"}, SettingsError, "raster-basic"),
        ({"selected_file_extensions": set()}, SettingsError, "selected_file_extensions"),
        ({"selected_file_extensions": []}, SettingsError, "selected_file_extensions"),
        ({"slice_size": {"W": 1}}, SettingsError, "'W'"),
        ({"slice_size": {"Z": 0}}, SettingsError, "got 0"),
        ({"slice_size": {"Y": -2}}, SettingsError, "got -2"),
        ({"max_workers": 0}, SettingsError, "got 0"),
        ({"mb_per_task": 0}, SettingsError, "got 0"),
        ({"mb_per_task": -1}, SettingsError, "got -1"),
        ({"max_images_per_task": 0}, SettingsError, "max_images_per_task"),
        ({"parquet_row_group_size": 0}, SettingsError, "parquet_row_group_size"),
    ],
)
def test_process_files_rejects_bad_settings_before_work(
    tree: Path, kwargs: dict[str, Any], error: type[Exception], named: str
) -> None:
    project = api.create_project("p", tree)
    settings: dict[str, Any] = {"processors_included": NO_PROCESSORS, "max_workers": 2}
    settings.update(kwargs)
    with pytest.raises(error) as info:
        api.process_files(project, **settings)
    message = str(info.value)
    assert named in message
    assert next(iter(kwargs)) in message  # the setting is named too, not just the value
    assert isinstance(info.value, InvalidInputError)
    assert not project.workdir.exists()
    assert not project.output_path.exists()
    assert project.last_run is None


def test_process_files_output_folder_cannot_be_created(tree: Path) -> None:
    blocker = tree / "a.txt"  # an existing regular file where a folder would have to be
    project = api.create_project("p", tree, output_path=blocker / "sub" / "report.parquet")
    with pytest.raises(OutputError) as info:
        api.process_files(project, processors_included=NO_PROCESSORS, max_workers=2)
    assert str(blocker / "sub" / "report.parquet") in str(info.value)
    assert blocker.read_text() == "alpha"  # untouched
    assert _no_workdir_anywhere(tree.parent)


# --- load ------------------------------------------------------------------------------


def test_load_rejects_missing_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(NotAReportError, match=r"missing\.parquet"):
        api.load(tmp_path / "missing.parquet")
    foreign = tmp_path / "foreign.parquet"
    pq.write_table(pa.table({"path": ["a"]}), foreign)
    with pytest.raises(NotAReportError, match=r"foreign\.parquet"):
        api.load(foreign)
    text = tmp_path / "text.parquet"
    text.write_text("not parquet")
    with pytest.raises(NotAReportError, match=r"text\.parquet"):
        api.load(text)


# --- real runs -------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fail_instead_of_hanging() -> Iterator[None]:
    with deadline(240):
        yield


@dataclass
class Processed:
    """One project processed twice: normally, then with omit_base_dir (merge only)."""

    project: api.Project
    base: Path
    calls: list[tuple[int, int]]
    summary: dict[str, Any]
    df: pl.DataFrame
    meta: ProjectMetadata
    omit_summary: dict[str, Any]
    omit_df: pl.DataFrame
    omit_meta: ProjectMetadata


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> Processed:
    base = build_tree(tmp_path_factory.mktemp("api") / "data")
    project = api.create_project("api-test", base)
    api.add_paths(project, ["control", "treated"])
    settings: dict[str, Any] = {
        "processors_included": NO_PROCESSORS,
        "max_workers": 2,
        "max_images_per_task": 8,  # small: two shards from four files
        "description": "first description",
        "flavor": "plain",
        "parquet_row_group_size": 3,
    }
    calls: list[tuple[int, int]] = []
    with deadline(240):
        api.process_files(
            project, progress_callback=lambda done, total: calls.append((done, total)), **settings
        )
    assert project.last_run is not None
    summary = dict(project.last_run)
    df, meta = api.load(project.output_path)
    with deadline(240):
        api.process_files(project, omit_base_dir=True, **settings)
    assert project.last_run is not None
    omit_df, omit_meta = api.load(project.output_path)
    return Processed(
        project, base, calls, summary, df, meta, dict(project.last_run), omit_df, omit_meta
    )


@pytest.mark.slow
def test_process_files_returns_project_with_summary(processed: Processed) -> None:
    s = processed.summary
    assert s["files_found"] == s["files"] == s["rows"] == 4
    assert (s["images"], s["failed"]) == (0, 0)
    assert s["shards"] == len(s["shard_ids"]) >= 2
    assert (s["shards_processed"], s["shards_reused"]) == (s["shards"], 0)
    assert s["seconds"] > 0
    assert Path(s["output"]) == processed.project.output_path


@pytest.mark.slow
def test_load_round_trips_project_metadata(processed: Processed) -> None:
    meta, df = processed.meta, processed.df
    assert meta.project_name == "api-test"
    assert meta.description == "first description"
    assert meta.flavor == "plain"
    assert meta.base_dir == str(processed.base.resolve())
    assert meta.paths == ["control", "treated"]
    assert meta.loader is None
    assert meta.processors == {}
    settings = meta.settings
    assert settings["max_images_per_task"] == 8
    assert settings["max_workers"] == 2
    assert settings["parquet_row_group_size"] == 3
    assert settings["file_extensions"] == "all"
    assert settings["slice_size"] == {"T": 1, "C": 1, "Z": 1, "S": 1, "Y": -1, "X": -1}
    assert meta.package_version == version("pixel-patrol")
    for library in ("snakemake", "polars", "pyarrow", "pandera"):
        assert meta.library_versions[library] == version(library)
    assert len(meta.config_fingerprint) == 16
    int(meta.config_fingerprint, 16)
    assert meta.config_fingerprint == processed.summary["config_fingerprint"]
    counts = meta.counts
    assert counts["files"] == counts["files_found"] == counts["rows"] == df.height == 4
    assert (counts["images"], counts["failed"]) == (0, 0)
    assert counts["shards"] == processed.summary["shards"]
    assert counts["shards_processed"] == processed.summary["shards_processed"]
    assert set(meta.timings) >= {"plan_s", "process_s"}
    per_processor = meta.timings.pop("processor_cpu_s")
    assert per_processor == {}  # no loader: no processor ran
    assert set(meta.timings) == {"plan_s", "process_s", "process_cpu_s"}
    assert all(isinstance(v, int | float) and v >= 0 for v in meta.timings.values())
    created = datetime.fromisoformat(meta.created_at)
    assert timedelta(0) <= datetime.now(UTC) - created < timedelta(minutes=10)
    assert sorted(df["path"].to_list()) == [
        p for p in TREE_FILES if p.startswith(("control/", "treated/"))
    ]


@pytest.mark.slow
def test_every_column_has_a_description(processed: Processed) -> None:
    schema = pq.read_schema(processed.project.output_path)
    assert schema.names == processed.df.columns
    for field in schema:
        description = (field.metadata or {}).get(b"description", b"").decode()
        assert description.strip(), f"column {field.name!r} has no description"
        assert processed.meta.column_descriptions[field.name] == description
    assert set(processed.meta.column_descriptions) == set(schema.names)


@pytest.mark.slow
def test_omit_base_dir_leaves_it_out_and_keeps_rows(processed: Processed) -> None:
    assert processed.omit_meta.base_dir is None
    assert str(processed.base) not in json.dumps(processed.omit_meta.to_footer())
    assert processed.omit_summary["shards_processed"] == 0  # a merge-only change
    assert processed.omit_meta.config_fingerprint != processed.meta.config_fingerprint
    assert sorted_table(processed.omit_df).equals(sorted_table(processed.df))


@pytest.mark.slow
def test_progress_callback(processed: Processed) -> None:
    calls, summary = processed.calls, processed.summary
    total = summary["files_found"]
    assert calls[0] == (0, -1)
    totals = [t for _, t in calls]
    first_known = totals.index(total)
    assert set(totals[:first_known]) == {-1}
    assert set(totals[first_known:]) == {total}
    assert calls[-1] == (total, total)
    dones = [d for d, _ in calls]
    assert dones == sorted(dones), "done went backwards"
    assert all(0 <= d <= total for d in dones)
    assert len(calls) >= summary["shards"]


@pytest.mark.slow
def test_script_without_main_guard(tmp_path: Path) -> None:
    base = build_tree(tmp_path / "data")
    output = tmp_path / "out" / "script.parquet"
    script = tmp_path / "plain_script.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from pixel_patrol_base import api

            project = api.create_project("script", {str(base)!r}, output_path={str(output)!r})
            api.process_files(project, processors_included=set(), max_workers=2)
            print("ROWS", project.last_run["rows"])
            """
        ),
        "utf-8",
    )
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert f"ROWS {len(TREE_FILES)}" in result.stdout
    df, meta = api.load(output)
    assert sorted(df["path"].to_list()) == list(TREE_FILES)
    assert meta.project_name == "script"
