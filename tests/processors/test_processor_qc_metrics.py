"""``raster-qc``: every metric against plain numpy, on planes from a camera model.

The camera model: ``adu = clip(round(gain · Poisson(photons · scene + 2) + offset +
N(0, read)), 0, top)``, with ``scene`` blobs times a texture, optionally blurred. The
references below are written from the column descriptions, with numpy only.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pixel_patrol_base.imaging.engine import process_image
from pixel_patrol_base.loaders.common import header_row
from pixel_patrol_base.plugins.contracts import ImageInfo
from pixel_patrol_base.plugins.registry import get_loader, get_processor
from pixel_patrol_base.plugins.testing import check_installed_processor, check_processor

SIDE = 160
FLOATS = (
    "background_level",
    "noise_sigma",
    "snr",
    "signal_fraction",
    "focus_score",
    "saturated_fraction",
    "black_clipped_fraction",
    "max_plateau_fraction",
)


# ---------------------------------------------------------------- synthetic data


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur (reflecting edges), numpy only."""
    radius = int(4 * sigma + 0.5)
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-(x**2) / (2 * sigma * sigma))
    kernel /= kernel.sum()
    out = image.astype(np.float64)
    for axis in (0, 1):
        padded = np.pad(out, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)], "reflect")
        out = np.apply_along_axis(lambda v: np.convolve(v, kernel, "valid"), axis, padded)
    return out


def _scene(seed: int = 0, side: int = SIDE) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:side, :side]
    image = np.zeros((side, side))
    for _ in range(side // 8):
        cy, cx = rng.uniform(0, side, 2)
        s = 2.0 * rng.uniform(0.7, 1.5)
        image += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    texture = _blur(rng.normal(size=(side, side)), 1.0)
    texture = (texture - texture.min()) / (texture.max() - texture.min())
    return image * (0.6 + 0.8 * texture)


def acquire(
    scene: np.ndarray,
    *,
    photons: float = 500,
    gain: float = 1.0,
    offset: float = 100,
    read: float = 2.0,
    blur: float = 0.0,
    top: int = 65535,
    dtype: Any = np.uint16,
) -> np.ndarray:
    """The camera model of the module docstring (the same noise seed every time)."""
    rng = np.random.default_rng(1)
    x = _blur(scene, blur) if blur else scene
    electrons = rng.poisson(photons * x + 2.0)
    adu = gain * electrons + offset + rng.normal(0, read, x.shape)
    return np.clip(np.round(adu), 0, top).astype(dtype)


# ---------------------------------------------------------------- numpy references


def _focus_reference(plane: np.ndarray) -> float | None:
    rows, cols = plane.shape
    h, w = min(rows, 512), min(cols, 512)
    y0, x0 = (rows - h) // 2, (cols - w) // 2
    crop = plane[y0 : y0 + h, x0 : x0 + w].astype(np.float64)
    finite = np.isfinite(crop)
    if h < 32 or w < 32 or not finite.any():
        return None
    mean = crop[finite].mean()
    crop = np.where(finite, crop, mean) - mean
    power = np.abs(np.fft.fft2(crop * np.outer(np.hanning(h), np.hanning(w)))) ** 2
    fy, fx = np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij")
    size = max(h, w)
    near = np.abs(fx) < 0.25  # the frequencies the score reads
    ring = np.floor(np.hypot(fy, fx) * size + 0.5).astype(int)[near]
    means = np.bincount(ring, power[near]) / np.maximum(np.bincount(ring), 1)
    present = np.bincount(ring) > 0
    freq = np.arange(means.size) / size

    def band(lo: float, hi: float) -> np.ndarray:
        return means[present & (freq >= lo) & (freq < hi)]

    floor = np.median(band(0.40, 0.50))
    low = band(0.01, 0.05).mean() - floor
    mid = band(0.08, 0.25).mean() - floor
    if low <= 0:
        return None
    if mid <= 0:
        return -6.0
    return float(np.clip(np.log10(mid / low), -6, 0))


def reference(plane: np.ndarray, saturation: float | None) -> dict[str, Any]:
    """Every raster-qc column of one 2D plane, from the column descriptions."""
    a = plane.astype(np.float64)
    finite = a[np.isfinite(a)]
    bg, peak = np.percentile(finite, [5, 99.9])
    r = (
        a[:-2, :-2] - 2 * a[:-2, 1:-1] + a[:-2, 2:]
        - 2 * a[1:-1, :-2] + 4 * a[1:-1, 1:-1] - 2 * a[1:-1, 2:]
        + a[2:, :-2] - 2 * a[2:, 1:-1] + a[2:, 2:]
    )  # fmt: skip
    r = r[1::2, 1::2]  # positions in even plane rows and columns (r starts at (1, 1))
    r = np.abs(r[np.isfinite(r)])
    sigma = float(np.median(r)) / (6 * 0.6744897501960817)
    out: dict[str, Any] = {
        "background_level": bg,
        "noise_sigma": sigma,
        "snr": (peak - bg) / sigma if sigma else None,
        "signal_fraction": np.mean(finite > bg + 6 * sigma) if sigma else None,
        "focus_score": _focus_reference(plane),
        "max_plateau_fraction": np.mean(finite == finite.max()),
        "saturation_level": saturation,
        "saturated_fraction": None,
        "black_clipped_fraction": None,
        "bits_used": None,
        "low_zero_bits": None,
    }
    if plane.dtype.kind in "iu":
        low = np.iinfo(plane.dtype).min
        out["saturated_fraction"] = np.mean(plane >= saturation)
        out["black_clipped_fraction"] = np.mean(plane <= low)
        top = int(plane.max())
        out["bits_used"] = top.bit_length() if top > 0 else 0
        ored = int(np.bitwise_or.reduce(plane.astype(np.int64), axis=None))
        out["low_zero_bits"] = (ored & -ored).bit_length() - 1 if ored else None
    return out


def _run(
    array: np.ndarray, order: str = "YX", bits: int | None = None, **settings: Any
) -> list[dict[str, Any]]:
    extra = {} if bits is None else {"declared_bit_depth": bits}
    info = ImageInfo(None, order, array.shape, str(array.dtype), extra=extra)
    settings.setdefault("slice_size", {})
    settings.setdefault("mb_per_task", 64)
    return process_image(array, info, [get_processor("raster-qc")], **settings).rows


def _assert_row(got: dict[str, Any], want: dict[str, Any], label: str) -> None:
    for name, value in want.items():
        if value is None:
            assert got[name] is None, f"{label} {name}: {got[name]} is not null"
        else:
            assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-12), f"{label} {name}"


