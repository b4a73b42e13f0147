"""The ``pixel-patrol`` command line, run as a real process (python -m pixel_patrol_base.cli)."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pixel_patrol_base import __version__, api
from pixel_patrol_base.cli.process import summary_line
from pixel_patrol_base.cli.progress import ProgressBar
from pixel_patrol_base.table import catalog

SUMMARY_RE = re.compile(
    r"^pixel-patrol: (?P<found>\d+) files found, (?P<images>\d+) images, "
    r"(?P<failed>\d+) failed, (?P<shards>\d+) shards? \((?P<reused>\d+) reused, "
    r"(?P<processed>\d+) processed\), [0-9.]+ s -> (?P<output>.+?)"
    r"(?:; skipped by extension: (?P<skipped>.+?))?"
    r"(?:; WARNING: (?P<warning>.+?))?(?:; (?P<qc>QC: .+))?$"
)
PROCESS_OPTIONS = [
    "--output",
    "--name",
    "--paths",
    "--loader",
    "--file-extensions",
    "--processors-include",
    "--processors-exclude",
    "--max-workers",
    "--mb-per-task",
    "--max-images-per-task",
    "--slice-size",
    "--rows-per-part",
    "--parquet-row-group-size",
    "--thumbnail-size",
    "--flavor",
    "--description",
    "--omit-base-dir",
    "--log-file",
    "--profile",
    "--scheduler",
    "--clean",
    "--force",
]
CORE_COLUMNS = [
    "path",
    "child_id",
    "obs_level",
    "dim_<axis>",
    "name",
    "parent",
    "depth",
    "file_extension",
    "size_bytes",
    "modification_date",
    "imported_path",
    "imported_path_short",
    "type",
    "load_error",
    "processor_errors",
]


def write_file(path: Path, content: str) -> Path:
    """Write ``content`` to ``path``, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, "utf-8")
    return path


