"""Command-line text of a setting turned into the value the API takes.

``-e tif,nd2``, ``--processors-include a --processors-include b,c`` and
``--slice-size Z=1`` arrive as lists of strings; these functions give the set, the list
or the mapping :func:`pixel_patrol_base.api.process_files` expects. ``None`` means the
option was not given, and gives the setting's API default.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pixel_patrol_base.errors import SettingsError


def items(values: Iterable[str] | None) -> list[str] | None:
    """Repeated and comma-separated values as one list (``None`` when never given)."""
    if values is None:
        return None
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def extensions(values: Sequence[str] | None) -> list[str] | str:
    """``-e`` values: a list of extensions, or ``"all"``.

    Raises:
        SettingsError: when the given values name no extension at all.
    """
    listed = items(values)
    if listed is None:
        return "all"
    if not listed:
        given = ", ".join(repr(v) for v in values or [])
        raise SettingsError(
            f"--file-extensions {given} names no extension; pass e.g. -e tif -e nd2, or -e all"
        )
    return "all" if [i.lower() for i in listed] == ["all"] else listed


def slice_size(values: Sequence[str] | None) -> dict[str, int] | None:
    """``--slice-size DIM=N`` values (repeated, or comma-separated) as a mapping.

    Raises:
        SettingsError: for a value that is not ``DIM=N``, or a dimension given twice.
    """
    if values is None:
        return None
    parsed: dict[str, int] = {}
    for value in items(values) or [""]:
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
        axis = dim.strip().upper()
        if axis in parsed:
            raise SettingsError(f"--slice-size gives {axis} twice; give each dimension once")
        parsed[axis] = number
    return parsed
