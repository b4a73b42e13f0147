"""The public Python API of PixelPatrol.

Call graph of :func:`process_files`::

    process_files(project, **settings)
      ├─ settings.resolve_settings            every value checked before work starts
      ├─ pipeline.run.config.build_config     -> <workdir>/config.yaml
      ├─ pipeline.run.lock.RunLock            one run per output
      ├─ _unchanged_summary                   nothing changed since the last run? done
      └─ pipeline.run.runner.run_workflow     Snakemake: plan -> shards -> merge

The keyword arguments of ``process_files`` are the settings declared in
:mod:`pixel_patrol_base.settings.declarations` (a test keeps the two in step).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pixel_patrol_base.errors import NotAReportError, OutputError, PathError
from pixel_patrol_base.pipeline.run import layout
from pixel_patrol_base.project import (
    Project,
    check_project,
    new_project,
    relative_path,
)
from pixel_patrol_base.settings import (
    DEFAULT_MB_PER_TASK,
    DEFAULT_PROFILE,
    DEFAULT_ROW_GROUP_SIZE,
    DEFAULT_ROWS_PER_PART,
    DEFAULT_THUMBNAIL_SIZE,
    ProgressCallback,
    resolve_settings,
)
from pixel_patrol_base.settings.checks import no_match_warning
from pixel_patrol_base.settings.paths import path_value

if TYPE_CHECKING:
    import polars as pl

    from pixel_patrol_base.pipeline.run.config import RunConfig
    from pixel_patrol_base.pipeline.run.records import RunSummary
    from pixel_patrol_base.table.footer import ProjectMetadata

__all__ = [
    "Project",
    "add_paths",
    "build_viewer",
    "check",
    "create_project",
    "delete_path",
    "load",
    "process_files",
    "view",
]

log = logging.getLogger(__name__)


def create_project(
    name: str,
    base_dir: str | Path,
    loader: str | None = None,
    output_path: str | Path | None = None,
) -> Project:
    """Create a new project.

    Args:
        name: Project name, embedded in the report; must not be empty or whitespace-only.
        base_dir: Root directory of the dataset.
        loader: Loader plugin id (e.g. ``"bioio"``); ``None`` records file information only.
        output_path: Where to write the report; defaults to ``<base_dir>/<name>.parquet``.

    Returns:
        The new project.

    Raises:
        ProjectNameError: for an empty name.
        BaseDirError: when ``base_dir`` is missing or a file.
        UnknownPluginError: for an unknown loader (the known ones are listed).
        OutputError: when ``output_path`` is a folder.
    """
    return new_project(name, base_dir, loader, output_path)


def add_paths(project: Project, paths: str | Path | Iterable[str | Path]) -> Project:
    """Restrict processing to sub-folders of the base directory.

    Only files within these paths are processed, and they become the default grouping
    of the report. Paths are relative to ``base_dir`` or absolute (inside it).

    Returns:
        The same project, updated.

    Raises:
        NotAProjectError: when ``project`` is not a :class:`Project`.
        PathError: for a path that is missing, a file, or outside ``base_dir``, and for
            ``paths`` that are neither a path nor a collection of paths (``None``).
    """
    check_project(project)
    items = _path_items(paths)
    relative = [relative_path(project, p) for p in items]
    for rel in relative:
        if rel not in project.paths:
            project.paths.append(rel)
    return project


def _path_items(paths: object) -> list[str | Path]:
    """The paths given to :func:`add_paths`: one path, or each of a collection."""
    if isinstance(paths, str | os.PathLike):
        return [paths]  # type: ignore[list-item]  # any os.PathLike; relative_path checks it
    if isinstance(paths, bytes | Mapping) or not isinstance(paths, Iterable):
        raise PathError(
            f"paths must be a folder or a list of folders (str or pathlib.Path), got {paths!r}"
        )
    items: list[str | Path] = list(paths)
    for item in items:
        if isinstance(item, bytes) or not isinstance(item, str | os.PathLike):
            raise PathError(
                f"paths holds {item!r} ({type(item).__name__}); pass folders as str or pathlib.Path"
            )
    return items


def delete_path(project: Project, path: str | Path) -> Project:
    """Remove a path added with :func:`add_paths`.

    Returns:
        The same project, updated.

    Raises:
        NotAProjectError: when ``project`` is not a :class:`Project`.
        PathError: when the path was not added.
    """
    check_project(project)
    candidate = path_value(path, "path", PathError)
    absolute = candidate if candidate.is_absolute() else project.base_dir / candidate
    try:
        rel = absolute.resolve().relative_to(project.base_dir).as_posix()
    except ValueError:
        rel = str(path)
    if rel not in project.paths:
        added = ", ".join(project.paths) or "none"
        raise PathError(f"path '{path}' was not added to the project (added: {added})")
    project.paths.remove(rel)
    return project


def _active_dask_scheduler() -> str | None:
    if "distributed" not in sys.modules:
        return None
    from distributed import default_client

    try:
        address: str = default_client().scheduler.address  # type: ignore[no-untyped-call]
    except ValueError:
        return None
    return address


def _unchanged_summary(config: RunConfig) -> RunSummary | None:
    """The last run's summary when its config, QC rules, files and output are unchanged.

    The rules are compared by the digest of their effective content, so an edited rules
    file at the same path is not taken for unchanged. The report must be the one the
    last run wrote (its digest) and pass its own checksums, else it is rebuilt from the
    chunks; temp files of a merge that was killed are removed. When the files were listed
    and have changed, that plan is handed over to the run's plan job.
    """
    from dataclasses import replace

    from pixel_patrol_base.pipeline.plan.planner import hand_over, make_plan
    from pixel_patrol_base.pipeline.run.config import config_fingerprint
    from pixel_patrol_base.pipeline.run.records import RunSummary
    from pixel_patrol_base.table.integrity import intact

    workdir = config.workdir
    try:
        last = RunSummary.read(layout.summary_file(workdir))
        stat = config.output.stat()
    except (OSError, ValueError):
        return None
    if last.qc_rules_digest != config.qc_rules().digest():
        return None
    if last.config_fingerprint != config_fingerprint(config) or (
        stat.st_size,
        stat.st_mtime_ns,
    ) != (last.output_size, last.output_mtime_ns):
        return None
    plan = make_plan(config)
    if plan.shard_ids != last.shard_ids or not all(
        layout.chunk_file(workdir, sid).exists() for sid in plan.shard_ids
    ):
        hand_over(plan, workdir)  # listed once per run: the plan job takes this one
        return None
    if not intact(config.output, last.report_digest):  # corrupt: rebuilt from the chunks
        return None
    # Imported here: the merge's modules bring pandera and pandas (a second of CPU), which
    # a first run, or a changed one, would load for nothing.
    from pixel_patrol_base.pipeline.merge.combine import remove_stale_temp_files

    remove_stale_temp_files(config.output)
    return replace(last, shards_processed=0, shards_reused=len(plan.shard_ids))


def _clear_workdir(workdir: Path) -> None:
    for child in workdir.iterdir():
        if child.name in (layout.LOCK, layout.MARKER):  # still held, still ours
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def process_files(  # noqa: PLR0913 (one keyword per setting, as the API spec lists them)
    project: Project,
    *,
    progress_callback: ProgressCallback | None = None,
    processors_included: Iterable[str] | None = None,
    processors_excluded: Iterable[str] | None = None,
    selected_file_extensions: Iterable[str] | str | None = "all",
    max_workers: int | None = None,
    mb_per_task: float = DEFAULT_MB_PER_TASK,
    max_images_per_task: int | None = None,
    slice_size: Mapping[str, int] | None = None,
    rows_per_part: int = DEFAULT_ROWS_PER_PART,
    parquet_row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
    flavor: str = "",
    description: str = "",
    omit_base_dir: bool = False,
    log_file: str | Path | None = None,
    profile: str | Path = DEFAULT_PROFILE,
    scheduler: str | None = None,
    clean: bool = False,
    force: bool = False,
    thumbnail_size: int = DEFAULT_THUMBNAIL_SIZE,
    qc_group_by: str | None = None,
    expectations: str | Path | None = None,
    follow_external_links: bool = False,
) -> Project:
    """Process the project's files and write its report.

    Runs the Snakemake workflow (plan -> one job per shard -> merge). Reruns are
    incremental: only shards whose files or result-changing settings changed are
    processed again, and when nothing changed no image is read at all.

    Args:
        project: The project from :func:`create_project`.
        progress_callback: Called as ``(done, total)`` with files done; ``total`` is -1
            until the plan knows it. Called at least once a second while work runs.
        processors_included: Processor ids to run (default: all installed).
        processors_excluded: Processor ids to leave out.
        selected_file_extensions: Extensions to process, e.g. ``{"tif", "nd2"}`` or
            ``"tif,nd2"``, or ``"all"`` (with a loader: every extension it reads). A run
            whose extensions match no file warns in ``last_run["warnings"]``.
        max_workers: Parallel jobs on this machine (default: all CPUs).
        mb_per_task: Budget in MiB of one task; larger images go block by block.
        max_images_per_task: Most files per shard (per job); ``None``: 40,000 with a
            loader, and no bound without one (shards of file information only are sized by
            their number of files, 50,000 or more).
        slice_size: Leaf block size per dimension, e.g. ``{"Z": 1, "Y": 512}``; -1 is the
            full extent. Defaults: 1 for T, C, Z, S and any further axis (H, E, ...);
            Y, X = -1.
        rows_per_part: Rows a shard job buffers before writing (bounds job memory).
        parquet_row_group_size: Rows per row group of the report.
        flavor: Free-text label of the report kind.
        description: Free-text description embedded in the report.
        omit_base_dir: Leave the absolute base directory out of the report.
        log_file: Also write the run's log here (default: the workdir's logs/).
        profile: Snakemake profile: a bundled name (``local``, ``slurm``) or a folder.
        scheduler: Dask scheduler address for the shard jobs; defaults to the active
            ``distributed.Client``, if any. It must accept connections within 5 s, else
            :class:`~pixel_patrol_base.errors.SchedulerUnreachableError` is raised.
        clean: Drop the workdir (shards, chunks, state) first and start fresh.
        force: Replace an existing PixelPatrol report of another dataset (another
            ``base_dir``) at the output path. A file that is not a PixelPatrol report is
            never replaced.
        thumbnail_size: Longest side of thumbnails in pixels.
        qc_group_by: Column whose values form the QC groups (group rules, outliers and
            consistency checks compare within a group). Default: ``imported_path_short``
            when paths were added, else ``top_folder`` when files lie in sub-folders,
            else one group. Changing it reruns only the QC (no shard).
        expectations: A QC rules file (YAML, ``docs/rules.md``) judged with the built-in
            rules; read and checked before any work. Editing it reruns only the QC.
        follow_external_links: Follow symlinks whose target lies outside ``base_dir``.
            By default each one is skipped with a warning (``last_run["warnings"]``) and
            counted (``last_run["skipped"]``, the footer's ``counts["skipped"]``).

    Returns:
        The project, with ``last_run`` holding the run summary (``qc``: the QC counts,
        ``qc_summary``: the ``QC: ...`` text).

    Raises:
        NotAProjectError: when ``project`` is not a :class:`Project` (e.g. ``None``).
        InvalidInputError: (a subclass) for any invalid setting, before work starts.
        RulesFileError: when ``expectations`` is missing or malformed, before work starts.
        OutputExistsError: when the output, the workdir or ``log_file`` holds something
            that is not PixelPatrol's to replace (an image, a folder of the user's, another
            dataset's report without ``force``), before work starts.
        RunLockedError: when another run is writing the same output.
        WorkflowError: when the workflow failed (the message points to the log).
        ReportValidationError: when the merged rows violate the column catalog.
    """
    # First statement: the keyword arguments, i.e. every declared setting, by name.
    given = {name: value for name, value in locals().items() if name != "project"}
    check_project(project)
    from dataclasses import replace

    from pixel_patrol_base.pipeline.run.config import (
        RunConfig,
        build_config,
        plugin_versions,
        write_config,
    )
    from pixel_patrol_base.pipeline.run.lock import RunLock
    from pixel_patrol_base.pipeline.run.outputs import prepare_outputs
    from pixel_patrol_base.pipeline.run.runner import run_workflow

    started = time.perf_counter()
    if scheduler is None:
        given["scheduler"] = _active_dask_scheduler()
    settings = resolve_settings(**given)
    if settings.scheduler is not None:
        from pixel_patrol_base.pipeline.run.scheduler import check_scheduler

        check_scheduler(settings.scheduler)
    prepare_outputs(project, settings.log_file, force=settings["force"])  # inputs are sacred
    config = build_config(project, settings)
    plugin_versions(config)  # imports every configured plugin: a broken one fails now
    run = RunConfig.from_mapping(config)
    workdir = project.workdir
    callback: ProgressCallback | None = settings["progress_callback"]
    with RunLock(workdir, project.output_path):
        if settings["clean"]:
            _clear_workdir(workdir)
        config_path = workdir / layout.CONFIG
        write_config(config, config_path)
        layout.plan_handoff_file(workdir).unlink(missing_ok=True)  # only this run's plan
        summary = _unchanged_summary(run)
        if summary is None:
            summary = run_workflow(
                workdir,
                config_path,
                profile=settings.profile,
                cores=settings.max_workers,
                log_path=settings.log_file or layout.snakemake_log(workdir),
                progress_callback=callback,
            )
        elif callback is not None:
            callback(summary.files_found, summary.files_found)
    warning = no_match_warning(
        settings["selected_file_extensions"], summary.files_found, summary.skipped_by_extension
    )
    if warning is not None and warning not in summary.warnings:
        summary = replace(summary, warnings=[*summary.warnings, warning])
    summary = replace(summary, seconds=round(time.perf_counter() - started, 3))
    project.last_run = summary.as_dict()
    log.info("processed %s: %s", project.name, project.last_run)
    return project


def load(src: str | Path, *, verify: bool = False) -> tuple[pl.DataFrame, ProjectMetadata]:
    """Load a saved report.

    Args:
        src: The report ``.parquet``.
        verify: First check every column chunk against the checksums the merge wrote
            into the footer (reads the file once more; ``pixel-patrol verify`` does the
            same).

    Returns:
        The table as a Polars DataFrame and its project metadata.

    Raises:
        NotAReportError: when ``src`` is missing, not Parquet, or not a PixelPatrol table.
        ReportCorruptError: with ``verify``, when the report's bytes differ from its
            checksums, or it carries none (written before they existed); a subclass of
            ``NotAReportError``.
    """
    from pixel_patrol_base.table.footer import load_report

    path = path_value(src, "src", NotAReportError)
    if verify:
        from pixel_patrol_base.table.integrity import verify as verify_report

        verify_report(path)
    return load_report(path)


def _report_source(source: object) -> Project | Path:
    """A project as is, anything else checked as the path of a report.

    Raises:
        NotAReportError: when ``source`` is neither a project nor a path (``None``).
    """
    if isinstance(source, Project):
        return source
    if not isinstance(source, str | os.PathLike):
        raise NotAReportError(
            f"source must be a Project or the path of a report .parquet, got {source!r}"
        )
    return path_value(source, "source", NotAReportError)


def check(
    source: Project | str | Path,
    expectations: str | Path | None = None,
    *,
    qc_group_by: str | None = None,
    include_passing: bool = False,
) -> pl.DataFrame:
    """Judge an existing report by the QC rules, without reading any image.

    The rules are the built-in ones extended by ``expectations`` (the format is in
    ``docs/rules.md``); only the columns they need are read from the report.

    Args:
        source: A processed :class:`Project` or the path of a report ``.parquet``.
        expectations: A rules file; ``None`` judges by the built-in rules alone.
        qc_group_by: The QC group column; default: the one the report was judged
            with when it was written (its footer's ``qc.group_by``), else the added
            paths, else the top-level folder.
        include_passing: Also list slice and image verdicts that pass.

    Returns:
        One row per verdict: ``rule, scope, status`` (warn, fail or error; pass with
        ``include_passing``), the row key ``path, child_id, obs_level, dim_*`` (null for
        group and dataset verdicts), ``group``, ``value`` (numeric), ``value_text`` and
        ``message``. Group and dataset verdicts are always listed, passing or not.

    Raises:
        NotAReportError: when ``source`` is missing or not a PixelPatrol report, or a
            project not processed yet.
        RulesFileError: when ``expectations`` is missing or malformed.
        SettingsError: when ``qc_group_by`` is not a column of the report.
    """
    from pixel_patrol_base.pipeline.merge.assess import assess_report
    from pixel_patrol_base.qc import load_rules
    from pixel_patrol_base.viewing.options import report_path

    rules = load_rules(expectations)
    result = assess_report(
        report_path(_report_source(source)), rules, qc_group_by, include_passing=include_passing
    )
    return result.results


def duplicates(source: Project | str | Path) -> pl.DataFrame:
    """The duplicate images and planes of a report, found when it was merged.

    Reads only the report. Exact sets share a ``content_hash`` (the same pixels, whatever
    the file format); near sets have pHashes within 6 of 64 bits and signatures that
    correlate at 0.95 or more; plane sets are planes of one stack that repeat another
    plane, or differ from the previous one by less than their noise allows.

    Args:
        source: A processed :class:`Project` or the path of a report ``.parquet``.

    Returns:
        One row per set: ``set`` (its id, as in the ``duplicate_set`` column), ``kind``
        (exact, near or plane), ``size``, ``paths``, ``child_ids`` and ``planes`` (the
        members, in order), ``distance`` (largest pHash Hamming distance between members)
        and ``correlation`` (smallest signature correlation; null for exact sets).

    Raises:
        NotAReportError: when ``source`` is missing or not a PixelPatrol report, or a
            project not processed yet.
    """
    from pixel_patrol_base.duplicates.listing import duplicate_sets
    from pixel_patrol_base.viewing.options import report_path

    return duplicate_sets(report_path(_report_source(source)))


def view(  # noqa: PLR0913, PLR0917 (the API spec's signature)
    source: Project | str | Path,
    port: int = 8052,
    open_browser: bool = True,
    group_col: str | None = None,
    filter_by: Mapping[str, Mapping[str, object]] | None = None,
    dimensions: Mapping[str, object] | None = None,
    widgets_excluded: Iterable[str] | None = None,
    is_show_significance: bool = False,
    palette: str | None = None,
) -> None:
    """Open a report in the interactive viewer (Streamlit over DuckDB) and block.

    Every argument is checked before anything starts. The viewer listens on 127.0.0.1
    only and runs until interrupted: Ctrl+C, SIGINT (also Jupyter's "interrupt") or
    SIGTERM stop the Streamlit process and raise KeyboardInterrupt. It logs to a fresh
    file in the temporary folder (named in the log at INFO); the browser never shows a
    traceback.

    Args:
        source: A processed :class:`Project` or the path of a report ``.parquet``.
        port: TCP port on 127.0.0.1.
        open_browser: Open the viewer in the default web browser.
        group_col: Initial group column (default: ``imported_path_short`` when several
            paths were added, else ``top_folder`` when there are several top-level
            folders, else ``file_extension``).
        filter_by: ``{"col": {"op": "eq"|"in"|"gt"|"lt"|"ge"|"le"|"contains"|
            "not_contains"|"has", "value": ...}}``; ``in`` takes a list or ``"tif,nd2"``, the
            others one value, which must fit the column's type (a number for a numeric
            column, a timestamp text for a date column...).
        dimensions: Axis letter -> index, e.g. ``{"z": "0", "t": "0"}``.
        widgets_excluded: Widget ids to hide (``pixel-patrol view --list-widgets``); a
            string is one comma-separated list.
        is_show_significance: Show pairwise Mann-Whitney U brackets on violin plots.
        palette: Colour palette of the groups.

    Raises:
        NotAReportError: when ``source`` is missing, not Parquet or not a PixelPatrol
            table (the missing columns are named), or a project not processed yet.
        ViewOptionError: for an unknown group column, filter column or operator, bad
            dimension, unknown widget id or palette; ``FilterValueError`` (a subclass)
            for a filter value that does not fit its operator or column type.
        PortInUseError: when ``port`` is already taken.
        ViewerStartError: when Streamlit fails to start.
    """
    from pixel_patrol_base.viewing.options import ViewOptions
    from pixel_patrol_base.viewing.serve import view as run_view

    options = ViewOptions(
        group_col, filter_by, dimensions, widgets_excluded, is_show_significance, palette
    )
    run_view(_report_source(source), options, port=port, open_browser=open_browser)


def build_viewer(output: str | Path, data: str | Path | None = None) -> Path:
    """Write the static viewer (duckdb-wasm + vega-embed; no server) and return its path.

    An ``output`` ending in ``.html`` / ``.htm`` is one self-contained file (JavaScript,
    styles, WASM and widget declarations inlined) that opens from ``file://`` with the
    network off. Any other ``output`` is a site folder (``index.html`` + ``assets/``) for a
    static host, which opens a table given as ``?data=URL``, picked or dropped.

    Args:
        output: ``viewer.html`` for a single file, or a folder for a site.
        data: A report to embed into the single file (at most 32 MiB), or to copy into
            the site folder and open by default.

    Raises:
        ViewerAssetsMissingError: when the assets were not built (``make viewer-assets``).
        NotAReportError: when ``data`` is not a PixelPatrol report.
        EmbeddedDataTooLargeError: when ``data`` is too large for a single file.
        OutputExistsError: when ``output`` exists and is not a PixelPatrol viewer (a
            page, or a site folder), so it is not replaced.
        OutputError: when ``output`` cannot be written.
    """
    from pixel_patrol_base.viewing.static import build_viewer as write_viewer

    target = path_value(output, "output", OutputError)
    report = None if data is None else path_value(data, "data", NotAReportError)
    return write_viewer(target, data=report)
