"""The validators of the processing settings: a value in, the value normalised out.

Each validator is called as ``check(value, name)`` and raises
:class:`~pixel_patrol_base.errors.SettingsError` (or ``UnknownPluginError``) with a message
that starts with ``name``, so the CLI can swap in the option's flag. The simple ones are
small classes that also give the JSON schema of the value they accept, so a bound is
written once for the API, the CLI and the config schema. Numbers must be finite and
within bounds, containers of the expected kind (a set is not a string, a mapping is not
a list of pairs), and a path something a file system can name (:mod:`.paths`).

What does not belong here: the list of settings (:mod:`.declarations`). Only the standard
library is imported at module level; plugins are looked up when a value is checked.
"""

from __future__ import annotations

import inspect
import math
import numbers
import operator
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.settings.paths import path_value
from pixel_patrol_base.table.catalog import ALL_AXES

Check = Callable[[Any, str], Any]
"""``check(value, name) -> normalised value``; raises on an invalid value."""

DEFAULT_SLICE_SIZE: dict[str, int] = {"T": 1, "C": 1, "Z": 1, "S": 1, "Y": -1, "X": -1}
MAX_INTEGER = 2**31 - 1
"""The largest integer a count setting takes (a 32-bit signed int), unless it says less."""
_SCHEDULER_RE = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://\S+$")
_EXTENSION_SEPARATORS = re.compile(r"[\s,]+")


def _kind(value: Any) -> str:
    """What ``value`` is, for a message: its repr, shortened, and its type."""
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{shown} ({type(value).__name__})"


def _as_int(value: Any) -> int | None:
    """``value`` as an int when it is an integer (numpy's too), not a bool; else ``None``."""
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def _nullable(schema: dict[str, Any], nullable: bool) -> dict[str, Any]:
    if nullable:
        schema["type"] = [schema["type"], "null"]
    return schema


