"""The ``pixel-patrol process`` subcommand: its parser, its handler and the summary line.

Registered in :mod:`pixel_patrol_base.cli.entry` by :func:`add_process_parser`. Only the
standard library is imported at module level; the handler calls
:func:`pixel_patrol_base.api.process_files` with a :class:`ProgressBar` and prints the
one-line run summary. The options of the processing settings are built from their
declarations (:mod:`pixel_patrol_base.settings.declarations`), so each has the same
name, default and help wherever it appears.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pixel_patrol_base.cli.common import EXIT_OK, PROG

MAX_WARNINGS_SHOWN = 20
_PROJECT_OPTIONS = {"output_path": "--output", "base_dir": "BASE_DIR"}

log = logging.getLogger(__name__)


def api_to_option() -> dict[str, str]:
    """The command-line option of every API argument that has one, by API name."""
    from pixel_patrol_base.settings import declarations

    return {**declarations.option_names(), **_PROJECT_OPTIONS}


def option_names(message: str) -> str:
    """``message`` with a leading API argument name replaced by its command-line option."""
    names = api_to_option()
    pattern = re.compile(r"^(" + "|".join(map(re.escape, names)) + r")\b")
    return pattern.sub(lambda m: names[m.group(1)], message)


# ---------------------------------------------------------------------------- parser


def _add_setting_options(parser: argparse.ArgumentParser) -> None:
    """One option per declared setting that has one (defaults shown by ``%(default)s``)."""
    from pixel_patrol_base.settings import declarations

    for setting in declarations.SETTINGS:
        cli = setting.cli
        if cli is None:
            continue
        names = [cli.short, cli.flag] if cli.short else [cli.flag]
        options: dict[str, Any] = {"dest": setting.name, "help": setting.help}
        if cli.action == "store_true":
            options.update(action="store_true", default=False)
        else:
            options.update(action=cli.action, metavar=cli.metavar)
            if cli.action == "store":
                options.update(type=cli.type, default=setting.default)
        parser.add_argument(*names, **options)


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
    _add_setting_options(parser)
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
    parser.set_defaults(handler=run_process)


def summary_line(summary: Mapping[str, Any]) -> str:
    """The one-line run summary printed on stdout; it ends with the QC counts."""
    failed = int(summary.get("failed", 0))
    shards = f"{summary['shards']} shard{'' if summary['shards'] == 1 else 's'}"
    line = (
        f"{PROG}: {summary['files_found']} files found, {summary['images']} images, "
        f"{failed} failed, {shards} ({summary['shards_reused']} reused, "
        f"{summary['shards_processed']} processed), {float(summary['seconds']):.1f} s "
        f"-> {summary['output']}"
    )
    skipped: Mapping[str, int] = summary.get("skipped_by_extension") or {}
    if skipped:
        ordered = sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0]))
        parts = ", ".join(f"{n} {ext or '(no extension)'}" for ext, n in ordered)
        line += f"; skipped by extension: {parts}"
    left_out: Mapping[str, int] = summary.get("skipped") or {}
    if left_out:  # per discovery reason (broken_link, external_link, ...)
        parts = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in left_out.items())
        line += f"; WARNING: skipped {parts} (see the warnings above)"
    if failed:
        line += f"; WARNING: {failed} failed to load, see the load_error column of the report"
    qc = summary.get("qc_summary")
    if qc:
        line += f"; {qc}"
    return line


# ---------------------------------------------------------------------------- process


def _set_slurm_environment(partition: str | None, account: str | None) -> None:
    """Pass --slurm-partition/--slurm-account on as the environment the runner reads."""
    from pixel_patrol_base.pipeline.run.slurm import ACCOUNT_ENV, PARTITION_ENV

    for value, name in ((partition, PARTITION_ENV), (account, ACCOUNT_ENV)):
        if value is not None:
            os.environ[name] = value


def setting_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The ``process_files`` keyword arguments given by the parsed settings options.

    Raises:
        SettingsError: for option text that names no value (e.g. ``--slice-size Z``).
    """
    from pixel_patrol_base.settings import declarations

    kwargs: dict[str, Any] = {}
    for setting in declarations.SETTINGS:
        if setting.cli is not None:
            value = getattr(args, setting.name)
            kwargs[setting.name] = value if setting.cli.parse is None else setting.cli.parse(value)
    return kwargs


def run_process(args: argparse.Namespace) -> int:
    """Handle ``pixel-patrol process``."""
    from pixel_patrol_base import api
    from pixel_patrol_base.cli.progress import ProgressBar

    loader = None if args.loader.strip().lower() == "none" else args.loader
    name = args.name if args.name is not None else Path(args.base_dir).expanduser().resolve().name
    kwargs = setting_arguments(args)
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
