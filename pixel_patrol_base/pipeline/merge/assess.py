"""The QC step of the merge: the verdicts of the merged table, from the table alone.

What belongs here: which columns the rules need (so the merge keeps only those of each
chunk in memory), the default QC grouping, and turning a
:class:`~pixel_patrol_base.qc.QcResult` into the footer's ``qc`` entry. What does not:
the rules and their evaluation (:mod:`pixel_patrol_base.qc`) or writing the report
(:mod:`.combine`).

The QC grouping, when none is asked for, is the added paths (``imported_path_short``)
when paths were added, else the top-level folder (``top_folder``, which the merge
derives from ``path``) when some file lies in a sub-folder, else none (one group).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from pixel_patrol_base.errors import NotAReportError, SettingsError
from pixel_patrol_base.qc import QcResult, RuleSet, builtin_rules, evaluate, summary_text
from pixel_patrol_base.table import catalog

LABEL_COLUMN = "imported_path_short"
TOP_FOLDER = "top_folder"
VERDICT_COLUMNS = ("qc_status", "qc_issues", "qc_levels", "qc_messages")
"""The per-row verdict columns, in the order the report holds them."""
FOOTER_KEY = "qc"
"""Key of the QC results in the footer metadata."""


@dataclass(frozen=True)
class QcSpec:
    """What the merge judges the table by.

    Attributes:
        rules: The effective rules (built-in and the user's).
        group_by: The QC group column asked for; ``None``: the default grouping.
        paths_added: Whether the project added paths (the default grouping is then
            ``imported_path_short``).
    """

    rules: RuleSet = field(default_factory=builtin_rules)
    group_by: str | None = None
    paths_added: bool = False

    def needed(self, names: Iterable[str]) -> list[str]:
        """The columns of ``names`` the evaluation reads: row key, grouping, rules'."""
        wanted: dict[str, None] = dict.fromkeys(catalog.key_columns())
        wanted.update(dict.fromkeys((LABEL_COLUMN, TOP_FOLDER)))
        if self.group_by is not None:
            wanted[self.group_by] = None
        for rule in self.rules:
            wanted.update(dict.fromkeys(rule.columns))
        present = set(names)
        return [name for name in wanted if name in present]


def group_column(spec: QcSpec, table: pl.DataFrame) -> str | None:
    """The QC group column for ``table``: the one asked for, else the default."""
    if spec.group_by is not None:
        return spec.group_by
    if spec.paths_added and LABEL_COLUMN in table.columns:
        return LABEL_COLUMN
    if TOP_FOLDER in table.columns and (table[TOP_FOLDER] != ".").any():
        return TOP_FOLDER
    return None


def assess(table: pl.DataFrame, spec: QcSpec) -> QcResult:
    """Judge ``table`` (the needed columns of the merged report, in its row order).

    Raises:
        SettingsError: when the group column asked for is not in the table.
    """
    return evaluate(table, spec.rules, group_column(spec, table))


def top_folder(path: pl.Expr) -> pl.Expr:
    """The ``top_folder`` of each path: its first component, '.' for a top-level file."""
    return path.str.extract(r"^([^/]+)/", 1).fill_null(".")


def qc_footer(result: QcResult, rules: RuleSet) -> dict[str, Any]:
    """The footer's ``qc`` entry: group and dataset verdicts, counts, rules digest."""
    return {
        **result.footer(),
        "rules_digest": rules.digest(),
        "sources": list(rules.sources),
        "rule_info": {rule.id: {"scope": str(rule.scope), "source": rule.source} for rule in rules},
        "summary": summary_text(result),
    }


def assess_report(
    path: Path, rules: RuleSet, group_by: str | None = None, *, include_passing: bool = False
) -> QcResult:
    """Judge a written report by ``rules``, reading only the columns they need.

    No image is read. The QC grouping is ``group_by``, else the one the report was
    judged with at the merge (its footer's ``qc.group_by``), else the default.

    Raises:
        NotAReportError: when ``path`` is not a PixelPatrol report.
        SettingsError: when ``group_by`` is not a column of the report.
    """
    from pixel_patrol_base.table.footer import read_metadata

    metadata = read_metadata(path)
    names = pq.read_schema(path).names
    recorded = metadata.qc.get("group_by")
    if group_by is None and isinstance(recorded, str) and recorded in names:
        group_by = recorded
    spec = QcSpec(rules, group_by, paths_added=bool(metadata.paths))
    try:
        table = pl.read_parquet(path, columns=spec.needed(names))
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise NotAReportError(f"'{path}' could not be read ({exc})") from exc
    if TOP_FOLDER not in table.columns and "path" in table.columns:
        table = table.with_columns(top_folder(pl.col("path")).alias(TOP_FOLDER))
    if spec.group_by is not None and spec.group_by not in table.columns:
        raise SettingsError(f"qc_group_by {spec.group_by!r} is not a column of the report '{path}'")
    return evaluate(table, rules, group_column(spec, table), include_passing=include_passing)
