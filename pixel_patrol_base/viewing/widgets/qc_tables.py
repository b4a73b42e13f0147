"""The footer's QC results as two small tables that widgets can query.

The row verdicts live in the report's columns (``qc_status``, ``qc_issues``...); what
the rules found per rule, per group and for the dataset lives in the footer's ``qc``
entry. Both viewer runtimes turn that entry into two tables beside ``pp_data`` (the
JavaScript twin is ``viewer/static/src/qc-tables.js``, held to the same cases in
``tests/widgets/render_vectors.json``):

- ``pp_rules``: one row per rule judged: its scope, the rules file it came from, its
  worst verdict (``result``) and its verdicts counted by status.
- ``pp_qc_results``: one row per group or dataset verdict.

A report without QC results gets both tables, empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

RULES_TABLE = "pp_rules"
RESULTS_TABLE = "pp_qc_results"
COUNTED = ("fail", "error", "warn", "pass", "skip")
"""Verdict counts, worst first: the first one counted is a rule's ``result``."""

RULE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("rule", "VARCHAR"),
    ("scope", "VARCHAR"),
    ("source", "VARCHAR"),
    ("result", "VARCHAR"),
    *((status, "BIGINT") for status in COUNTED),
    ("note", "VARCHAR"),
)
RESULT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("rule", "VARCHAR"),
    ("scope", "VARCHAR"),
    ("group", "VARCHAR"),
    ("status", "VARCHAR"),
    ("value", "VARCHAR"),
    ("message", "VARCHAR"),
)
TABLE_COLUMNS = {RULES_TABLE: RULE_COLUMNS, RESULTS_TABLE: RESULT_COLUMNS}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def rule_rows(qc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows of ``pp_rules`` for the footer's ``qc`` entry, in evaluation order.

    ``source`` is the file name only (a user's rules file is named by its path in the
    footer). ``result`` is ``skip`` when the rule applied to no row.
    """
    counts = qc.get("rule_counts")
    if not isinstance(counts, Mapping):
        return []
    info = _mapping(qc.get("rule_info"))
    notes = _mapping(qc.get("not_evaluated"))
    rows = []
    for rule, raw in counts.items():
        per_status = _mapping(raw)
        about = _mapping(info.get(rule))
        source = _text(about.get("source")) or None
        numbers = {status: _count(per_status.get(status)) for status in COUNTED}
        result = next((status for status in COUNTED if numbers[status] > 0), "skip")
        rows.append(
            {
                "rule": str(rule),
                "scope": _text(about.get("scope")),
                "source": source.replace("\\", "/").rsplit("/", 1)[-1] if source else None,
                "result": result,
                **numbers,
                "note": _text(notes.get(rule)) or None,
            }
        )
    return rows


def result_rows(qc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows of ``pp_qc_results``: the group verdicts, then the dataset verdicts."""
    rows = []
    for scope in ("group", "dataset"):
        entries = qc.get(f"{scope}s" if scope == "group" else scope)
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, Mapping):
                continue
            value = entry.get("value_text")
            rows.append(
                {
                    "rule": _text(entry.get("rule")),
                    "scope": scope,
                    "group": _text(entry.get("group")),
                    "status": _text(entry.get("status")),
                    "value": _text(entry.get("value") if value is None else value),
                    "message": _text(entry.get("message")),
                }
            )
    return rows


def qc_tables(qc: Mapping[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    """Both tables' rows, by table name (empty lists without QC results)."""
    qc = qc if isinstance(qc, Mapping) else {}
    return {RULES_TABLE: rule_rows(qc), RESULTS_TABLE: result_rows(qc)}


def create_sql(table: str) -> str:
    """The ``CREATE TABLE`` statement of ``table`` (one of :data:`TABLE_COLUMNS`)."""
    columns = ", ".join(f'"{name}" {kind}' for name, kind in TABLE_COLUMNS[table])
    return f"CREATE OR REPLACE TABLE {table} ({columns})"


def add_qc_tables(con: duckdb.DuckDBPyConnection, qc: Mapping[str, Any] | None) -> None:
    """Create (or replace) ``pp_rules`` and ``pp_qc_results`` on ``con`` from ``qc``."""
    for table, rows in qc_tables(qc).items():
        con.execute(create_sql(table))
        names = [name for name, _ in TABLE_COLUMNS[table]]
        if rows:
            marks = ", ".join("?" for _ in names)
            con.executemany(
                f"INSERT INTO {table} VALUES ({marks})", [[r[n] for n in names] for r in rows]
            )
