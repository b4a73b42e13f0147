"""The built-in QC rules on camera-model sets, through the real pipeline.

``camera.dataset`` writes 30 good 128×128 OME-TIFFs and planted problems (blur,
fewer photons, no photons, high gain, 12-bit clipping with and without a declared bit
depth, NaN, swapped channels, another pixel size, Z stacks focused in the middle, cut
at the best plane, and with a copied plane). The set is processed by
``api.process_files`` with the bioio loader; every image must get exactly its planted
verdict, and rescaling every camera by a·I + b must change none.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from camera import dataset
from pipeline_helpers import deadline

from pixel_patrol_base import api

pytestmark = pytest.mark.slow

# What each planted image must show, and nothing else; good images show nothing.
EXPECTED = {
    "blurry": {"blurry"},
    "dark": {"dark"},
    "empty": {"empty"},
    "noisy": {"noisy"},
    "saturated": {"saturated"},
    "suspected_saturation": {"suspected_saturation"},
    "nan_heavy": {"nan_heavy"},
    "channel_mismatch": {"channel_mismatch"},
    "pixel_size_mismatch": {"pixel_size_mismatch"},
    "duplicate_plane": {"duplicate_plane"},
    # the planes far from the best are out of focus in both stacks
    "focus_peak_at_edge": {"focus_peak_at_edge", "out_of_focus_plane"},
    "": set(),
}
MIDDLE_STACK = "stack_mid/mid.ome.tif"


@dataclass
class Report:
    project: api.Project
    planted: dict[str, str]


def _process(base: Path, a: float, b: float) -> Report:
    planted = dataset(base / "data", a, b)
    project = api.create_project(
        "synthetic", base / "data", output_path=base / "report.parquet", loader="bioio"
    )
    with deadline(240):
        api.process_files(project, max_workers=2)
    return Report(project, planted)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return _process(tmp_path_factory.mktemp("synthetic"), 1.0, 0.0)


@pytest.fixture(scope="module")
def rescaled(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return _process(tmp_path_factory.mktemp("rescaled"), 4.0, 500.0)


@pytest.fixture(autouse=True)
def _fail_instead_of_hanging() -> Iterator[None]:
    with deadline(300):
        yield


def _issues(report: Report) -> dict[str, set[str]]:
    table, _ = api.load(report.project.output_path)
    images = table.filter(pl.col("obs_level") == 0)
    return {r["path"]: set(r["qc_issues"]) for r in images.iter_rows(named=True)}


def test_every_planted_image_gets_its_verdict_and_nothing_else(report: Report) -> None:
    issues = _issues(report)
    assert set(issues) == set(report.planted)
    expected = {path: EXPECTED[problem] for path, problem in report.planted.items()}
    expected[MIDDLE_STACK] = {"out_of_focus_plane"}
    assert {p: v for p, v in issues.items() if v != expected[p]} == {}


def test_thirty_good_images_get_no_warning(report: Report) -> None:
    table, _ = api.load(report.project.output_path)
    good = table.filter(pl.col("path").str.starts_with("good/good"))
    assert good.filter(pl.col("obs_level") == 0).height == 30
    assert set(good["qc_status"]) == {"pass"}
    assert report.project.last_run is not None
    assert "1 fail (empty)" in report.project.last_run["qc_summary"]


def test_the_messages_give_the_evidence(report: Report) -> None:
    table, _ = api.load(report.project.output_path)
    images = table.filter(pl.col("obs_level") == 0)
    messages = {r["path"]: r["qc_messages"] for r in images.iter_rows(named=True)}
    assert messages["bits/undeclared.ome.tif"][0].endswith(
        "at 4095: clipped by a camera of fewer bits?"
    )
    assert messages["bits/declared.ome.tif"][0].endswith("at the saturation level 4095")
    assert messages["good/dark.ome.tif"][0].startswith("dark: peak SNR ")


def test_the_stack_verdicts_name_the_right_planes(report: Report) -> None:
    results = api.check(report.project)
    planes = results.filter(pl.col("scope") == "slice")

    def z(rule: str, path: str) -> list[int]:
        rows = planes.filter((pl.col("rule") == rule) & (pl.col("path") == path))
        return sorted(rows["dim_z"].to_list())

    assert z("focus_peak_at_edge", "stack_cut/cut.ome.tif") == [6]
    assert z("focus_peak_at_edge", MIDDLE_STACK) == []
    assert z("out_of_focus_plane", MIDDLE_STACK) == [0, 1, 2, 10, 11, 12]
    assert z("duplicate_plane", "stack_dup/dup.ome.tif") == [8, 9]


def test_rescaling_every_camera_changes_no_verdict(report: Report, rescaled: Report) -> None:
    assert _issues(rescaled) == _issues(report)


def test_threshold_variants_without_reprocessing(report: Report, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\n"
        "override:\n"
        "  blurry:\n    warn: focus_score < -1.0\n"  # every good image is below -1
        "  suspected_saturation:\n    warn: max_plateau_fraction >= 0.05\n",
        "utf-8",
    )
    results = api.check(report.project, rules)
    blurry = set(results.filter(pl.col("rule") == "blurry")["path"])
    assert {f"good/good{i:02d}.ome.tif" for i in range(30)} <= blurry
    assert results.filter(pl.col("rule") == "suspected_saturation").height == 0
    default = api.check(report.project)
    assert set(default.filter(pl.col("rule") == "blurry")["path"]) == {"good/blur.ome.tif"}
