"""Turning judged rows into verdicts: one per row, or one per unit (image, group, dataset).

A *judged* frame holds the rows a rule looked at, with the internal columns of
:mod:`.frame` and a status per row (``None`` where the condition was null and
``on_null`` is ``skip``). Slice and image rules without ``mostly`` give one verdict per
row. The others give one verdict per unit: the image (a slice rule with ``mostly``),
the QC group, or the dataset. A unit fails when fewer than ``mostly`` of its judged
rows are free of fail (likewise for error, then warn); without ``mostly`` it takes its
worst row. What does not belong here: evaluating conditions (``engine``) and the
per-row summary (``result``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from pixel_patrol_base.qc import frame as fr
from pixel_patrol_base.qc.messages import Template, as_text, parse_template, render
from pixel_patrol_base.qc.rule import Rule, Scope

STATUSES = ("pass", "warn", "error", "fail")
"""Verdicts from best to worst: a fail outranks an error, which outranks a warning."""
RANK = {status: rank for rank, status in enumerate(STATUSES)}
RANK_COLUMN = "__qc_rank"
TARGET = "__qc_target"
EPSILON = 1e-9
PUBLIC = ("rule", "scope", "status", "group", "value", "value_text", "message")
MARK_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "rule": pl.String(),
    "order": pl.Int32(),
    "rank": pl.Int8(),
    "message": pl.String(),
    "is_image": pl.Boolean(),
    "from_slice": pl.Boolean(),
}


def _template(text: str) -> Template:
    template = parse_template(text)
    assert isinstance(template, Template)
    return template


ROW_MESSAGE = _template("{id}: {column} = {value}")
UNIT_MESSAGE = _template("{id}: {n_bad} of {n} rows not passing (mostly {mostly})")


@dataclass(frozen=True)
class RuleVerdicts:
    """What one rule gave: its verdicts, the row marks, counts, and why it did not run."""

    rule: Rule
    results: pl.DataFrame | None
    marks: pl.DataFrame | None
    counts: dict[str, int] = field(default_factory=dict)
    reason: str | None = None
    skipped_reason: str | None = None

    @classmethod
    def skipped(cls, rule: Rule, reason: str) -> RuleVerdicts:
        """A rule left out (``if_missing: skip`` and a column missing)."""
        return cls(rule, None, None, {}, None, reason)


def rank_expr(status: pl.Expr) -> pl.Expr:
    """The rank (0 pass ... 3 fail) of a status column; null stays null."""
    return status.replace_strict(RANK, default=None, return_dtype=pl.Int8)


def status_expr(rank: pl.Expr) -> pl.Expr:
    """The status text of a rank column."""
    return rank.replace_strict(dict(enumerate(STATUSES)), default=None, return_dtype=pl.String)


def _counts(statuses: pl.Series, total: int) -> dict[str, int]:
    counts = {status: 0 for status in STATUSES}
    for status, n in statuses.drop_nulls().value_counts().iter_rows():
        counts[str(status)] = int(n)
    counts["skip"] = total - sum(counts.values())
    return counts


def _message(
    frame: pl.DataFrame, rule: Rule, reason: str | None, extra: Mapping[str, Any]
) -> pl.Expr:
    if reason is not None:
        return pl.lit(f"{rule.id}: not evaluated: {reason}")
    mostly = "n" in extra
    template = rule.message or (UNIT_MESSAGE if mostly else ROW_MESSAGE)
    specials: dict[str, tuple[pl.Expr, pl.DataType]] = {
        "id": (pl.lit(rule.id), pl.String()),
        "rule": (pl.lit(rule.id), pl.String()),
        "scope": (pl.lit(rule.scope.value), pl.String()),
        "status": (pl.col(fr.STATUS), pl.String()),
        "value": (pl.col(fr.VALUE), frame.schema[fr.VALUE]),
        "column": (pl.lit(rule.column, pl.String), pl.String()),
        "group": (pl.col(fr.GROUP), pl.String()),
        "mostly": (pl.lit(rule.mostly, pl.Float64), pl.Float64()),
        **{name: (pl.col(name), frame.schema[name]) for name in extra},
    }
    return render(template, specials, frame.schema)


def _public(frame: pl.DataFrame, rule: Rule, message: pl.Expr, dims: list[str]) -> pl.DataFrame:
    dtype = frame.schema[fr.VALUE]
    number = pl.col(fr.VALUE).cast(pl.Float64) if dtype.is_numeric() else pl.lit(None, pl.Float64)
    return frame.select(
        pl.lit(rule.id).alias("rule"),
        pl.lit(rule.scope.value).alias("scope"),
        pl.col(fr.STATUS).alias("status"),
        pl.col("path").cast(pl.String),
        pl.col("child_id").cast(pl.String),
        pl.col("obs_level").cast(pl.Int16),
        *[pl.col(d).cast(pl.Int64) for d in dims],
        pl.col(fr.GROUP).alias("group"),
        number.alias("value"),
        as_text(pl.col(fr.VALUE), dtype, digits=None).alias("value_text"),
        message.alias("message"),
        pl.col(TARGET).cast(pl.Int64),
        pl.col("obs_level").cast(pl.Int16).alias("__qc_level"),
    )


def _marks(results: pl.DataFrame, order: int, from_slice: bool) -> pl.DataFrame:
    bad = results.filter((pl.col("status") != "pass") & pl.col(TARGET).is_not_null())
    return bad.select(
        pl.col(TARGET).alias("row"),
        pl.col("rule"),
        pl.lit(order, pl.Int32).alias("order"),
        rank_expr(pl.col("status")).alias("rank"),
        pl.col("message"),
        (pl.col("__qc_level") == 0).alias("is_image"),
        pl.lit(from_slice).alias("from_slice"),
    )


def rows(
    frame: pl.DataFrame, rule: Rule, order: int, reason: str | None, keep_pass: bool
) -> RuleVerdicts:
    """One verdict per judged row (slice and image rules without ``mostly``).

    A slice verdict also marks its image row (``from_slice``), so an image shows the
    issues of its slices.
    """
    judged = frame.filter(pl.col(fr.STATUS).is_not_null())
    counts = _counts(judged[fr.STATUS], frame.height)
    if not keep_pass:
        judged = judged.filter(pl.col(fr.STATUS) != "pass")
    judged = judged.with_columns(pl.col(fr.ROW).alias(TARGET))
    results = _public(
        judged, rule, _message(judged, rule, reason, {}), fr.dim_columns(frame.columns)
    )
    marks = [_marks(results, order, from_slice=False)]
    if rule.scope is Scope.SLICE:
        images = results.with_columns(
            judged[fr.IMAGE].alias(TARGET), pl.lit(0, pl.Int16).alias("__qc_level")
        )
        marks.append(_marks(images, order, from_slice=True))
    return RuleVerdicts(rule, results.drop(TARGET, "__qc_level"), pl.concat(marks), counts, reason)


def combine(rule: Rule, parts: list[RuleVerdicts]) -> RuleVerdicts:
    """One rule's verdicts from the verdicts of its ``for_each`` instances.

    Results and marks are kept side by side (a row flagged on two columns has two
    verdicts; its issue shows the worst one's message); the counts count each row once,
    by its worst verdict over the columns.
    """
    results = [p.results for p in parts if p.results is not None]
    marks = [p.marks for p in parts if p.marks is not None]
    judged = max(sum(p.counts.values()) for p in parts)
    worst = (
        pl.concat(marks)
        .filter(~pl.col("from_slice"))
        .group_by("row")
        .agg(pl.col("rank").max())["rank"]
        if marks
        else pl.Series("rank", [], pl.Int8)
    )
    bad = {status: int((worst == RANK[status]).sum()) for status in STATUSES[1:]}
    counts = {"pass": 0, **bad, "skip": min(p.counts.get("skip", 0) for p in parts)}
    counts["pass"] = max(0, judged - sum(counts.values()))
    reasons = [p.reason for p in parts if p.reason is not None]
    return RuleVerdicts(
        rule,
        pl.concat(results, how="vertical_relaxed") if results else None,
        pl.concat(marks, how="vertical_relaxed") if marks else None,
        {status: counts[status] for status in (*STATUSES, "skip")},
        "; ".join(reasons) if reasons else None,
    )


def _unit_status(rule: Rule) -> tuple[pl.Expr, pl.Expr]:
    """The status and value of a unit from its counts of judged rows."""
    if rule.mostly is None:
        return status_expr(pl.col("worst")), pl.col("worst_value")
    n = pl.col("n")
    status = pl.lit("pass")
    for name, column in (("warn", "n_bad"), ("error", "n_error"), ("fail", "n_fail")):
        below = (n - pl.col(column)) < rule.mostly * n - EPSILON
        status = pl.when(below).then(pl.lit(name)).otherwise(status)
    return status, pl.col("n_bad") / n


def units(
    frame: pl.DataFrame, rule: Rule, order: int, reason: str | None, keep_pass: bool
) -> RuleVerdicts:
    """One verdict per unit: the image (slice rules with ``mostly``), group or dataset.

    Group and dataset verdicts are kept even when they pass (the footer lists them).
    """
    rank = pl.col(RANK_COLUMN)
    judged = frame.with_columns(rank_expr(pl.col(fr.STATUS)).alias(RANK_COLUMN))
    judged = judged.filter(rank.is_not_null())
    aggs = [
        pl.len().alias("n"),
        (rank >= RANK["warn"]).sum().alias("n_bad"),
        (rank >= RANK["error"]).sum().alias("n_error"),
        (rank >= RANK["fail"]).sum().alias("n_fail"),
        rank.max().alias("worst"),
        pl.col(fr.VALUE).sort_by(rank, descending=True).first().alias("worst_value"),
    ]
    unit = {Scope.SLICE: [fr.IMAGE], Scope.GROUP: [fr.GROUP]}.get(rule.scope, [])
    aggs += [pl.col(c).first() for c in ("path", "child_id", fr.IMAGE, fr.GROUP) if c not in unit]
    if unit:
        grouped = judged.group_by(unit, maintain_order=True).agg(aggs)
    else:
        grouped = judged.select(aggs).filter(pl.col("n") > 0)
    status, value = _unit_status(rule)
    grouped = grouped.with_columns(status.alias(fr.STATUS), value.alias(fr.VALUE))
    if rule.scope is Scope.SLICE:
        grouped = grouped.with_columns(pl.col(fr.IMAGE).alias(TARGET), pl.lit(0).alias("obs_level"))
    else:
        grouped = grouped.with_columns(
            pl.lit(None, pl.Int64).alias(TARGET),
            pl.lit(None, pl.String).alias("path"),
            pl.lit(None, pl.String).alias("child_id"),
            pl.lit(None, pl.Int16).alias("obs_level"),
        )
        if rule.scope is Scope.DATASET:
            grouped = grouped.with_columns(pl.lit(None, pl.String).alias(fr.GROUP))
    dims = fr.dim_columns(frame.columns)
    grouped = grouped.with_columns(*[pl.lit(None, pl.Int64).alias(d) for d in dims])
    counts = _counts(grouped[fr.STATUS], grouped.height)
    if not keep_pass and rule.scope is Scope.SLICE:
        grouped = grouped.filter(pl.col(fr.STATUS) != "pass")
    extra = {"n": None, "n_bad": None} if rule.mostly is not None else {}
    results = _public(grouped, rule, _message(grouped, rule, reason, extra), dims)
    marks = _marks(results, order, from_slice=True) if rule.scope is Scope.SLICE else None
    return RuleVerdicts(rule, results.drop(TARGET, "__qc_level"), marks, counts, reason)
