"""Every metric on every obs_level row equals an independent plain-numpy computation."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from numpy_reference import (
    COMPRESSION,
    QUALITY,
    assert_same,
    expected,
    histogram,
    row_block,
)

from pixel_patrol_base.imaging.engine import process_image
from pixel_patrol_base.plugins.contracts import ImageInfo, Processor


def _noise(shape: tuple[int, ...], dtype: Any, low: int, high: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(low, high, size=shape).astype(dtype)


def _smooth(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Blurry structure plus noise, so the filters see edges and flat areas."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : shape[-2], 0 : shape[-1]]
    base = 1000 + 800 * np.sin(x / 5.0) * np.cos(y / 7.0) + 600 * (x > shape[-1] // 2)
    return np.broadcast_to(base, shape) + rng.normal(0, 20, size=shape)


def _float_with_nans() -> np.ndarray:
    data = _smooth((4, 29, 37), 3).astype(np.float32)
    rng = np.random.default_rng(4)
    data[rng.random(data.shape) < 0.05] = np.nan
    data[1, 5, 7] = np.inf
    data[2] = np.nan  # an all-NaN plane
    return data


def _blocky() -> np.ndarray:
    """8×8 blocks of constant value plus mild noise: a JPEG-like artefact."""
    rng = np.random.default_rng(5)
    blocks = rng.integers(50, 200, size=(6, 7))
    image = np.kron(blocks, np.ones((8, 8))) + rng.integers(0, 3, size=(48, 56))
    return image.astype(np.uint8)


def _clipped() -> np.ndarray:
    data = _noise((2, 31, 33), np.uint16, 0, 65536, 6)
    data[0, :5] = 65535
    data[1, -3:] = 0
    return data


CASES: dict[str, tuple[str, np.ndarray]] = {
    "2d-uint8": ("YX", _noise((37, 45), np.uint8, 0, 256, 1)),
    "2d-uint16-smooth": ("YX", _smooth((40, 50), 2).astype(np.uint16)),
    "2d-uint8-narrow": ("YX", _noise((20, 30), np.uint8, 100, 121, 7)),
    "zyx-int16": ("ZYX", _noise((4, 26, 31), np.int16, -3000, 3000, 8)),
    "zyx-uint16-two-ranges": (
        "ZYX",
        np.stack(
            [
                _noise((25, 27), np.uint16, 1000, 1101, 9),
                _noise((25, 27), np.uint16, 5000, 5051, 10),
            ]
        ),
    ),
    "zyx-float32-nan": ("ZYX", _float_with_nans()),
    "cyx-uint16": ("CYX", _smooth((3, 30, 40), 11).astype(np.uint16)),
    "tczyx-uint16": ("TCZYX", _smooth((2, 2, 3, 21, 24), 12).astype(np.uint16)),
    "yxs-rgb-uint8": ("YXS", _noise((30, 40, 3), np.uint8, 0, 256, 13)),
    "2d-uint8-blocky": ("YX", _blocky()),
    "zyx-uint16-clipped": ("ZYX", _clipped()),
    "2d-tiny": ("YX", _noise((2, 5), np.uint16, 0, 10, 14)),
    "zyx-int16-big-endian": ("ZYX", _noise((2, 19, 23), ">i2", -500, 500, 15)),
    "2d-float64": ("YX", _smooth((33, 41), 16)),
    "zyx-int32": ("ZYX", _noise((3, 30, 35), np.int32, -100_000, 100_000, 17)),
    "zyx-int32-narrow": ("ZYX", _noise((2, 12, 13), np.int32, 70_000, 70_200, 18)),
}


def _run(
    array: np.ndarray, order: str, processors: list[Processor], **settings: Any
) -> list[dict[str, Any]]:
    info = ImageInfo(None, order, array.shape, str(array.dtype))
    settings.setdefault("slice_size", {})
    settings.setdefault("mb_per_task", 64)
    return process_image(array, info, processors, **settings).rows


def _keys(rows: list[dict[str, Any]]) -> list[tuple[int, tuple[tuple[str, int], ...]]]:
    return [
        (r["obs_level"], tuple(sorted((k, v) for k, v in r.items() if k.startswith("dim_"))))
        for r in rows
    ]


def _approximate_histogram(got: dict[str, Any], want: dict[str, Any], block: np.ndarray) -> None:
    """A merged float histogram: same total and edges; a pixel moves only near a bin edge."""
    assert got["histogram_nan_count"] == want["histogram_nan_count"]
    assert got["histogram_min"] == want["histogram_min"]
    assert got["histogram_max"] == want["histogram_max"]
    counts, reference = np.array(got["histogram_counts"]), np.array(want["histogram_counts"])
    assert counts.sum() == reference.sum()
    values = block.astype(np.float64)
    values = values[np.isfinite(values)]
    width = (want["histogram_max"] - want["histogram_min"]) / 256
    position = (values - want["histogram_min"]) / width
    near_edge = np.count_nonzero(np.abs(position - np.rint(position)) <= 1 / 32)
    assert np.abs(counts - reference).sum() <= 2 * near_edge


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_row_matches_numpy(case: str, processors: list[Processor]) -> None:
    order, array = CASES[case]
    rows = _run(array, order, processors)
    assert rows[0]["obs_level"] == 0
    float_merge = array.dtype.kind == "f" or array.dtype.itemsize > 2  # approximate merge
    for row in rows:
        want = expected(array, order, row)
        merged = float_merge and any(
            row.get(f"dim_{a.lower()}") is None and row[f"size_{a.lower()}"] > 1
            for a in order
            if a not in "YX"
        )
        for name, value in want.items():
            if merged and name == "histogram_counts" and value is not None:
                _approximate_histogram(row, want, row_block(array, order, row))
            elif not (merged and name in {"histogram_min", "histogram_max"}):
                assert_same(row[name], value, f"{case} {_keys([row])[0]} {name}")


@pytest.mark.parametrize("case", sorted(CASES))
def test_rows_are_every_combination_of_axis_indices(case: str, processors: list[Processor]) -> None:
    order, array = CASES[case]
    rows = _run(array, order, processors[:1])
    axes = [a for a in "TCZYXS" if a in order and a not in "YX" and array.shape[order.index(a)] > 1]
    want = []
    for level in range(len(axes) + 1):
        for chosen in itertools.combinations(axes, level):
            for index in itertools.product(*(range(array.shape[order.index(a)]) for a in chosen)):
                want.append(
                    (
                        level,
                        tuple(
                            sorted(zip((f"dim_{a.lower()}" for a in chosen), index, strict=True))
                        ),
                    )
                )
    assert sorted(_keys(rows)) == sorted(want)
    for row in rows:
        block = row_block(array, order, row)
        assert row["num_pixels"] == block.size
        for axis in order:
            assert row[f"size_{axis.lower()}"] == block.shape[order.index(axis)]


def test_level_zero_histogram_of_a_stack_is_exact_for_integers(processors: list[Processor]) -> None:
    """Planes with very different ranges: level 0 is not a sum of the planes' bins."""
    order, array = CASES["zyx-uint16-two-ranges"]
    rows = _run(array, order, processors[1:2])
    whole = histogram(array)
    assert rows[0]["histogram_counts"] == whole["histogram_counts"]
    assert (rows[0]["histogram_min"], rows[0]["histogram_max"]) == (1000.0, 5050.0)
    assert rows[1]["histogram_min"] == 1000.0 and rows[1]["histogram_max"] == 1256.0


