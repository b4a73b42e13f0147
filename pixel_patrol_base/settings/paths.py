"""Paths given by a user, checked before anything touches the file system.

:func:`path_value` turns what was passed as a path (a setting such as ``log_file``, the
project's ``base_dir``, ``output_path`` and added paths, a report to load) into a
:class:`~pathlib.Path`, or raises the caller's ``InvalidInputError`` subclass naming the
argument: for ``None``, numbers, bytes and lists, for an empty path, for names no file
system can hold (a NUL character, a lone surrogate), an unknown user's ``~``, or a
symlink loop. Only the standard library and :mod:`pixel_patrol_base.errors` are imported.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pixel_patrol_base.errors import InvalidInputError, SettingsError


def path_value(
    value: Any,
    name: str,
    error: type[InvalidInputError] = SettingsError,
    *,
    resolve: bool = False,
) -> Path:
    """``value`` as a path (``~`` expanded), refusing what no file system could name.

    Args:
        value: What the user passed.
        name: The argument's name, which starts the message.
        error: The error class to raise (a subclass of ``InvalidInputError``).
        resolve: Return the absolute path, symlinks resolved.

    Raises:
        InvalidInputError: (``error``) when ``value`` is not a ``str`` or ``os.PathLike``
            (``None``, a number, bytes, a list), is empty, holds a NUL character, cannot
            be encoded as a file name, names an unknown user's home (``~nobody``), or
            cannot be resolved (a symlink loop).
    """
    if isinstance(value, bytes) or not isinstance(value, str | os.PathLike):
        raise error(
            f"{name} must be a path (str or pathlib.Path), got {value!r} ({type(value).__name__})"
        )
    try:
        text = os.fspath(value)
    except TypeError:
        text = None
    if not isinstance(text, str) or not text.strip():
        raise error(f"{name} must be a non-empty path (str or pathlib.Path), got {value!r}")
    if "\x00" in text:
        raise error(f"{name} {text!r} holds a NUL character; pass a real path")
    try:
        os.fsencode(text)
    except UnicodeError:
        raise error(
            f"{name} {text!r} cannot be encoded as a file name on this system; pass a real path"
        ) from None
    try:
        path = Path(text).expanduser()
        return path.resolve() if resolve else path
    except (OSError, RuntimeError) as exc:  # no such home; a symlink loop (RuntimeError < 3.13)
        raise error(f"{name} {text!r} cannot be used as a path: {exc}") from None