@dataclass(frozen=True)
class Integer:
    """An integer from ``minimum`` to ``maximum`` (``None`` too when ``nullable``).

    A numpy integer is taken too (as ``int``); a bool, a float or a string is not.
    """

    minimum: int = 1
    nullable: bool = False
    maximum: int = MAX_INTEGER

    def __call__(self, value: Any, name: str) -> int | None:
        if value is None and self.nullable:
            return None
        number = _as_int(value)
        if number is None or number < self.minimum:
            none = " or None" if self.nullable else ""
            raise SettingsError(f"{name} must be an integer >= {self.minimum}{none}, got {value!r}")
        if number > self.maximum:
            raise SettingsError(f"{name} must be an integer <= {self.maximum}, got {value!r}")
        return number

    @property
    def schema(self) -> dict[str, Any]:
        """The JSON schema of the accepted values."""
        schema = {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        return _nullable(schema, self.nullable)


@dataclass(frozen=True)
class Number:
    """A finite number greater than ``above`` and at most ``maximum``, as ``float``.

    ``inf`` and ``nan`` are refused: no budget is infinite, and every later
    computation with one would fail.
    """

    above: float = 0
    maximum: float = 1e9

    def __call__(self, value: Any, name: str) -> float:
        wanted = f"a finite number > {self.above:g} and <= {self.maximum:g}"
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise SettingsError(f"{name} must be {wanted}, got {value!r}")
        try:
            number = float(value)
        except (OverflowError, ValueError):
            number = math.inf
        if not (math.isfinite(number) and self.above < number <= self.maximum):
            raise SettingsError(f"{name} must be {wanted}, got {value!r}")
        return number

    @property
    def schema(self) -> dict[str, Any]:
        """The JSON schema of the accepted values."""
        return {"type": "number", "exclusiveMinimum": self.above, "maximum": self.maximum}


@dataclass(frozen=True)
class Text:
    """A string of valid Unicode text (a lone surrogate cannot be written to the report)."""

    def __call__(self, value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise SettingsError(f"{name} must be a string, got {_kind(value)}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise SettingsError(
                f"{name} holds {value[exc.start]!r} at position {exc.start}, which is not "
                "valid Unicode text; pass plain text"
            ) from None
        return value

    @property
    def schema(self) -> dict[str, Any]:
        """The JSON schema of the accepted values."""
        return {"type": "string"}


@dataclass(frozen=True)
class Flag:
    """A yes/no switch: ``True`` or ``False`` (numpy's bools, 0 and 1 too).

    A string is refused rather than taken for its truth: ``"no"`` would be ``True``.
    """

    def __call__(self, value: Any, name: str) -> bool:
        if isinstance(value, bool):
            return value
        numpy_bool = getattr(getattr(value, "dtype", None), "kind", None) == "b"
        if (numpy_bool and getattr(value, "shape", None) == ()) or _as_int(value) in (0, 1):
            return bool(value)
        raise SettingsError(f"{name} must be True or False, got {_kind(value)}")

    @property
    def schema(self) -> dict[str, Any]:
        """The JSON schema of the accepted values."""
        return {"type": "boolean"}


def _collection(value: Any, name: str, example: str) -> list[Any]:
    """The items of a set-like argument (a set, list, tuple or any other iterable).

    Raises:
        SettingsError: for a single string or bytes, a mapping, or a value that is not a
            collection at all (``example`` shows what to pass).
    """
    if isinstance(value, str | bytes):
        raise SettingsError(f"{name} must be a set such as {example}, got the string {value!r}")
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise SettingsError(f"{name} must be a set such as {example}, got {_kind(value)}")
    return list(value)


def processor_ids(value: Iterable[str] | None, name: str) -> tuple[str, ...] | None:
    """Sorted processor ids (``None`` stays ``None``: every installed processor).

    Raises:
        SettingsError: for a single string, a value that is not a collection, or an item
            that is not a string.
        UnknownPluginError: for an id that is not installed (the known ones are listed).
    """
    if value is None:
        return None
    items = _collection(value, name, "{'raster-basic', 'thumbnail'}")
    for item in items:
        if not isinstance(item, str):
            raise SettingsError(f"{name} holds {_kind(item)}; processor ids are strings")
    from pixel_patrol_base import plugins

    ids = set(items)
    plugins.check_processors(ids, name)
    return tuple(sorted(ids))


def processors_to_run(values: Mapping[str, Any]) -> list[str]:
    """The config's ``processors``: the included ids (default: all installed) minus the excluded."""
    from pixel_patrol_base import plugins

    included = values["processors_included"]
    chosen = set(plugins.processor_ids()) if included is None else set(included)
    return sorted(chosen - set(values["processors_excluded"] or ()))


def _split_extensions(items: Iterable[Any], name: str) -> list[str]:
    """Every extension named by ``items``, each string split at commas and blanks."""
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise SettingsError(f"{name} holds {_kind(item)}; extensions are strings like 'tif'")
        parts = [part for part in _EXTENSION_SEPARATORS.split(item) if part]
        if not parts:
            raise SettingsError(f"{name} holds {item!r}, which names no extension; pass e.g. 'tif'")
        names.extend(parts)
    return names


def extensions(value: Iterable[str] | str | None, name: str) -> tuple[str, ...] | None:
    """Normalised extensions (``None`` = all).

    A string names one extension or several separated by commas or blanks
    (``"tif,png"``, ``"tif png"``); so does each string of a collection. ``"all"`` (alone)
    and ``None`` mean every extension.

    Raises:
        SettingsError: for an empty set, a value that is not a string or a collection of
            strings, ``"all"`` mixed with extensions, or a malformed extension.
    """
    from pixel_patrol_base.extensions import normalize_extension

    if value is None:
        return None
    example = "{'tif', 'nd2'} or 'all'"
    items = [value] if isinstance(value, str) else _collection(value, name, example)
    if not items:
        raise SettingsError(f"{name} is empty; pass extensions such as {example}")
    names = _split_extensions(items, name)
    if [n.lower() for n in names] == ["all"]:
        return None
    if any(n.lower() == "all" for n in names):
        raise SettingsError(
            f"{name} mixes 'all' with extensions ({value!r}); pass 'all' alone or only extensions"
        )
    return tuple(sorted({normalize_extension(e) for e in names}))


def no_match_warning(
    chosen: tuple[str, ...] | None, files_found: int, skipped: Mapping[str, int]
) -> str | None:
    """The warning of a run whose extensions matched no file, though files were there.

    Args:
        chosen: The normalised ``selected_file_extensions`` (``None``: all).
        files_found: Files the plan listed.
        skipped: Files left out, by extension.

    Returns:
        One line naming the extensions chosen and those found, or ``None`` when some
        file matched or there was nothing to match.
    """
    if chosen is None or files_found or not skipped:
        return None
    ordered = sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0]))
    found = ", ".join(f"{n} {ext or '(no extension)'}" for ext, n in ordered)
    return (
        f"no file matched selected_file_extensions ({', '.join(chosen)}), so the report is "
        f"empty; the files there have: {found}; pass those extensions or 'all'"
    )


