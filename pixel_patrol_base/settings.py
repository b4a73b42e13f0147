"""Validate and normalise the processing settings of ``process_files`` and the CLI.

Everything a user passes is checked here, before any work starts, and turned into a
:class:`ProcessingSettings` whose ``to_config`` gives the Snakemake config entries.
Settings that only matter once pixels are read (slice size, task budget, processors)
are validated even when the loader is ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pixel_patrol_base import plugins
from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.extensions import normalize_extension
from pixel_patrol_base.table.catalog import AXES

ProgressCallback = Callable[[int, int], None]

DEFAULT_SLICE_SIZE: dict[str, int] = {"T": 1, "C": 1, "Z": 1, "S": 1, "Y": -1, "X": -1}
DEFAULT_MB_PER_TASK = 256.0
DEFAULT_MAX_IMAGES_PER_TASK = 2000
DEFAULT_ROWS_PER_PART = 10_000
DEFAULT_ROW_GROUP_SIZE = 4_096
DEFAULT_THUMBNAIL_SIZE = 64
DEFAULT_PROFILE = "local"
_SCHEDULER_RE = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://\S+$")


@dataclass(frozen=True)
class ProcessingSettings:
    """Validated settings of one processing run."""

    processors: tuple[str, ...]
    file_extensions: tuple[str, ...] | None  # None = every extension the loader reads
    slice_size: dict[str, int]
    max_workers: int | None = None
    mb_per_task: float = DEFAULT_MB_PER_TASK
    max_images_per_task: int = DEFAULT_MAX_IMAGES_PER_TASK
    rows_per_part: int = DEFAULT_ROWS_PER_PART
    parquet_row_group_size: int = DEFAULT_ROW_GROUP_SIZE
    thumbnail_size: int = DEFAULT_THUMBNAIL_SIZE
    flavor: str = ""
    description: str = ""
    omit_base_dir: bool = False
    log_file: Path | None = None
    profile: str = DEFAULT_PROFILE
    scheduler: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_config(self) -> dict[str, Any]:
        """The Snakemake config entries for these settings."""
        return {
            "processors": list(self.processors),
            "file_extensions": "all"
            if self.file_extensions is None
            else list(self.file_extensions),
            "slice_size": dict(self.slice_size),
            "max_workers": self.max_workers,
            "mb_per_task": self.mb_per_task,
            "max_images_per_task": self.max_images_per_task,
            "rows_per_part": self.rows_per_part,
            "parquet_row_group_size": self.parquet_row_group_size,
            "thumbnail_size": self.thumbnail_size,
            "flavor": self.flavor,
            "description": self.description,
            "omit_base_dir": self.omit_base_dir,
            "scheduler": self.scheduler,
        }


def _positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SettingsError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def resolve_processors(
    included: Iterable[str] | None, excluded: Iterable[str] | None
) -> tuple[str, ...]:
    """The processor ids to run: ``included`` (default: all installed) minus ``excluded``.

    Raises:
        UnknownPluginError: for an id that is not installed (the known ones are listed).
        SettingsError: when a single string is passed instead of a set of ids.
    """
    for value, option in ((included, "processors_included"), (excluded, "processors_excluded")):
        if isinstance(value, str):
            raise SettingsError(
                f"{option} must be a set of processor ids, got the string {value!r}"
            )
    chosen = set(plugins.processor_ids()) if included is None else set(included)
    dropped = set() if excluded is None else set(excluded)
    plugins.check_processors(chosen, "processors_included")
    plugins.check_processors(dropped, "processors_excluded")
    return tuple(sorted(chosen - dropped))


def resolve_extensions(selected: Iterable[str] | str | None) -> tuple[str, ...] | None:
    """Normalised extensions (``None`` = all).

    Raises:
        SettingsError: for an empty set or a malformed extension.
    """
    if selected is None or (isinstance(selected, str) and selected.strip().lower() == "all"):
        return None
    items = [selected] if isinstance(selected, str) else list(selected)
    if not items:
        raise SettingsError(
            "selected_file_extensions is empty; pass extensions such as {'tif', 'nd2'} or 'all'"
        )
    return tuple(sorted({normalize_extension(e) for e in items}))


def resolve_slice_size(slice_size: Mapping[str, int] | None) -> dict[str, int]:
    """Full slice size per axis: defaults updated with ``slice_size`` (keys case-insensitive).

    Raises:
        SettingsError: for an unknown dimension, 0, or a value below -1.
    """
    resolved = dict(DEFAULT_SLICE_SIZE)
    for key, value in (slice_size or {}).items():
        axis = str(key).strip().upper()
        if axis not in AXES:
            raise SettingsError(
                f"slice_size has unknown dimension {key!r}; use one of {', '.join(AXES)}"
            )
        if isinstance(value, bool) or not isinstance(value, int) or value == 0 or value < -1:
            raise SettingsError(
                f"slice_size[{axis}] must be -1 (full extent) or a positive integer, got {value!r}"
            )
        resolved[axis] = value
    return resolved


def resolve_profile(profile: str | Path) -> str:
    """A bundled profile name (``local``, ``slurm``) or an existing profile folder.

    Raises:
        SettingsError: when neither a bundled profile nor a folder with config.yaml.
    """
    from pixel_patrol_base import resources

    name = str(profile)
    if (resources.profiles_dir() / name / "config.yaml").is_file():
        return name
    path = Path(name).expanduser()
    if (path / "config.yaml").is_file():
        return str(path.resolve())
    bundled = sorted(p.name for p in resources.profiles_dir().iterdir() if p.is_dir())
    raise SettingsError(
        f"profile {name!r} is neither a bundled profile ({', '.join(bundled)}) nor a folder "
        "holding a Snakemake profile config.yaml"
    )


def resolve_settings(
    *,
    processors_included: Iterable[str] | None = None,
    processors_excluded: Iterable[str] | None = None,
    selected_file_extensions: Iterable[str] | str | None = "all",
    max_workers: int | None = None,
    mb_per_task: float = DEFAULT_MB_PER_TASK,
    max_images_per_task: int = DEFAULT_MAX_IMAGES_PER_TASK,
    slice_size: Mapping[str, int] | None = None,
    rows_per_part: int = DEFAULT_ROWS_PER_PART,
    parquet_row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
    thumbnail_size: int = DEFAULT_THUMBNAIL_SIZE,
    flavor: str = "",
    description: str = "",
    omit_base_dir: bool = False,
    log_file: str | Path | None = None,
    profile: str | Path = DEFAULT_PROFILE,
    scheduler: str | None = None,
) -> ProcessingSettings:
    """Check every setting and return them normalised.

    Raises:
        SettingsError: for any invalid value (the message names it and what is expected).
        UnknownPluginError: for an unknown processor id.
    """
    if max_workers is not None:
        _positive_int(max_workers, "max_workers")
    if (
        isinstance(mb_per_task, bool)
        or not isinstance(mb_per_task, int | float)
        or not mb_per_task > 0
    ):
        raise SettingsError(f"mb_per_task must be a number > 0, got {mb_per_task!r}")
    for value, name in ((flavor, "flavor"), (description, "description")):
        if not isinstance(value, str):
            raise SettingsError(f"{name} must be a string, got {value!r}")
    if scheduler is not None and not _SCHEDULER_RE.match(str(scheduler)):
        raise SettingsError(
            f"scheduler {scheduler!r} is not a Dask scheduler address; use e.g. tcp://host:8786"
        )
    return ProcessingSettings(
        processors=resolve_processors(processors_included, processors_excluded),
        file_extensions=resolve_extensions(selected_file_extensions),
        slice_size=resolve_slice_size(slice_size),
        max_workers=max_workers,
        mb_per_task=float(mb_per_task),
        max_images_per_task=_positive_int(max_images_per_task, "max_images_per_task"),
        rows_per_part=_positive_int(rows_per_part, "rows_per_part"),
        parquet_row_group_size=_positive_int(parquet_row_group_size, "parquet_row_group_size"),
        thumbnail_size=_positive_int(thumbnail_size, "thumbnail_size", minimum=8),
        flavor=flavor,
        description=description,
        omit_base_dir=bool(omit_base_dir),
        log_file=None if log_file is None else Path(log_file).expanduser().resolve(),
        profile=resolve_profile(profile),
        scheduler=None if scheduler is None else str(scheduler),
    )
