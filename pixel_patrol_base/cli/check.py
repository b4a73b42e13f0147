"""The ``pixel-patrol check`` subcommand: judge an existing report by the QC rules (data CI).

Registered in :mod:`pixel_patrol_base.cli.entry` by :func:`add_check_parser`. No image is
read: the report's columns that the rules need are judged by the built-in rules and the
user's (``--expect``). Prints the non-passing verdicts as a table (or JSON with
``--json``), writes JUnit XML with ``--junit``, and exits 0 when nothing fails (warnings
too with ``--strict``), 1 on a fail or an error verdict, 2 on invalid input.
``--suggest`` prints a starter rules file from a known-good report instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pixel_patrol_base.cli.common import EXIT_FAILED, EXIT_OK, PROG, finite_or_none

if TYPE_CHECKING:
    from pixel_patrol_base.qc import QcResult

MAX_ROWS_SHOWN = 50
"""Most verdicts the table lists; the rest are counted."""


def add_check_parser(subparsers: Any) -> None:
    """Add ``pixel-patrol check``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "check",
        help="judge an existing report by the QC rules (no image is read); for CI",
        description="Evaluate the built-in QC rules and your own (--expect) on a report. "
        "Exit status: 0 when nothing fails (warnings allowed unless --strict), 1 on a "
        "fail or error verdict (or a warning with --strict), 2 on invalid input.",
    )
    parser.add_argument("report", metavar="REPORT", help="the .parquet report to judge")
    parser.add_argument(
        "--expect", metavar="RULES.yaml", help="your rules file (extends the built-in rules)"
    )
    parser.add_argument(
        "--qc-group-by",
        metavar="COL",
        help="QC group column (default: the one the report was judged with)",
    )
    parser.add_argument("--junit", metavar="OUT.xml", help="also write the results as JUnit XML")
    parser.add_argument(
        "--json", action="store_true", help="print the results as JSON instead of a table"
    )
    parser.add_argument("--strict", action="store_true", help="warnings fail too (exit status 1)")
    parser.add_argument(
        "--suggest",
        action="store_true",
        help="print a starter rules file expecting what REPORT shows, e.g. "
        "'pixel-patrol check --suggest good.parquet > rules.yaml'",
    )
    parser.set_defaults(handler=run_check)


def exit_status(result: QcResult, strict: bool) -> int:
    """1 when any verdict fails or is an error (or warns, with ``strict``), else 0."""
    statuses = set(result.results["status"].to_list())
    if statuses & {"fail", "error"} or (strict and "warn" in statuses):
        return EXIT_FAILED
    return EXIT_OK


def _table(result: QcResult) -> str:
    """The non-passing verdicts as an aligned text table."""
    import polars as pl

    rows = result.results.filter(pl.col("status") != "pass")
    header = ("status", "rule", "scope", "where", "message")
    lines = []
    for row in rows.head(MAX_ROWS_SHOWN).iter_rows(named=True):
        where = row["path"] or (f"group {row['group']}" if row["scope"] == "group" else "dataset")
        if row["path"] and row["obs_level"]:
            dims = [
                f"{k[4:]}={v}" for k, v in row.items() if k.startswith("dim_") and v is not None
            ]
            where += f" [{', '.join(dims)}]"
        lines.append((row["status"], row["rule"], row["scope"], where, row["message"] or ""))
    if not lines:
        return ""
    widths = [max(len(str(r[i])) for r in (header, *lines)) for i in range(4)]
    text = [
        "  ".join(str(r[i]).ljust(widths[i]) for i in range(4)) + "  " + str(r[4])
        for r in (header, *lines)
    ]
    if rows.height > MAX_ROWS_SHOWN:
        text.append(f"... and {rows.height - MAX_ROWS_SHOWN} more")
    return "\n".join(text)


def _json(result: QcResult, report: str, status: int) -> str:
    from pixel_patrol_base.qc import summary_counts, summary_text

    payload = {
        "report": report,
        "exit_status": status,
        "summary": summary_text(result),
        "counts": summary_counts(result),
        "rule_counts": result.rule_counts,
        "not_evaluated": result.not_evaluated,
        "group_by": result.group_by,
        "results": [
            {k: finite_or_none(v) for k, v in row.items()}
            for row in result.results.iter_rows(named=True)
        ],
    }
    return json.dumps(payload, default=str, allow_nan=False, indent=1)


def _suggest(report: Path) -> int:
    import polars as pl
    import pyarrow.parquet as pq

    from pixel_patrol_base.errors import NotAReportError
    from pixel_patrol_base.pipeline.merge.assess import assess_report
    from pixel_patrol_base.qc import builtin_rules
    from pixel_patrol_base.qc.suggest import suggest_rules, suggestion_columns
    from pixel_patrol_base.table.footer import read_metadata

    read_metadata(report)
    builtin = assess_report(report, builtin_rules())
    failing = builtin.results.filter(pl.col("status").is_in(["fail", "error"]))
    disable = list(dict.fromkeys(failing["rule"].to_list()))
    try:
        table = pl.read_parquet(report, columns=suggestion_columns(pq.read_schema(report).names))
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise NotAReportError(f"'{report}' could not be read ({exc})") from exc
    sys.stdout.write(suggest_rules(table, source=report.name, disable=disable))
    return EXIT_OK


def _write(path: Path, text: str) -> None:
    from pixel_patrol_base.errors import OutputError

    try:
        path.write_text(text, "utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write '{path}' ({exc}); choose a writable location") from exc


def run_check(args: argparse.Namespace) -> int:
    """Handle ``pixel-patrol check``."""
    from pixel_patrol_base.errors import NotAReportError
    from pixel_patrol_base.pipeline.merge.assess import assess_report
    from pixel_patrol_base.qc import load_rules, summary_text
    from pixel_patrol_base.qc.junit import junit_xml

    report = Path(args.report).expanduser()
    if args.suggest:
        return _suggest(report)
    rules = load_rules(args.expect)
    if not report.is_file():
        raise NotAReportError(f"'{report}' does not exist; pass a report written by {PROG}")
    result = assess_report(report, rules, args.qc_group_by)
    status = exit_status(result, args.strict)
    if args.junit:
        _write(Path(args.junit), junit_xml(result, rules, strict=args.strict, name=report.name))
    if args.json:
        print(_json(result, str(report), status))
    else:
        table = _table(result)
        if table:
            print(table)
        print(f"{PROG}: {summary_text(result)} -> exit {status}")
    return status
