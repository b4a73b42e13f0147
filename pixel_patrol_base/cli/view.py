"""The ``pixel-patrol view`` subcommand: its parser and its handler.

Registered in :mod:`pixel_patrol_base.cli.entry` by :func:`add_view_parser`. Only the standard
library is imported at module level; the handler turns the options into the arguments
of :func:`pixel_patrol_base.viewing.serve.prepare_view` and runs the viewer, printing its address.
Given an image file instead of a report, it first processes that one file into a temporary
report (:func:`pixel_patrol_base.viewing.quicklook.quick_look`) and opens the viewer on the
image's view; the temporary folder goes when the viewer stops.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pixel_patrol_base.errors import ViewOptionError

if TYPE_CHECKING:
    from pixel_patrol_base.viewing.widgets.model import ImageRef

DEFAULT_PORT = 8052


def add_view_parser(subparsers: Any) -> None:
    """Add ``pixel-patrol view``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "view",
        help="explore a .parquet report (or one image file) in the interactive viewer",
        description="Start the interactive viewer on 127.0.0.1 for REPORT and block until "
        "Ctrl+C, SIGINT or SIGTERM, which stop it. Every option is checked before the viewer "
        "starts. The viewer logs to a fresh file in the temporary folder, named when it starts. "
        "Given an image file (any name not ending in .parquet that is not a Parquet file), "
        "view first processes that one file into a temporary report (bioio loader, every "
        "processor), opens the viewer on that image's view, and removes the temporary "
        "report when it stops; nothing is written next to the file.",
    )
    parser.add_argument(
        "report",
        metavar="PARQUET|IMAGE",
        nargs="?",
        help="the report to view, or one image file for a quick look at it",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="TCP port (default: %(default)s)"
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="do not open a web browser; print the address"
    )
    parser.add_argument("--group-by", metavar="COLUMN", help="initial group column")
    parser.add_argument("--filter-col", metavar="COLUMN", help="filter on this column")
    parser.add_argument(
        "--filter-op",
        metavar="OP",
        help="filter operator: eq, in, gt, lt, ge, le, contains, not_contains, has",
    )
    parser.add_argument(
        "--filter-val", metavar="VALUE", help="filter value (comma-separated for 'in')"
    )
    parser.add_argument(
        "--dim",
        action="append",
        metavar="AXIS=INDEX",
        help="select one index of a dimension (T, C, Z, S, or a further axis such as H), "
        "repeatable, e.g. --dim Z=0",
    )
    parser.add_argument(
        "--widgets-exclude",
        action="append",
        metavar="ID",
        help="hide a widget by id, repeatable or comma-separated (see --list-widgets)",
    )
    parser.add_argument(
        "--significance",
        action="store_true",
        help="show pairwise Mann-Whitney U brackets (Bonferroni) on violin plots",
    )
    parser.add_argument("--palette", help="colour palette of the groups")
    parser.add_argument(
        "--list-widgets",
        action="store_true",
        help="list the installed widget ids with their titles and exit",
    )
    parser.set_defaults(handler=run_view)


def _filter_by(args: argparse.Namespace) -> dict[str, dict[str, object]] | None:
    given = [args.filter_col, args.filter_op, args.filter_val]
    if all(v is None for v in given):
        return None
    if any(v is None for v in given):
        raise ViewOptionError(
            "--filter-col, --filter-op and --filter-val go together; pass all three, e.g. "
            "--filter-col file_extension --filter-op in --filter-val tif,png"
        )
    return {args.filter_col: {"op": args.filter_op, "value": args.filter_val}}


def _dims(values: Sequence[str] | None) -> dict[str, str] | None:
    if not values:
        return None
    dims: dict[str, str] = {}
    for value in values:
        axis, sep, index = value.partition("=")
        if not sep or not axis.strip() or not index.strip():
            raise ViewOptionError(f"--dim {value!r} is not AXIS=INDEX; pass e.g. --dim Z=0")
        dims[axis.strip()] = index.strip()
    return dims


def _list_widgets() -> int:
    from pixel_patrol_base.viewing.widgets import format_widget_list

    print(format_widget_list())
    return 0


def run_view(args: argparse.Namespace) -> int:
    """Handle ``pixel-patrol view``."""
    if args.list_widgets:
        return _list_widgets()
    if args.report is None:
        raise ViewOptionError(
            "no report given; pass PARQUET, e.g. pixel-patrol view report.parquet"
        )
    from pixel_patrol_base.viewing.quicklook import check_image, is_report, quick_look
    from pixel_patrol_base.viewing.serve import check_port

    if is_report(Path(args.report)):
        _view(args, args.report, None)
        return 0
    check_image(Path(args.report))  # the cheap checks before the processing, which takes a while
    check_port(args.port)
    print(f"pixel-patrol: processing {args.report} into a temporary report ...", flush=True)
    with quick_look(args.report) as (report, image):
        _view(args, report, image)
    return 0


def _view(args: argparse.Namespace, report: str | Path, image: ImageRef | None) -> None:
    """Check the options on ``report`` and run the viewer, on ``image``'s view if given."""
    from dataclasses import replace

    from pixel_patrol_base.viewing.options import ViewOptions
    from pixel_patrol_base.viewing.serve import new_log_file, prepare_view, run_viewer

    excluded = [
        item.strip()
        for value in args.widgets_exclude or []
        for item in value.split(",")
        if item.strip()
    ]
    options = ViewOptions(
        group_col=args.group_by,
        filter_by=_filter_by(args),
        dimensions=_dims(args.dim),
        widgets_excluded=excluded,
        is_show_significance=args.significance,
        palette=args.palette,
    )
    launch = prepare_view(report, options, port=args.port)
    if image is not None:
        launch = replace(launch, state=replace(launch.state, image=image))
    launch = replace(launch, log_file=new_log_file())

    def ready(url: str) -> None:
        print(
            f"pixel-patrol: viewer running at {url} (Ctrl+C to stop); log: {launch.log_file}",
            flush=True,
        )

    run_viewer(launch, open_browser=not args.no_browser, on_ready=ready)
