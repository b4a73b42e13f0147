"""The :class:`Project` dataclass and the checks behind create/add/delete of paths.

A project is what a user describes before processing: a name, a base directory, a
loader, an output path and optionally the sub-paths to import. It is plain data; the
processing lives in :mod:`pixel_patrol_base.pipeline`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pixel_patrol_base import plugins
from pixel_patrol_base.errors import (
    BaseDirError,
    NotAProjectError,
    OutputError,
    PathError,
    ProjectNameError,
    UnknownPluginError,
)
from pixel_patrol_base.pipeline.atomic import new_temp_file
from pixel_patrol_base.settings.paths import path_value

WORKDIR_ROOT = ".pixel_patrol"
"""Hidden folder, next to the output, that holds the workdirs of the reports there."""


@dataclass
class Project:
    """A dataset to process and where its report goes.

    Attributes:
        name: Project name, embedded in the report.
        base_dir: Absolute root directory of the dataset.
        output_path: Absolute path of the report ``.parquet``.
        loader: Loader plugin id, or ``None`` for file information only.
        paths: Imported sub-paths, relative to ``base_dir`` ('/'-separated); empty means
            the whole base directory.
        last_run: Summary of the last ``process_files`` run, once there was one.
    """

    name: str
    base_dir: Path
    output_path: Path
    loader: str | None = None
    paths: list[str] = field(default_factory=list)
    last_run: dict[str, Any] | None = None

    @property
    def workdir(self) -> Path:
        """Folder of config, shards, chunks, logs and Snakemake state for this output."""
        return workdir_for(self.output_path)


def workdir_for(output_path: Path) -> Path:
    """The default workdir of an output: ``<output dir>/.pixel_patrol/<stem>-<hash>/``.

    ``<hash>`` is the first 8 hex digits of the SHA-256 of the output's full file name,
    so outputs that share a stem (``r.pq``, ``r.parquet``) get workdirs of their own; the
    stem keeps the folder recognisable.
    """
    digest = hashlib.sha256(output_path.name.encode("utf-8", "surrogateescape")).hexdigest()
    return output_path.parent / WORKDIR_ROOT / f"{output_path.stem}-{digest[:8]}"


def legacy_workdir_for(output_path: Path) -> Path:
    """The workdir that earlier versions gave an output: ``.pixel_patrol/<stem>/``.

    It was shared by every output with the same stem; a run adopts it when its config
    names this output (see :mod:`pixel_patrol_base.pipeline.run.outputs`).
    """
    return output_path.parent / WORKDIR_ROOT / output_path.stem


def check_name(name: object) -> str:
    """Return the stripped project name.

    Raises:
        ProjectNameError: when the name is not a string or is empty/whitespace-only.
    """
    if not isinstance(name, str):
        raise ProjectNameError(
            f"project name must be a string such as 'my-experiment', got {name!r} "
            f"({type(name).__name__})"
        )
    if not name.strip():
        raise ProjectNameError(
            f"project name {name!r} is empty; pass a non-empty name such as 'my-experiment'"
        )
    return name.strip()


def check_base_dir(base_dir: str | Path) -> Path:
    """Return the absolute base directory.

    Raises:
        BaseDirError: when it is not a path, does not exist or is not a directory.
    """
    path = path_value(base_dir, "base_dir", BaseDirError)
    if not path.exists():
        raise BaseDirError(f"base_dir '{path}' does not exist; pass an existing folder")
    if not path.is_dir():
        raise BaseDirError(f"base_dir '{path}' is a file; pass the folder that holds the images")
    return path.resolve()


def _safe_file_name(name: str) -> str:
    return re.sub(r"[\\/:*?\"<>|\x00-\x1f]", "_", name)


def check_output_path(output_path: str | Path | None, base_dir: Path, name: str) -> Path:
    """Absolute output path; defaults to ``<base_dir>/<name>.parquet``.

    Raises:
        OutputError: when the output is not a path, is an existing folder or has no
            file name.
    """
    if output_path is None:
        return base_dir / f"{_safe_file_name(name)}.parquet"
    path = path_value(output_path, "output_path", OutputError)
    if path.is_dir() or not path.name:
        raise OutputError(
            f"output_path '{path}' is a folder; pass a file path such as report.parquet"
        )
    return path.resolve()


def check_output_writable(output_path: Path) -> None:
    """Make sure the output folder exists (creating it) and accepts new files.

    Raises:
        OutputError: when the folder cannot be created or written.
    """
    folder = output_path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        new_temp_file(output_path).unlink()  # a fresh name: no existing file is touched
    except OSError as exc:
        raise OutputError(
            f"cannot write the output '{output_path}': {exc.strerror or exc}; "
            "choose a folder you can write to"
        ) from None


def relative_path(project: Project, path: str | Path) -> str:
    """An added path as a '/'-separated path relative to the base directory.

    Raises:
        PathError: when it is not a path, does not exist, is not a folder, or lies
            outside ``base_dir``.
    """
    candidate = path_value(path, "path", PathError)
    absolute = candidate if candidate.is_absolute() else project.base_dir / candidate
    if not absolute.exists():
        raise PathError(f"path '{path}' does not exist under base_dir '{project.base_dir}'")
    resolved = absolute.resolve()
    try:
        relative = resolved.relative_to(project.base_dir)
    except ValueError:
        raise PathError(
            f"path '{path}' is outside base_dir '{project.base_dir}'; add folders inside it"
        ) from None
    if not resolved.is_dir():
        raise PathError(f"path '{path}' is a file; add_paths takes folders")
    return relative.as_posix()


def new_project(
    name: str, base_dir: str | Path, loader: str | None, output_path: str | Path | None
) -> Project:
    """Validate the arguments of ``create_project`` and build the project."""
    clean_name = check_name(name)
    base = check_base_dir(base_dir)
    if loader is not None and not isinstance(loader, str):
        raise UnknownPluginError(
            f"loader must be a loader id such as 'bioio', or None, got {loader!r}"
        )
    plugins.check_loader(loader)
    return Project(
        name=clean_name,
        base_dir=base,
        output_path=check_output_path(output_path, base, clean_name),
        loader=loader,
    )


def check_project(project: object) -> Project:
    """Return ``project`` when it is a :class:`Project`.

    Raises:
        NotAProjectError: for anything else (``None``, a path, a report file).
    """
    if not isinstance(project, Project):
        raise NotAProjectError(
            f"project must be a Project from create_project(), got {project!r} "
            f"({type(project).__name__})"
        )
    return project
