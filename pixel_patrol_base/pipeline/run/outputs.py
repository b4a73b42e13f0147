"""What a run, or the static viewer, may write over: only what PixelPatrol wrote itself.

Inputs are sacred. Before any work, every path a run writes is checked, and a path that
holds something else is refused with an :class:`~pixel_patrol_base.errors.OutputExistsError`
(an ``InvalidInputError``: one line and exit status 2 on the command line):

- the **report**: absent, or a PixelPatrol report (recognised by its Parquet footer key,
  reading the footer only). A report of another dataset (another ``base_dir``) is
  replaced only with ``force``; any other file never, not even with ``force``;
- the **workdir**: absent, empty, or marked as a workdir by the run lock
  (:data:`~pixel_patrol_base.pipeline.run.layout.MARKER`), so ``clean`` never empties a
  folder of the user's;
- the **log file**: absent, empty, a character device (``/dev/null``), or a log that a
  run wrote (it starts with :data:`LOG_HEADER`); a folder or any other file is refused;
- the **static viewer's** files: a page is replaced only when it is a PixelPatrol viewer
  page (:data:`VIEWER_GENERATOR`), a site's ``assets/`` only when its ``index.html`` is
  one, and the copied report only when the file there is a PixelPatrol report.

Since only files that PixelPatrol wrote are ever replaced, no file of a scanned folder
(``base_dir``) is written or deleted even when the report, the workdir or the log lies
inside it; discovery leaves the report and the workdir out of the scan.

Call graph::

    prepare_outputs(project, log_file, force)       api.process_files, before any work
      ├─ adopt_legacy_workdir                       .pixel_patrol/<stem>/ of this output
      ├─ check_workdir
      ├─ check_report_target -> report_footer       the footer only
      ├─ check_log_file
      └─ project.check_output_writable              the folders accept new files
    refuse_foreign_output(output)                   the plan job (by-hand Snakemake runs)
    check_viewer_page / check_viewer_site           viewing.static.build_viewer
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pixel_patrol_base.errors import OutputError, OutputExistsError
from pixel_patrol_base.pipeline.run import layout
from pixel_patrol_base.project import Project, check_output_writable, legacy_workdir_for

LOG_HEADER = "# PixelPatrol workflow log"
"""First line of every log a run writes (:func:`log_header`); a log file is replaced only
when it starts with it."""

VIEWER_GENERATOR = '<meta name="generator" content="pixel-patrol build-viewer">'
"""Written into the head of every static viewer page; a page is replaced only when it has
it (or the title that pages had before it)."""

_LEGACY_VIEWER_TITLE = b"<title>PixelPatrol report</title>"
_SNIFF_BYTES = 4096
_NEVER = "PixelPatrol never replaces a file it did not write"

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------- the report


def report_footer(path: Path) -> dict[str, Any] | None:
    """The PixelPatrol footer of the Parquet file ``path``, or ``None`` when it is not a report.

    Only the Parquet footer is read. A file with the footer key whose JSON cannot be read
    is still a report (damaged); its footer is ``{}``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pixel_patrol_base.table.footer import FOOTER_KEY

    try:
        key_values = pq.read_metadata(path).metadata or {}
    except (pa.ArrowException, OSError):
        return None
    raw = key_values.get(FOOTER_KEY)
    if raw is None:
        return None
    try:
        footer = json.loads(raw)
    except ValueError:
        return {}
    return footer if isinstance(footer, dict) else {}


def refuse_foreign_output(output: Path) -> dict[str, Any] | None:
    """The footer of the report at ``output`` (``None`` when there is none yet).

    Raises:
        OutputExistsError: when ``output`` exists and is not a PixelPatrol report (an
            image, any other file, a folder, a device).
    """
    if not os.path.lexists(output):
        return None
    if output.is_dir():
        raise OutputExistsError(
            f"output_path '{output}' is a folder; pass a file path such as report.parquet"
        )
    if not _is_regular(output):
        raise OutputExistsError(
            f"output_path '{output}' exists and is not a regular file; choose another output"
        )
    footer = report_footer(output)
    if footer is None:
        raise OutputExistsError(
            f"output_path '{output}' exists and is not a PixelPatrol report; {_NEVER} "
            "(not even with --force): choose another output path"
        )
    return footer


