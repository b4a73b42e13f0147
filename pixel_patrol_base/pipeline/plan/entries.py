"""What discovery produces: the file entries, the skipped counts and their reasons.

What belongs here: the records :func:`~.discovery.discover` returns and the shard files
store (:class:`FileEntry`), and the outcome of one walk (:class:`Discovery`). What does
not: walking folders (:mod:`.discovery`) or encoding names (:mod:`.names`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One listed file, or one folder-format image (``x.ome.zarr``)."""

    path: str
    """Path relative to ``base_dir``, with ``/`` separators."""
    imported_path: str
    """The added path it was found under (relative, ``/``); ``"."`` when none was added."""
    size_bytes: int
    """Size in bytes; for a folder format the sum of the sizes of the files inside."""
    mtime_ns: int
    """Modification time; for a folder format the latest one inside (folder included)."""
    type: str
    """``"file"`` or ``"directory"`` (a folder format)."""
    extension: str
    """:func:`~pixel_patrol_base.extensions.file_extension` of the name."""
    path_bytes_b64: str | None = None
    """Base64 of the raw bytes of the relative path when it is not valid UTF-8 (``path``
    then shows each undecodable byte as ``\\xNN``); ``None`` for a normal name."""
    error: str | None = None
    """Why the file's information could not be read (its size and time are then 0 and
    its row gets this as ``load_error``); ``None`` normally."""


@dataclass
class Discovery:
    """The outcome of :func:`discover`."""

    entries: list[FileEntry]
    """Entries sorted by path; each path once."""
    skipped_by_extension: dict[str, int] = field(default_factory=dict)
    """Files seen but filtered out by the extension filter, counted per extension."""
    warnings: list[str] = field(default_factory=list)
    """One line per item left out (see :data:`SKIP_REASONS`) or listed with an error."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Items left out, counted per reason (a key of :data:`SKIP_REASONS`); 0s omitted."""


SKIP_REASONS: dict[str, str] = {
    "broken_link": "broken symlink",
    "special_file": "device, FIFO or socket",
    "external_link": "symlink leaving base_dir",
    "unreadable": "unreadable folder, or an item whose kind cannot be read",
    "repeated_folder": "folder symlink to a folder already listed (or a loop)",
    "name_clash": "name shown like another one",
}
"""Why discovery leaves an item out, by the key :attr:`Discovery.skipped` counts it under."""
