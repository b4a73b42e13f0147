"""The file a header was read from, kept for the pixel reads of the same file.

Belongs here: the one open file that :meth:`~.loader.BioioLoader.read_header` leaves
behind, found again by :func:`~pixel_patrol_base.loaders.lazy.file_token` (so a file
changed in between is opened anew), and closing what it holds. A shard job asks for the
header and then the pixels of the same file, so the pixels reuse it instead of parsing
the file's metadata a second time. Not here: how files are opened (:mod:`.routes`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pixel_patrol_base.loaders.bioio.routes import open_bioimage, open_without_bioio
from pixel_patrol_base.loaders.bioio.scene import DirectFile
from pixel_patrol_base.loaders.lazy import file_token

Opened = tuple[Any, str] | DirectFile
"""A file as :meth:`~.loader.BioioLoader.read_header` opened it: a ``BioImage`` and its
plugin, or a :class:`~.scene.DirectFile`."""

_recent: dict[tuple[str, int, int], Opened] = {}
"""The file :meth:`~.loader.BioioLoader.read_header` opened last, by :func:`file_token`."""


def keep_recent(path: Path, opened: Opened) -> None:
    """Keep ``opened`` (the file at ``path``) for the reads that follow; close the one
    kept before."""
    for stale in _recent.values():
        close_opened(stale)
    _recent.clear()
    _recent[file_token(path)] = opened


def reopen(path: Path) -> tuple[Any, str]:
    """The image the header was read from when the file is unchanged, else a new one."""
    kept = _recent.pop(file_token(path), None)
    if isinstance(kept, tuple):
        return kept
    if kept is not None:
        kept.close()
    return open_bioimage(path)


def reopen_direct(path: Path) -> DirectFile | None:
    """The file read without bioio (kept from the header, else opened now), or ``None``
    when bioio itself reads it."""
    token = file_token(path)
    kept = _recent.get(token)
    if isinstance(kept, DirectFile):
        del _recent[token]
        return kept
    if kept is not None:
        return None
    return open_without_bioio(path)


def close_opened(opened: Any) -> None:
    """Close a ``BioImage`` (alone or with its plugin) or a :class:`~.scene.DirectFile`."""
    close = getattr(opened[0] if isinstance(opened, tuple) else opened, "close", None)
    if callable(close):
        close()
