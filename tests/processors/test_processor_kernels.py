"""The compiled sweeps equal plain numpy formulas, on whole arrays and on tiles of them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from pixel_patrol_base.imaging.kernels import (
    jump_sums,
    quality_sums,
    ringing_sums,
    sobel_field,
    split,
    windowed,
)

RECTS = [(1, 30, 1, 40), (5, 17, 9, 33), (1, 2, 1, 40), (4, 4, 2, 9)]
"""Positions to visit in a 31×41 work array: all of its interior, tiles, empty."""


def _work(kind: str) -> np.ndarray:
    rng = np.random.default_rng(len(kind))
    if kind == "uint16":
        return rng.integers(0, 65536, size=(31, 41)).astype(np.int32)
    if kind == "int16-flat":
        data = rng.integers(-32768, 32768, size=(31, 41))
        data[10:20, 10:25] = -7  # constant patches: σ = 0
        return data.astype(np.int32)
    data = rng.normal(100.0, 30.0, size=(31, 41))
    if kind == "float-nan":
        data[rng.random(data.shape) < 0.04] = np.nan
        data[3, 7], data[20, 30] = np.inf, -np.inf
    if kind == "float-huge":
        data = rng.uniform(2e307, 3e307, size=data.shape)  # 9-pixel sums overflow to inf
    return data


ORDINARY = ["uint16", "int16-flat", "float", "float-nan"]
KINDS = [*ORDINARY, "float-huge"]
"""``float-huge`` only where which positions are skipped is compared, not sums that overflow."""


def _sums(values: np.ndarray) -> tuple[int, float, float]:
    values = values[np.isfinite(values)]
    with np.errstate(over="ignore"):
        return values.size, float(values.sum()), float((values * values).sum())


def _assert_sums(got: tuple[int, float, float], want: tuple[int, float, float]) -> None:
    assert got[0] == want[0]
    if not all(math.isfinite(v) for v in want):  # sums of huge values: only n is defined
        return
    scale = max(1.0, math.sqrt(abs(want[2]) * max(want[0], 1)))
    assert math.isclose(got[1], want[1], rel_tol=1e-9, abs_tol=1e-9 * scale)
    assert math.isclose(got[2], want[2], rel_tol=1e-9)


def _centre(p: np.ndarray, rect: tuple[int, int, int, int], dy: int = 0, dx: int = 0) -> np.ndarray:
    y0, y1, x0, x1 = rect
    return p[y0 + dy : y1 + dy, x0 + dx : x1 + dx]


def _windows(p: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    y0, y1, x0, x1 = rect
    return sliding_window_view(p, (3, 3))[y0 - 1 : y1 - 1, x0 - 1 : x1 - 1]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rect", RECTS)
@pytest.mark.parametrize("constant9", [None, 0.0, 45.0])
def test_quality_sums_equal_numpy(
    kind: str, rect: tuple[int, int, int, int], constant9: float | None
) -> None:
    work = _work(kind)
    p = work.astype(np.float64)
    with np.errstate(all="ignore"):
        lap = (
            _centre(p, rect, -1)
            + _centre(p, rect, 1)
            + _centre(p, rect, 0, -1)
            + _centre(p, rect, 0, 1)
            - 4 * _centre(p, rect)
        )
        windows = _windows(p, rect)
        sigma9 = 9 * windows.std(axis=(2, 3))
        residual9 = 9 * _centre(p, rect) - windows.sum(axis=(2, 3))
        mscn = residual9 / (sigma9 + (constant9 or 0.0))
    laplacian, texture, normalised = quality_sums(work, rect, constant9)
    _assert_sums(laplacian, _sums(lap))
    _assert_sums(texture, _sums(sigma9))
    _assert_sums(normalised, _sums(mscn) if constant9 is not None else (0, 0.0, 0.0))


@pytest.mark.parametrize("kind", ORDINARY)
@pytest.mark.parametrize("rect", [(0, 31, 0, 41), (3, 19, 5, 22)])
@pytest.mark.parametrize("origin", [(0, 0), (3, 5)])
def test_jump_sums_equal_numpy(
    kind: str, rect: tuple[int, int, int, int], origin: tuple[int, int]
) -> None:
    work = _work(kind)
    y0, y1, x0, x1 = rect
    limit = (min(y1, 30), min(x1, 40))
    first = (y0 + (7 - origin[0] - y0) % 8, x0 + (7 - origin[1] - x0) % 8)
    p = work.astype(np.float64)
    edge_x = (origin[1] + np.arange(x0, limit[1]) + 1) % 8 == 0
    edge_y = (origin[0] + np.arange(y0, limit[0]) + 1) % 8 == 0
    with np.errstate(all="ignore"):
        across = np.abs(p[y0:y1, x0 + 1 : limit[1] + 1] - p[y0:y1, x0 : limit[1]])
        down = np.abs(p[y0 + 1 : limit[0] + 1, x0:x1] - p[y0 : limit[0], x0:x1])
        edges = np.concatenate([across[:, edge_x].ravel(), down[edge_y].ravel()])
        others = np.concatenate([across[:, ~edge_x].ravel(), down[~edge_y].ravel()])
        edges, others = edges[np.isfinite(edges)], others[np.isfinite(others)]
        want = (float(edges.sum()), float(others.sum()))
    edge_sum, edge_n, other_sum, other_n = jump_sums(work, rect, limit, first, 8)
    assert (edge_n, other_n) == (edges.size, others.size)
    assert math.isclose(edge_sum, want[0], rel_tol=1e-12)
    assert math.isclose(other_sum, want[1], rel_tol=1e-12)


def _sobel(p: np.ndarray) -> np.ndarray:
    """Gx² + Gy² at every position with a 3×3 neighbourhood, NaN where it is not finite."""
    with np.errstate(all="ignore"):
        gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (
            p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2]
        )
        gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (
            p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:]
        )
        squared = gx * gx + gy * gy
    squared[~sliding_window_view(np.isfinite(p), (3, 3)).all(axis=(2, 3))] = np.nan
    return squared


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rect", RECTS)
def test_sobel_field_equals_numpy(kind: str, rect: tuple[int, int, int, int]) -> None:
    work = _work(kind)
    want = _centre(np.pad(_sobel(work.astype(np.float64)), 1), rect)
    np.testing.assert_allclose(sobel_field(work, rect), want, rtol=1e-12)


@pytest.mark.parametrize("kind", ORDINARY)
@pytest.mark.parametrize("rect", [(1, 30, 1, 40), (5, 17, 9, 33)])
def test_ringing_sums_equal_numpy(kind: str, rect: tuple[int, int, int, int]) -> None:
    """Strong edges come from the field only: outside it (the border) there are none."""
    work = _work(kind)
    p = work.astype(np.float64)
    squared = np.pad(_sobel(p), 1, constant_values=np.nan)
    finite = squared[np.isfinite(squared)]
    threshold = float(np.sort(finite)[int(0.9 * (finite.size - 1))])
    with np.errstate(invalid="ignore"):
        strong = squared > threshold
    near = sliding_window_view(np.pad(strong, 1), (3, 3)).any(axis=(2, 3))
    with np.errstate(all="ignore"):
        residual9 = 9 * _centre(p, rect) - _windows(p, rect).sum(axis=(2, 3))
    close = _centre(near, rect)
    y0, y1, x0, x1 = rect
    grown = (max(1, y0 - 1), min(30, y1 + 1), max(1, x0 - 1), min(40, x1 + 1))
    field = sobel_field(work, grown)
    got_near, got_far = ringing_sums(work, rect, field, (grown[0], grown[2]), threshold)
    _assert_sums(got_near, _sums(residual9[close]))
    _assert_sums(got_far, _sums(residual9[~close]))


def _split_values(kind: str) -> np.ndarray:
    rng = np.random.default_rng(len(kind))
    if kind == "fractional":  # ties, and ±0.0 among them
        values = np.concatenate([rng.normal(size=1003), np.zeros(9), -np.zeros(8), np.full(5, 3.0)])
    elif kind == "integer":  # a JPEG's squared Sobel magnitudes: most 0 (some −0.0), few large
        values = np.where(rng.random(5000) < 0.9, 0.0, np.round(rng.exponential(20.0, 5000)))
        values[rng.random(values.size) < 0.3] *= -1.0
    else:
        values = np.full(int(kind), 0.5)
    rng.shuffle(values)
    return values


SPLITS = [
    # kind, low, high, wanted ranks, expected size of [low, high] without ties
    ("fractional", 0.0, 3.0, (600, 601), 1000),  # few values: all gathered, ends too
    ("fractional", 0.0, 3.0, (600, 601), 50),  # many: ends counted, others gathered
    ("fractional", 0.0, 3.0, (530, 531), 50),  # the ranks are ties at the low end
    ("fractional", -0.0, 3.0, (1020, 1021), 50),  # … at the high end
    ("fractional", 0.0, 0.0, (530, 531), 1000),  # one tie: counted whatever its size
    ("fractional", -0.5, 0.25, (400, 401), 50),  # many, no ties at the ends
    ("fractional", -2.0, -0.0, (300, 300), 10),
    ("fractional", -np.inf, 0.1, (5, 6), 10),
    ("integer", 0.0, 16.0, (4500, 4501), 100),  # the ranks are ties at the low end …
    ("integer", 0.0, 16.0, (4845, 4846), 100),  # … at the high end
    ("integer", 0.0, 16.0, (4700, 4701), 100),  # strictly inside: the others gathered
    ("integer", 0.0, 16.0, (4500, 4501), 10_000),  # as many as expected: all gathered
    ("integer", -0.0, 0.0, (10, 11), 100),
    ("0", 0.0, 1.0, (0, 0), 0),
    ("1", 0.0, 1.0, (0, 0), 0),
    ("1", 0.5, 0.5, (0, 0), 0),
    ("1", 1.0, 2.0, (0, 0), 0),
]


@pytest.mark.parametrize(("kind", "low", "high", "wanted", "expected"), SPLITS)
def test_split_counts_and_gathers_like_numpy(
    kind: str, low: float, high: float, wanted: tuple[int, int], expected: int
) -> None:
    values = _split_values(kind)
    closed = (values >= low) & (values <= high)
    counted = low == high or np.count_nonzero(closed) > 2 * expected
    cut = split(values, low, high, wanted, expected)
    assert cut.below == np.count_nonzero(values < low)
    if counted:
        assert cut.at_low == np.count_nonzero(values == low)
        assert cut.at_high == (np.count_nonzero(values == high) if high != low else 0)
        kept = values[(values > low) & (values < high)]
    else:
        assert cut.at_low == cut.at_high == 0
        kept = values[closed]
    assert cut.inside == kept.size
    start = cut.below + cut.at_low
    if counted and not (wanted[0] < start + cut.inside and wanted[1] >= start):
        assert cut.values.size == 0
    else:  # the same values in the same order, signs of zeros included
        np.testing.assert_array_equal(cut.values, kept)
        np.testing.assert_array_equal(np.signbit(cut.values), np.signbit(kept))


@pytest.mark.parametrize("kind", KINDS)
def test_windowed_fills_centres_and_weighs(kind: str) -> None:
    work = _work(kind)
    rect = (2, 29, 3, 37)
    window = np.random.default_rng(8).random((27, 34))
    crop = _centre(work.astype(np.float64), rect)
    finite = np.isfinite(crop)
    with np.errstate(all="ignore"):
        filled = np.where(finite, crop, crop[finite].mean())
        want = (filled - filled.mean()) * window
    got = windowed(work, rect, window)
    assert got is not None
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * np.abs(crop[finite]).max())
    assert windowed(np.full((4, 4), np.nan), (0, 4, 0, 4), np.ones((4, 4))) is None
