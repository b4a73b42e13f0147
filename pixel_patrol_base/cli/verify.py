"""The ``pixel-patrol verify`` subcommand: check a report against its own checksums.

Registered in :mod:`pixel_patrol_base.cli.entry` by :func:`add_verify_parser`. Every
column chunk of the report is read and compared with the checksum the merge recorded in
its footer (:func:`pixel_patrol_base.table.integrity.verify`, what
``api.load(verify=True)`` runs). Exit status: 0 intact, 1 corrupt (or written without
checksums), 2 not a report.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pixel_patrol_base.cli.common import EXIT_FAILED, EXIT_OK, PROG


def add_verify_parser(subparsers: Any) -> None:
    """Add ``pixel-patrol verify``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "verify",
        help="check a report against the checksums in its footer",
        description="Read every column chunk of REPORT and compare it with the checksum "
        "recorded when it was written. Exit status: 0 intact, 1 corrupt (rerun "
        "'pixel-patrol process' to rebuild it from its chunks), 2 not a report.",
    )
    parser.add_argument("report", metavar="REPORT", help="the .parquet report to verify")
    parser.set_defaults(handler=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    """Verify ``args.report``; print one line saying what was found.

    A report that is not a PixelPatrol report raises ``NotAReportError``, which the
    entry point turns into exit status 2.
    """
    from pathlib import Path

    from pixel_patrol_base.errors import ReportCorruptError
    from pixel_patrol_base.table.integrity import verify

    try:
        digest = verify(Path(args.report))
    except ReportCorruptError as exc:
        print(f"{PROG}: corrupt: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.report}: intact (digest {digest})")
    return EXIT_OK