# ---------------------------------------------------------------- tests


def test_registered_and_conforms() -> None:
    check_installed_processor("raster-qc")
    check_processor(get_processor("raster-qc"))


CAMERA_CASES = {
    "uint16": lambda: acquire(_scene()),
    "uint16-gain4-offset500": lambda: acquire(_scene(), gain=4, offset=500, read=8),
    "uint16-blurred": lambda: acquire(_scene(), blur=3),
    "uint8": lambda: acquire(_scene(), photons=60, offset=10, top=255, dtype=np.uint8),
    "int16": lambda: acquire(_scene(), dtype=np.int16, top=32767),
    "int32": lambda: acquire(_scene(), dtype=np.int32, gain=40),
    "rectangular": lambda: acquire(_scene(side=200)[:, :137]),
}


@pytest.mark.parametrize("case", sorted(CAMERA_CASES))
@pytest.mark.parametrize("mb", [64, 0.02])  # whole planes, then tiles with halos
def test_plane_matches_numpy(case: str, mb: float) -> None:
    plane = CAMERA_CASES[case]()
    (row,) = _run(plane, mb_per_task=mb)
    _assert_row(row, reference(plane, float(np.iinfo(plane.dtype).max)), f"{case} {mb}")


@pytest.mark.parametrize("mb", [64, 0.02])
def test_float_with_nan_matches_numpy(mb: float) -> None:
    plane = acquire(_scene(), dtype=np.float32, top=1e9)
    plane[np.random.default_rng(3).random(plane.shape) < 0.02] = np.nan
    (row,) = _run(plane, mb_per_task=mb)
    _assert_row(row, reference(plane, None), f"float32 {mb}")


def test_stack_rows_and_pixel_weighted_aggregation() -> None:
    stack = np.stack([acquire(_scene(s), photons=100 * (s + 1)) for s in range(3)])
    rows = _run(stack, "ZYX")
    planes = {r["dim_z"]: r for r in rows if r["obs_level"] == 1}
    wants = [reference(stack[z], 65535.0) for z in range(3)]
    for z, want in enumerate(wants):
        _assert_row(planes[z], want, f"z={z}")
    top = rows[0]
    for name in FLOATS:
        assert top[name] == pytest.approx(np.mean([w[name] for w in wants]), rel=1e-9)
    assert top["bits_used"] == max(w["bits_used"] for w in wants)
    assert top["low_zero_bits"] == min(w["low_zero_bits"] for w in wants)


INVARIANT = ("snr", "signal_fraction", "focus_score")


def test_gain_and_offset_leave_the_invariant_metrics_alone_on_floats() -> None:
    plane = acquire(_scene()).astype(np.float64)
    (base,) = _run(plane)
    (scaled,) = _run(3.0 * plane + 500.0)
    for name in INVARIANT:
        assert scaled[name] == pytest.approx(base[name], rel=1e-9), name
    assert scaled["noise_sigma"] == pytest.approx(3 * base["noise_sigma"], rel=1e-9)
    assert scaled["background_level"] == pytest.approx(3 * base["background_level"] + 500)


@pytest.mark.parametrize(("a", "b"), [(3, 500), (16, 0), (2, 1000)])
def test_integer_rescaling_leaves_the_invariant_metrics_alone(a: int, b: int) -> None:
    plane = acquire(_scene(), offset=100)
    (base,) = _run(plane)
    (scaled,) = _run((a * plane.astype(np.int64) + b).astype(np.uint16))
    for name in INVARIANT:
        assert scaled[name] == pytest.approx(base[name], rel=1e-9), name
    assert scaled["noise_sigma"] == pytest.approx(a * base["noise_sigma"])


