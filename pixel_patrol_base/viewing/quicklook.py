"""``pixel-patrol view IMAGE``: one image file processed into a temporary report.

What belongs here: telling a report from an image (:func:`is_report`) and
:func:`quick_look`, which links (or, where links fail, copies) the one file into a fresh
temporary folder, processes that folder with the real pipeline (``api.create_project`` +
``api.process_files``, bioio loader, every processor) into a report inside it, and yields
the report and the image to open; the folder is removed when the ``with`` block ends. The
user's folder is never written to. What does not: starting the viewer
(:mod:`pixel_patrol_base.viewing.serve`).

Call graph of :func:`quick_look`::

    quick_look(image)
      ├─ check_image               missing / unreadable / a folder that is not a Zarr
      ├─ tempfile.mkdtemp          <tmp>/pixel-patrol-look-*/data/<name> -> the file
      ├─ api.create_project + api.process_files(follow_external_links=True)
      └─ _first_image              the report's first image row (ImageRef), its load error
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pixel_patrol_base.errors import QuickLookError
from pixel_patrol_base.viewing.widgets.model import ImageRef

log = logging.getLogger(__name__)

PARQUET_MAGIC = b"PAR1"
FOLDER_FORMATS = (".zarr",)
"""Folders that hold one image (an OME-Zarr); any other folder is refused."""


def is_report(path: Path) -> bool:
    """Whether ``path`` is meant as a report: a ``.parquet`` name (existing or not), or a
    file that starts with the Parquet magic bytes. Anything else is taken as an image."""
    if path.suffix.lower() == ".parquet":
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(len(PARQUET_MAGIC)) == PARQUET_MAGIC
    except OSError:
        return False


def check_image(image: Path) -> None:
    """Refuse a missing or unreadable file, or a folder that is not one image.

    Raises:
        QuickLookError: naming the file and what to pass instead.
    """
    if not image.exists():
        raise QuickLookError(f"'{image}' does not exist; pass a report (.parquet) or an image file")
    if image.is_dir():
        if image.suffix.lower() not in FOLDER_FORMATS:
            raise QuickLookError(
                f"'{image}' is a folder; pass one image file, or make a report of the "
                "folder with 'pixel-patrol process'"
            )
        readable = os.access(image, os.R_OK | os.X_OK)
    else:
        readable = os.access(image, os.R_OK)
    if not readable:
        raise QuickLookError(f"'{image}' cannot be read (permission denied)")


def _link_or_copy(image: Path, target: Path) -> None:
    try:
        target.symlink_to(image, target_is_directory=image.is_dir())
    except OSError:
        if image.is_dir():
            shutil.copytree(image, target)
        else:
            shutil.copy2(image, target)


def _first_image(report: Path, source: Path) -> tuple[ImageRef, str | None]:
    import duckdb

    row = (
        duckdb.connect(":memory:")
        .execute(
            'SELECT "path", "child_id", "load_error" FROM read_parquet(?) WHERE "obs_level" = 0 '
            'ORDER BY "path", "child_id" NULLS FIRST LIMIT 1',
            [str(report)],
        )
        .fetchone()
    )
    if row is None:
        raise QuickLookError(
            f"'{source}' is not an image file the bioio loader reads (its extension is not "
            "one of a format bioio knows); pass a report (.parquet) or an image file"
        )
    return ImageRef(str(row[0]), None if row[1] is None else str(row[1])), row[2]


@contextmanager
def quick_look(image: str | Path) -> Iterator[tuple[Path, ImageRef]]:
    """Process the one file ``image`` into a temporary report; yield it and its image.

    The temporary folder (report, workdir, the link to the file) is removed on exit,
    also when the block raises or is interrupted.

    Raises:
        QuickLookError: when the file is missing, unreadable, a folder that is not an
            image, or cannot be read as an image (the loader's error, in one line).
    """
    from pixel_patrol_base import api

    source = Path(image).expanduser().absolute()
    check_image(source)
    folder = Path(tempfile.mkdtemp(prefix="pixel-patrol-look-"))
    try:
        data = folder / "data"
        data.mkdir()
        _link_or_copy(source, data / source.name)
        report = folder / "report.parquet"
        project = api.create_project(source.name, data, loader="bioio", output_path=report)
        api.process_files(
            project, follow_external_links=True, description=f"Quick look at {source}"
        )
        ref, error = _first_image(report, source)
        if error is not None:
            raise QuickLookError(f"'{source}' could not be read as an image: {error}")
        log.info("quick look at %s: report %s", source, report)
        yield report, ref
    finally:
        shutil.rmtree(folder, ignore_errors=True)
