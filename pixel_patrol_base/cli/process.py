"""The ``pixel-patrol process`` subcommand: its parser, its handler and the summary line.

Registered in :mod:`pixel_patrol_base.cli.main` by :func:`add_process_parser`. Only the
standard library is imported at module level; the handler calls
:func:`pixel_patrol_base.api.process_files` with a :class:`ProgressBar` and prints the
one-line run summary.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pixel_patrol_base.cli.common import EXIT_OK, PROG
from pixel_patrol_base.errors import SettingsError

MAX_WARNINGS_SHOWN = 20

# Library messages start with the API argument name; on the command line, name the option.
_API_TO_OPTION = {
    "processors_included": "--processors-include",
    "processors_excluded": "--processors-exclude",
    "selected_file_extensions": "--file-extensions",
    "max_workers": "--max-workers",
    "mb_per_task": "--mb-per-task",
    "max_images_per_task": "--max-images-per-task",
    "slice_size": "--slice-size",
    "rows_per_part": "--rows-per-part",
    "parquet_row_group_size": "--parquet-row-group-size",
    "thumbnail_size": "--thumbnail-size",
    "output_path": "--output",
    "base_dir": "BASE_DIR",
}
_API_NAME_RE = re.compile(r"^(" + "|".join(_API_TO_OPTION) + r")\b")

log = logging.getLogger(__name__)


def option_names(message: str) -> str:
    """``message`` with a leading API argument name replaced by its command-line option."""
    return _API_NAME_RE.sub(lambda m: _API_TO_OPTION[m.group(1)], message)


# ---------------------------------------------------------------------------- parser


def _items(values: Iterable[str] | None) -> list[str] | None:
    """Repeated and comma-separated values as one list (``None`` when never given)."""
    if values is None:
        return None
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def add_process_parser(subparsers: Any) -> None:
    """Add ``pixel-patrol process``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "process",
        help="process a dataset folder and write its .parquet report",
        description="Find the files under BASE_DIR, read them with the chosen loader, run "
        "the processors and write one self-describing .parquet report. Reruns are "
        "incremental: only changed files are processed again.",
    )
    parser.add_argument("base_dir", metavar="BASE_DIR", help="root folder of the dataset")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="path of the .parquet report to write (its folder is created)",
    )
    parser.add_argument(
        "--name", help="project name embedded in the report (default: the base folder's name)"
    )
    parser.add_argument(
        "-p",
        "--paths",
        action="append",
        metavar="PATH",
        help="only process this sub-folder (relative to BASE_DIR or absolute inside it); "
        "repeat for several; they become the default grouping of the report",
    )
    parser.add_argument(
        "-l",
        "--loader",
        default="bioio",
        help="loader plugin id: bioio (default; every format bioio reads), tifffile, zarr, "
        "or 'none' to record file information only",
    )
    parser.add_argument(
        "-e",
        "--file-extensions",
        action="append",
        metavar="EXT",
        help="extensions to process, e.g. -e tif -e nd2 or -e tif,nd2 "
        "(default: all; with a loader, every extension it reads)",
    )
    parser.add_argument(
        "--processors-include",
        action="append",
        metavar="ID",
        help="processor ids to run, repeatable or comma-separated (default: all installed; "
        "'' runs none)",
    )
    parser.add_argument(
        "--processors-exclude",
        action="append",
        metavar="ID",
        help="processor ids to leave out, repeatable or comma-separated",
    )
    parser.add_argument(
        "--max-workers", type=int, metavar="N", help="parallel jobs (default: all CPUs)"
    )
    parser.add_argument(
        "--mb-per-task",
        type=float,
        metavar="MB",
        help="memory budget of one task in MiB; larger images are read block by block "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--max-images-per-task",
        type=int,
        metavar="N",
        help="most files per shard, i.e. per job (default: %(default)s)",
    )
    parser.add_argument(
        "--slice-size",
        action="append",
        metavar="DIM=N",
        help="leaf block size of one dimension (T, C, Z, Y, X, S), repeatable, e.g. "
        "--slice-size Z=1 --slice-size Y=512; -1 is the full extent "
        "(default: T, C, Z, S = 1; Y, X = -1)",
    )
    parser.add_argument(
        "--rows-per-part",
        type=int,
        metavar="N",
        help="rows a shard job buffers before writing (default: %(default)s)",
    )
    parser.add_argument(
        "--parquet-row-group-size",
        type=int,
        metavar="N",
        help="rows per row group of the report (default: %(default)s)",
    )
    parser.add_argument(
        "--thumbnail-size",
        type=int,
        metavar="PX",
        help="longest side of thumbnails in pixels (default: %(default)s)",
    )
    parser.add_argument("--flavor", default="", help="free-text label of the report kind")
    parser.add_argument(
        "--description", default="", help="free-text description embedded in the report"
    )
    parser.add_argument(
        "--omit-base-dir",
        action="store_true",
        help="leave the absolute base folder out of the report",
    )
    parser.add_argument(
        "--log-file",
        metavar="FILE",
        help="also write the workflow log here (default: a logs/ folder next to the output)",
    )
    parser.add_argument(
        "--profile",
        help="Snakemake profile: a bundled name (local, slurm) or a profile folder "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler address for the shard jobs, e.g. tcp://host:8786",
    )
    parser.add_argument(
        "--slurm-partition",
        metavar="NAME",
        help="SLURM partition of every job with a SLURM profile "
        "(same as env PIXEL_PATROL_SLURM_PARTITION; default: the cluster's default)",
    )
    parser.add_argument(
        "--slurm-account",
        metavar="NAME",
        help="SLURM account charged for every job with a SLURM profile "
        "(same as env PIXEL_PATROL_SLURM_ACCOUNT)",
    )
    parser.add_argument(
        "--clean",
        action="store_true",
        help="drop the work folder (shards, chunks, state) and start fresh",
    )
    # Defaults live in settings.py (stdlib-only imports), shown by %(default)s above.
    from pixel_patrol_base import settings

    parser.set_defaults(
        handler=run_process,
        mb_per_task=settings.DEFAULT_MB_PER_TASK,
        max_images_per_task=settings.DEFAULT_MAX_IMAGES_PER_TASK,
        rows_per_part=settings.DEFAULT_ROWS_PER_PART,
        parquet_row_group_size=settings.DEFAULT_ROW_GROUP_SIZE,
        thumbnail_size=settings.DEFAULT_THUMBNAIL_SIZE,
        profile=settings.DEFAULT_PROFILE,
    )


