"""QC verdicts on real Snakemake runs: every report is judged, and rules rerun cheaply.

Small images are written with tifffile: good uint16 and uint8 images in two top-level
folders, a float32 image with 25 % NaN, and a file that is not a TIFF. Changing a
threshold in the rules file, or the QC grouping, reruns the merge only: 0 shards are
processed, and the verdicts change.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import tifffile
from pipeline_helpers import deadline

from pixel_patrol_base import api
from pixel_patrol_base.cli.process import summary_line
from pixel_patrol_base.errors import RulesFileError
from pixel_patrol_base.qc import load_rules

pytestmark = pytest.mark.slow

COMMON: dict[str, Any] = {"max_workers": 2, "processors_included": {"raster-basic"}}
THRESHOLD = "version: 1\noverride:\n  nan_heavy:\n    fail: nan_fraction >= {fail}\n"


@pytest.fixture(autouse=True)
def _fail_instead_of_hanging() -> Iterator[None]:
    with deadline(240):
        yield


def _imwrite(path: Path, image: np.ndarray) -> None:
    """An ImageJ TIFF calibrated at 0.5 um, as a microscope writes it (no pixel_size_missing)."""
    tifffile.imwrite(path, image, imagej=True, resolution=(2.0, 2.0), metadata={"unit": "um"})


def _dataset(base: Path) -> Path:
    rng = np.random.default_rng(7)
    (base / "a").mkdir(parents=True)
    (base / "b").mkdir()
    for i in range(3):
        _imwrite(base / "a" / f"good{i}.tif", (rng.poisson(50, (24, 24)) + 100).astype("u2"))
        _imwrite(base / "b" / f"good{i}.tif", (rng.poisson(20, (24, 24)) + 10).astype("u1"))
    nan = rng.normal(100, 5, (24, 24)).astype(np.float32)
    nan.ravel()[rng.permutation(nan.size)[: nan.size // 4]] = np.nan
    _imwrite(base / "a" / "nan.tif", nan)
    (base / "b" / "broken.tif").write_bytes(b"II*\x00 this is not a TIFF")
    return base


@dataclass
class Run:
    project: api.Project
    base: Path
    first: dict[str, Any]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    base = _dataset(tmp_path_factory.mktemp("qc") / "data")
    project = api.create_project("qc", base, loader="tifffile")
    with deadline(240):
        api.process_files(project, **COMMON)
    assert project.last_run is not None
    return Run(project, base, dict(project.last_run))


def _images(project: api.Project) -> dict[str, dict[str, Any]]:
    table, _ = api.load(project.output_path)
    return {r["path"]: r for r in table.filter(pl.col("obs_level") == 0).iter_rows(named=True)}


def test_every_row_has_verdicts_and_the_summary_counts_them(run: Run) -> None:
    table, _ = api.load(run.project.output_path)
    assert table.height >= 8
    for column in ("qc_status", "qc_issues", "qc_levels", "qc_messages"):
        assert table[column].null_count() == 0, column
    issues, levels, messages = (
        table[c].list.len() for c in ("qc_issues", "qc_levels", "qc_messages")
    )
    assert (issues == levels).all() and (issues == messages).all()  # one each per issue
    assert set(table["qc_status"]) <= {"pass", "warn", "fail", "error"}
    images = _images(run.project)
    assert "nan_heavy" in images["a/nan.tif"]["qc_issues"]
    assert images["a/nan.tif"]["qc_status"] == "warn"
    assert images["b/broken.tif"]["qc_status"] == "fail"
    assert images["b/broken.tif"]["qc_issues"] == ["unreadable"]
    assert images["b/broken.tif"]["qc_levels"] == ["fail"]
    levels = dict(
        zip(images["a/nan.tif"]["qc_issues"], images["a/nan.tif"]["qc_levels"], strict=True)
    )
    assert levels["nan_heavy"] == "warn"
    assert all(images[f"{g}/good{i}.tif"]["qc_status"] == "pass" for g in "ab" for i in range(3))
    line = summary_line(run.first)
    assert line.endswith(run.first["qc_summary"])
    assert "nan_heavy" in run.first["qc_summary"] and "1 fail (unreadable)" in line
    assert run.first["qc_counts"]["by_issue"]["nan_heavy"] == {"warn": 1}


def test_footer_holds_the_qc_results(run: Run) -> None:
    _, meta = api.load(run.project.output_path)
    assert meta.qc["group_by"] == "top_folder"  # no paths added, files in sub-folders
    assert meta.qc["rules_digest"] == load_rules().digest() == run.first["qc_rules_digest"]
    assert meta.qc["counts"]["images"] == 8
    assert meta.qc["counts"]["fail"] == 1
    assert {d["rule"] for d in meta.qc["dataset"]} == {"many_unreadable"}
    assert meta.qc["summary"] == run.first["qc_summary"]
    groups = {(g["rule"], g["group"]) for g in meta.qc["groups"]}
    assert groups == set() or all(group in {"a", "b"} for _, group in groups)


def test_a_changed_threshold_reruns_only_the_qc(run: Run, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(THRESHOLD.format(fail=0.2), "utf-8")
    api.process_files(run.project, expectations=rules, **COMMON)
    last = run.project.last_run
    assert last is not None and last["shards_processed"] == 0
    assert _images(run.project)["a/nan.tif"]["qc_status"] == "fail"
    # the same path, new content: not taken for unchanged
    rules.write_text(THRESHOLD.format(fail=0.3), "utf-8")
    api.process_files(run.project, expectations=rules, **COMMON)
    last = run.project.last_run
    assert last is not None and last["shards_processed"] == 0
    assert _images(run.project)["a/nan.tif"]["qc_status"] == "warn"
    _, meta = api.load(run.project.output_path)
    assert meta.qc["rules_digest"] == load_rules(rules).digest() != load_rules().digest()
    assert meta.settings["expectations"] == str(rules.resolve())


def test_a_changed_grouping_reruns_only_the_qc(run: Run) -> None:
    api.process_files(run.project, **COMMON)
    assert "dtype_mismatch" in _images(run.project)["a/nan.tif"]["qc_issues"]  # a: 3 uint16
    api.process_files(run.project, qc_group_by="file_extension", **COMMON)
    last = run.project.last_run
    assert last is not None and last["shards_processed"] == 0
    _, meta = api.load(run.project.output_path)
    assert meta.qc["group_by"] == "file_extension"
    # one group: 3 uint16, 3 uint8, 1 float32 -- no most common dtype, no mismatch
    assert "dtype_mismatch" not in _images(run.project)["a/nan.tif"]["qc_issues"]


def test_a_malformed_rules_file_is_refused_before_any_work(tmp_path: Path) -> None:
    base = _dataset(tmp_path / "data")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules:\n  - id: dark\n    wran: snr < 3\n", "utf-8")
    project = api.create_project("bad", base, loader="tifffile")
    with pytest.raises(RulesFileError, match=r"bad\.yaml:4:"):
        api.process_files(project, expectations=bad, **COMMON)
    assert not project.workdir.exists() and not project.output_path.exists()
    output = tmp_path / "cli.parquet"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pixel_patrol_base.cli",
            "process",
            str(base),
            "-o",
            str(output),
            "--loader",
            "tifffile",
            "--expect",
            str(bad),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        check=False,
    )
    assert result.returncode == 2
    first = result.stderr.strip().splitlines()[0]
    assert first.startswith(f"pixel-patrol: error: {bad}:4: rule 'dark', key 'wran'")
    assert not output.exists() and not (tmp_path / ".pixel_patrol").exists()


def test_check_on_the_processed_project(run: Run, tmp_path: Path) -> None:
    results = api.check(run.project)
    assert {"nan_heavy", "unreadable"} <= set(results["rule"])
    stricter = tmp_path / "strict.yaml"
    stricter.write_text(THRESHOLD.format(fail=0.1), "utf-8")
    judged = api.check(run.project, stricter).filter(pl.col("rule") == "nan_heavy")
    assert judged["status"].to_list() == ["fail"]
