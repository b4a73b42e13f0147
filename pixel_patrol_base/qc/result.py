"""The outcome of a QC evaluation, its per-row summary, and the counts of the run line.

:class:`QcResult` holds the verdicts (one row per verdict), ``qc_status`` /
``qc_issues`` / ``qc_messages`` for every table row, the group and dataset verdicts as
plain dicts (for the Parquet footer), and counts per rule. A row's ``qc_status`` is
the worst verdict on it (pass < warn < error < fail); its issues are the ids of the
rules whose verdict on it is not pass, in rule order, with one message each. An image
row also carries the issues of its slices: its verdict for a slice rule is the worst
of its slices', and the message is the worst slice's, with "(+N more slices)".
What does not belong here: evaluating rules (``engine``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from pixel_patrol_base.qc import frame as fr
from pixel_patrol_base.qc.verdicts import MARK_SCHEMA, STATUSES, RuleVerdicts, status_expr

FOOTER_VERSION = 1
_TEXT_LIST = pl.List(pl.String)


@dataclass(frozen=True)
class QcResult:
    """Everything a QC evaluation found.

    Attributes:
        results: one row per verdict: ``rule, scope, status, path, child_id,
            obs_level, dim_*, group, value, value_text, message``. Slice and image
            verdicts that pass are left out unless ``include_passing`` was set; group
            and dataset verdicts are always there.
        rows: ``path, child_id, obs_level, qc_status, qc_issues, qc_levels, qc_messages`` for
            every row of the table, in its order.
        image_issues: ``row, rule, status``: each image row's verdict per issue (the
            table row index, as in ``rows``).
        groups: the group verdicts as JSON-ready dicts.
        dataset: the dataset verdicts as JSON-ready dicts.
        rule_counts: rule id → verdict counts (pass, warn, error, fail, skip).
        not_evaluated: rule id → why it could not run (error) or was left out.
        group_by: the QC group column used.
    """

    results: pl.DataFrame
    rows: pl.DataFrame
    image_issues: pl.DataFrame
    groups: list[dict[str, Any]] = field(default_factory=list)
    dataset: list[dict[str, Any]] = field(default_factory=list)
    rule_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    not_evaluated: dict[str, str] = field(default_factory=dict)
    group_by: str | None = None

    def annotate(self, table: pl.DataFrame) -> pl.DataFrame:
        """``table`` (the one evaluated) with the verdict columns, qc_status to qc_messages."""
        return table.with_columns(
            self.rows.select("qc_status", "qc_issues", "qc_levels", "qc_messages")
        )

    def footer(self) -> dict[str, Any]:
        """The QC summary for the Parquet footer: JSON-ready (no NaN, plain types)."""
        return {
            "version": FOOTER_VERSION,
            "group_by": self.group_by,
            "rules": list(self.rule_counts),
            "counts": summary_counts(self),
            "rule_counts": self.rule_counts,
            "not_evaluated": self.not_evaluated,
            "groups": self.groups,
            "dataset": self.dataset,
        }


def _empty_results(dims: list[str]) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {
        "rule": pl.String(),
        "scope": pl.String(),
        "status": pl.String(),
        "path": pl.String(),
        "child_id": pl.String(),
        "obs_level": pl.Int16(),
        **{d: pl.Int64() for d in dims},
        "group": pl.String(),
        "value": pl.Float64(),
        "value_text": pl.String(),
        "message": pl.String(),
    }
    return pl.DataFrame(schema=schema)


def _unit_dicts(results: pl.DataFrame, scope: str) -> list[dict[str, Any]]:
    rows = results.filter(pl.col("scope") == scope).select(
        "rule", "status", "group", "value", "value_text", "message"
    )
    out = rows.to_dicts()
    for entry in out:
        if isinstance(entry["value"], float) and not math.isfinite(entry["value"]):
            entry["value"] = None
    return out


def _row_summary(work: pl.DataFrame, marks: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    per_issue = (
        marks.sort(["row", "order", "rank"], descending=[False, False, True])
        .group_by(["row", "rule"], maintain_order=True)
        .agg(
            pl.col("order").first(),
            pl.col("rank").first(),
            pl.col("message").first(),
            pl.len().alias("n"),
            pl.col("is_image").first(),
            pl.col("from_slice").first(),
        )
    )
    more = pl.col("from_slice") & pl.col("is_image") & (pl.col("n") > 1)
    suffix = pl.format(" (+{} more slices)", pl.col("n") - 1)
    per_issue = per_issue.with_columns(
        pl.when(more).then(pl.concat_str(["message", suffix])).otherwise("message").alias("message")
    )
    per_row = (
        per_issue.sort(["row", "order"])
        .group_by("row", maintain_order=True)
        .agg(
            pl.col("rank").max(),
            pl.col("rule").alias("qc_issues"),
            status_expr(pl.col("rank")).alias("qc_levels"),
            pl.col("message").alias("qc_messages"),
        )
    )
    rows = work.select(fr.ROW, "path", "child_id", "obs_level").join(
        per_row, left_on=fr.ROW, right_on="row", how="left", maintain_order="left"
    )
    empty = pl.lit([], dtype=_TEXT_LIST)
    rows = rows.select(
        "path",
        "child_id",
        "obs_level",
        status_expr(pl.col("rank")).fill_null("pass").alias("qc_status"),
        pl.col("qc_issues").fill_null(empty),
        pl.col("qc_levels").fill_null(empty),
        pl.col("qc_messages").fill_null(empty),
    )
    image_issues = per_issue.filter(pl.col("is_image")).select(
        "row", "rule", status_expr(pl.col("rank")).alias("status")
    )
    return rows, image_issues


def build(work: pl.DataFrame, outcomes: Sequence[RuleVerdicts], group_by: str | None) -> QcResult:
    """Assemble the :class:`QcResult` from the verdicts of every rule."""
    dims = fr.dim_columns(work.columns)
    frames = [o.results for o in outcomes if o.results is not None]
    results = pl.concat([_empty_results(dims), *frames], how="vertical_relaxed")
    mark_frames = [o.marks for o in outcomes if o.marks is not None]
    marks = pl.concat([pl.DataFrame(schema=MARK_SCHEMA), *mark_frames], how="vertical_relaxed")
    rows, image_issues = _row_summary(work, marks)
    not_evaluated = {
        o.rule.id: (o.reason or o.skipped_reason or "")
        for o in outcomes
        if o.reason is not None or o.skipped_reason is not None
    }
    return QcResult(
        results=results,
        rows=rows,
        image_issues=image_issues,
        groups=_unit_dicts(results, "group"),
        dataset=_unit_dicts(results, "dataset"),
        rule_counts={o.rule.id: o.counts for o in outcomes},
        not_evaluated=not_evaluated,
        group_by=group_by,
    )


def summary_counts(result: QcResult) -> dict[str, Any]:
    """Image-row counts per status, and per issue and status.

    ``by_issue`` counts, per issue, the images by their verdict for it; ``by_status``
    counts, per row status, the images whose verdict for an issue is that status (the
    issues that made them warn, fail...).

    Returns:
        e.g. ``{"images": 49, "pass": 41, "warn": 6, "error": 0, "fail": 2,
        "by_issue": {"blurry": {"warn": 4}, ...}, "by_status": {"warn": {"blurry": 4}}}``.
    """
    images = result.rows.filter(pl.col("obs_level") == 0)
    counts: dict[str, Any] = {"images": images.height}
    counts.update({status: 0 for status in STATUSES})
    for status, n in images["qc_status"].value_counts().iter_rows():
        counts[str(status)] = int(n)
    by_issue: dict[str, dict[str, int]] = {}
    issue_counts = result.image_issues.group_by(["rule", "status"]).len()
    order = {rule: i for i, rule in enumerate(result.rule_counts)}
    for rule, status, n in sorted(issue_counts.iter_rows(), key=lambda r: order.get(r[0], 0)):
        by_issue.setdefault(str(rule), {})[str(status)] = int(n)
    counts["by_issue"] = by_issue
    statuses = (
        result.rows.with_row_index("row")
        .filter(pl.col("obs_level") == 0)
        .select(pl.col("row").cast(pl.Int64), "qc_status")
    )
    own = result.image_issues.join(statuses, on="row").filter(
        pl.col("status") == pl.col("qc_status")
    )
    by_status: dict[str, dict[str, int]] = {}
    for rule, status, n in sorted(
        own.group_by(["rule", "status"]).len().iter_rows(), key=lambda r: order.get(r[0], 0)
    ):
        by_status.setdefault(str(status), {})[str(rule)] = int(n)
    counts["by_status"] = by_status
    return counts


def summary_text(result: QcResult) -> str:
    """The QC part of the run summary line.

    For example ``QC: 41 pass, 6 warn (4 blurry, 2 dark), 2 fail (saturated)``.

    Counts are image rows by their ``qc_status``; the parentheses list, per status, the
    issues that gave those images that status and how many (an image with two issues
    counts under both; the number is left out when one issue covers them all).
    ``error`` is shown only when some image has it.
    """
    counts = summary_counts(result)
    parts = []
    for status in ("pass", "warn", "error", "fail"):
        if status == "error" and not counts["error"]:
            continue
        part = f"{counts[status]} {status}"
        issues = [(n, rule) for rule, n in counts["by_status"].get(status, {}).items()]
        if status != "pass" and issues:
            issues.sort(key=lambda item: (-item[0], item[1]))
            whole = len(issues) == 1 and issues[0][0] == counts[status]
            named = [rule if whole else f"{n} {rule}" for n, rule in issues]
            part += " (" + ", ".join(named) + ")"
        parts.append(part)
    return "QC: " + ", ".join(parts)
