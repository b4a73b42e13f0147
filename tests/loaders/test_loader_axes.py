"""Axis canonicalisation: letters, dropped singletons, folding, reading blocks, units."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from pixel_patrol_base.loaders.axes import (
    AxisError,
    default_axes,
    harmonise_pixel_sizes,
    normalise_unit,
    plan_axes,
)


def _canonical(axes: str, source: np.ndarray, key: Any = slice(None)) -> np.ndarray:
    plan = plan_axes(axes, source.shape)
    return plan.read(key, lambda k: source[k])


@pytest.mark.parametrize(
    ("axes", "shape", "dim_order", "canonical_shape"),
    [
        ("TCZYX", (1, 1, 1, 5, 6), "YX", (5, 6)),  # bioio singletons dropped
        ("TCZYXS", (1, 1, 1, 5, 6, 3), "YXS", (5, 6, 3)),
        ("TCZYX", (1, 3, 1, 1, 6), "CYX", (3, 1, 6)),  # Y of extent 1 is kept
        ("TZCYX", (2, 3, 4, 5, 6), "TCZYX", (2, 4, 3, 5, 6)),  # ImageJ order
        ("QYX", (7, 5, 6), "ZYX", (7, 5, 6)),  # plain multi-page TIFF
        ("IYX", (7, 5, 6), "ZYX", (7, 5, 6)),
        ("ZIYX", (2, 7, 5, 6), "TZYX", (7, 2, 5, 6)),  # Z taken: I goes to T
        ("EYX", (4, 5, 6), "YXE", (5, 6, 4)),  # a wavelength sweep is an axis of its own
        ("HCZYX", (32, 2, 3, 8, 8), "CZYXH", (2, 3, 8, 8, 32)),  # Airyscan phases
        ("MTYX", (17, 2, 8, 8), "TYXM", (2, 8, 8, 17)),  # mosaic tiles
        ("SYX", (3, 5, 6), "YXS", (5, 6, 3)),  # planar RGB
        ("RTCZYX", (2, 3, 4, 5, 6, 7), "TCZYXR", (3, 4, 5, 6, 7, 2)),
        ("TCZAYX", (2, 3, 4, 5, 6, 7), "TCZYXA", (2, 3, 4, 6, 7, 5)),
        ("ATCZYX", (2, 3, 1, 1, 4, 5), "TYXA", (3, 4, 5, 2)),
        ("QTCZYX", (2, 3, 4, 5, 6, 7), "TCZYXQ", (3, 4, 5, 6, 7, 2)),  # no free T, C, Z
        ("BTYX", (2, 3, 4, 5), "TZYX", (3, 2, 4, 5)),  # unknown letter: first free of T, Z
        ("BTCZYX", (2, 3, 4, 5, 6, 7), "TCZYXQ", (3, 4, 5, 6, 7, 2)),  # none free: Q
        ("TCZQQYX", (2, 3, 4, 5, 6, 7, 8), "TCZYXQ", (2, 3, 4, 7, 8, 30)),  # folded into Q
        ("yx", (5, 6), "YX", (5, 6)),
    ],
)
def test_plan_maps_letters(
    axes: str, shape: tuple[int, ...], dim_order: str, canonical_shape: tuple[int, ...]
) -> None:
    plan = plan_axes(axes, shape)
    assert (plan.dim_order, plan.shape) == (dim_order, canonical_shape)


def test_a_library_without_generic_letters_keeps_its_i_axis() -> None:
    # A CZI's I is its illumination axis, a TIFF's I an image sequence (taken as Z).
    assert plan_axes("IZYX", (2, 3, 4, 5)).dim_order == "TZYX"
    assert plan_axes("IZYX", (2, 3, 4, 5), generic="").dim_order == "ZYXI"


def test_read_reorders_and_folds_like_numpy() -> None:
    rng = np.random.default_rng(0)
    tzcyx = rng.integers(0, 1000, (2, 3, 4, 5, 6))
    np.testing.assert_array_equal(_canonical("TZCYX", tzcyx), tzcyx.transpose(0, 2, 1, 3, 4))
    syx = rng.integers(0, 255, (3, 5, 6))
    np.testing.assert_array_equal(_canonical("SYX", syx), syx.transpose(1, 2, 0))
    qqtczyx = rng.integers(0, 1000, (2, 2, 3, 4, 5, 6, 7))  # Q0 its own, Q1 folded into T
    np.testing.assert_array_equal(
        _canonical("QQTCZYX", qqtczyx),
        qqtczyx.transpose(1, 2, 3, 4, 5, 6, 0).reshape(6, 4, 5, 6, 7, 2),
    )
    single = rng.integers(0, 9, (1, 1, 1, 5, 6))
    np.testing.assert_array_equal(_canonical("TCZYX", single), single[0, 0, 0])


@pytest.mark.parametrize(
    "key",
    [
        0,
        -1,
        (1, 2),
        (slice(None), slice(1, 3)),
        (slice(None, None, -1), 0, slice(None, None, 2)),
        (Ellipsis, slice(4, 0, -2)),
        (slice(1, 5, 3), Ellipsis, 1),
        (slice(3, 3),),
        (np.int64(2), slice(None)),
        ([0, 2],),  # fancy: read whole, index in memory
        (np.array([1, 0]), Ellipsis, 0),
    ],
)
def test_read_of_any_key_equals_numpy(key: Any) -> None:
    rng = np.random.default_rng(1)
    source = rng.integers(0, 1000, (2, 2, 3, 4, 5, 6, 7))  # Q Q T C Z Y X: Q1 folds into T
    full = source.transpose(1, 2, 3, 4, 5, 6, 0).reshape(6, 4, 5, 6, 7, 2)
    np.testing.assert_array_equal(_canonical("QQTCZYX", source, key), full[key])


def test_read_of_one_folded_index_reads_one_source_index() -> None:
    folded = plan_axes("QQTCZYX", (2, 2, 3, 4, 5, 6, 7))
    seen: list[tuple[slice, ...]] = []

    def read(k: tuple[slice, ...]) -> np.ndarray:
        seen.append(k)
        return np.zeros(
            [len(range(*s.indices(n))) for s, n in zip(k, folded.source_shape, strict=True)]
        )

    assert folded.read((4, 0), read).shape == (5, 6, 7, 2)
    assert seen == [
        (slice(0, 2), slice(1, 2), slice(1, 2), slice(0, 1), slice(0, 5), slice(0, 6), slice(0, 7))
    ]


@pytest.mark.parametrize(("axes", "shape"), [("ZY", (3, 4)), ("TCZ", (2, 3, 4)), ("YXT", (2,))])
def test_plan_refuses_what_is_not_an_image(axes: str, shape: tuple[int, ...]) -> None:
    with pytest.raises(AxisError):
        plan_axes(axes, shape)


def test_lower_level_keeps_axes_of_level_zero() -> None:
    plan = plan_axes("CZYX", (3, 2, 64, 64))
    lower = plan.with_source_shape((3, 1, 32, 32))  # Z halved to 1: still an axis
    assert (lower.dim_order, lower.shape) == ("CZYX", (3, 1, 32, 32))
    with pytest.raises(AxisError):
        plan_axes("TCZYX", (1, 3, 1, 8, 8)).with_source_shape((2, 3, 1, 4, 4))


def test_default_axes() -> None:
    assert [default_axes(n) for n in (2, 3, 4, 5, 6)] == [
        "YX", "ZYX", "CZYX", "TCZYX", "QTCZYX"
    ]  # fmt: skip
    with pytest.raises(AxisError):
        default_axes(1)


def test_units_are_normalised_and_converted_to_the_unit_of_x() -> None:
    assert normalise_unit("micron") == normalise_unit("\\u00B5m") == "µm"
    assert normalise_unit("micrometer") == "µm"
    assert normalise_unit("pixel") is None
    sizes, unit = harmonise_pixel_sizes(
        {"X": (250.0, "nanometer"), "Y": (0.25, "um"), "Z": (float("nan"), "µm")}
    )
    assert unit == "nm"
    assert sizes == pytest.approx({"X": 250.0, "Y": 250.0})
    assert harmonise_pixel_sizes({"X": (2.0, None)}) == ({"X": 2.0}, None)
    assert harmonise_pixel_sizes({"X": (0.0, "µm"), "Y": (None, "µm")}) == ({}, None)
