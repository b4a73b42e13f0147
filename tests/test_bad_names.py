"""A bad name is a row, not a crash: hostile and non-UTF-8 names, devices, FIFOs, links
that leave base_dir, unreadable items and files that vanish after the plan, through the
real CLI (a real Snakemake run) and the real workflow jobs."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import tifffile
from pipeline_helpers import deadline, unprivileged_prefix

from pixel_patrol_base import api
from pixel_patrol_base.pipeline import jobs
from pixel_patrol_base.pipeline.run import layout
from pixel_patrol_base.pipeline.run.config import build_config
from pixel_patrol_base.pipeline.run.records import PlanRecord, RunSummary
from pixel_patrol_base.pipeline.shard.job import BAD_NAME_WARNING
from pixel_patrol_base.settings import resolve_settings

# Names that are not UTF-8 are written and read by their raw bytes, which pathlib cannot hold.
# ruff: noqa: PTH118, PTH123

HOSTILE_NAMES = (
    'it\'s "quoted".tif',
    "<script>alert(1)</script>.tif",
    "<img src=x onerror=alert(1)>.tif",
    "Ünïcødé 画像.tif",
    "new\nline.tif",
    "carriage\rreturn.tif",
    "100%{x} %s %n.tif",
    "$(touch pwned) `id`.tif",
    "\x1b[31mred\x1b[0m ansi.tif",
    "back\\slash.tif",
    "tab\tname.tif",
    "semi;colon & amp=1.tif",
    "emoji 🧪.tif",
    "rtl \u202egnp.tif",
    "zero\u200bwidth.tif",
    "{{template}} ${var}.tif",
    "--dash-start.tif",
    "trailing space .tif",
)
"""The 18 hostile (but valid UTF-8) names: each must come back exactly as it is."""

RAW_NAMES = (b"bad\xff.tif", b"caf\xe9/latin1 \xe0 \xfe.tif")
"""Names (relative raw bytes) that are not valid UTF-8."""


def _image(seed: int) -> np.ndarray:
    return (np.arange(64, dtype=np.uint16).reshape(8, 8) * (seed + 1)).astype(np.uint16)


def _write_tif(raw: bytes, seed: int) -> np.ndarray:
    """Write an 8x8 TIFF at the raw path ``raw``; its pixels."""
    os.makedirs(os.path.dirname(raw), exist_ok=True)  # noqa: PTH103, PTH120
    pixels = _image(seed)
    encoded = io.BytesIO()
    tifffile.imwrite(encoded, pixels)
    with open(raw, "wb") as handle:
        handle.write(encoded.getvalue())
    return pixels


class Dataset:
    """The files written under ``base``, and what the run must report about them."""

    def __init__(self, base: Path, outside: Path, *, locked: bool) -> None:
        self.base = base
        self.outside = outside
        self.locked = locked
        self.pixels: dict[bytes, np.ndarray] = {}
        """Pixels of each image, by raw path relative to base."""


@pytest.fixture
def dataset(tmp_path: Path) -> Iterator[Dataset]:
    base = tmp_path / "data"
    base.mkdir()
    raw_base = os.fsencode(base)
    try:
        with open(os.path.join(raw_base, b"probe\xff"), "wb"):
            pass
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    os.remove(os.path.join(raw_base, b"probe\xff"))  # noqa: PTH107
    outside = tmp_path / "outside"
    outside.mkdir()
    tifffile.imwrite(outside / "far.tif", _image(99))
    data = Dataset(base, outside, locked=unprivileged_prefix() is not None)
    for seed, name in enumerate([*(os.fsencode(n) for n in HOSTILE_NAMES), *RAW_NAMES]):
        data.pixels[name] = _write_tif(os.path.join(raw_base, name), seed)
    (base / "zero.tif").symlink_to("/dev/zero")
    os.mkfifo(base / "pipe.tif")
    (base / "far").symlink_to(outside)
    (base / "broken.tif").symlink_to(tmp_path / "missing.tif")
    if data.locked:
        (base / "closed").mkdir()
        (base / "listable").mkdir()
        tifffile.imwrite(base / "closed" / "hidden.tif", _image(7))
        tifffile.imwrite(base / "listable" / "nostat.tif", _image(8))
        (base / "closed").chmod(0)
        (base / "listable").chmod(0o444)  # names can be listed, not stat'ed
    try:
        yield data
    finally:
        for folder in ("closed", "listable"):
            if (base / folder).exists():
                (base / folder).chmod(0o755)


def _process(data: Dataset, output: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    prefix = unprivileged_prefix() if data.locked else []
    return subprocess.run(
        [
            *(prefix or []),
            sys.executable,
            "-m",
            "pixel_patrol_base.cli",
            "process",
            str(data.base),
            "-o",
            str(output),
            "--processors-include",
            "raster-basic",
            "--max-workers",
            "2",
            *extra,
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="backslashreplace",
        timeout=600,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def _level0(report: Path) -> dict[str, dict[str, object]]:
    df = pl.read_parquet(report).filter(pl.col("obs_level") == 0)
    return {row["path"]: row for row in df.iter_rows(named=True)}


@pytest.mark.slow
def test_hostile_and_non_utf8_names_are_rows_and_round_trip(
    dataset: Dataset, tmp_path: Path
) -> None:
    output = tmp_path / "out" / "report.parquet"
    with deadline(900):
        done = _process(dataset, output)
    assert done.returncode == 0, done.stderr
    rows = _level0(output)
    raw_base = os.fsencode(dataset.base)

    for name in HOSTILE_NAMES:  # valid UTF-8: stored exactly, no raw bytes
        row = rows[name]
        assert row["path_bytes_b64"] is None and row["load_warnings"] is None, name
        assert row["load_error"] is None, (name, row["load_error"])
        assert row["mean_intensity"] == pytest.approx(dataset.pixels[os.fsencode(name)].mean())

    for raw in RAW_NAMES:
        shown = raw.decode("utf-8", "backslashreplace")
        row, pixels = rows[shown], dataset.pixels[raw]
        assert "\\x" in shown and row["name"] == shown.rsplit("/", 1)[-1]
        stored = base64.b64decode(str(row["path_bytes_b64"]))
        assert stored == raw  # lossless: the bytes of the name itself
        with open(os.path.join(raw_base, stored), "rb") as handle:  # ... and the same file
            assert tifffile.imread(io.BytesIO(handle.read())).tolist() == pixels.tolist()
        assert row["load_warnings"] == [BAD_NAME_WARNING]
        assert row["load_error"] is None  # it was read, through its raw bytes
        assert row["mean_intensity"] == pytest.approx(pixels.mean())

    _, meta = api.load(output)
    skipped = {"broken_link": 1, "special_file": 2, "external_link": 1}
    expected_paths = {*HOSTILE_NAMES, *(r.decode("utf-8", "backslashreplace") for r in RAW_NAMES)}
    if dataset.locked:
        skipped["unreadable"] = 1
        expected_paths.add("listable/nostat.tif")
        denied = rows["listable/nostat.tif"]
        assert denied["load_error"] == "cannot read the file's information: Permission denied"
    assert set(rows) == expected_paths
    assert meta.counts["skipped"] == skipped
    assert meta.settings["follow_external_links"] is False
    summary = done.stdout.strip().splitlines()[-1]
    assert "WARNING: skipped" in summary and "1 external link" in summary, summary
    assert "2 special file" in summary and "1 broken link" in summary, summary
    for warned in ("'zero.tif' points to a device", "'pipe.tif' is a FIFO", "'far' points outside"):
        assert warned in done.stderr, done.stderr
    assert "broken symlink 'broken.tif'" in done.stderr
    assert "broken symlink 'zero.tif'" not in done.stderr

    with deadline(900):
        followed = _process(dataset, output, "--follow-external-links")
    assert followed.returncode == 0, followed.stderr
    rows = _level0(output)
    assert rows["far/far.tif"]["mean_intensity"] == pytest.approx(_image(99).mean())
    _, meta = api.load(output)
    assert "external_link" not in meta.counts["skipped"]
    assert meta.settings["follow_external_links"] is True


def test_a_file_that_vanishes_after_the_plan_is_an_error_row(tmp_path: Path) -> None:
    base = tmp_path / "data"
    base.mkdir()
    for i in range(3):
        tifffile.imwrite(base / f"img{i}.tif", _image(i))
    out = tmp_path / "out" / "r.parquet"
    project = api.create_project("vanish", base, loader="tifffile", output_path=out)
    config = build_config(project, resolve_settings(processors_included=["raster-basic"]))
    workdir = project.workdir
    logs = tmp_path / "logs"
    logs.mkdir()
    jobs.plan(config, logs / "plan.log")
    (base / "img1.tif").unlink()  # gone between the plan and the shard job
    for shard in PlanRecord.read(layout.plan_file(workdir)).shard_ids:
        layout.chunk_file(workdir, shard).parent.mkdir(parents=True, exist_ok=True)  # Snakemake's
        jobs.shard(
            config,
            str(layout.shard_file(workdir, shard)),
            str(layout.chunk_file(workdir, shard)),
            str(logs / f"{shard}.log"),
        )
    jobs.merge(config, str(logs / "merge.log"))
    rows = _level0(project.output_path)
    assert sorted(rows) == ["img0.tif", "img1.tif", "img2.tif"]
    assert rows["img1.tif"]["load_error"] == (
        "the file was listed when the run was planned and has vanished since"
    )
    assert rows["img0.tif"]["load_error"] is None
    assert rows["img2.tif"]["mean_intensity"] == pytest.approx(_image(2).mean())
    summary = RunSummary.read(layout.summary_file(workdir))
    assert summary.failed == 1 and summary.files == 3
    assert json.loads(layout.summary_file(workdir).read_text("utf-8"))["skipped"] == {}