def check_report_target(project: Project, *, force: bool) -> None:
    """Refuse an output that is not this project's report to replace.

    The report at the output is this project's when its footer names the same
    ``base_dir``; when the footer omits it, when the workdir's last config names the same
    ``base_dir`` and output.

    Raises:
        OutputExistsError: for a file that is not a PixelPatrol report, and, unless
            ``force``, for the report of another dataset.
    """
    footer = refuse_foreign_output(project.output_path)
    if footer is None or force or _is_own_report(footer, project):
        return
    name = footer.get("project_name", "?")
    base = footer.get("base_dir") or "omitted"
    raise OutputExistsError(
        f"output_path '{project.output_path}' is the PixelPatrol report of another dataset "
        f"(project '{name}', base_dir {base}); pass --force (API: force=True) to replace "
        "it, or choose another output path"
    )


def _is_own_report(footer: Mapping[str, Any], project: Project) -> bool:
    base = footer.get("base_dir")
    if isinstance(base, str):
        return base == str(project.base_dir)
    last = _previous_config(project.workdir)
    return last.get("base_dir") == str(project.base_dir) and last.get("output") == str(
        project.output_path
    )


def _previous_config(workdir: Path) -> dict[str, Any]:
    """The config a workdir's last run wrote (``{}`` when there is none, or unreadable)."""
    import yaml

    try:
        config = yaml.safe_load((workdir / layout.CONFIG).read_text("utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return {}
    return config if isinstance(config, dict) else {}


def _is_report(path: Path) -> bool:
    return _is_regular(path) and report_footer(path) is not None


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


# ---------------------------------------------------------------------------- the workdir


def is_workdir(folder: Path) -> bool:
    """Whether ``folder`` is a PixelPatrol workdir: it has the marker, or (a workdir of an
    earlier version) both the run lock and a config."""
    if layout.marker_file(folder).is_file():
        return True
    return layout.lock_file(folder).is_file() and (folder / layout.CONFIG).is_file()


def check_workdir(workdir: Path) -> None:
    """Refuse a workdir path that holds anything but a PixelPatrol workdir.

    Raises:
        OutputExistsError: when it is a file, or a folder with content and no marker.
    """
    parent = workdir.parent
    if os.path.lexists(parent) and not parent.is_dir():
        raise OutputExistsError(
            f"'{parent}' is a file, but PixelPatrol keeps its work folders there; "
            "move it away or choose another output folder"
        )
    if not os.path.lexists(workdir):
        return
    if not workdir.is_dir():
        raise OutputExistsError(
            f"the workdir '{workdir}' exists and is a file; move it away or choose another output"
        )
    if is_workdir(workdir) or not any(workdir.iterdir()):
        return
    raise OutputExistsError(
        f"the folder '{workdir}' exists and is not a PixelPatrol workdir (it has no "
        f"{layout.MARKER}); PixelPatrol will neither write into it nor clear it: move it "
        "away or choose another output"
    )


def adopt_legacy_workdir(output: Path, workdir: Path) -> bool:
    """Rename the workdir an earlier version gave ``output`` to ``workdir``, keeping its
    chunks, so the first run after an upgrade is still incremental.

    Earlier versions named the workdir after the output's stem alone. It is adopted only
    when ``workdir`` does not exist yet and its config names this very output (another
    output with the same stem keeps it). The rename happens under its run lock.

    Returns:
        Whether a workdir was adopted.

    Raises:
        RunLockedError: when a run (of an earlier version) is using it right now.
    """
    from pixel_patrol_base.pipeline.run.lock import RunLock

    legacy = legacy_workdir_for(output)
    if os.path.lexists(workdir) or legacy == workdir or not is_workdir(legacy):
        return False
    if _previous_config(legacy).get("output") != str(output):
        return False
    with RunLock(legacy, output):
        legacy.rename(workdir)
    log.info("adopted the workdir %s of an earlier version as %s", legacy, workdir)
    return True


# ---------------------------------------------------------------------------- the log file


def log_header(workdir: Path) -> str:
    """The first line of a run's log (what :func:`check_log_file` recognises)."""
    return f"{LOG_HEADER}, workdir {json.dumps(str(workdir))}\n"


def check_log_file(log_file: Path, output: Path) -> None:
    """Refuse a log file path that holds anything but a PixelPatrol log.

    Raises:
        OutputExistsError: for the output itself, a folder, a file that is not a log of a
            run, or a FIFO or socket.
    """
    if log_file == output:
        raise OutputExistsError(
            f"log_file '{log_file}' is the output itself; choose another file for the log"
        )
    if not os.path.lexists(log_file):
        return
    if log_file.is_dir():
        raise OutputExistsError(
            f"log_file '{log_file}' is a folder; pass a file path such as run.log"
        )
    try:
        mode = log_file.stat().st_mode
    except OSError as exc:
        raise OutputError(f"log_file '{log_file}' cannot be read ({exc})") from exc
    if stat.S_ISCHR(mode):
        return
    if not stat.S_ISREG(mode):
        raise OutputExistsError(
            f"log_file '{log_file}' is not a regular file; pass a file path such as run.log"
        )
    if not _starts_with(log_file, LOG_HEADER.encode("ascii"), allow_empty=True):
        raise OutputExistsError(
            f"log_file '{log_file}' exists and is not a PixelPatrol log; each run replaces "
            f"its log, and {_NEVER}: choose a new file name"
        )


def _starts_with(path: Path, prefix: bytes, *, allow_empty: bool = False) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(len(prefix))
    except OSError:
        return False
    return head == prefix or (allow_empty and head == b"")


# ---------------------------------------------------------------------------- a run


def prepare_outputs(project: Project, log_file: Path | None, *, force: bool) -> None:
    """Check every path a run of ``project`` writes, before any work.

    Adopts this output's workdir of an earlier version first (see
    :func:`adopt_legacy_workdir`), then checks the workdir, the report and the log file,
    and that their folders accept new files (creating them).

    Raises:
        OutputExistsError: when one of them holds something PixelPatrol may not replace.
        OutputError: when a folder cannot be created or written.
        RunLockedError: when a run of an earlier version uses the workdir being adopted.
    """
    adopt_legacy_workdir(project.output_path, project.workdir)
    check_workdir(project.workdir)
    check_report_target(project, force=force)
    if log_file is not None:
        check_log_file(log_file, project.output_path)
    check_output_writable(project.output_path)
    if log_file is not None:
        check_output_writable(log_file)


# ---------------------------------------------------------------------------- the viewer


def is_viewer_page(path: Path) -> bool:
    """Whether ``path`` is a page written by ``build-viewer`` (its first 4 KiB say so)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return False
    return VIEWER_GENERATOR.encode("ascii") in head or _LEGACY_VIEWER_TITLE in head


def check_viewer_page(page: Path) -> None:
    """Refuse a viewer page path that holds anything but a viewer page.

    Raises:
        OutputExistsError: for a folder, a device, or a file that is not a viewer page.
    """
    if not os.path.lexists(page):
        return
    if page.is_dir():
        raise OutputExistsError(
            f"output '{page}' is a folder; give a name ending in .html for a single file, "
            "or one without it for a site folder"
        )
    if not _is_regular(page) or not is_viewer_page(page):
        raise OutputExistsError(
            f"output '{page}' exists and is not a PixelPatrol viewer page; {_NEVER}: "
            "choose another output"
        )


def check_viewer_site(folder: Path, asset_names: Iterable[str], data: Path | None) -> None:
    """Refuse a site folder whose files to be written hold something else.

    ``index.html`` must be absent or a viewer page; ``assets/<name>`` files are replaced
    only when ``index.html`` is one; the copy of ``data`` replaces only a report (or is
    ``data`` itself).

    Raises:
        OutputExistsError: when one of those paths holds something else.
    """
    index = folder / "index.html"
    check_viewer_page(index)
    assets = folder / "assets"
    if os.path.lexists(assets) and not assets.is_dir():
        raise OutputExistsError(
            f"'{assets}' is a file, but the site keeps its scripts there; move it away "
            "or choose another output folder"
        )
    if not os.path.lexists(index):
        taken = [n for n in asset_names if os.path.lexists(assets / n)]
        if taken:
            raise OutputExistsError(
                f"'{assets / taken[0]}' exists in a folder that is not a PixelPatrol viewer "
                f"site (it has no viewer index.html); {_NEVER}: choose another output folder"
            )
    if data is None:
        return
    copy = folder / data.name
    if os.path.lexists(copy) and not _same_file(copy, data) and not _is_report(copy):
        raise OutputExistsError(
            f"'{copy}' exists and is not a PixelPatrol report, so the report cannot be "
            f"copied there; {_NEVER}: choose another output folder"
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False
