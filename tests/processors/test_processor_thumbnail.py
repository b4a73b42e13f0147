"""The thumbnail: composition, stretch, size, PNG encoding, overview arrays."""

from __future__ import annotations

import io
from typing import Any

import dask.array as da
import numpy as np
import pytest
from PIL import Image

from pixel_patrol_base.imaging.engine import process_image
from pixel_patrol_base.plugins.contracts import ImageInfo, Processor

COLOURS = [(1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 1), (1, 0, 1), (1, 1, 0)]


def _reference(array: np.ndarray, order: str, size: int = 64) -> tuple[np.ndarray, float, float]:
    """Decoded pixels and stretch limits, composed the way the column description says."""
    full = "TCZYXS"
    data = array
    for axis in full:
        if axis not in order:
            data = data[..., None]
            order += axis
    data = np.transpose(data, [order.index(a) for a in full]).astype(np.float64)
    step = max(1, max(data.shape[3], data.shape[4]) // (4 * size))
    data = data[data.shape[0] // 2, :6, :, ::step, ::step, :]  # C, Z, Y, X, S
    with np.errstate(all="ignore"):
        projected = np.fmax.reduce(data, axis=1)  # C, Y, X, S
    rgb = data.shape[-1] in (3, 4)
    planes = (
        [projected[0, :, :, s] for s in range(3)]
        if rgb
        else [
            projected[c, :, :, s]
            for c in range(projected.shape[0])
            for s in range(projected.shape[-1])
        ][:6]
    )
    stack = np.stack(planes)
    if rgb and array.dtype == np.uint8:
        low, high = 0.0, 255.0
    else:
        low, high = np.percentile(stack[np.isfinite(stack)], [0.5, 99.5])
    scaled = np.clip(np.nan_to_num((stack - low) / (high - low), nan=0.0), 0, 1)
    if rgb:
        picture = np.moveaxis(scaled, 0, -1)
    elif len(planes) == 1:
        picture = scaled[0]
    else:
        picture = np.clip(
            sum(p[..., None] * np.array(c) for p, c in zip(scaled, COLOURS, strict=False)), 0, 1
        )
    image = Image.fromarray(np.rint(picture * 255).astype(np.uint8))
    factor = size / max(image.size)
    target = (max(1, round(image.size[0] * factor)), max(1, round(image.size[1] * factor)))
    resample = Image.Resampling.BOX if factor < 1 else Image.Resampling.NEAREST
    return np.asarray(image.resize(target, resample)), float(low), float(high)


def _thumbnail(
    array: Any, order: str, processors: list[Processor], **settings: Any
) -> dict[str, Any]:
    info = ImageInfo(None, order, tuple(array.shape), str(array.dtype))
    settings.setdefault("mb_per_task", 64)
    rows = process_image(array, info, [processors[2]], slice_size={}, **settings).rows
    for row in rows[1:]:
        assert row["thumbnail"] is None
    return rows[0]


def _decode(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        return np.asarray(image)


def _smooth(shape: tuple[int, ...], dtype: Any, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.gamma(2.0, 300.0, size=shape).astype(dtype)


CASES = {
    "grey-2d": ("YX", _smooth((300, 200), np.uint16, 1)),
    "false-colour-cyx": ("CYX", _smooth((3, 90, 120), np.uint16, 2)),
    "tczyx-middle-t-max-z": ("TCZYX", _smooth((3, 2, 4, 50, 40), np.uint16, 3)),
    "eight-channels": ("CYX", _smooth((8, 40, 40), np.float32, 4)),
    "rgb-uint8": ("YXS", np.random.default_rng(5).integers(0, 256, (120, 80, 3)).astype(np.uint8)),
    "rgba-uint16": ("YXS", _smooth((60, 80, 4), np.uint16, 6)),
    "strided-large": ("YX", _smooth((1100, 700), np.uint8, 7)),
    "tiny": ("YX", _smooth((5, 9), np.float32, 8)),
    "signed-int16": ("YX", (_smooth((70, 50), np.float64, 9) - 600).astype(np.int16)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_thumbnail_matches_reference(case: str, processors: list[Processor]) -> None:
    order, array = CASES[case]
    row = _thumbnail(array, order, processors)
    want, low, high = _reference(array, order)
    got = _decode(row["thumbnail"])
    assert max(got.shape[:2]) == 64
    assert got.shape == want.shape
    assert np.array_equal(got, want)
    assert row["thumbnail_norm_min"] == pytest.approx(low, rel=1e-9)
    assert row["thumbnail_norm_max"] == pytest.approx(high, rel=1e-9)


def test_thumbnail_size_is_a_setting(processors: list[Processor]) -> None:
    order, array = CASES["grey-2d"]
    row = _thumbnail(array, order, processors, thumbnail_size=32)
    want, _, _ = _reference(array, order, size=32)
    assert np.array_equal(_decode(row["thumbnail"]), want)
    assert max(want.shape) == 32


def test_blockwise_thumbnail_equals_in_memory(processors: list[Processor]) -> None:
    order, array = CASES["tczyx-middle-t-max-z"]
    lazy = da.from_array(array, chunks=(1, 1, 1, 20, 20))
    a = _thumbnail(lazy, order, processors, mb_per_task=0.002)
    b = _thumbnail(array, order, processors)
    assert a == b


def test_overview_array_is_used_when_given(processors: list[Processor]) -> None:
    order, array = CASES["strided-large"]
    overview = array[::4, ::4].copy()
    row = _thumbnail(array, order, processors, thumbnail_array=overview)
    want, low, _ = _reference(overview, order)
    assert np.array_equal(_decode(row["thumbnail"]), want)
    assert row["thumbnail_norm_min"] == pytest.approx(low)


def test_all_nan_image_has_no_thumbnail(processors: list[Processor]) -> None:
    row = _thumbnail(np.full((10, 10), np.nan, np.float32), "YX", processors)
    assert row["thumbnail"] is None and row["thumbnail_norm_min"] is None
    assert row["processor_errors"] is None
