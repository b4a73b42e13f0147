"""The validators of the processing settings: a value in, the value normalised out.

Each validator is called as ``check(value, name)`` and raises
:class:`~pixel_patrol_base.errors.SettingsError` (or ``UnknownPluginError``) with a message
that starts with ``name``, so the CLI can swap in the option's flag. The simple ones are
small classes that also give the JSON schema of the value they accept, so a bound is
written once for the API, the CLI and the config schema.

What does not belong here: the list of settings (:mod:`.declarations`). Only the standard
library is imported at module level; plugins are looked up when a value is checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.table.catalog import AXES

Check = Callable[[Any, str], Any]
"""``check(value, name) -> normalised value``; raises on an invalid value."""

DEFAULT_SLICE_SIZE: dict[str, int] = {"T": 1, "C": 1, "Z": 1, "S": 1, "Y": -1, "X": -1}
_SCHEDULER_RE = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://\S+$")


def _nullable(schema: dict[str, Any], nullable: bool) -> dict[str, Any]:
    if nullable:
        schema["type"] = [schema["type"], "null"]
    return schema


@dataclass(frozen=True)
class Integer:
    """An integer of at least ``minimum`` (``None`` too when ``nullable``)."""

    minimum: int = 1
    nullable: bool = False

    def __call__(self, value: Any, name: str) -> int | None:
        if value is None and self.nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < self.minimum:
            raise SettingsError(f"{name} must be an integer >= {self.minimum}, got {value!r}")
        return value

    @property
    def schema(self) -> dict[str, Any]:
        """The JSON schema of the accepted values."""
        return _nullable({"type": "integer", "minimum": self.minimum}, self.nullable)


@dataclass(frozen=True)
class Number:
    """A number greater than ``above``, returned as ``float``."""

    above: float = 0

    def __call__(self, value: Any, name: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > self.above:
            raise SettingsError(f"{name} must be a number > {self.above:g}, got {value!r}")
        return float(value)

    @property
    def schema(self) -> dict[str, Any]:
        """The JSON schema of the accepted values."""
        return {"type": "number", "exclusiveMinimum": self.above}


@dataclass(frozen=True)
class Text:
    """A string."""

    def __call__(self, value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise SettingsError(f"{name} must be a string, got {value!r}")
        return value

    @property
    def schema(self) -> dict[str, Any]:
        """The JSON schema of the accepted values."""
        return {"type": "string"}


@dataclass(frozen=True)
class Flag:
    """A yes/no switch (any value, taken for its truth)."""

    def __call__(self, value: Any, name: str) -> bool:
        return bool(value)

    @property
    def schema(self) -> dict[str, Any]:
        """The JSON schema of the accepted values."""
        return {"type": "boolean"}


def processor_ids(value: Iterable[str] | None, name: str) -> tuple[str, ...] | None:
    """Sorted processor ids (``None`` stays ``None``: every installed processor).

    Raises:
        SettingsError: when a single string is passed instead of a set of ids.
        UnknownPluginError: for an id that is not installed (the known ones are listed).
    """
    if value is None:
        return None
    if isinstance(value, str):
        raise SettingsError(f"{name} must be a set of processor ids, got the string {value!r}")
    from pixel_patrol_base import plugins

    ids = set(value)
    plugins.check_processors(ids, name)
    return tuple(sorted(ids))


def processors_to_run(values: Mapping[str, Any]) -> list[str]:
    """The config's ``processors``: the included ids (default: all installed) minus the excluded."""
    from pixel_patrol_base import plugins

    included = values["processors_included"]
    chosen = set(plugins.processor_ids()) if included is None else set(included)
    return sorted(chosen - set(values["processors_excluded"] or ()))


def extensions(value: Iterable[str] | str | None, name: str) -> tuple[str, ...] | None:
    """Normalised extensions (``None`` = all).

    Raises:
        SettingsError: for an empty set or a malformed extension.
    """
    from pixel_patrol_base.extensions import normalize_extension

    if value is None or (isinstance(value, str) and value.strip().lower() == "all"):
        return None
    items = [value] if isinstance(value, str) else list(value)
    if not items:
        raise SettingsError(f"{name} is empty; pass extensions such as {{'tif', 'nd2'}} or 'all'")
    return tuple(sorted({normalize_extension(e) for e in items}))