def cli(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the console entry point as a separate process, stderr not a terminal."""
    return subprocess.run(
        [sys.executable, "-m", "pixel_patrol_base.cli", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """Five files in nested folders under a folder with a unicode name."""
    base = tmp_path / "données 画像"
    write_file(base / "a.txt", "alpha")
    write_file(base / "control" / "b.csv", "1,2\n")
    write_file(base / "control" / "deep" / "c.txt", "gamma")
    write_file(base / "treated" / "Ünïcødé 画像.txt", "delta")
    write_file(base / "treated" / "deep" / "d.csv", "3,4\n")
    return base


def single_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one stderr line of a rejected command (exit 2, no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pixel-patrol: error: ")
    assert result.stdout == ""
    return lines[0]


# ---------------------------------------------------------------------------- help


def test_help_lists_subcommands_and_version() -> None:
    result = cli("--help")
    assert result.returncode == 0
    for word in ("process", "schema", "--version", "--verbose"):
        assert word in result.stdout
    version = cli("--version")
    assert version.returncode == 0
    assert version.stdout.strip() == f"pixel-patrol {__version__}"


def test_process_help_lists_every_option() -> None:
    result = cli("process", "--help")
    assert result.returncode == 0
    for option in PROCESS_OPTIONS:
        assert option in result.stdout, option
    for short in ("-o OUT", "-p PATH", "-l LOADER", "-e EXT"):
        assert short in result.stdout
    assert "BASE_DIR" in result.stdout


def test_every_process_option_has_help() -> None:
    from pixel_patrol_base.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    process = subparsers.choices["process"]  # type: ignore[index]
    for action in process._actions:
        assert action.help, action.dest


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert cli().returncode == 2
    missing_output = cli("process", tmp_path)
    assert missing_output.returncode == 2
    assert "--output" in missing_output.stderr
    assert (
        cli("process", tmp_path, "-o", tmp_path / "r.parquet", "--max-workers", "x").returncode == 2
    )


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--name", ""], "''"),
        (["--name", "   "], "'   '"),
        (["-p", "nope"], "'nope'"),
        (["-l", "no-such-loader"], "'no-such-loader'"),
        (["--processors-include", "no-such-proc"], "'no-such-proc'"),
        (["--processors-exclude", "raster-basic,bogus"], "'bogus'"),
        (["-e", ""], "''"),
        (["-e", " , "], "' , '"),
        (["--slice-size", "W=1"], "'W'"),
        (["--slice-size", "Z=0"], "0"),
        (["--slice-size", "Y=-2"], "-2"),
        (["--slice-size", "Z"], "'Z'"),
        (["--slice-size", "Z=abc"], "'Z=abc'"),
        (["--slice-size", "=4"], "'=4'"),
        (["--max-workers", "0"], "--max-workers"),
        (["--mb-per-task", "0"], "--mb-per-task"),
        (["--max-images-per-task", "0"], "--max-images-per-task"),
        (["--thumbnail-size", "2"], "--thumbnail-size"),
        (["--profile", "no-such-profile"], "'no-such-profile'"),
        (["--scheduler", "localhost"], "'localhost'"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    dataset: Path, tmp_path: Path, extra: list[str], named: str
) -> None:
    line = single_error(cli("process", dataset, "-o", tmp_path / "out" / "r.parquet", *extra))
    assert named in line
    assert not (tmp_path / "out" / "r.parquet").exists()


def test_unknown_loader_lists_the_known_ones(dataset: Path, tmp_path: Path) -> None:
    line = single_error(cli("process", dataset, "-o", tmp_path / "r.parquet", "-l", "nope"))
    from pixel_patrol_base import plugins

    for known in plugins.loader_ids():
        assert known in line


def test_missing_base_dir(tmp_path: Path) -> None:
    missing = tmp_path / "absent"
    line = single_error(cli("process", missing, "-o", tmp_path / "r.parquet"))
    assert str(missing) in line
    assert "does not exist" in line


def test_base_dir_that_is_a_file(tmp_path: Path) -> None:
    file = write_file(tmp_path / "file.txt", "x")
    line = single_error(cli("process", file, "-o", tmp_path / "r.parquet"))
    assert str(file) in line
    assert "is a file" in line


def test_path_outside_base_dir(dataset: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    line = single_error(cli("process", dataset, "-o", tmp_path / "r.parquet", "-p", outside))
    assert str(outside) in line
    assert "outside" in line


def test_output_folder_cannot_be_created(dataset: Path, tmp_path: Path) -> None:
    blocker = write_file(tmp_path / "blocker", "a file, not a folder")
    output = blocker / "sub" / "r.parquet"
    line = single_error(cli("process", dataset, "-o", output))
    assert str(output) in line


def test_output_that_is_a_folder(dataset: Path, tmp_path: Path) -> None:
    line = single_error(cli("process", dataset, "-o", tmp_path))
    assert str(tmp_path) in line


# ---------------------------------------------------------------------------- runs


@pytest.mark.slow
def test_run_then_rerun(dataset: Path, tmp_path: Path) -> None:
    output = tmp_path / "reports" / "report.parquet"
    first = cli("process", dataset, "-o", output, "-l", "none", "--max-workers", "2")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert len(lines) == 1, first.stdout
    match = SUMMARY_RE.match(lines[0])
    assert match, lines[0]
    assert int(match["found"]) == sum(1 for p in dataset.rglob("*") if p.is_file())
    assert int(match["failed"]) == 0
    assert int(match["processed"]) == int(match["shards"]) >= 1
    assert int(match["reused"]) == 0
    assert Path(match["output"]) == output.resolve()
    assert output.is_file()
    records, metadata = api.load(output)
    assert metadata.project_name == "données 画像"  # the base folder's name
    assert "treated/Ünïcødé 画像.txt" in records["path"].to_list()
    # stderr is a pipe: plain progress lines, ending at 100 %.
    progress = [ln for ln in first.stderr.splitlines() if ln.startswith("pixel-patrol: ")]
    assert "\r" not in first.stderr
    assert progress[0].startswith("pixel-patrol: planning...")
    assert f"100% {match['found']}/{match['found']} files" in progress[-1]

    second = cli("process", dataset, "-o", output, "-l", "none", "--max-workers", "2")
    assert second.returncode == 0, second.stderr
    rerun = SUMMARY_RE.match(second.stdout.strip())
    assert rerun, second.stdout
    assert int(rerun["processed"]) == 0
    assert int(rerun["reused"]) == int(match["shards"])
    assert rerun["found"] == match["found"]


def _run_in_pty(args: list[str], timeout: float = 300) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal; returns (status, stdout, terminal text)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pixel_patrol_base.cli", *args],
        stdout=subprocess.PIPE,
        stderr=slave,
        env={**os.environ, "COLUMNS": "120", "PYTHONIOENCODING": "utf-8"},
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        stdout = proc.communicate(timeout=max(deadline - time.monotonic(), 1))[0]
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, stdout.decode("utf-8"), b"".join(chunks).decode("utf-8")


@pytest.mark.slow
def test_progress_bar_redraws_on_a_terminal(dataset: Path, tmp_path: Path) -> None:
    output = tmp_path / "r.parquet"
    # A file-information run that exercises only the progress display.
    status, stdout, terminal = _run_in_pty(
        ["process", str(dataset), "-o", str(output), "-l", "none", "-e", "txt"]
    )
    assert status == 0, terminal
    frames = [f.strip() for f in terminal.split("\r") if f.strip()]
    assert len(frames) >= 3, terminal  # redrawn in place, not line by line
    assert any("planning..." in f for f in frames)
    assert "100% 3/3 files" in frames[-1]
    assert "[" + "#" * 10 in frames[-1]  # the full bar
    assert len(set(frames)) >= 3  # the bar moves
    match = SUMMARY_RE.match(stdout.strip())
    assert match, stdout
    assert match["found"] == "3"
    assert match["skipped"] == "2 csv"


@pytest.mark.slow
def test_interrupt_exits_130(dataset: Path, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pixel_patrol_base.cli",
            "process",
            str(dataset),
            "-o",
            str(tmp_path / "r.parquet"),
            "-l",
            "none",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the run has started
    assert "planning" in first
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert rest.strip().splitlines()[-1] == "pixel-patrol: interrupted"
    assert "Traceback" not in rest


# ---------------------------------------------------------------------------- schema


def test_schema_table_lists_every_core_column() -> None:
    result = cli("schema")
    assert result.returncode == 0, result.stderr
    names = {line.split()[0] for line in result.stdout.splitlines()[2:]}
    assert set(CORE_COLUMNS) <= names
    header = result.stdout.splitlines()[0].split()
    assert header == ["name", "type", "nullable", "unit", "producer", "aggregation", "description"]


def test_schema_json_matches_the_catalog() -> None:
    result = cli("schema", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    by_name = {r["name"]: r for r in rows}
    assert set(CORE_COLUMNS) <= set(by_name)
    assert by_name["size_bytes"] == {
        "name": "size_bytes",
        "type": "int64",
        "nullable": False,
        "unit": "B",
        "producer": "core",
        "aggregation": "none",
        "description": "Size on disk in bytes (the sum over all files for a folder-based format).",
    }
    # loader columns are declared at import time of the catalog, so they are there too.
    assert {c.name for c in catalog.all_columns()} <= set(by_name)


def test_schema_markdown() -> None:
    result = cli("schema", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("| name | type |")
    assert all(line.startswith("|") and line.endswith("|") for line in lines)
    assert any(line.startswith("| path | string | no |") for line in lines)


def test_schema_rejects_unknown_format() -> None:
    assert cli("schema", "--format", "xml").returncode == 2


# ---------------------------------------------------------------------------- units


def test_summary_line_mentions_skipped_and_failed() -> None:
    line = summary_line(
        {
            "files_found": 10,
            "images": 7,
            "failed": 2,
            "shards": 3,
            "shards_processed": 1,
            "shards_reused": 2,
            "skipped_by_extension": {"csv": 1, "txt": 3, "": 1},
            "seconds": 3.21,
            "output": "/x/report.parquet",
        }
    )
    match = SUMMARY_RE.match(line)
    assert match, line
    assert (match["found"], match["images"], match["failed"]) == ("10", "7", "2")
    assert (match["shards"], match["reused"], match["processed"]) == ("3", "2", "1")
    assert "3.2 s -> /x/report.parquet" in line
    assert "skipped by extension: 3 txt, 1 (no extension), 1 csv" in line
    assert "2 failed to load" in line
    assert "\n" not in line


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_progress_is_throttled_and_ends_at_100() -> None:
    stream, clock = io.StringIO(), FakeClock()
    bar = ProgressBar(stream, is_tty=False, clock=clock)
    bar(0, -1)
    bar(0, -1)
    clock.now += 0.5
    bar(0, 50)  # the total became known: shown at once
    for done in range(1, 50):
        clock.now += 0.25  # a callback every 0.25 s
        bar(done, 50)
    clock.now += 0.25
    bar(50, 50)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "pixel-patrol: planning... 0 s"
    assert lines[1].startswith("pixel-patrol:   0% 0/50 files")
    assert lines[-1].startswith("pixel-patrol: 100% 50/50 files")
    # 12.5 s of updates at most one line per 2 s, plus the first, the total and 100 %.
    assert 6 <= len(lines) <= 9
    assert "\r" not in stream.getvalue()


def test_progress_shows_the_files_listed_before_the_plan_is_known() -> None:
    stream, clock = io.StringIO(), FakeClock()
    bar = ProgressBar(stream, is_tty=False, clock=clock)
    bar(0, -1)
    for found in (1000, 2000, 412000):
        clock.now += 2.5
        bar.listing(found)
    bar.listing(412000)  # nothing new: no line
    bar(0, 412000)
    bar.listing(500000)  # the plan is known: listing is over
    lines = stream.getvalue().splitlines()
    assert lines[0] == "pixel-patrol: planning... 0 s"
    assert lines[1:4] == [
        "pixel-patrol: listing files: 1,000 found, 2 s",
        "pixel-patrol: listing files: 2,000 found, 5 s",
        "pixel-patrol: listing files: 412,000 found, 8 s",
    ]
    assert lines[4].startswith("pixel-patrol:   0% 0/412000 files") and len(lines) == 5


def test_the_monitor_reports_the_plan_jobs_listing_count(tmp_path: Path) -> None:
    from pixel_patrol_base.pipeline.counts import CountWriter
    from pixel_patrol_base.pipeline.run import layout
    from pixel_patrol_base.pipeline.run.runner import ProgressMonitor

    seen: list[int] = []

    class Listening:
        def __call__(self, done: int, total: int) -> None:
            pass

        def listing(self, found: int) -> None:
            seen.append(found)

    monitor = ProgressMonitor(tmp_path, time.time_ns() - 1_000_000_000, Listening())
    monitor.poll()  # no file yet
    CountWriter(layout.discovery_file(tmp_path)).update(1234, force=True)
    monitor.poll()
    stale = ProgressMonitor(tmp_path, time.time_ns() + 10**12, Listening())
    stale.poll()  # a count from before the run started is not shown
    assert seen == [1234]


def test_discovery_reports_the_entries_listed_per_folder(tmp_path: Path) -> None:
    from pixel_patrol_base.pipeline.plan.discovery import discover

    for folder in ("a", "b", "c"):
        for i in range(3):
            write_file(tmp_path / folder / f"{i}.txt", "x")
    counts: list[int] = []
    found = discover(tmp_path, on_found=counts.append)
    assert len(found.entries) == 9
    assert counts == sorted(counts) and counts[0] == 0 and counts[-1] >= 6


def test_terminal_progress_redraws_in_place() -> None:
    stream, clock = io.StringIO(), FakeClock()
    bar = ProgressBar(stream, is_tty=True, clock=clock)
    bar(0, -1)
    clock.now += 0.25
    bar(0, -1)
    clock.now += 0.25
    bar(5, 10)
    bar.clear()
    bar.redraw()
    clock.now += 0.25
    bar(10, 10)
    bar.close()
    text = stream.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1
    frames = [f for f in text.rstrip("\n").split("\r") if f.strip()]
    assert "| planning" in frames[0] and "/ planning" in frames[1]
    assert "50% 5/10 files" in frames[2]
    assert "100% 10/10 files" in frames[-1]


def test_interrupted_bar_is_erased() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, is_tty=True, clock=FakeClock())
    bar(3, 10)
    bar.close(completed=False)
    bar(4, 10)  # ignored after close
    assert stream.getvalue().endswith("\r")
    assert "\n" not in stream.getvalue()
