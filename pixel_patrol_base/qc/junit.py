"""QC results as JUnit XML, for CI systems that show test reports.

One ``<testcase>`` per rule (``classname`` ``pixel_patrol.qc.<scope>``, ``name`` the rule
id). A rule with fail verdicts gets a ``<failure type="fail">``, one whose verdicts are
``error`` (a column missing, an expression that cannot run) an ``<error>``, one left out
(``if_missing: skip``) a ``<skipped>``. Warnings are a ``<failure type="warn">`` with
``strict``, else listed in the testcase's ``<system-out>``. The text of each element
lists the verdicts' messages (at most :data:`MAX_LISTED`). What does not belong here:
evaluating rules (``engine``) and printing (the CLI).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

import polars as pl

from pixel_patrol_base.qc.result import QcResult
from pixel_patrol_base.qc.rule import Rule

MAX_LISTED = 200
"""Most verdict messages listed per testcase element; the rest are counted."""


def _lines(verdicts: pl.DataFrame, status: str) -> str:
    rows = verdicts.filter(pl.col("status") == status)
    lines = []
    for row in rows.head(MAX_LISTED).iter_rows(named=True):
        where = row["path"] if row["path"] is not None else f"group {row['group']}"
        if row["scope"] == "dataset":
            where = "dataset"
        lines.append(f"{where}: {row['message']}")
    if rows.height > MAX_LISTED:
        lines.append(f"... and {rows.height - MAX_LISTED} more")
    return "\n".join(lines)


def _testcase(rule: Rule, result: QcResult, strict: bool) -> tuple[ET.Element, str | None]:
    """The testcase of one rule, and what it counts as (failure, error, skipped or None)."""
    case = ET.Element("testcase", name=rule.id, classname=f"pixel_patrol.qc.{rule.scope.value}")
    counts = result.rule_counts.get(rule.id, {})
    verdicts = result.results.filter(pl.col("rule") == rule.id)
    judged = sum(n for status, n in counts.items() if status != "skip")
    if rule.id in result.not_evaluated and counts.get("error", 0) == 0 and not judged:
        ET.SubElement(case, "skipped", message=result.not_evaluated[rule.id])
        return case, "skipped"
    n_fail, n_warn, n_error = (counts.get(s, 0) for s in ("fail", "warn", "error"))
    kind: str | None = None
    if n_error:
        reason = result.not_evaluated.get(rule.id, f"{n_error} verdicts are errors")
        element = ET.SubElement(case, "error", type="error", message=reason)
        element.text = _lines(verdicts, "error")
        kind = "error"
    if n_fail or (strict and n_warn):
        message = f"{n_fail} fail, {n_warn} warn"
        element = ET.SubElement(case, "failure", type="fail" if n_fail else "warn", message=message)
        element.text = "\n".join(
            text for text in (_lines(verdicts, "fail"), _lines(verdicts, "warn")) if text
        )
        kind = kind or "failure"
    elif n_warn:
        out = ET.SubElement(case, "system-out")
        out.text = f"{n_warn} warn\n" + _lines(verdicts, "warn")
    return case, kind


def junit_xml(
    result: QcResult, rules: Iterable[Rule], *, strict: bool = False, name: str = "pixel-patrol"
) -> str:
    """The results as a JUnit XML document (one testsuite, one testcase per rule).

    Args:
        result: what :func:`~pixel_patrol_base.qc.evaluate` gave.
        rules: the rules evaluated, in order.
        strict: count warnings as failures.
        name: the testsuite's name (e.g. the report file).
    """
    cases = [_testcase(rule, result, strict) for rule in rules]
    kinds = [kind for _, kind in cases]
    suite = ET.Element(
        "testsuite",
        name=name,
        tests=str(len(cases)),
        failures=str(kinds.count("failure")),
        errors=str(kinds.count("error")),
        skipped=str(kinds.count("skipped")),
    )
    suite.extend(case for case, _ in cases)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")
