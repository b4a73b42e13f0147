"""Evaluating QC rules on a report table: a few vectorised polars passes per rule.

Call graph::

    evaluate(table, rules, group_by)
      prepare              row index, image row and QC group of every row (frame.py)
      _evaluate_rule       per rule: rows in scope → where → conditions → statuses
        _evaluate_each       a for_each rule: once per listed column, combined
        _conditions          compile and run warn / fail / value
        verdicts.rows        slice and image rules: one verdict per row
        verdicts.units       mostly, group and dataset rules: one verdict per unit
      _flagged_rows        rows the other rules flagged: fallback rules skip them
      result.build         qc_status / qc_issues per row, footer dicts, counts

A rule that names a column the table lacks, or that polars cannot evaluate (a string
compared with a number), gives ``error`` verdicts on the rows it would have judged,
never a pass. What does not belong here: parsing (``expr``), rules files
(``rulefile``), and the shape of the result (``result``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

import polars as pl

from pixel_patrol_base.qc import frame as fr
from pixel_patrol_base.qc import verdicts
from pixel_patrol_base.qc.expr import Context, compile_node
from pixel_patrol_base.qc.result import QcResult, build
from pixel_patrol_base.qc.rule import Expression, Rule, Scope

log = logging.getLogger(__name__)


def _partition(rule: Rule, columns: list[str]) -> tuple[str, ...]:
    """The columns defining a row's comparison set for group-relative functions."""
    if rule.scope is Scope.DATASET:
        base: tuple[str, ...] = ()
    elif rule.scope is Scope.SLICE:
        base = (fr.GROUP, "obs_level", *(("dim_c",) if "dim_c" in columns else ()))
    else:
        base = (fr.GROUP,)
    return tuple(dict.fromkeys((*base, *(rule.within or ()))))


def _bool_check(frame: pl.DataFrame, rule: Rule) -> str | None:
    for name, column in (("warn", fr.WARN), ("fail", fr.FAIL)):
        dtype = frame.schema[column]
        if dtype not in (pl.Boolean, pl.Null):
            return f"its {name} condition gives {dtype}, not true/false"
    return None


def _conditions(rows: pl.LazyFrame, rule: Rule, ctx: Context) -> pl.DataFrame:
    """Rows in scope (after ``where``) with the warn, fail and value columns added."""
    if rule.where is not None:
        rows = rows.filter(compile_node(rule.where.node, ctx).fill_null(False))

    def condition(expr: Expression | None) -> pl.Expr:
        return pl.lit(False) if expr is None else compile_node(expr.node, ctx)

    value = rule.value_node
    return rows.with_columns(
        condition(rule.warn).alias(fr.WARN),
        condition(rule.fail).alias(fr.FAIL),
        (pl.lit(None) if value is None else compile_node(value, ctx)).alias(fr.VALUE),
    ).collect()


def _status(on_null: str) -> pl.Expr:
    warn, fail = pl.col(fr.WARN), pl.col(fr.FAIL)
    null_status = pl.lit(None, pl.String) if on_null == "skip" else pl.lit(on_null)
    return (
        pl.when(fail)
        .then(pl.lit("fail"))
        .when(warn)
        .then(pl.lit("warn"))
        .when(fail.is_null() | warn.is_null())
        .then(null_status)
        .otherwise(pl.lit("pass"))
    )


def _errored(rows: pl.LazyFrame, rule: Rule, ctx: Context, reason: str) -> pl.DataFrame:
    """The rows in scope, each with status ``error`` (after ``where`` when it can run)."""
    if rule.where is not None and set(rule.where.columns) <= set(rows.collect_schema().names()):
        filtered = rows.filter(compile_node(rule.where.node, ctx).fill_null(False))
        # when the where filter itself cannot run, every row in scope is in error
        with contextlib.suppress(pl.exceptions.PolarsError):
            rows = filtered.collect().lazy()
    frame = rows.with_columns(
        pl.lit(None, pl.Boolean).alias(fr.WARN),
        pl.lit(None, pl.Boolean).alias(fr.FAIL),
        pl.lit(None).alias(fr.VALUE),
    ).collect()
    return frame.with_columns(pl.lit("error").alias(fr.STATUS))


def _judged(
    work: pl.DataFrame, rule: Rule, flagged: pl.Series | None = None
) -> tuple[pl.DataFrame, str | None]:
    """The rows a rule judges, with ``STATUS``; and the reason when it could not run.

    ``flagged`` (the rows other rules flagged, for a ``fallback`` rule) get no status.
    """
    frame, reason = _judge(work, rule)
    if flagged is not None and flagged.len():
        keep = pl.col(fr.STATUS)
        frame = frame.with_columns(
            pl.when(pl.col(fr.ROW).is_in(flagged.implode()))
            .then(None)
            .otherwise(keep)
            .alias(fr.STATUS)
        )
    return frame, reason