def test_blur_lowers_the_focus_score_clearly() -> None:
    scene = _scene()
    (sharp,) = _run(acquire(scene))
    (blurred,) = _run(acquire(scene, blur=3))
    assert sharp["focus_score"] - blurred["focus_score"] > 0.5
    (bright,) = _run(acquire(scene, photons=5000))
    assert abs(bright["focus_score"] - sharp["focus_score"]) < 0.3  # noise floor removed


def test_fewer_photons_lower_the_snr() -> None:
    scene = _scene()
    (good,) = _run(acquire(scene, photons=500))
    (dim,) = _run(acquire(scene, photons=25))
    assert dim["snr"] < good["snr"] / 4
    assert dim["signal_fraction"] < good["signal_fraction"]


def test_declared_twelve_bits_catch_saturation_that_the_dtype_misses() -> None:
    plane = acquire(_scene(), photons=10000, top=4095)
    (dtype_based,) = _run(plane)
    (declared,) = _run(plane, bits=12)
    assert dtype_based["saturated_fraction"] == 0
    assert dtype_based["saturation_level"] == 65535
    want = float(np.mean(plane == 4095))
    assert want > 0.001
    assert declared["saturated_fraction"] == pytest.approx(want)
    assert declared["saturation_level"] == 4095
    assert declared["max_plateau_fraction"] == pytest.approx(want)
    (ignored,) = _run(plane, bits=20)  # more than the dtype holds: the dtype's range
    assert ignored["saturation_level"] == 65535


def test_bits_used_and_low_zero_bits_on_crafted_data() -> None:
    twelve = acquire(_scene(), photons=10000, top=4095)
    (row,) = _run(twelve)
    assert (row["bits_used"], row["low_zero_bits"]) == (12, 0)
    (row,) = _run((twelve << 4).astype(np.uint16))  # left-aligned in uint16
    assert (row["bits_used"], row["low_zero_bits"]) == (16, 4)
    (row,) = _run(np.full((8, 8), 0b1010000, np.uint8))
    assert (row["bits_used"], row["low_zero_bits"]) == (7, 4)
    (row,) = _run(np.zeros((8, 8), np.uint16))
    assert (row["bits_used"], row["low_zero_bits"]) == (0, None)
    (row,) = _run(np.full((8, 8), 2.0**40, np.int64) * np.arange(1, 9))
    assert (row["bits_used"], row["low_zero_bits"]) == (44, 40)
    (row,) = _run(twelve.astype(np.float32))
    assert (row["bits_used"], row["low_zero_bits"], row["saturated_fraction"]) == (None,) * 3


def test_constant_and_tiny_planes_give_nulls() -> None:
    (flat,) = _run(np.full((40, 40), 7, np.uint16))
    assert flat["noise_sigma"] == 0
    assert flat["snr"] is None and flat["signal_fraction"] is None
    (tiny,) = _run(np.ones((2, 9), np.uint16))
    assert all(tiny[name] is None for name in FLOATS)


@pytest.mark.parametrize("loader_id", ["bioio", "tifffile"])
def test_significant_bits_come_from_an_ome_tiff(loader_id: str, tmp_path: Path) -> None:
    import tifffile

    plane = acquire(_scene(), photons=10000, top=4095)
    path = tmp_path / "twelve.ome.tif"
    tifffile.imwrite(path, plane, metadata={"axes": "YX", "SignificantBits": 12}, ome=True)
    loader = get_loader(loader_id)
    (info,) = loader.read_header(path)
    assert info.extra["declared_bit_depth"] == 12
    assert header_row(info, 1)["declared_bit_depth"] == 12
    array = loader.read_array(path, info)  # type: ignore[attr-defined]
    (row,) = process_image(
        array, info, [get_processor("raster-qc")], slice_size={}, mb_per_task=64
    ).rows
    assert row["saturation_level"] == 4095
    assert row["saturated_fraction"] == pytest.approx(float(np.mean(plane == 4095)))
    assert row["saturated_fraction"] > 0


@pytest.mark.parametrize("loader_id", ["bioio", "tifffile"])
def test_no_significant_bits_no_declared_depth(loader_id: str, tmp_path: Path) -> None:
    import tifffile

    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, np.zeros((16, 16), np.uint16))
    (info,) = get_loader(loader_id).read_header(path)
    assert "declared_bit_depth" not in info.extra


def test_reference_sanity() -> None:
    """The reference itself: white Gaussian noise of σ = 10 gives noise_sigma ≈ 10."""
    noise = np.random.default_rng(0).normal(1000, 10, (400, 400))
    assert reference(noise, None)["noise_sigma"] == pytest.approx(10, rel=0.02)
    assert math.isclose(reference(noise, None)["signal_fraction"], 0, abs_tol=1e-4)
