"""File names that are not valid UTF-8: how they are stored, shown and opened again.

What belongs here: turning a name as :func:`os.scandir` gives it (undecodable bytes as
``surrogateescape`` code points) into text every later step can write (JSON, logs,
Parquet), keeping the raw bytes so that the file can still be opened, and nothing is
lost. What does not: walking folders (:mod:`.discovery`) or reading files (the loaders).

A name is *bad* when its bytes are not valid UTF-8. Its stored path shows each
undecodable byte as ``\\xNN`` (``bad\\xff.tif``), and its raw bytes (relative to
``base_dir``) are kept base64-encoded; :func:`raw_path` joins them to ``base_dir`` again.
Names that are valid UTF-8, control characters and all, are kept as they are.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path


def is_bad(text: str) -> bool:
    """Whether ``text`` holds undecodable bytes (``surrogateescape`` code points)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def printable(text: str) -> str:
    """``text`` with each undecodable byte written as ``\\xNN`` (valid UTF-8 as is).

    Any lone surrogate that is not an escaped byte is written as ``\\udcNN``.
    """
    if not is_bad(text):
        return text
    raw = text.encode("utf-8", "surrogateescape") if _bytes_only(text) else None
    if raw is not None:
        return raw.decode("utf-8", "backslashreplace")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _bytes_only(text: str) -> bool:
    """Whether every lone surrogate of ``text`` is an escaped byte (U+DC80..U+DCFF)."""
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in text)


def encode_name(rel: str) -> tuple[str, str | None]:
    """The stored form of a relative path as :func:`os.scandir` gives it.

    Returns:
        ``(path, None)`` for a valid UTF-8 path; for a bad one, the path with
        undecodable bytes as ``\\xNN`` and the base64 of its raw bytes.
    """
    if not is_bad(rel):
        return rel, None
    raw = os.fsencode(rel)
    return printable(rel), base64.b64encode(raw).decode("ascii")


def raw_path(base_dir: Path | str, rel: str, raw_b64: str | None) -> str:
    """The path to open for a stored entry: ``base_dir / rel``, or the raw bytes joined.

    A ``str``, not a ``Path``: a shard job calls it once per file, 100,000 times a shard
    without a loader, and building a ``Path`` each time cost a second of such a job.

    Args:
        base_dir: The project's base folder.
        rel: The stored relative path.
        raw_b64: The base64 raw bytes of a bad name (``None``: ``rel`` is the name).
    """
    name = rel if raw_b64 is None else os.fsdecode(base64.b64decode(raw_b64))
    return os.path.join(base_dir, name)  # noqa: PTH118 (see above)
