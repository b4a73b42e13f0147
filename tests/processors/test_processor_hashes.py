"""``raster-hash`` on the pixel engine: every column against a plain numpy/BLAKE3 reference.

The references follow the column descriptions, written out here without the processor's
code: BLAKE3 of the header text and the bytes, 32×32 block means by reshaping, an
explicit DCT-II sum, Immerkaer residuals by slicing. The values must not depend on the
storage order, the byte order or how the engine tiles a plane.
"""

from __future__ import annotations

import math
from typing import Any

import blake3
import numpy as np
import pytest
from qc.camera import Camera, acquire

from pixel_patrol_base.imaging.engine import process_image
from pixel_patrol_base.plugins.contracts import ImageInfo
from pixel_patrol_base.plugins.registry import get_processor
from pixel_patrol_base.plugins.testing import check_installed_processor, check_processor

SIDE = 128
NAMES = ("content_hash", "plane_hash", "phash", "signature", "plane_noise_distance")


def cells(seed: int, side: int = SIDE, noise: int | None = None) -> np.ndarray:
    """uint16 camera image of a few Gaussian cells (noise seed ``noise``, else ``seed``)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:side, :side]
    scene = np.full((side, side), 0.05)
    for _ in range(12):
        cy, cx = rng.uniform(0, side, 2)
        scene += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * rng.uniform(4, 9) ** 2))
    return acquire(scene / scene.max(), Camera(photons=300.0), seed if noise is None else noise)


def rows_of(array: np.ndarray, dims: str, **settings: Any) -> list[dict[str, Any]]:
    info = ImageInfo(None, dims, array.shape, str(array.dtype))
    settings = {"slice_size": {}, "mb_per_task": 64, **settings}
    result = process_image(array, info, [get_processor("raster-hash")], **settings)
    assert result.rows[0]["processor_errors"] is None
    return [
        {k: r[k] for k in ("obs_level", "dim_z", "dim_t", *NAMES) if k in r} for r in result.rows
    ]


def digest(text: str, data: bytes) -> bytes:
    return blake3.blake3(text.encode() + data).digest(length=16)


def plane_digest(plane: np.ndarray) -> bytes:
    rows, cols = plane.shape
    little = plane.astype(plane.dtype.newbyteorder("<"))
    return digest(f"{plane.dtype.name};{rows}x{cols};", little.tobytes())


def reference_grid(plane: np.ndarray) -> np.ndarray:
    """Normalised 32×32 block means of a plane whose sides are multiples of 32."""
    rows, cols = plane.shape
    means = plane.astype(np.float64).reshape(32, rows // 32, 32, cols // 32).mean(axis=(1, 3))
    low, high = np.percentile(means, [1.0, 99.9])
    return np.clip((means - low) / (high - low), 0.0, 1.0)


def reference_phash(grid: np.ndarray) -> int:
    n = np.arange(32)
    coefficients = np.empty((8, 8))
    for u in range(8):
        for v in range(8):
            basis = np.outer(
                np.cos(np.pi * (2 * n + 1) * u / 64), np.cos(np.pi * (2 * n + 1) * v / 64)
            )
            scale = (math.sqrt(1 / 32) if u == 0 else math.sqrt(2 / 32)) * (
                math.sqrt(1 / 32) if v == 0 else math.sqrt(2 / 32)
            )
            coefficients[u, v] = scale * float((grid * basis).sum())
    flat = coefficients.ravel()
    bits = "".join("1" if c > np.median(flat[1:]) else "0" for c in flat)
    return int.from_bytes(int(bits, 2).to_bytes(8, "big"), "big", signed=True)


def reference_signature(grid: np.ndarray) -> bytes:
    pooled = grid.reshape(16, 2, 16, 2).mean(axis=(1, 3))
    return bytes(np.rint(pooled * 255).astype(np.uint8))


def immerkaer(crop: np.ndarray) -> float:
    x = crop.astype(np.float64)
    r = (
        x[:-2, :-2]
        + x[:-2, 2:]
        + x[2:, :-2]
        + x[2:, 2:]
        - 2 * (x[:-2, 1:-1] + x[2:, 1:-1] + x[1:-1, :-2] + x[1:-1, 2:])
        + 4 * x[1:-1, 1:-1]
    )
    return float(np.median(np.abs(r[1::2, 1::2]))) / (6 * 0.6744897501960817)


@pytest.fixture(scope="module")
def stack() -> np.ndarray:
    """Four Z planes: three exposures of one scene, then a copy of the third."""
    planes = np.stack([cells(1, noise=20 + z) for z in range(4)])
    planes[3] = planes[2]
    return planes


def test_processor_conforms() -> None:
    check_installed_processor("raster-hash")
    check_processor(get_processor("raster-hash"))


def test_hashes_follow_the_definition(stack: np.ndarray) -> None:
    rows = rows_of(stack, "ZYX")
    digests = [plane_digest(p) for p in stack]
    whole = blake3.blake3(f"uint16;4x{SIDE}x{SIDE};".encode() + b"".join(digests))
    assert rows[0]["content_hash"] == whole.hexdigest(length=16)
    assert rows[0]["plane_hash"] is None
    assert [r["plane_hash"] for r in rows[1:]] == [d.hex() for d in digests]
    assert all(r["content_hash"] is None for r in rows[1:])
    assert rows[3]["plane_hash"] == rows[4]["plane_hash"]


def test_hashes_ignore_storage_order_byte_order_and_singleton_axes(stack: np.ndarray) -> None:
    expected = rows_of(stack, "ZYX")[0]["content_hash"]
    assert (
        rows_of(np.ascontiguousarray(stack.transpose(1, 2, 0)), "YXZ")[0]["content_hash"]
        == expected
    )
    assert rows_of(stack.astype(">u2"), "ZYX")[0]["content_hash"] == expected
    assert rows_of(stack[None, :, None], "TZCYX")[0]["content_hash"] == expected
    assert rows_of(stack.astype(np.int32), "ZYX")[0]["content_hash"] != expected


def test_values_do_not_depend_on_tiling(stack: np.ndarray) -> None:
    whole = rows_of(stack, "ZYX")
    # 0.05 MiB: cores of 3,276 pixels, i.e. bands of 25 whole rows
    assert rows_of(stack, "ZYX", mb_per_task=0.05) == whole
    # 0.005 MiB: 256-pixel cores, 16×16 squares: rows in pieces, no content or plane hash
    pieces = rows_of(stack, "ZYX", mb_per_task=0.005)
    for got, want in zip(pieces, whole, strict=True):
        assert got["content_hash"] is None and got["plane_hash"] is None
        assert got["phash"] == want["phash"] and got["signature"] == want["signature"]
        assert got["plane_noise_distance"] == want["plane_noise_distance"]


def test_phash_and_signature_follow_the_definition() -> None:
    plane = cells(5, 256)
    row = rows_of(plane, "YX")[0]
    grid = reference_grid(plane)
    assert row["phash"] == reference_phash(grid)
    assert row["signature"] == reference_signature(grid)
    assert row["plane_noise_distance"] is None and row["plane_hash"] is None


def test_level_zero_hashes_the_mean_of_the_planes_grids(stack: np.ndarray) -> None:
    two = np.stack([cells(6), cells(7)])
    rows = rows_of(two, "CYX")
    mean = (reference_grid(two[0]) + reference_grid(two[1])) / 2
    mean = (mean - mean.min()) / (mean.max() - mean.min())
    assert rows[0]["phash"] == reference_phash(mean)
    assert rows[0]["signature"] == reference_signature(mean)
    assert [r["phash"] for r in rows[1:]] == [reference_phash(reference_grid(p)) for p in two]
    assert all(r["plane_noise_distance"] is None for r in rows)  # channels are no stack


def test_noise_distance_follows_the_definition(stack: np.ndarray) -> None:
    rows = rows_of(stack, "ZYX")
    distances = [r["plane_noise_distance"] for r in rows[1:]]
    assert distances[0] is None and distances[3] == 0.0
    for z in (1, 2):
        diff = stack[z].astype(np.float64) - stack[z - 1]
        sigma = (immerkaer(stack[z]) + immerkaer(stack[z - 1])) / 2
        assert distances[z] == pytest.approx(diff.std() / (math.sqrt(2) * sigma), rel=1e-12)
        assert distances[z] > 0.5


def test_noise_distance_uses_z_then_t_within_each_stack() -> None:
    planes = np.stack([cells(10 + i) for i in range(4)]).reshape(2, 2, SIDE, SIDE)
    planes[1, 0] = planes[0, 1]  # t=1, z=0 equals t=0, z=1: not its predecessor
    planes[1, 1] = planes[1, 0]  # t=1: z=1 copies z=0
    rows = rows_of(planes, "TZYX")
    leaves = {
        (r["dim_t"], r["dim_z"]): r["plane_noise_distance"] for r in rows if r["obs_level"] == 2
    }
    assert leaves[(0, 0)] is None and leaves[(1, 0)] is None
    assert leaves[(1, 1)] == 0.0 and leaves[(0, 1)] > 0.5
    series = rows_of(planes[:, 0], "TYX")
    assert series[1]["plane_noise_distance"] is None and series[2]["plane_noise_distance"] > 0.5


def test_empty_and_small_planes_have_no_perceptual_hash() -> None:
    rng = np.random.default_rng(4)
    constant = np.full((64, 64), 7, np.uint16)
    noise = (rng.poisson(100, (64, 64)) + 50).astype(np.uint16)
    small = cells(8)[:31, :]
    for plane in (constant, noise, small):
        row = rows_of(plane, "YX")[0]
        assert row["content_hash"] is not None
        assert row["phash"] is None and row["signature"] is None


def test_rows_between_planes_and_cut_planes_get_nulls(stack: np.ndarray) -> None:
    blocks = rows_of(stack, "ZYX", slice_size={"Z": 2})
    assert blocks[0] == rows_of(stack, "ZYX")[0]
    assert all(r[name] is None for r in blocks[1:] for name in NAMES)
    cut = rows_of(stack, "ZYX", slice_size={"Y": 64})
    assert all(r[name] is None for r in cut for name in NAMES)
