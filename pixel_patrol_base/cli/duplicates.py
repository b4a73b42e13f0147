"""The ``pixel-patrol duplicates`` subcommand: the duplicate sets of an existing report.

Registered in :mod:`pixel_patrol_base.cli.entry` by :func:`add_duplicates_parser`. Reads
only the report (:func:`pixel_patrol_base.api.duplicates`); prints one line per set (or
JSON with ``--json``). Exit status 0, also when there are duplicates (they are findings,
not failures: ``pixel-patrol check`` judges them as the ``duplicate`` rule), 2 when REPORT
is not a report.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from pixel_patrol_base.cli.common import EXIT_OK, finite_or_none

if TYPE_CHECKING:
    import polars as pl

MAX_SETS_SHOWN = 50
"""Most sets the text listing shows; the rest are counted."""
MAX_MEMBERS_SHOWN = 4
"""Most member paths shown on one set's line."""


def add_duplicates_parser(subparsers: Any) -> None:
    """Add ``pixel-patrol duplicates``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "duplicates",
        help="list the duplicate images and planes of a report (no image is read)",
        description="List the exact, near and plane duplicate sets found when REPORT was "
        "merged. Exit status 0, or 2 when REPORT is not a PixelPatrol report.",
    )
    parser.add_argument("report", metavar="REPORT", help="the .parquet report")
    parser.add_argument(
        "--json", action="store_true", help="print the sets as JSON instead of a table"
    )
    parser.set_defaults(handler=run_duplicates)


def run_duplicates(args: argparse.Namespace) -> int:
    """Print the duplicate sets of ``args.report``."""
    from pixel_patrol_base import api

    sets = api.duplicates(args.report)
    sys.stdout.write(_json(sets) if args.json else _table(sets))
    return EXIT_OK


def _members(row: dict[str, Any]) -> str:
    planes = [p for p in row["planes"] if p]
    names = (
        [*row["paths"]] if row["kind"] != "plane" else [f"{row['paths'][0]} [{', '.join(planes)}]"]
    )
    shown = ", ".join(names[:MAX_MEMBERS_SHOWN])
    more = len(names) - MAX_MEMBERS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _table(sets: pl.DataFrame) -> str:
    if sets.is_empty():
        return "no duplicates found\n"
    lines = [f"{sets.height} duplicate set(s):"]
    for row in sets.head(MAX_SETS_SHOWN).iter_rows(named=True):
        evidence = ""
        if row["kind"] == "near":
            evidence = f" (distance {row['distance']}, correlation {row['correlation']:.3f})"
        lines.append(
            f"{row['set']}  {row['kind']:<5}  {row['size']} members{evidence}: {_members(row)}"
        )
    if sets.height > MAX_SETS_SHOWN:
        lines.append(f"... and {sets.height - MAX_SETS_SHOWN} more sets (--json lists all)")
    return "\n".join(lines) + "\n"


def _json(sets: pl.DataFrame) -> str:
    rows = [{k: finite_or_none(v) for k, v in row.items()} for row in sets.iter_rows(named=True)]
    return json.dumps({"sets": rows}, default=str, allow_nan=False, indent=1) + "\n"
