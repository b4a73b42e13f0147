"""Inputs are sacred: no run and no viewer build writes over a file PixelPatrol did not write.

Also: each output file name has a workdir of its own, the lock message names the holder's
output, and everything a run writes honours the umask. Runs are real (the CLI as a process,
or ``api.process_files``, with Snakemake); the refusals happen before any work.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipeline_helpers import deadline, write_file

from pixel_patrol_base import api
from pixel_patrol_base.errors import InvalidInputError, OutputExistsError, RunLockedError
from pixel_patrol_base.pipeline.atomic import new_temp_file, write_text_atomic
from pixel_patrol_base.pipeline.run import layout
from pixel_patrol_base.pipeline.run.lock import RunLock
from pixel_patrol_base.project import WORKDIR_ROOT, legacy_workdir_for, workdir_for
from pixel_patrol_base.table.footer import read_metadata

COMMON: dict[str, Any] = {"processors_included": set(), "max_workers": 2}
CLI_COMMON = ("-l", "none", "--max-workers", "2")
TIFF = b"II*\x00" + bytes(range(64))  # bytes an image could hold; never parsed here


@pytest.fixture(autouse=True)
def _fail_instead_of_hanging() -> Iterator[None]:
    with deadline(240):
        yield


def cli(*args: str | Path, umask: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``pixel-patrol`` as a separate process, with ``umask`` set in it when given."""

    def set_umask() -> None:
        if umask is not None:
            os.umask(umask)

    return subprocess.run(
        [sys.executable, "-m", "pixel_patrol_base.cli", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=200,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        preexec_fn=set_umask,
        check=False,
    )


def refusal(result: subprocess.CompletedProcess[str]) -> str:
    """The one stderr line of a command refused before any work (exit status 2)."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pixel-patrol: error: ")
    return lines[0]


def dataset(base: Path) -> Path:
    """A few files: two 'images' and notes, in a sub-folder too."""
    write_file(base / "img1.tif", TIFF)
    write_file(base / "img2.tif", TIFF[::-1])
    write_file(base / "sub" / "notes.txt", "notes\n")
    return base


def snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    """Content, mtime and mode of every file under ``root``, by relative path."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_mode)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---------------------------------------------------------------------------- refused outputs


def test_cli_output_naming_an_image_is_refused_and_the_image_kept(tmp_path: Path) -> None:
    data = dataset(tmp_path / "data")
    before = snapshot(data)
    for extra in ((), ("--force",)):
        line = refusal(cli("process", data, "-o", data / "img2.tif", *CLI_COMMON, *extra))
        assert str(data / "img2.tif") in line
        assert "is not a PixelPatrol report" in line
    assert snapshot(data) == before  # not a byte written, not even the workdir


@pytest.mark.parametrize("kind", ["parquet", "text", "fifo"])
def test_an_output_that_is_not_a_report_is_never_replaced(tmp_path: Path, kind: str) -> None:
    data = dataset(tmp_path / "data")
    output = tmp_path / "out" / "table.parquet"
    output.parent.mkdir()
    if kind == "parquet":
        pq.write_table(pa.table({"x": [1, 2, 3]}), output)  # Parquet, but not ours
    elif kind == "text":
        output.write_text("my own results\n", "utf-8")
    else:
        os.mkfifo(output)  # must be refused without opening it (that would block)
    before = snapshot(output.parent) if kind != "fifo" else {}
    project = api.create_project("p", data, output_path=output)
    for force in (False, True):
        with pytest.raises(OutputExistsError) as info:
            api.process_files(project, force=force, **COMMON)
        assert str(output) in str(info.value)
        assert isinstance(info.value, InvalidInputError)
    if kind != "fifo":
        assert snapshot(output.parent) == before
    assert not (output.parent / WORKDIR_ROOT).exists()
    assert project.last_run is None


def test_a_foreign_folder_at_the_workdir_is_neither_written_nor_cleared(tmp_path: Path) -> None:
    data = dataset(tmp_path / "data")
    output = tmp_path / "out" / "r.parquet"
    workdir = workdir_for(output)
    write_file(workdir / "thesis.tex", "\\chapter{Results}\n")
    project = api.create_project("p", data, output_path=output)
    with pytest.raises(OutputExistsError, match=r"is not a PixelPatrol workdir"):
        api.process_files(project, clean=True, **COMMON)
    assert [p.name for p in workdir.iterdir()] == ["thesis.tex"]
    assert not output.exists()
    shutil.rmtree(workdir)
    write_file(workdir, "a file where the workdir goes")
    with pytest.raises(OutputExistsError, match=r"exists and is a file"):
        api.process_files(project, **COMMON)
    assert workdir.read_text("utf-8") == "a file where the workdir goes"


def test_log_file_must_be_new_or_a_log_of_a_run(tmp_path: Path) -> None:
    data = dataset(tmp_path / "data")
    output = tmp_path / "out" / "r.parquet"
    project = api.create_project("p", data, output_path=output)
    before = snapshot(data)
    cases = [
        (data, "is a folder"),
        (data / "img1.tif", "is not a PixelPatrol log"),
        (output, "is the output itself"),
    ]
    for log_file, why in cases:  # a folder may be refused by the settings check already
        with pytest.raises(InvalidInputError, match=why) as info:
            api.process_files(project, log_file=log_file, **COMMON)
        assert str(log_file) in str(info.value)
    assert snapshot(data) == before
    line = refusal(cli("process", data, "-o", output, "--log-file", data, *CLI_COMMON))
    assert "--log-file" in line and str(data) in line and "folder" in line
    assert not output.exists()


# ---------------------------------------------------------------------------- real runs


@pytest.fixture(scope="module")
def inside(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A run whose report and workdir lie inside the scanned folder (the default output)."""
    root = tmp_path_factory.mktemp("inside")
    data = dataset(root / "data")
    before = snapshot(data)
    project = api.create_project("inside", data)
    log_file = root / "logs" / "run.log"
    api.process_files(project, log_file=log_file, **COMMON)
    return {"data": data, "before": before, "project": project, "log": log_file}


@pytest.mark.slow
def test_a_run_inside_the_scanned_folder_touches_none_of_its_files(
    inside: dict[str, Any],
) -> None:
    data: Path = inside["data"]
    project: api.Project = inside["project"]
    after = snapshot(data)
    new = sorted(set(after) - set(inside["before"]))
    assert {name: after[name] for name in inside["before"]} == inside["before"]
    assert project.output_path == data / "inside.parquet"
    assert all(n == "inside.parquet" or n.startswith(f"{WORKDIR_ROOT}/") for n in new), new
    table, _ = api.load(project.output_path)
    assert sorted(table["path"].unique()) == ["img1.tif", "img2.tif", "sub/notes.txt"]
    assert layout.marker_file(project.workdir).is_file()
    log_text: str = inside["log"].read_text("utf-8")
    assert log_text.startswith("# PixelPatrol workflow log")
    # the same run again: its own report, its own log, nothing changed
    api.process_files(project, log_file=inside["log"], **COMMON)
    assert project.last_run is not None and project.last_run["shards_processed"] == 0
    # clean empties the workdir, which stays marked as one; the scanned files stay as they were
    api.process_files(project, log_file=inside["log"], clean=True, **COMMON)
    assert project.last_run["shards_processed"] == project.last_run["shards"] > 0
    assert layout.marker_file(project.workdir).is_file()
    after = snapshot(data)
    assert {name: after[name] for name in inside["before"]} == inside["before"]


@pytest.mark.slow
def test_another_datasets_report_is_replaced_only_with_force(
    inside: dict[str, Any], tmp_path: Path
) -> None:
    report = shutil.copy2(inside["project"].output_path, tmp_path / "shared.parquet")
    other = tmp_path / "other"
    write_file(other / "x.txt", "x\n")
    before = Path(report).read_bytes()
    line = refusal(cli("process", other, "-o", report, *CLI_COMMON))
    assert "is the PixelPatrol report of another dataset" in line
    assert f"base_dir {inside['data']}" in line and "--force" in line
    assert Path(report).read_bytes() == before
    forced = cli("process", other, "-o", report, *CLI_COMMON, "--force")
    assert forced.returncode == 0, forced.stderr
    assert read_metadata(Path(report)).base_dir == str(other)


@pytest.mark.slow
def test_outputs_sharing_a_stem_have_own_workdirs_and_honour_the_umask(tmp_path: Path) -> None:
    data = dataset(tmp_path / "data")
    outputs = {0o022: tmp_path / "out" / "r.parquet", 0o077: tmp_path / "out" / "r.pq"}
    for umask, output in outputs.items():
        result = cli("process", data, "-o", output, *CLI_COMMON, umask=umask)
        assert result.returncode == 0, result.stderr
    workdirs = {umask: workdir_for(output) for umask, output in outputs.items()}
    assert workdirs[0o022] != workdirs[0o077]
    assert {w.parent for w in workdirs.values()} == {tmp_path / "out" / WORKDIR_ROOT}
    for umask, output in outputs.items():
        workdir = workdirs[umask]
        assert f"output: {output}" in (workdir / layout.CONFIG).read_text("utf-8")
        chunks = sorted((workdir / "chunks").glob("*.parquet"))
        assert chunks
        written = [
            output,
            *chunks,
            workdir / layout.CONFIG,
            layout.summary_file(workdir),
            layout.plan_file(workdir),
            layout.marker_file(workdir),
            layout.lock_file(workdir),
        ]
        expected = 0o666 & ~umask
        assert {p.name: oct(mode(p)) for p in written} == {p.name: oct(expected) for p in written}


@pytest.mark.slow
def test_the_workdir_of_an_earlier_version_is_adopted(tmp_path: Path) -> None:
    data = dataset(tmp_path / "data")
    output = tmp_path / "out" / "r.parquet"
    project = api.create_project("p", data, output_path=output)
    api.process_files(project, **COMMON)
    legacy = legacy_workdir_for(output)
    # what an earlier version left: .pixel_patrol/<stem>/, without the marker
    project.workdir.rename(legacy)
    layout.marker_file(legacy).unlink()
    # another output with the same stem does not take it
    sibling = api.create_project("p", data, output_path=tmp_path / "out" / "r.pq")
    assert sibling.workdir != legacy
    api.process_files(project, **COMMON)
    assert project.last_run is not None
    assert project.last_run["shards_processed"] == 0
    assert project.last_run["shards_reused"] == project.last_run["shards"]
    assert not legacy.exists() and layout.marker_file(project.workdir).is_file()


@pytest.mark.slow
def test_a_by_hand_snakemake_run_never_writes_over_an_input(tmp_path: Path) -> None:
    from pixel_patrol_base import resources
    from pixel_patrol_base.pipeline.run.config import build_config, write_config
    from pixel_patrol_base.settings import resolve_settings

    data = dataset(tmp_path / "data")
    before = snapshot(data)
    project = api.create_project("p", data, output_path=data / "img2.tif")
    config = build_config(project, resolve_settings(**COMMON))
    workdir = tmp_path / "by-hand"
    config["workdir"] = str(workdir)
    write_config(config, workdir / layout.CONFIG)
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(resources.snakefile()),
        "--configfile",
        str(workdir / layout.CONFIG),
        "--profile",
        str(resources.profiles_dir() / "local"),
        "--cores",
        "2",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=200, check=False)
    assert result.returncode != 0
    error = json.loads(layout.error_file(workdir).read_text("utf-8"))
    assert error["type"] == "OutputExistsError"
    assert "is not a PixelPatrol report" in error["message"]
    assert snapshot(data) == before


# ---------------------------------------------------------------------------- lock, workdir


def test_a_workdir_prepared_for_a_by_hand_run_is_taken_for_a_workdir(tmp_path: Path) -> None:
    # The config of a by-hand snakemake run claims its folder; a later API run on the same
    # output resumes there instead of refusing a folder Snakemake filled.
    from pixel_patrol_base.pipeline.run.config import build_config, write_config
    from pixel_patrol_base.pipeline.run.outputs import check_workdir
    from pixel_patrol_base.settings import resolve_settings

    data = dataset(tmp_path / "data")
    project = api.create_project("p", data, output_path=tmp_path / "r.parquet")
    write_config(build_config(project, resolve_settings(**COMMON)), project.workdir / layout.CONFIG)
    (project.workdir / "chunks").mkdir()
    check_workdir(project.workdir)
    claim = json.loads(layout.marker_file(project.workdir).read_text("utf-8"))
    assert claim["output"] == str(project.output_path)


def test_each_output_file_name_has_its_own_workdir(tmp_path: Path) -> None:
    names = ["r.parquet", "r.pq", "r.PARQUET", "r", "r.parquet.bak"]
    workdirs = [workdir_for(tmp_path / name) for name in names]
    assert len(set(workdirs)) == len(names)
    for name, workdir in zip(names, workdirs, strict=True):
        assert workdir.parent == tmp_path / WORKDIR_ROOT
        assert workdir.name.startswith(f"{Path(name).stem}-")
        assert workdir_for(tmp_path / name) == workdir  # the same every time


def test_the_lock_message_names_the_holders_output(tmp_path: Path) -> None:
    workdir = tmp_path / "shared-workdir"
    holder, other = tmp_path / "a.parquet", tmp_path / "b.parquet"
    with RunLock(workdir, holder):
        with pytest.raises(RunLockedError) as info:
            RunLock(workdir, other).__enter__()
        message = str(info.value)
        assert f"writing '{holder}'" in message and f"pid {os.getpid()}" in message
        assert f"of '{other}'" in message
        with pytest.raises(RunLockedError, match=f"already writing '{holder}'"):
            RunLock(workdir, holder).__enter__()
    claim = json.loads(layout.marker_file(workdir).read_text("utf-8"))
    assert claim["output"] == str(holder)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_temporary_and_atomic_files_honour_the_umask(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        temp = new_temp_file(tmp_path / "report.parquet")
        write_text_atomic(tmp_path / "config.yaml", "a: 1\n")
    finally:
        os.umask(previous)
    assert temp.name.startswith(".report.parquet.") and temp.name.endswith(".tmp")
    assert mode(temp) == mode(tmp_path / "config.yaml") == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == [temp.name, "config.yaml"]


# ---------------------------------------------------------------------------- the viewer


@pytest.mark.slow
def test_build_viewer_replaces_only_its_own_files(inside: dict[str, Any], tmp_path: Path) -> None:
    report: Path = inside["project"].output_path
    page = write_file(tmp_path / "index.html", "<html><body>my home page</body></html>")
    with pytest.raises(OutputExistsError, match="not a PixelPatrol viewer page"):
        api.build_viewer(page)
    assert page.read_text("utf-8") == "<html><body>my home page</body></html>"
    line = refusal(cli("build-viewer", "-o", page))
    assert str(page) in line
    # its own page is rebuilt in place
    built = api.build_viewer(tmp_path / "viewer.html")
    assert api.build_viewer(built) == built
    # a site folder: a foreign index.html, a foreign file where the report goes, loose assets
    site = tmp_path / "site"
    write_file(site / "index.html", "<html>mine</html>")
    with pytest.raises(OutputExistsError, match="not a PixelPatrol viewer page"):
        api.build_viewer(site, data=report)
    (site / "index.html").unlink()
    write_file(site / report.name, "not a report")
    with pytest.raises(OutputExistsError, match="is not a PixelPatrol report"):
        api.build_viewer(site, data=report)
    (site / report.name).unlink()
    write_file(site / "assets" / "app.js", "// my script")
    with pytest.raises(OutputExistsError, match="not a PixelPatrol viewer site"):
        api.build_viewer(site, data=report)
    assert (site / "assets" / "app.js").read_text("utf-8") == "// my script"
    # its own site is rebuilt, also from the copy of the report inside it
    shutil.rmtree(site)
    api.build_viewer(site, data=report)
    api.build_viewer(site, data=site / report.name)
    assert (site / report.name).read_bytes() == report.read_bytes()
