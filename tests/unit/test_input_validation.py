"""Every bad input gets a typed, clear error before any work (issue 13, point 5).

Each case the hostile test found untyped (an ``AttributeError``, ``TypeError``,
``IsADirectoryError``, or an ``OverflowError`` in every shard) is called through the real
API or the real command line: it must raise an ``InvalidInputError`` subclass whose
message names the parameter, and leave no workdir and no output behind. The CLI prints
one line and exits 2. The slow tests run the real workflow: a string of several
extensions is split, and extensions that match no file warn instead of giving a silently
empty report.
"""

from __future__ import annotations

import logging
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from PIL import Image

from pixel_patrol_base import api
from pixel_patrol_base.cli import main
from pixel_patrol_base.errors import (
    BaseDirError,
    InvalidInputError,
    NotAProjectError,
    NotAReportError,
    OutputError,
    PathError,
    ProjectNameError,
    SettingsError,
    UnknownPluginError,
)
from pixel_patrol_base.settings import resolve_settings

NO_PROCESSORS: set[str] = set()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A real TIFF, a real PNG and a text file in one folder, with a sub-folder."""
    base = tmp_path / "data"
    (base / "sub").mkdir(parents=True)
    tifffile.imwrite(base / "a.tif", np.arange(64, dtype=np.uint8).reshape(8, 8))
    Image.fromarray(np.full((6, 6), 7, dtype=np.uint8)).save(base / "b.png")
    (base / "notes.txt").write_text("not an image")
    return base


@pytest.fixture
def project(data: Path, tmp_path: Path) -> api.Project:
    return api.create_project("p", data, output_path=tmp_path / "out" / "r.parquet")


def _nothing_written(project: api.Project) -> None:
    assert not project.workdir.exists()
    assert not project.output_path.exists()
    assert not project.output_path.parent.exists()
    assert project.last_run is None


# ---------------------------------------------------------------------------- process_files


def _no_arguments() -> None: ...


@pytest.mark.parametrize(
    ("kwargs", "error", "named"),
    [
        ({"slice_size": [("Z", 1)]}, SettingsError, "mapping"),
        ({"slice_size": "Z=1"}, SettingsError, "'Z=1'"),
        ({"slice_size": {"z": 1, "Z": 2}}, SettingsError, "twice"),
        ({"slice_size": {"Z": 1.0}}, SettingsError, "1.0"),
        ({"slice_size": {"Z": 2**40}}, SettingsError, str(2**40)),
        ({"progress_callback": 5}, SettingsError, "callable"),
        ({"progress_callback": _no_arguments}, SettingsError, "(done, total)"),
        ({"mb_per_task": math.inf}, SettingsError, "got inf"),
        ({"mb_per_task": -math.inf}, SettingsError, "got -inf"),
        ({"mb_per_task": math.nan}, SettingsError, "got nan"),
        ({"mb_per_task": 1e308}, SettingsError, "finite number"),
        ({"mb_per_task": 10**400}, SettingsError, "finite number"),
        ({"mb_per_task": "256"}, SettingsError, "'256'"),
        ({"max_workers": 2**40}, SettingsError, str(2**40)),
        ({"max_workers": 2.0}, SettingsError, "got 2.0"),
        ({"rows_per_part": "10"}, SettingsError, "'10'"),
        ({"thumbnail_size": 5000}, SettingsError, "4096"),
        ({"selected_file_extensions": 5}, SettingsError, "got 5"),
        ({"selected_file_extensions": [5]}, SettingsError, "5 (int)"),
        ({"selected_file_extensions": b"tif"}, SettingsError, "b'tif'"),
        ({"selected_file_extensions": {"tif": 1}}, SettingsError, "dict"),
        ({"selected_file_extensions": "tif,all"}, SettingsError, "'all'"),
        ({"selected_file_extensions": " , "}, SettingsError, "no extension"),
        ({"processors_included": 5}, SettingsError, "got 5"),
        ({"processors_excluded": [["thumbnail"]]}, SettingsError, "['thumbnail']"),
        ({"omit_base_dir": "no"}, SettingsError, "'no'"),
        ({"clean": None}, SettingsError, "True or False"),
        ({"flavor": "bad \ud800 text"}, SettingsError, "Unicode"),
        ({"description": 5}, SettingsError, "string"),
        ({"profile": None}, SettingsError, "None"),
        ({"scheduler": 8786}, SettingsError, "8786"),
        ({"expectations": "rules\x00.yaml"}, SettingsError, "NUL"),
        ({"log_file": "run\x00.log"}, SettingsError, "NUL"),
        ({"log_file": 5}, SettingsError, "path"),
    ],
    ids=lambda v: repr(v)[:40] if isinstance(v, dict) else None,
)
def test_process_files_refuses_before_any_work(
    project: api.Project, kwargs: dict[str, Any], error: type[InvalidInputError], named: str
) -> None:
    settings: dict[str, Any] = {"processors_included": NO_PROCESSORS, "max_workers": 1, **kwargs}
    with pytest.raises(error) as info:
        api.process_files(project, **settings)
    message = str(info.value)
    assert isinstance(info.value, InvalidInputError)
    assert message.startswith(next(iter(kwargs))), message  # names the parameter first
    assert named in message
    _nothing_written(project)


def test_log_file_naming_a_folder_is_refused(project: api.Project, tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    with pytest.raises(SettingsError, match=r"^log_file '.*logs' is a folder; pass a file"):
        api.process_files(project, processors_included=NO_PROCESSORS, log_file=folder)
    assert list(folder.iterdir()) == []
    _nothing_written(project)


@pytest.mark.parametrize("value", [None, "r.parquet", Path("data"), 5])
def test_process_files_needs_a_project(value: object, tmp_path: Path) -> None:
    with pytest.raises(NotAProjectError, match=r"^project must be a Project from create_project"):
        api.process_files(value)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("tif,png", ("png", "tif")),
        ("tif png", ("png", "tif")),
        (" .TIF ,, PNG ", ("png", "tif")),
        (["tif,png", "nd2"], ("nd2", "png", "tif")),
        (("ome.tif",), ("ome.tif",)),
        ("ALL", None),
        (["all"], None),
    ],
)
def test_a_string_of_several_extensions_is_split(given: Any, expected: Any) -> None:
    assert resolve_settings(selected_file_extensions=given)["selected_file_extensions"] == expected


def test_numpy_numbers_are_taken_as_plain_ones() -> None:
    resolved = resolve_settings(
        max_workers=np.int64(2),
        mb_per_task=np.float32(64),
        slice_size={"z": np.int32(1)},
        clean=np.bool_(True),
    )
    assert resolved["max_workers"] == 2 and type(resolved["max_workers"]) is int
    assert resolved["mb_per_task"] == 64.0 and type(resolved["mb_per_task"]) is float
    assert resolved["slice_size"]["Z"] == 1 and type(resolved["slice_size"]["Z"]) is int
    assert resolved["clean"] is True


# ---------------------------------------------------------------------------- project


@pytest.mark.parametrize(
    ("kwargs", "error", "named"),
    [
        ({"base_dir": None}, BaseDirError, "base_dir must be a path"),
        ({"base_dir": 5}, BaseDirError, "base_dir must be a path"),
        ({"base_dir": b"data"}, BaseDirError, "base_dir must be a path"),
        ({"base_dir": ""}, BaseDirError, "non-empty"),
        ({"base_dir": "da\x00ta"}, BaseDirError, "NUL"),
        ({"base_dir": "\ud800"}, BaseDirError, "cannot be encoded"),
        ({"base_dir": "~nobody_pixel_patrol/x"}, BaseDirError, "~nobody_pixel_patrol"),
        ({"name": 5}, ProjectNameError, "must be a string"),
        ({"name": None}, ProjectNameError, "must be a string"),
        ({"loader": 5}, UnknownPluginError, "loader must be"),
        ({"loader": ["bioio"]}, UnknownPluginError, "loader must be"),
        ({"output_path": 5}, OutputError, "output_path must be a path"),
        ({"output_path": "r\x00.parquet"}, OutputError, "NUL"),
    ],
)
def test_create_project_refuses_wrong_types(
    data: Path, kwargs: dict[str, Any], error: type[InvalidInputError], named: str
) -> None:
    arguments: dict[str, Any] = {"name": "p", "base_dir": data, **kwargs}
    with pytest.raises(error) as info:
        api.create_project(**arguments)
    assert named in str(info.value)


@pytest.mark.parametrize(
    ("paths", "named"),
    [
        (None, "paths must be a folder or a list of folders"),
        (5, "paths must be a folder or a list of folders"),
        (b"sub", "paths must be a folder or a list of folders"),
        ({"sub": 1}, "paths must be a folder or a list of folders"),
        ([None], "paths holds None"),
        (["sub", 5], "paths holds 5"),
        ("s\x00ub", "NUL"),
    ],
)
def test_add_paths_refuses_wrong_types(project: api.Project, paths: Any, named: str) -> None:
    with pytest.raises(PathError) as info:
        api.add_paths(project, paths)
    assert named in str(info.value)
    assert project.paths == []


def test_add_and_delete_path_need_a_project(project: api.Project) -> None:
    with pytest.raises(NotAProjectError):
        api.add_paths(None, "sub")  # type: ignore[arg-type]
    with pytest.raises(NotAProjectError):
        api.delete_path("p", "sub")  # type: ignore[arg-type]
    api.add_paths(project, "sub")
    with pytest.raises(PathError, match=r"^path must be a path"):
        api.delete_path(project, None)  # type: ignore[arg-type]
    assert project.paths == ["sub"]


@pytest.mark.parametrize(
    "call",
    [
        lambda: api.load(None),  # type: ignore[arg-type]
        lambda: api.load(5),  # type: ignore[arg-type]
        lambda: api.check(None),  # type: ignore[arg-type]
        lambda: api.view(None, open_browser=False),  # type: ignore[arg-type]
        lambda: api.build_viewer("v.html", data=5),  # type: ignore[arg-type]
    ],
    ids=["load-None", "load-5", "check-None", "view-None", "build_viewer-data-5"],
)
def test_report_functions_refuse_what_is_not_a_report(call: Any) -> None:
    with pytest.raises(NotAReportError, match=r"^(src|source|data) must be"):
        call()


def test_build_viewer_refuses_an_output_that_is_not_a_path() -> None:
    with pytest.raises(OutputError, match=r"^output must be a path"):
        api.build_viewer(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- the CLI


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """``main`` sets the root logger up as the CLI does; undo it after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--mb-per-task", "inf"], "--mb-per-task must be a finite number"),
        (["--mb-per-task", "nan"], "--mb-per-task must be a finite number"),
        (["--mb-per-task", "1e400"], "--mb-per-task must be a finite number"),
        (["--thumbnail-size", "5000"], "--thumbnail-size must be an integer <= 4096"),
        (["--max-workers", "99999999999"], "--max-workers must be an integer <="),
        (["--slice-size", "Z=1,z=2"], "--slice-size gives Z twice"),
        (["--slice-size", "Z=99999999999"], "--slice-size[Z] must be -1"),
        (["-e", "tif,all"], "mixes 'all' with extensions"),
        (["--log-file", "{tmp}"], "is a folder"),
    ],
)
def test_cli_prints_one_line_and_exits_2(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], named: str
) -> None:
    output = tmp_path / "out" / "r.parquet"
    argv = ["process", str(data), "-o", str(output), *(a.format(tmp=tmp_path) for a in extra)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("pixel-patrol: error: ")
    assert named in lines[0]
    assert captured.out == ""
    assert not output.parent.exists()


# ---------------------------------------------------------------------------- real runs


@pytest.mark.slow
def test_several_extensions_in_one_string_are_all_processed(project: api.Project) -> None:
    api.process_files(
        project, selected_file_extensions="tif,png", processors_included=NO_PROCESSORS
    )
    summary = project.last_run or {}
    assert summary["files_found"] == 2
    assert summary["skipped_by_extension"] == {"txt": 1}
    assert summary["warnings"] == []
    table, _ = api.load(project.output_path)
    assert sorted(Path(p).name for p in table["path"].unique()) == ["a.tif", "b.png"]


@pytest.mark.slow
def test_extensions_matching_no_file_warn(data: Path, tmp_path: Path) -> None:
    output = tmp_path / "out" / "r.parquet"
    command = [sys.executable, "-m", "pixel_patrol_base.cli", "process", str(data)]
    command += ["-o", str(output), "-l", "none", "-e", "tiff", "--max-workers", "1"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    warning = (
        "pixel-patrol: warning: no file matched selected_file_extensions (tiff), so the "
        "report is empty; the files there have: 1 png, 1 tif, 1 txt; pass those extensions "
        "or 'all'"
    )
    assert warning in result.stderr.splitlines()
    assert "0 files found" in result.stdout
