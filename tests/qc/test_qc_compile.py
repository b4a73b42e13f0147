"""Compiled QC expressions against values computed by hand or with numpy."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from pixel_patrol_base.qc.expr import Context, compile_node, parse

FRAME = pl.DataFrame(
    {
        "a": [1, 2, 3, None],
        "b": [2.0, 0.5, -1.0, 4.0],
        "s": ["uint16", "uint8", None, "float32"],
        "f": [True, False, None, True],
        "l": [["x"], ["x", "y"], [], None],
        "my col": [10, 20, 30, 40],
    }
)


def values(text: str, frame: pl.DataFrame = FRAME, ctx: Context | None = None) -> list[object]:
    return frame.select(compile_node(parse(text), ctx).alias("out"))["out"].to_list()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a + b", [3.0, 2.5, 2.0, None]),
        ("a - b", [-1.0, 1.5, 4.0, None]),
        ("a * b", [2.0, 1.0, -3.0, None]),
        ("a / 2", [0.5, 1.0, 1.5, None]),  # true division
        ("-a + 1", [0, -1, -2, None]),
        ("2 + 3 * a", [5, 8, 11, None]),
        ("a < 2", [True, False, False, None]),
        ("a <= 2", [True, True, False, None]),
        ("a > 2", [False, False, True, None]),
        ("a >= 2", [False, True, True, None]),
        ("a == 2", [False, True, False, None]),
        ("a != 2", [True, False, True, None]),
        ("s == 'uint8'", [False, True, None, False]),
        ("a in [2, 3]", [False, True, True, None]),  # closed at both ends
        ("a not in [2, 3]", [True, False, False, None]),
        ("b in [-1, 0.5]", [False, True, True, False]),
        ("s in {uint16, uint8}", [True, True, None, False]),
        ("s not in {uint16, uint8}", [False, False, None, True]),
        ("s in {uint8, null}", [False, True, True, False]),
        ("a in {1, 3}", [True, False, True, None]),
        ("b in {2, -1}", [True, False, True, False]),  # integers against a float column
        ("a in {1.0, 3.5}", [True, False, False, None]),  # floats against an integer column
        ("a is null", [False, False, False, True]),
        ("s is not null", [True, True, False, True]),
        ("not f", [False, True, None, False]),
        # three-valued logic: null and false = false, null or true = true
        ("f and a > 1", [False, False, None, None]),
        ("f and false", [False, False, False, False]),
        ("f or true", [True, True, True, True]),
        ("f or a > 2", [True, False, True, True]),
        ("abs(b)", [2.0, 0.5, 1.0, 4.0]),
        ("min(a, b)", [1.0, 0.5, -1.0, 4.0]),  # nulls ignored
        ("max(a, b, 2.5)", [2.5, 2.5, 3.0, 4.0]),
        ("len(l)", [1, 2, 0, None]),
        ("`my col` / 10", [1.0, 2.0, 3.0, 4.0]),
    ],
)
def test_operators_and_plain_functions(text: str, expected: list[object]) -> None:
    assert values(text) == expected


def test_log10_is_null_where_not_positive() -> None:
    got = values("log10(b)")
    assert got[0] == pytest.approx(math.log10(2.0))
    assert got[1] == pytest.approx(math.log10(0.5))
    assert got[2] is None  # log10 of a negative number: null, not NaN
    assert got[3] == pytest.approx(math.log10(4.0))
    assert values("log10(b - 2)")[0] is None  # log10(0)


def test_aggregates_without_groups_cover_all_rows() -> None:
    assert values("n_unique(s)") == [3] * 4  # nulls are not a value
    assert values("count(a)") == [3] * 4
    assert values("count()") == [4] * 4
    assert values("fraction(a >= 2)") == pytest.approx([2 / 3] * 4)
    assert values("mean(b)") == pytest.approx([1.375] * 4)
    assert values("median(b)") == pytest.approx([1.25] * 4)
    assert values("min(b)") == [-1.0] * 4
    assert values("max(a)") == [3] * 4


def numpy_robust_z(x: np.ndarray) -> np.ndarray:
    median = np.median(x)
    mad = np.median(np.abs(x - median))
    return 0.6745 * (x - median) / mad


def test_robust_z_matches_numpy_per_group() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.lognormal(3, 0.5, 12), rng.normal(100, 5, 9)
    b[4] = 180.0  # an outlier
    frame = pl.DataFrame({"g": ["a"] * 12 + ["b"] * 9, "x": np.concatenate([a, b])})
    got = np.array(values("robust_z(x)", frame, Context(("g",))), dtype=float)
    np.testing.assert_allclose(got[:12], numpy_robust_z(a), rtol=1e-12)
    np.testing.assert_allclose(got[12:], numpy_robust_z(b), rtol=1e-12)
    assert got[12 + 4] > 3.5
    assert values("abs(robust_z(x)) > 3.5", frame, Context(("g",))).count(True) == 1
    logs = np.array(values("robust_z(log10(x))", frame, Context(("g",))), dtype=float)
    np.testing.assert_allclose(logs[:12], numpy_robust_z(np.log10(a)), rtol=1e-12)


def test_robust_z_is_null_for_small_groups_and_no_spread() -> None:
    frame = pl.DataFrame(
        {
            "g": ["small"] * 7 + ["flat"] * 10 + ["ok"] * 8 + ["same"] * 8,
            "x": [1.0, 2, 3, 4, 5, 6, 100]
            + [5.0] * 9
            + [6.0]
            + [1.0, 2, 3, 4, 5, 6, 7, 8]
            + [3.0] * 8,
        }
    )
    got = values("robust_z(x)", frame, Context(("g",)))
    assert got[:7] == [None] * 7  # 7 images < min_group 8
    # MAD = 0: (x - median) / (1.2533 * MeanAD), MeanAD = 0.1
    np.testing.assert_allclose(got[7:17], [0.0] * 9 + [1 / (1.253314 * 0.1)])
    assert got[25:] == [None] * 8  # no spread at all
    np.testing.assert_allclose(got[17:25], numpy_robust_z(np.arange(1.0, 9.0)))
    assert values("robust_z(x)", frame, Context(("g",), min_group=7))[:7][-1] is not None


def test_robust_z_ignores_nulls_in_the_count_and_the_median() -> None:
    x = [1.0, 2, 3, 4, 5, 6, 7, 8, None]
    got = values("robust_z(x)", pl.DataFrame({"x": x}))
    np.testing.assert_allclose(got[:8], numpy_robust_z(np.arange(1.0, 9.0)))
    assert got[8] is None


def test_mode_and_differs_from_mode_per_group() -> None:
    frame = pl.DataFrame(
        {
            "g": ["a"] * 4 + ["b"] * 4 + ["c"] * 2,
            "dtype": ["uint16", "uint16", "uint8", None, "u", "v", "v", "v", "p", "q"],
            "ch": [["DAPI", "GFP"]] * 2
            + [["GFP", "DAPI"], ["DAPI", "GFP"]]
            + [["x"]] * 4
            + [[], []],
        }
    )
    ctx = Context(("g",))
    assert values("mode(dtype)", frame, ctx) == ["uint16"] * 4 + ["v"] * 4 + ["p"] * 2
    differs = values("differs_from_mode(dtype)", frame, ctx)
    assert differs == [False, False, True, None, True, False, False, False, None, None]  # c: a tie
    assert values("differs_from_mode(ch)", frame, ctx)[:4] == [False, False, True, False]


def test_rel_diff_from_median() -> None:
    frame = pl.DataFrame({"g": ["a"] * 5 + ["z"] * 2, "p": [0.1625] * 4 + [0.325, 0.0, 0.0]})
    got = values("rel_diff_from_median(p)", frame, Context(("g",)))
    assert got[:5] == pytest.approx([0.0] * 4 + [1.0])
    assert got[5:] == [None, None]  # median 0: no relative difference
    flags = values("rel_diff_from_median(p) > 1e-3", frame, Context(("g",)))
    assert flags[:5] == [False] * 4 + [True]