def summary_line(summary: Mapping[str, Any]) -> str:
    """The one-line run summary printed on stdout."""
    failed = int(summary.get("failed", 0))
    line = (
        f"{PROG}: {summary['files_found']} files found, {summary['images']} images, "
        f"{failed} failed, {summary['shards']} shards ({summary['shards_reused']} reused, "
        f"{summary['shards_processed']} processed), {float(summary['seconds']):.1f} s "
        f"-> {summary['output']}"
    )
    skipped: Mapping[str, int] = summary.get("skipped_by_extension") or {}
    if skipped:
        ordered = sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0]))
        parts = ", ".join(f"{n} {ext or '(no extension)'}" for ext, n in ordered)
        line += f"; skipped by extension: {parts}"
    if failed:
        line += f"; WARNING: {failed} failed to load, see the load_error column of the report"
    return line


# ---------------------------------------------------------------------------- process


def _slice_size(values: Sequence[str] | None) -> dict[str, int] | None:
    if values is None:
        return None
    parsed: dict[str, int] = {}
    for value in values:
        dim, sep, size = value.partition("=")
        try:
            number = int(size)
        except ValueError:
            number = None
        if not sep or not dim.strip() or number is None:
            raise SettingsError(
                f"--slice-size {value!r} is not DIM=N; pass e.g. --slice-size Z=1 "
                "--slice-size Y=512"
            )
        parsed[dim.strip()] = number
    return parsed


def _extensions(values: Sequence[str] | None) -> list[str] | str:
    items = _items(values)
    if items is None:
        return "all"
    if not items:
        given = ", ".join(repr(v) for v in values or [])
        raise SettingsError(
            f"--file-extensions {given} names no extension; pass e.g. -e tif -e nd2, or -e all"
        )
    return "all" if [i.lower() for i in items] == ["all"] else items


def _set_slurm_environment(partition: str | None, account: str | None) -> None:
    """Pass --slurm-partition/--slurm-account on as the environment the runner reads."""
    from pixel_patrol_base.pipeline.run.slurm import ACCOUNT_ENV, PARTITION_ENV

    for value, name in ((partition, PARTITION_ENV), (account, ACCOUNT_ENV)):
        if value is not None:
            os.environ[name] = value


def run_process(args: argparse.Namespace) -> int:
    """Handle ``pixel-patrol process``."""
    from pixel_patrol_base import api
    from pixel_patrol_base.cli.progress import ProgressBar

    loader = None if args.loader.strip().lower() == "none" else args.loader
    name = args.name if args.name is not None else Path(args.base_dir).expanduser().resolve().name
    kwargs: dict[str, Any] = {
        "processors_included": _items(args.processors_include),
        "processors_excluded": _items(args.processors_exclude),
        "selected_file_extensions": _extensions(args.file_extensions),
        "max_workers": args.max_workers,
        "mb_per_task": args.mb_per_task,
        "max_images_per_task": args.max_images_per_task,
        "slice_size": _slice_size(args.slice_size),
        "rows_per_part": args.rows_per_part,
        "parquet_row_group_size": args.parquet_row_group_size,
        "thumbnail_size": args.thumbnail_size,
        "flavor": args.flavor,
        "description": args.description,
        "omit_base_dir": args.omit_base_dir,
        "log_file": args.log_file,
        "profile": args.profile,
        "scheduler": args.scheduler,
        "clean": args.clean,
    }
    _set_slurm_environment(args.slurm_partition, args.slurm_account)
    project = api.create_project(name, args.base_dir, loader=loader, output_path=args.output)
    if args.paths:
        api.add_paths(project, args.paths)
    bar = ProgressBar(sys.stderr, label=PROG)
    handler = args.log_handler
    handler.bar = bar
    completed = False
    try:
        api.process_files(project, progress_callback=bar, **kwargs)
        completed = True
    finally:
        bar.close(completed=completed)
        handler.bar = None
    summary = project.last_run or {}
    warnings: list[str] = list(summary.get("warnings") or [])
    for warning in warnings[:MAX_WARNINGS_SHOWN]:
        log.warning("%s", warning)
    if len(warnings) > MAX_WARNINGS_SHOWN:
        log.warning("... and %d more warnings", len(warnings) - MAX_WARNINGS_SHOWN)
    print(summary_line(summary), flush=True)
    return EXIT_OK


# ---------------------------------------------------------------------------- schema
