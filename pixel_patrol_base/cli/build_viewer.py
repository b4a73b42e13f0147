"""The ``pixel-patrol build-viewer`` subcommand: its parser and its handler.

Registered in :mod:`pixel_patrol_base.cli.entry` by :func:`add_build_viewer_parser`. Only the
standard library is imported at module level; the handler calls
:func:`pixel_patrol_base.api.build_viewer` and prints what it wrote. Errors propagate to
:func:`pixel_patrol_base.cli.entry.main`, which maps them to exit statuses.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_build_viewer_parser(subparsers: Any) -> None:
    """Add ``pixel-patrol build-viewer``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "build-viewer",
        help="write the static viewer: one offline .html file, or a site folder",
        description="Write the static viewer (duckdb-wasm + vega-embed, no server). An "
        "OUTPUT ending in .html/.htm is one self-contained file that opens from file:// "
        "with the network off; any other OUTPUT is a site folder (index.html + assets/) "
        "for a static host, which opens a table given as ?data=URL.",
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUTPUT", help="viewer.html or a folder"
    )
    parser.add_argument(
        "--data",
        metavar="PARQUET",
        help="a report to embed into the single file (at most 32 MiB), or to copy into the "
        "site folder and open by default",
    )
    parser.set_defaults(handler=run_build_viewer)


def run_build_viewer(args: argparse.Namespace) -> int:
    """Build the viewer and print where it went."""
    from pixel_patrol_base import api

    written = api.build_viewer(args.output, data=args.data)
    if written.is_dir():
        where = written / "index.html"
        print(f"pixel-patrol: static viewer site written to {written}/ (open {where})")
    else:
        size = written.stat().st_size / 2**20
        print(f"pixel-patrol: static viewer written to {written} ({size:.1f} MiB)")
    return 0