def extensions_to_config(values: Mapping[str, Any]) -> list[str] | str:
    """The config's ``file_extensions``: a list, or ``"all"``."""
    chosen: tuple[str, ...] | None = values["selected_file_extensions"]
    return "all" if chosen is None else list(chosen)


def _slice_axis(key: Any, name: str) -> str:
    axis = key.strip().upper() if isinstance(key, str) else None
    if axis not in ALL_AXES:
        raise SettingsError(
            f"{name} has unknown dimension {key!r}; use one of {', '.join(ALL_AXES)}"
        )
    return str(axis)


def slice_size(value: Mapping[str, int] | None, name: str) -> dict[str, int]:
    """Full slice size per axis: defaults updated with ``value`` (keys case-insensitive).

    Raises:
        SettingsError: for a value that is not a mapping (a list of pairs, the text
            ``"Z=1"``), an unknown or repeated dimension, 0, or a value below -1.
    """
    if value is None:
        return dict(DEFAULT_SLICE_SIZE)
    if not isinstance(value, Mapping):
        raise SettingsError(
            f"{name} must be a mapping of dimension to size such as {{'Z': 1, 'Y': 512}}, "
            f"got {_kind(value)}"
        )
    resolved = dict(DEFAULT_SLICE_SIZE)
    seen: set[str] = set()
    for key, size in value.items():
        axis = _slice_axis(key, name)
        if axis in seen:
            raise SettingsError(f"{name} gives dimension {axis} twice ({dict(value)!r})")
        seen.add(axis)
        number = _as_int(size)
        if number is None or number == 0 or not -1 <= number <= MAX_INTEGER:
            raise SettingsError(
                f"{name}[{axis}] must be -1 (full extent) or a positive integer, got {size!r}"
            )
        resolved[axis] = number
    return resolved


def scheduler(value: Any, name: str) -> str | None:
    """A Dask scheduler address such as ``tcp://host:8786``, or ``None``.

    Raises:
        SettingsError: for anything else.
    """
    if value is None:
        return None
    if not isinstance(value, str) or not value.isprintable() or not _SCHEDULER_RE.match(value):
        raise SettingsError(
            f"{name} {value!r} is not a Dask scheduler address; use e.g. tcp://host:8786"
        )
    return value


def profile(value: str | Path, name: str) -> str:
    """A bundled profile name (``local``, ``slurm``) or an existing profile folder.

    Raises:
        SettingsError: when neither a bundled profile nor a folder with config.yaml.
    """
    from pixel_patrol_base import resources

    path = path_value(value, name)
    given = os.fspath(value)
    if "/" not in given and (resources.profiles_dir() / given / "config.yaml").is_file():
        return given
    if (path / "config.yaml").is_file():
        return str(path_value(path, name, resolve=True))
    bundled = sorted(p.name for p in resources.profiles_dir().iterdir() if p.is_dir())
    raise SettingsError(
        f"{name} {given!r} is neither a bundled profile ({', '.join(bundled)}) nor a folder "
        "holding a Snakemake profile config.yaml"
    )


def file_path(value: str | Path | None, name: str) -> Path | None:
    """The absolute path of a file to write, or ``None``.

    Raises:
        SettingsError: for a value that is not a path, or names an existing folder.
    """
    if value is None:
        return None
    path = path_value(value, name, resolve=True)
    if path.is_dir():
        raise SettingsError(f"{name} '{path}' is a folder; pass a file path such as run.log")
    return path


def callback(value: Any, name: str) -> Callable[[int, int], None] | None:
    """A callable ``(done, total)``, or ``None``.

    Raises:
        SettingsError: for a value that cannot be called, or cannot be called with two
            positional arguments (checked on its signature, when it has one).
    """
    if value is None:
        return None
    if not callable(value):
        raise SettingsError(f"{name} must be a callable (done, total), got {_kind(value)}")
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):  # some builtins have none: they are trusted
        return value  # type: ignore[no-any-return]
    try:
        signature.bind(0, 0)
    except TypeError:
        raise SettingsError(
            f"{name} {value!r} cannot be called as (done, total); its signature is "
            f"{signature}; pass a function of two arguments"
        ) from None
    return value  # type: ignore[no-any-return]


def rules_file(value: str | Path | None, name: str) -> str | None:
    """A QC rules file, read and checked now (before any work): its absolute path.

    Raises:
        SettingsError: for a value that is not a path.
        RulesFileError: when the file is missing or malformed (``FILE:LINE: ...``).
    """
    if value is None:
        return None
    from pixel_patrol_base.qc import load_rules

    path = path_value(value, name, resolve=True)
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