def extensions_to_config(values: Mapping[str, Any]) -> list[str] | str:
    """The config's ``file_extensions``: a list, or ``"all"``."""
    chosen: tuple[str, ...] | None = values["selected_file_extensions"]
    return "all" if chosen is None else list(chosen)


def slice_size(value: Mapping[str, int] | None, name: str) -> dict[str, int]:
    """Full slice size per axis: defaults updated with ``value`` (keys case-insensitive).

    Raises:
        SettingsError: for an unknown dimension, 0, or a value below -1.
    """
    resolved = dict(DEFAULT_SLICE_SIZE)
    for key, size in (value or {}).items():
        axis = str(key).strip().upper()
        if axis not in AXES:
            raise SettingsError(
                f"{name} has unknown dimension {key!r}; use one of {', '.join(AXES)}"
            )
        if isinstance(size, bool) or not isinstance(size, int) or size == 0 or size < -1:
            raise SettingsError(
                f"{name}[{axis}] must be -1 (full extent) or a positive integer, got {size!r}"
            )
        resolved[axis] = size
    return resolved


def scheduler(value: Any, name: str) -> str | None:
    """A Dask scheduler address such as ``tcp://host:8786``, or ``None``.

    Raises:
        SettingsError: for anything else.
    """
    if value is None:
        return None
    if not _SCHEDULER_RE.match(str(value)):
        raise SettingsError(
            f"{name} {value!r} is not a Dask scheduler address; use e.g. tcp://host:8786"
        )
    return str(value)


def profile(value: str | Path, name: str) -> str:
    """A bundled profile name (``local``, ``slurm``) or an existing profile folder.

    Raises:
        SettingsError: when neither a bundled profile nor a folder with config.yaml.
    """
    from pixel_patrol_base import resources

    given = str(value)
    if (resources.profiles_dir() / given / "config.yaml").is_file():
        return given
    path = Path(given).expanduser()
    if (path / "config.yaml").is_file():
        return str(path.resolve())
    bundled = sorted(p.name for p in resources.profiles_dir().iterdir() if p.is_dir())
    raise SettingsError(
        f"{name} {given!r} is neither a bundled profile ({', '.join(bundled)}) nor a folder "
        "holding a Snakemake profile config.yaml"
    )


def file_path(value: str | Path | None, name: str) -> Path | None:
    """An absolute path, or ``None``.

    Raises:
        SettingsError: for a value that is not a path.
    """
    if value is None:
        return None
    if not isinstance(value, str | Path):
        raise SettingsError(f"{name} must be a path, got {value!r}")
    return Path(value).expanduser().resolve()


def callback(value: Any, name: str) -> Callable[[int, int], None] | None:
    """A callable ``(done, total)``, or ``None``.

    Raises:
        SettingsError: for a value that cannot be called.
    """
    if value is not None and not callable(value):
        raise SettingsError(f"{name} must be a callable (done, total), got {value!r}")
    return value  # type: ignore[no-any-return]


def rules_file(value: str | Path | None, name: str) -> str | None:
    """A QC rules file, read and checked now (before any work): its absolute path.

    Raises:
        SettingsError: for a value that is not a path.
        RulesFileError: when the file is missing or malformed (``FILE:LINE: ...``).
    """
    if value is None:
        return None
    if not isinstance(value, str | Path):
        raise SettingsError(f"{name} must be the path of a rules file, got {value!r}")
    from pixel_patrol_base.qc import load_rules

    path = Path(value).expanduser().resolve()
    load_rules(path)
    return str(path)


def qc_column(value: Any, name: str) -> str | None:
    """A declared column to group the QC by, or ``None`` (the default grouping).

    Raises:
        SettingsError: for anything but the name of a column in the column catalog.
    """
    if value is None:
        return None
    from pixel_patrol_base.table import catalog

    if not isinstance(value, str) or catalog.lookup(value) is None:
        raise SettingsError(
            f"{name} {value!r} is not a column of the report; name a declared column "
            "('pixel-patrol schema' lists them), e.g. imported_path_short, parent or top_folder"
        )
    return value
