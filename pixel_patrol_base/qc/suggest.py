"""A starter rules file from a known-good report: what was seen becomes what is expected.

:func:`suggest_rules` writes, for the readable images of a report, a rule per numeric
metric (a warning outside the observed range widened by :data:`MARGIN`), one on the
pixel types and one per physical pixel size seen (a warning outside the observed range
widened by :data:`PIXEL_SIZE_MARGIN`), with comments. Built-in rules that fail on the
reference itself are disabled, so the file passes on the report it came from. What does
not belong here: reading the report (:func:`suggestion_columns` says which columns).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence

import polars as pl

from pixel_patrol_base.table import catalog

MARGIN = 0.1
"""Share of the observed span (or of the value, when all are equal) added on each side."""
PIXEL_SIZE_MARGIN = 0.01
"""Relative margin of the pixel-size ranges."""
_NUMERIC = ("int16", "int32", "int64", "float64")
_SKIPPED_PRODUCERS = (catalog.CORE_PRODUCER, "loader", catalog.QC_PRODUCER)
_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_WORDS = {"and", "or", "not", "in", "is", "null", "true", "false"}
PIXEL_SIZES = ("pixel_size_x", "pixel_size_y", "pixel_size_z")


def suggestion_columns(names: Iterable[str]) -> list[str]:
    """The columns of a report (``names``) that :func:`suggest_rules` reads."""
    out = []
    for name in names:
        column = catalog.lookup(name)
        if name in ("obs_level", "load_error", "dtype", *PIXEL_SIZES) or (
            column is not None
            and column.type in _NUMERIC
            and column.producer not in _SKIPPED_PRODUCERS
        ):
            out.append(name)
    return out


def _ref(name: str) -> str:
    return name if _BARE.match(name) and name not in _WORDS else f"`{name}`"


def _bound(value: float, lower: bool, integer: bool) -> str:
    if integer:
        return str(math.floor(value) if lower else math.ceil(value))
    text = f"{value:.6g}"
    if (lower and float(text) > value) or (not lower and float(text) < value):
        text = repr(value)
    return text


def _range(lo: float, hi: float, margin: float, relative: bool) -> tuple[float, float]:
    if relative:
        return lo - abs(lo) * margin, hi + abs(hi) * margin
    span = hi - lo
    pad = span * margin if span > 0 else max(abs(lo) * margin, 1e-9)
    return lo - pad, hi + pad


def _rule_id(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_]", "_", name.lower())
    if not base or not base[0].isalpha():
        base = "m_" + base
    rule_id = f"{base[:40]}_range"
    n = 2
    while rule_id in taken:
        rule_id, n = f"{base[:36]}_range{n}", n + 1
    taken.add(rule_id)
    return rule_id


def _range_rule(
    name: str, values: pl.Series, margin: float, relative: bool, taken: set[str]
) -> list[str]:
    finite = values.cast(pl.Float64).drop_nulls()
    finite = finite.filter(finite.is_finite())
    if finite.is_empty():
        return []
    lo_seen, hi_seen = float(finite.min()), float(finite.max())  # type: ignore[arg-type]
    lo, hi = _range(lo_seen, hi_seen, margin, relative)
    integer = values.dtype.is_integer()
    low, high = _bound(lo, True, integer), _bound(hi, False, integer)
    column = catalog.lookup(name)
    about = column.description.split(". ")[0].rstrip(".") if column is not None else name
    seen = f"{lo_seen:.6g} to {hi_seen:.6g}"
    message = f"{{column}} = {{value}} outside [{low}, {high}] (reference: {seen})"
    return [
        f"  # {about}.",
        f"  # Seen on {finite.len()} images: {seen}.",
        f"  - id: {_rule_id(name, taken)}",
        "    where: load_error is null",
        f"    warn: {_ref(name)} not in [{low}, {high}]",
        f"    message: {json.dumps(message)}",
        "",
    ]


def _dtype_rule(images: pl.DataFrame) -> list[str]:
    if "dtype" not in images.columns:
        return []
    seen = sorted(str(d) for d in images["dtype"].drop_nulls().unique())
    if not seen:
        return []
    return [
        f"  # Pixel types seen: {', '.join(seen)}.",
        "  - id: expected_dtype",
        "    where: dtype is not null",
        f"    fail: dtype not in {{{', '.join(seen)}}}",
        '    message: "pixel type {dtype}, expected one of the reference\'s"',
        "",
    ]


def suggest_rules(
    table: pl.DataFrame, *, source: str = "the reference report", disable: Sequence[str] = ()
) -> str:
    """A rules file (YAML text) expecting what ``table``'s readable images show.

    Args:
        table: a report table (at least :func:`suggestion_columns` of it).
        source: how the header comment names the report.
        disable: built-in rule ids to disable (those that fail on the reference).

    Returns:
        YAML that :func:`~pixel_patrol_base.qc.load_rules` reads and that passes on
        ``table``.
    """
    images = table.filter(pl.col("obs_level") == 0)
    if "load_error" in images.columns:
        images = images.filter(pl.col("load_error").is_null())
    lines = [
        f"# Starter QC rules suggested from {source} ({images.height} readable images).",
        "# Each rule expects what the reference showed; edit the ranges to what your",
        "# experiment allows. Format: docs/rules.md. Use: pixel-patrol check REPORT --expect",
        "# this.yaml, or pixel-patrol process ... --expect this.yaml.",
        "version: 1",
        "extends: builtin",
    ]
    if disable:
        lines += ["# These built-in rules fail on the reference itself:", "disable:"]
        lines += [f"  - {rule_id}" for rule_id in disable]
    lines += ["rules:", *_dtype_rule(images)]
    taken = {"expected_dtype"}
    for name in PIXEL_SIZES:
        if name in images.columns:
            lines += _range_rule(name, images[name], PIXEL_SIZE_MARGIN, True, taken)
    for name in suggestion_columns(images.columns):
        if name not in ("obs_level", "load_error", "dtype", *PIXEL_SIZES):
            lines += _range_rule(name, images[name], MARGIN, False, taken)
    if lines[-1] == "rules:":
        lines[-1] = "rules: []"
    return "\n".join(lines).rstrip() + "\n"