def test_uint8_always_bins_over_the_full_range(processors: list[Processor]) -> None:
    order, array = CASES["2d-uint8-narrow"]
    row = _run(array, order, processors[1:2])[0]
    assert (row["histogram_min"], row["histogram_max"]) == (0.0, 256.0)
    counts = np.bincount(array.ravel(), minlength=256)
    assert row["histogram_counts"] == counts.tolist()


def test_slice_size_blocks_use_their_start_index(processors: list[Processor]) -> None:
    array = _smooth((5, 22, 26), 15).astype(np.uint16)
    rows = _run(array, "ZYX", processors, slice_size={"Z": 2})
    assert [(r["obs_level"], r.get("dim_z"), r["size_z"]) for r in rows] == [
        (0, None, 5),
        (1, 0, 2),
        (1, 2, 2),
        (1, 4, 1),
    ]
    for row in rows:
        for name, value in expected(array, "ZYX", row).items():
            assert_same(row[name], value, f"dim_z={row.get('dim_z')} {name}")


def test_full_extent_slice_gives_only_level_zero(processors: list[Processor]) -> None:
    array = _smooth((3, 20, 20), 16).astype(np.uint16)
    rows = _run(array, "ZYX", processors, slice_size={"Z": -1})
    assert len(rows) == 1
    for name, value in expected(array, "ZYX", rows[0]).items():
        assert_same(rows[0][name], value, name)


def test_all_nan_plane_gives_nulls(processors: list[Processor]) -> None:
    order, array = CASES["zyx-float32-nan"]
    rows = _run(array, order, processors)
    row = next(r for r in rows if r.get("dim_z") == 2)
    assert row["finite_pixel_count"] == 0 and row["nan_fraction"] == 1.0
    assert row["min_intensity"] is None and row["std_intensity"] is None
    assert row["histogram_counts"] is None and row["histogram_nan_count"] == row["num_pixels"]
    assert row["laplacian_variance"] is None and row["ringing_index"] is None
    assert rows[0]["processor_errors"] is None


def test_blocking_is_detected(processors: list[Processor]) -> None:
    row = _run(CASES["2d-uint8-blocky"][1], "YX", processors[4:])[0]
    assert row["blocking_index"] > 3


def test_spatial_slices_are_planes_of_their_own(processors: list[Processor]) -> None:
    """slice_size on Y: each block is a row, and a plane of its own for per-plane metrics."""
    array = _smooth((2, 48, 30), 19).astype(np.uint16)
    rows = _run(array, "ZYX", processors, slice_size={"Y": 16})
    assert len(rows) == (2 + 1) * (3 + 1)
    leaves = [r for r in rows if r.get("dim_y") is not None and r.get("dim_z") is not None]
    assert len(leaves) == 6
    per_plane = set(QUALITY) | set(COMPRESSION)
    for row in rows:
        want = expected(array, "ZYX", row)
        for name, value in want.items():
            if row.get("dim_y") is not None or name not in per_plane:
                assert_same(row[name], value, f"{_keys([row])[0]} {name}")
                continue
            covered = [r for r in leaves if row.get("dim_z") in (None, r["dim_z"])]
            defined = [(r[name], r["num_pixels"]) for r in covered if r[name] is not None]
            mean = sum(v * w for v, w in defined) / sum(w for _, w in defined)
            assert_same(row[name], mean, f"{_keys([row])[0]} {name}")