def _judge(work: pl.DataFrame, rule: Rule) -> tuple[pl.DataFrame, str | None]:
    ctx = Context(_partition(rule, work.columns), rule.min_group)
    scope = pl.col("obs_level") >= 1 if rule.scope is Scope.SLICE else pl.col("obs_level") == 0
    missing = [c for c in rule.columns if c not in work.columns]
    needed = [
        c for c in dict.fromkeys([*fr.internal_columns(work), *rule.columns]) if c in work.columns
    ]
    rows = work.lazy().filter(scope).select(needed)
    if missing:
        names = ", ".join(repr(c) for c in missing)
        reason = f"column {names} {'is' if len(missing) == 1 else 'are'} not in the table"
        return _errored(rows, rule, ctx, reason), reason
    try:
        frame = _conditions(rows, rule, ctx)
    except pl.exceptions.PolarsError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return _errored(rows, rule, ctx, reason), reason
    bad_type = _bool_check(frame, rule)
    if bad_type is not None:
        return _errored(rows, rule, ctx, bad_type), bad_type
    return frame.with_columns(_status(rule.on_null).alias(fr.STATUS)), None


def _evaluate_rule(
    work: pl.DataFrame,
    rule: Rule,
    order: int,
    keep_pass: bool,
    flagged: pl.Series | None = None,
) -> verdicts.RuleVerdicts:
    if rule.for_each is not None:
        return _evaluate_each(work, rule, order, keep_pass, flagged)
    missing = [c for c in rule.columns if c not in work.columns]
    if missing and rule.if_missing == "skip":
        names = ", ".join(repr(c) for c in missing)
        why = f"left out (if_missing: skip): column {names} not in the table"
        return verdicts.RuleVerdicts.skipped(rule, why)
    if missing and rule.if_missing == "null":  # a column no row fills: null on every row
        work = work.with_columns(pl.lit(None).alias(c) for c in missing)
    frame, reason = _judged(work, rule, flagged)
    if reason is not None:
        log.warning("QC rule %r: not evaluated: %s", rule.id, reason)
    per_row = rule.scope in (Scope.SLICE, Scope.IMAGE) and rule.mostly is None
    if per_row:
        return verdicts.rows(frame, rule, order, reason, keep_pass)
    return verdicts.units(frame, rule, order, reason, keep_pass)


def _evaluate_each(
    work: pl.DataFrame, rule: Rule, order: int, keep_pass: bool, flagged: pl.Series | None
) -> verdicts.RuleVerdicts:
    """A ``for_each`` rule: each listed column judged in turn, one verdict set per row.

    With ``if_missing: skip`` the columns the table lacks are left out; the rule is
    skipped only when it lacks them all.
    """
    present = work.columns if rule.if_missing == "skip" else None
    parts = [
        _evaluate_rule(work, instance, order, keep_pass, flagged)
        for instance in rule.instances(present)
    ]
    parts = [part for part in parts if part.skipped_reason is None]
    if not parts:
        names = ", ".join(repr(c) for c in rule.for_each or ())
        why = f"left out (if_missing: skip): none of the columns {names} is in the table"
        return verdicts.RuleVerdicts.skipped(rule, why)
    return verdicts.combine(rule, parts)


def _flagged_rows(outcomes: Iterable[verdicts.RuleVerdicts]) -> pl.Series:
    """Rows that some rule judged warn or fail (an image also by its slices' verdicts)."""
    bad = (verdicts.RANK["warn"], verdicts.RANK["fail"])
    marks = [o.marks.filter(pl.col("rank").is_in(bad)) for o in outcomes if o.marks is not None]
    rows = pl.concat([m.select("row") for m in marks]) if marks else pl.DataFrame({"row": []})
    return rows["row"].cast(pl.Int64).unique()


def evaluate(
    table: pl.DataFrame,
    rules: Iterable[Rule],
    group_by: str | None = None,
    *,
    include_passing: bool = False,
) -> QcResult:
    """Judge every row of a report table by the rules.

    Args:
        table: the report table (``path``, ``child_id``, ``obs_level``, ``dim_*`` and
            the metric columns).
        rules: the rules, e.g. :func:`pixel_patrol_base.qc.load_rules` ``(path)``.
        group_by: the column whose values form the QC groups (group scope and the
            group-relative functions); ``None`` makes all images one group.
        include_passing: keep ``pass`` verdicts in ``QcResult.results`` (they are
            always counted in ``QcResult.rule_counts``).

    Returns:
        The verdicts, per-row status and issues, and the group and dataset results.

    Raises:
        NotAReportError: the table lacks ``path`` or ``obs_level``.
        SettingsError: ``group_by`` is not a column of the table.
    """
    work = fr.prepare(table, group_by)
    ordered = list(enumerate(rules))
    outcomes = {
        order: _evaluate_rule(work, rule, order, include_passing)
        for order, rule in ordered
        if not rule.fallback
    }
    if any(rule.fallback for rule in rules):
        flagged = _flagged_rows(outcomes.values())
        for order, rule in ordered:
            if rule.fallback:
                outcomes[order] = _evaluate_rule(work, rule, order, include_passing, flagged)
    return build(work, [outcomes[order] for order in sorted(outcomes)], group_by)
