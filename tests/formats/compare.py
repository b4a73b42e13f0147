"""Compare the rows of a report with the plain-NumPy reference, listing every mismatch.

Counts and integer histograms must be equal; other numbers equal to 1e-6 relative.
Every obs_level row of an image is checked: the report must hold exactly the rows the
default ``slice_size`` implies (level 0, and each combination of fixed non-spatial
indices), and each row's metrics are computed from that row's own pixels.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import polars as pl

from . import reference as ref
from .dataset import Expected

AXES = "TCZYXS"


def expected_row_keys(exp: Expected) -> set[tuple[int, tuple[int | None, ...]]]:
    """(obs_level, dim_* per non-spatial axis) of every row the image must have."""
    cut = [a for a in "TCZS" if a in exp.dim_order and exp.data.shape[exp.dim_order.index(a)] > 1]
    keys = set()
    for level in range(len(cut) + 1):
        for fixed in itertools.combinations(cut, level):
            ranges = [range(exp.data.shape[exp.dim_order.index(a)]) for a in fixed]
            for combo in itertools.product(*ranges):
                chosen = dict(zip(fixed, combo, strict=True))
                keys.add((level, tuple(chosen.get(a) for a in "TCZS")))
    return keys


def _close(got: Any, want: Any, exact: bool) -> bool:
    if want is None or got is None:
        return got is None and want is None
    if isinstance(want, list):
        return list(got) == want
    if exact:
        return bool(got == want)
    return math.isclose(float(got), float(want), rel_tol=1e-6, abs_tol=1e-12)


def expected_metrics(exp: Expected, row: dict[str, Any]) -> dict[str, Any]:
    """Every metric of one row, from the row's own pixels."""
    pixels = ref.row_pixels(exp.data, exp.dim_order, row)
    planes = ref.planes(pixels, exp.dim_order)
    want = {**ref.basic(pixels), **ref.histogram(pixels)}
    if pixels.dtype.kind == "f" and len(planes) > 1 and want["histogram_counts"] is not None:
        # floats: a row that merges slices uses the documented fine-bin merge
        want["histogram_counts"] = ref.merged_float_histogram(
            planes, want["histogram_min"], want["histogram_max"]
        )
    weight = planes[0].shape[0] * planes[0].shape[1]
    want |= ref.plane_means([ref.plane_metrics(p) for p in planes], weight)
    return want


def image_mismatches(
    rows: pl.DataFrame, exp: Expected, label: str, only: Iterable[str] | None = None
) -> list[str]:
    """Every way the rows of one image differ from the reference (empty when none).

    Args:
        rows: The image's rows of the report.
        exp: What was written.
        label: Names the image in the messages.
        only: Compare only these metric columns (default: every metric).
    """
    problems: list[str] = []
    got_keys = {
        (r["obs_level"], tuple(r[f"dim_{a.lower()}"] for a in "TCZS"))
        for r in rows.iter_rows(named=True)
    }
    want_keys = expected_row_keys(exp)
    if got_keys != want_keys or rows.height != len(want_keys):
        problems.append(
            f"{label}: rows {sorted(got_keys, key=str)} != expected {sorted(want_keys, key=str)}"
        )
    for row in rows.iter_rows(named=True):
        where = f"{label} level {row['obs_level']} " + " ".join(
            f"{a}={row[f'dim_{a.lower()}']}" for a in "TCZS" if row[f"dim_{a.lower()}"] is not None
        )
        for axis in exp.dim_order:
            size = ref.row_pixels(exp.data, exp.dim_order, row).shape[exp.dim_order.index(axis)]
            if row[f"size_{axis.lower()}"] != size:
                problems.append(f"{where}: size_{axis.lower()} {row[f'size_{axis.lower()}']}")
        want = expected_metrics(exp, row)
        compared = set(want) if only is None else set(only)
        for name, value in want.items():
            if name not in compared:
                continue
            integral = name == "histogram_counts" or name in ref.EXACT
            if not _close(row[name], value, integral):
                problems.append(f"{where}: {name} = {row[name]!r}, numpy says {value!r}")
    return problems


def header_mismatches(level0: dict[str, Any], exp: Expected, label: str) -> list[str]:
    """Header columns of a level-0 row that differ from what was written."""
    want: dict[str, Any] = {
        "dim_order": exp.dim_order,
        "shape": list(exp.data.shape),
        "ndim": exp.data.ndim,
        "dtype": exp.data.dtype.name,
        "num_pixels": exp.data.size,
        **{f"size_{a.lower()}": n for a, n in zip(exp.dim_order, exp.data.shape, strict=True)},
        **exp.header,
    }
    problems = []
    for name, value in want.items():
        got = level0.get(name)
        if isinstance(value, float):
            same = got is not None and math.isclose(got, value, rel_tol=1e-9)
        else:
            same = (
                list(got) if isinstance(got, Iterable) and not isinstance(got, str) else got
            ) == value
        if not same:
            problems.append(f"{label}: {name} = {got!r}, expected {value!r}")
    return problems


def thumbnail_mismatches(level0: dict[str, Any], exp: Expected, label: str) -> list[str]:
    """The thumbnail is a PNG with longest side 64, stretched between the percentiles."""
    problems = []
    png = level0["thumbnail"]
    if png is None:
        return [f"{label}: no thumbnail"]
    width, height, mode = ref.png_size(png)
    rows = exp.data.shape[exp.dim_order.index("Y")]
    cols = exp.data.shape[exp.dim_order.index("X")]
    if max(width, height) != 64 or (width >= height) != (cols >= rows):
        problems.append(f"{label}: thumbnail is {width}×{height} for a {cols}×{rows} image")
    channels = exp.data.shape[exp.dim_order.index("C")] if "C" in exp.dim_order else 1
    colour = "S" in exp.dim_order or channels > 1
    if (mode != "grey") != colour:
        problems.append(f"{label}: thumbnail mode {mode} for dim_order {exp.dim_order}")
    overview = exp.data if exp.overview is None else exp.overview
    if max(overview.shape[overview.ndim - 2 :]) < 256 or "S" in exp.dim_order:  # stride 1
        low, high = ref.thumbnail_range(overview, exp.dim_order)
        for name, value in (("thumbnail_norm_min", low), ("thumbnail_norm_max", high)):
            if not _close(level0[name], value, False):
                problems.append(f"{label}: {name} = {level0[name]!r}, numpy says {value!r}")
    return problems


def frame_rows(df: pl.DataFrame, path: str, child_id: str | None) -> pl.DataFrame:
    """The rows of one image of a report."""
    child = pl.col("child_id").is_null() if child_id is None else pl.col("child_id") == child_id
    return df.filter((pl.col("path") == path) & child)


def all_equal(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """Columns whose values differ between two rows (NaN equal to NaN)."""
    diffs = []
    for name, value in want.items():
        other = got[name]
        if isinstance(value, float) and isinstance(other, float):
            if not (np.isnan(value) and np.isnan(other)) and not math.isclose(
                value, other, rel_tol=1e-9, abs_tol=1e-12
            ):
                diffs.append(f"{name}: {other!r} != {value!r}")
        elif value != other:
            diffs.append(f"{name}: {other!r} != {value!r}")
    return diffs
