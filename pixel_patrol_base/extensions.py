"""File extensions: how a name's extension is read and how a user's extension is written.

An extension is lower-case and has no leading dot. Some formats have a compound
extension (``ome.tif``, ``nii.gz``) that counts as one; some formats are folders
(``zarr``, ``ome.zarr``) that are listed as one entry rather than walked into.

What does not belong here: which loader reads which extension (see the plugins), and
walking folders (see :mod:`pixel_patrol_base.pipeline.plan.discovery`). This module imports
only the standard library and :mod:`pixel_patrol_base.errors`, so the CLI can use it
without starting anything heavy.
"""

from __future__ import annotations

from pixel_patrol_base.errors import SettingsError

COMPOUND_EXTENSIONS: tuple[str, ...] = (
    "ome.tif",
    "ome.tiff",
    "ome.tf2",
    "ome.tf8",
    "ome.btf",
    "ome.zarr",
    "ome.xml",
    "tar.gz",
    "nii.gz",
)
"""Multi-part extensions that count as a single extension."""

FOLDER_FORMATS: frozenset[str] = frozenset({"zarr", "ome.zarr"})
"""Extensions of folders that hold one image each: listed as one entry, never walked."""

_COMPOUND = frozenset(COMPOUND_EXTENSIONS)
_MAX_PARTS = max(ext.count(".") + 1 for ext in COMPOUND_EXTENSIONS)


def file_extension(name: str) -> str:
    """The extension of a file or folder name.

    Args:
        name: A file name (a path is accepted; only its last component is used).

    Returns:
        The lower-case extension without a dot; a compound extension counts as one
        (``"a.OME.TIF"`` gives ``"ome.tif"``). ``""`` when the name has none, including
        names whose only dot is the leading one (``".bashrc"``).
    """
    base = name.rpartition("/")[2].lstrip(".").lower()
    if "." not in base:
        return ""
    parts = base.rsplit(".", _MAX_PARTS)
    # parts[0] is the stem; a compound extension needs a non-empty stem before it.
    for n_parts in range(min(_MAX_PARTS, len(parts) - 1), 1, -1):
        candidate = ".".join(parts[-n_parts:])
        if candidate in _COMPOUND and any(parts[: len(parts) - n_parts]):
            return candidate
    return parts[-1]


def extension_suffixes(extension: str) -> tuple[str, ...]:
    """The extension and each shorter trailing part of it (``"ome.tif"`` -> ``ome.tif, tif``).

    Used to match a compound extension against a filter that lists only its last part.

    Args:
        extension: An extension as returned by :func:`file_extension`.

    Returns:
        The suffixes, longest first; ``("",)`` for no extension.
    """
    parts = extension.split(".")
    return tuple(".".join(parts[i:]) for i in range(len(parts)))


def normalize_extension(ext: str) -> str:
    """Write an extension given by a user the way PixelPatrol compares extensions.

    Args:
        ext: An extension such as ``".TIF"``, ``"tif"`` or ``"ome.tiff"``.

    Returns:
        The extension lower-case, stripped of surrounding blanks and leading dots.

    Raises:
        SettingsError: The extension is empty, blank, only dots, or contains a path
            separator or blank.
    """
    if not isinstance(ext, str):
        raise SettingsError(f"file extension {ext!r} is not a string; pass e.g. 'tif'")
    cleaned = ext.strip().lstrip(".").lower()
    if not cleaned:
        raise SettingsError(f"file extension {ext!r} is empty; pass e.g. 'tif' or 'ome.tiff'")
    if "/" in cleaned or "\\" in cleaned or any(ch.isspace() for ch in cleaned):
        raise SettingsError(
            f"file extension {ext!r} contains a path separator or blank; "
            "pass only the extension, e.g. 'tif'"
        )
    if cleaned.endswith(".") or ".." in cleaned:
        raise SettingsError(f"file extension {ext!r} has an empty part; pass e.g. 'ome.tif'")
    return cleaned
