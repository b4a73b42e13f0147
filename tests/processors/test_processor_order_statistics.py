"""Exact order statistics: in memory and over several passes, equal to numpy's."""

from __future__ import annotations

import numpy as np
import pytest

from pixel_patrol_base.imaging.order import OrderStatistics, percentiles, select
from pixel_patrol_base.imaging.stats import IntCounts

QS = [0.0, 0.5, 1.0, 50.0, 90.0, 99.0, 99.5, 100.0]


def _values(kind: str, n: int) -> np.ndarray:
    rng = np.random.default_rng(n)
    if kind == "normal":
        return rng.normal(size=n)
    if kind == "heavy-tail":
        return rng.pareto(0.7, size=n) ** 3
    if kind == "ties":
        values = np.round(rng.normal(size=n) * 3)
        values[: n // 2] = 7.0
        return values
    if kind == "mostly-zero":  # a JPEG's Sobel magnitudes: 9 in 10 are 0, ties above
        return np.where(rng.random(n) < 0.9, 0.0, np.round(rng.exponential(20.0, n)))
    if kind == "two-values":
        return np.where(rng.random(n) < 0.9, 0.0, 1e12)
    if kind == "signed-zeros":  # ties of −0.0 and +0.0, fractional values above and below
        zeros = np.where(rng.random(n) < 0.5, -0.0, 0.0)
        return np.where(rng.random(n) < 0.8, zeros, rng.normal(size=n))
    if kind == "fractional-ties":  # a few hundred distinct values, none an integer
        return np.round(rng.normal(size=n) * 40) / 4 + 0.1
    return np.full(n, -2.5)


KINDS = [
    "normal",
    "heavy-tail",
    "ties",
    "mostly-zero",
    "two-values",
    "signed-zeros",
    "fractional-ties",
    "constant",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [1, 17, 70_000, 400_000])
def test_in_memory_percentiles_equal_numpy(kind: str, n: int) -> None:
    values = _values(kind, n)
    assert percentiles(values, QS) == [float(np.percentile(values, q)) for q in QS]


def test_select_takes_2d_views() -> None:
    grid = _values("heavy-tail", 600 * 700).reshape(600, 700)
    view = grid[1:-1, 1:-1]
    flat = np.sort(view.ravel())
    ranks = [0, 12345, 300_000, view.size - 1]
    assert select(view, ranks) == {r: float(flat[r]) for r in ranks}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [5, 70_000, 400_000])
def test_pieces_over_passes_equal_numpy(kind: str, n: int) -> None:
    values = _values(kind, n)
    selector = OrderStatistics(QS, expected=n)
    passes = 0
    while not selector.done:
        for piece in np.array_split(values, 9):
            selector.feed(piece)
        selector.end_pass()
        passes += 1
        assert passes < 12
    assert selector.percentiles() == [float(np.percentile(values, q)) for q in QS]
    assert selector.lower(90.0) == float(np.sort(values)[int(0.9 * (n - 1))])
    if kind in ("normal", "heavy-tail") and n > 100_000:
        assert passes <= 3


def test_no_values_give_none() -> None:
    selector = OrderStatistics([50.0])
    selector.end_pass()
    assert selector.done and selector.percentiles() is None and selector.lower(50.0) is None
    assert percentiles(np.zeros(0), [50.0]) is None


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16, np.bool_, ">i2", ">u2"])
def test_integer_counts_give_numpy_percentiles_and_moments(dtype: type | str) -> None:
    rng = np.random.default_rng(3)
    info = np.iinfo(dtype) if dtype is not np.bool_ else None
    low, high = (info.min, info.max) if info is not None else (0, 1)
    data = rng.integers(low, high, size=(50, 70), endpoint=True).astype(dtype)
    counts = IntCounts.of(data)
    assert counts.n == data.size
    as_numbers = data.astype(np.int64)
    assert counts.percentiles(QS) == [float(np.percentile(as_numbers, q)) for q in QS]
    moments = counts.moments()
    as_float = data.astype(np.float64)
    assert moments.mean == pytest.approx(as_float.mean(), rel=1e-12)
    assert moments.std == pytest.approx(as_float.std(), rel=1e-12)


def test_trimmed_counts_drop_only_zero_ends() -> None:
    counts = IntCounts(10, np.array([0, 0, 3, 0, 5, 0], np.int64))
    trimmed = counts.trimmed()
    assert trimmed.offset == 12 and trimmed.counts.tolist() == [3, 0, 5]
    assert trimmed.trimmed() is trimmed  # nothing left to trim: the same counts
    assert IntCounts(4, np.zeros(3, np.int64)).trimmed().counts.size == 0


@pytest.mark.parametrize("kind", ["normal", "heavy-tail", "mostly-zero"])
def test_a_misleading_sample_still_gives_exact_values(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the sampled bracket misses the rank, the fallbacks still find it exactly."""
    from pixel_patrol_base.imaging import order

    def wrong(
        sample: np.ndarray, fraction: float, extent: tuple[float, float]
    ) -> tuple[float, float]:
        top = float(np.max(sample))
        return top, top

    monkeypatch.setattr(order, "_bracket", wrong)
    values = _values(kind, 300_000)
    assert percentiles(values, QS) == [float(np.percentile(values, q)) for q in QS]
    selector = OrderStatistics(QS, expected=values.size)
    while not selector.done:
        for piece in np.array_split(values, 4):
            selector.feed(piece)
        selector.end_pass()
    assert selector.percentiles() == [float(np.percentile(values, q)) for q in QS]
