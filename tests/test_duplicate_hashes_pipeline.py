"""Duplicates through the real pipeline: the ``raster-hash`` hashes and the merge's sets.

One dataset, one Snakemake run (loader ``bioio``, processor ``raster-hash`` only), read
back with polars, ``api.duplicates`` and ``pixel-patrol duplicates --json``:

* one uint16 array saved as TIFF, 16-bit PNG, OME-TIFF and Zarr (the ``bioio`` loader
  reads the store with the zarr reader; a second run reads it with the ``zarr`` loader):
  one ``content_hash``;
* a cell image, its 8-bit rescaled copy and a JPEG of that: pHash within 6 bits and
  signatures correlated ≥ 0.95; the scene moved by 12 px fails one of the two; 50
  images of other seeds of the same cells model: no pair passes both;
* a Z stack with plane 4 copied from plane 3: equal ``plane_hash``,
  ``plane_noise_distance`` 0 at the copy and above 0.5 elsewhere;
* constant and pure-noise images: no pHash, no signature; two equal constant images are
  an exact set, the others (another constant, another noise seed) pair with nothing.

The merge pairs them into sets: the TIFF, PNG, OME-TIFF and Zarr copies are one exact set; the
original, 8-bit and JPEG copies one near set; planes 3 and 4 of the stack one plane set
(flagged by ``duplicate_plane``); nothing else is in a set.

The cells model: Gaussian blobs of radius 6–14 px on a background, through the camera
model of ``tests/qc/camera.py`` (Poisson photons, gain, offset and read noise).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import polars as pl
import pytest
import tifffile
import zarr
from pipeline_helpers import deadline
from qc.camera import Camera, acquire

from pixel_patrol_base import api
from pixel_patrol_base.imaging.perceptual import hamming, signature_correlation

pytestmark = pytest.mark.slow

SIZE = 256
SHIFT = 12
UNRELATED = 50
MAX_BITS, MIN_CORRELATION = 6, 0.95
CAMERA = Camera(photons=400.0, offset=100.0, read=2.0)
HASH_COLUMNS = ("content_hash", "plane_hash", "phash", "signature", "plane_noise_distance")
SET_COLUMNS = ("duplicate_set", "duplicate_kind", "duplicate_of", "qc_issues")
EXACT = ["same/a.tif", "same/b.png", "same/c.ome.tif", "same/d.zarr"]
NEAR = ["near/copy.jpg", "near/eight_bit.tif", "near/original.tif"]
EMPTY_COPIES = ["empty/constant.tif", "empty/constant_copy.tif"]


@pytest.fixture(autouse=True)
def _fail_instead_of_hanging() -> Iterator[None]:
    with deadline(300):
        yield


def cells(seed: int, size: int = SIZE + 2 * SHIFT, count: int = 40) -> np.ndarray:
    """A scene of ``count`` Gaussian cells (radius 6–14 px) on a dim background, in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    scene = np.full((size, size), 0.05)
    for _ in range(count):
        cy, cx = rng.uniform(0, size, 2)
        radius = rng.uniform(6.0, 14.0)
        scene += rng.uniform(0.4, 1.0) * np.exp(
            -((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius**2)
        )
    return np.asarray(scene / scene.max())


def field(scene: np.ndarray, seed: int, dx: int = 0) -> np.ndarray:
    """The camera's uint16 image of the SIZE × SIZE window of ``scene`` moved by ``dx``."""
    window = scene[SHIFT : SHIFT + SIZE, SHIFT + dx : SHIFT + dx + SIZE]
    return acquire(window, CAMERA, seed)


def rescaled(image: np.ndarray) -> np.ndarray:
    """``image`` linearly stretched from its min..max to 0..255, as uint8."""
    low, high = float(image.min()), float(image.max())
    return np.round((image - low) / (high - low) * 255.0).astype(np.uint8)


def _write(base: Path) -> None:
    rng = np.random.default_rng(3)
    same = field(cells(1), 11)
    zarr.create_array(base / "zarr" / "d.zarr", data=same, chunks=(64, 96), zarr_format=2)
    base = base / "data"
    (base / "same").mkdir(parents=True)
    zarr.create_array(base / "same" / "d.zarr", data=same, chunks=(32, 128), zarr_format=3)
    tifffile.imwrite(base / "same" / "a.tif", same, compression="zlib")
    iio.imwrite(base / "same" / "b.png", same)
    tifffile.imwrite(base / "same" / "c.ome.tif", same, ome=True, metadata={"axes": "YX"})

    scene = cells(2)
    original = field(scene, 21)
    (base / "near").mkdir()
    tifffile.imwrite(base / "near" / "original.tif", original)
    tifffile.imwrite(base / "near" / "eight_bit.tif", rescaled(original))
    iio.imwrite(base / "near" / "copy.jpg", rescaled(original), quality=85)
    tifffile.imwrite(base / "near" / "shifted.tif", field(scene, 22, dx=SHIFT))

    (base / "unrelated").mkdir()
    for i in range(UNRELATED):
        tifffile.imwrite(base / "unrelated" / f"u{i:02d}.tif", field(cells(100 + i), 100 + i))

    stack = np.stack([field(cells(3), 30 + z) for z in range(6)])
    stack[4] = stack[3]
    tifffile.imwrite(base / "stack.ome.tif", stack, ome=True, metadata={"axes": "ZYX"})

    (base / "empty").mkdir()
    for name, value in (("constant", 120), ("constant_copy", 120), ("constant_other", 130)):
        tifffile.imwrite(base / "empty" / f"{name}.tif", np.full((SIZE, SIZE), value, np.uint16))
    for name in ("noise", "noise_other"):
        noise = rng.poisson(200.0, (SIZE, SIZE)) + rng.normal(100.0, 2.0, (SIZE, SIZE))
        tifffile.imwrite(base / "empty" / f"{name}.tif", np.round(noise).astype(np.uint16))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("hashes")
    _write(base)
    outputs = {}
    for folder, loader in (("data", "bioio"), ("zarr", "zarr")):  # one loader per run
        output = base / f"{folder}.parquet"
        project = api.create_project(folder, base / folder, loader=loader, output_path=output)
        with deadline(300):
            api.process_files(project, processors_included={"raster-hash"}, max_workers=2)
        outputs[folder] = output
    return outputs


@pytest.fixture(scope="module")
def table(reports: dict[str, Path]) -> pl.DataFrame:
    frames = []
    for output in reports.values():
        df, _ = api.load(output)
        assert df.filter(pl.col("load_error").is_not_null()).is_empty()
        frames.append(df.select("path", "obs_level", "dim_z", *HASH_COLUMNS, *SET_COLUMNS))
    return pl.concat(frames)


def _image(df: pl.DataFrame, path: str) -> dict[str, object]:
    rows = df.filter((pl.col("path") == path) & (pl.col("obs_level") == 0))
    assert rows.height == 1, path
    return rows.row(0, named=True)


def _near(a: dict[str, object], b: dict[str, object]) -> tuple[int, float | None]:
    assert isinstance(a["phash"], int) and isinstance(b["phash"], int)
    assert isinstance(a["signature"], bytes) and isinstance(b["signature"], bytes)
    return hamming(a["phash"], b["phash"]), signature_correlation(a["signature"], b["signature"])


def test_the_same_pixels_in_four_formats_have_one_content_hash(table: pl.DataFrame) -> None:
    paths = [*EXACT, "d.zarr"]
    hashes = {p: _image(table, p)["content_hash"] for p in paths}
    assert len(set(hashes.values())) == 1, hashes
    others = table.filter(
        (pl.col("obs_level") == 0)
        & ~pl.col("path").is_in(paths)
        & pl.col("content_hash").is_not_null()
    )
    assert not others["content_hash"].is_in(list(hashes.values())).any()


def test_rescaled_and_jpeg_copies_are_near_and_a_shift_is_not(table: pl.DataFrame) -> None:
    original = _image(table, "near/original.tif")
    for copy in ("near/eight_bit.tif", "near/copy.jpg"):
        bits, correlation = _near(original, _image(table, copy))
        assert bits <= MAX_BITS and correlation is not None and correlation >= MIN_CORRELATION, copy
    assert _image(table, "near/eight_bit.tif")["content_hash"] != original["content_hash"]
    bits, correlation = _near(original, _image(table, "near/shifted.tif"))
    assert bits > MAX_BITS or correlation is None or correlation < MIN_CORRELATION


def test_unrelated_images_of_the_same_model_never_pair(table: pl.DataFrame) -> None:
    rows = [_image(table, f"unrelated/u{i:02d}.tif") for i in range(UNRELATED)]
    closest = 64
    for a, b in itertools.combinations(rows, 2):
        bits, correlation = _near(a, b)
        closest = min(closest, bits)
        assert not (bits <= MAX_BITS and correlation is not None and correlation >= MIN_CORRELATION)
    assert closest > MAX_BITS  # the pHash alone already keeps them apart


def test_a_copied_plane_has_the_hash_of_its_original_and_no_noise_distance(
    table: pl.DataFrame,
) -> None:
    planes = table.filter((pl.col("path") == "stack.ome.tif") & (pl.col("obs_level") == 1)).sort(
        "dim_z"
    )
    assert planes["dim_z"].to_list() == list(range(6))
    hashes = planes["plane_hash"].to_list()
    assert hashes[4] == hashes[3]
    assert len(set(hashes)) == 5
    distance = planes["plane_noise_distance"].to_list()
    assert distance[0] is None
    assert distance[4] == 0.0
    assert all(d > 0.5 for z, d in enumerate(distance) if z not in (0, 4))
    image = _image(table, "stack.ome.tif")
    assert image["content_hash"] is not None and image["plane_hash"] is None
    assert image["plane_noise_distance"] is None and image["phash"] is not None


def test_empty_images_have_no_perceptual_hash(table: pl.DataFrame) -> None:
    for path in ("empty/constant.tif", "empty/noise.tif", "empty/noise_other.tif"):
        row = _image(table, path)
        assert row["content_hash"] is not None
        assert row["phash"] is None and row["signature"] is None, path


def _members(table: pl.DataFrame) -> dict[str, list[str]]:
    """Set id -> member paths (with ``@z=k`` for a plane), of the bioio report."""
    rows = table.filter(pl.col("duplicate_set").is_not_null() & (pl.col("path") != "d.zarr"))
    found: dict[str, list[str]] = {}
    for row in rows.iter_rows(named=True):
        member = row["path"] if row["obs_level"] == 0 else f"{row['path']}@z={row['dim_z']}"
        found.setdefault(row["duplicate_set"], []).append(member)
    return {key: sorted(value) for key, value in found.items()}


def test_the_merge_finds_exactly_the_planted_sets(table: pl.DataFrame) -> None:
    sets = sorted(_members(table).values())
    planes = ["stack.ome.tif@z=3", "stack.ome.tif@z=4"]
    assert sets == sorted([EXACT, NEAR, EMPTY_COPIES, planes])
    kinds = {
        row["path"]: (row["duplicate_kind"], row["duplicate_of"])
        for row in table.filter(pl.col("obs_level") == 0).iter_rows(named=True)
    }
    assert {kinds[p] for p in EXACT} == {("exact", "same/a.tif")}
    assert {kinds[p] for p in NEAR} == {("near", "near/copy.jpg")}
    assert {kinds[p] for p in EMPTY_COPIES} == {("exact", "empty/constant.tif")}
    assert kinds["near/shifted.tif"] == (None, None)
    assert kinds["d.zarr"] == (None, None)  # alone in its report


def test_duplicates_are_qc_issues_through_the_rules(table: pl.DataFrame) -> None:
    images = table.filter(pl.col("obs_level") == 0)
    flagged = images.filter(pl.col("qc_issues").list.contains("duplicate"))["path"]
    assert sorted(flagged.to_list()) == sorted([*EXACT, *NEAR, *EMPTY_COPIES])
    flagged = table.filter(pl.col("qc_issues").list.contains("duplicate_plane"))
    planes = flagged.filter(pl.col("obs_level") == 1)
    assert sorted(planes["dim_z"].to_list()) == [3, 4]
    assert flagged.filter(pl.col("obs_level") == 0)["path"].to_list() == ["stack.ome.tif"]


def test_api_and_cli_list_the_sets_from_the_report_alone(reports: dict[str, Path]) -> None:
    sets = api.duplicates(reports["data"])
    assert sets["kind"].to_list() == ["exact", "exact", "near", "plane"]
    near = sets.row(2, named=True)
    assert near["paths"] == NEAR and near["distance"] <= MAX_BITS
    assert near["correlation"] >= MIN_CORRELATION
    plane = sets.row(3, named=True)
    assert plane["paths"] == ["stack.ome.tif"] * 2 and plane["planes"] == ["z=3", "z=4"]
    command = [sys.executable, "-m", "pixel_patrol_base.cli", "duplicates", str(reports["data"])]
    printed = subprocess.run(
        [*command, "--json"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert [entry["set"] for entry in json.loads(printed)["sets"]] == sets["set"].to_list()
    summary = api.load(reports["data"])[1].duplicates
    assert summary["sets"] == 4 and summary["exact_sets"] == 2 and summary["near_sets"] == 1
    assert summary["images_in_sets"] == 9 and summary["planes_in_sets"] == 2


def test_an_added_copy_reprocesses_at_most_two_shards_and_joins_a_set(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for i in range(12):
        tifffile.imwrite(data / f"u{i:02d}.tif", field(cells(200 + i), 200 + i))
    project = api.create_project("grow", data, loader="bioio", output_path=tmp_path / "r.pq")
    settings = {"processors_included": {"raster-hash"}, "max_images_per_task": 3, "max_workers": 2}
    api.process_files(project, **settings)
    first = project.last_run or {}
    assert first["shards"] >= 4
    assert api.duplicates(project).is_empty()

    (data / "u03-copy.tif").write_bytes((data / "u03.tif").read_bytes())
    api.process_files(project, **settings)
    run = project.last_run or {}
    assert 1 <= run["shards_processed"] <= 2, run
    assert run["shards_reused"] == run["shards"] - run["shards_processed"]
    sets = api.duplicates(project)
    assert sets.select("kind", "paths").rows() == [("exact", ["u03-copy.tif", "u03.tif"])]
