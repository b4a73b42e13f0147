"""What all loaders share: the header row, the extra columns, error messages, extensions.

:func:`header_row` turns an :class:`~pixel_patrol_base.plugins.contracts.ImageInfo` into the
level-0 header columns. The metadata a loader passes through in ``ImageInfo.extra`` must
be declared as a column in a loader's metadata (the built-in loaders declare
:data:`~.manifest.EXTRA_COLUMNS`), so every extra column is documented like any other.
Array access lives in :mod:`.lazy`, axis rules in :mod:`.axes`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pixel_patrol_base.errors import ImageLoadError
from pixel_patrol_base.loaders.manifest import EXTRA_COLUMNS
from pixel_patrol_base.plugins.contracts import ImageInfo

EXTRA_NAMES = frozenset(c.name for c in EXTRA_COLUMNS) | {"load_warnings"}
"""Columns ``ImageInfo.extra`` may hold: the loader columns, and the core column
``load_warnings`` (what a reader says about a file it read all the same)."""

_MAX_MESSAGE = 300
_DEFAULT_CHANNEL = re.compile(r"Channel:\d+(:\d+)*")


def _loader_declares(name: str) -> bool:
    """Whether an installed loader declares ``name`` among its columns (in its metadata)."""
    from pixel_patrol_base.plugins import registry

    return any(c.matches(name) for m in registry.installed_loaders() for c in m.columns)


def header_row(info: ImageInfo, n_images: int) -> dict[str, Any]:
    """The level-0 header columns of one image.

    Args:
        info: What the loader read from the header.
        n_images: Number of images in the file the image comes from.

    Returns:
        ``dim_order``, ``shape``, ``ndim``, ``dtype``, ``n_images``, ``size_<axis>`` for
        each axis present, ``num_pixels`` (product of the shape, samples included),
        ``pixel_size_<axis>`` for each known size, ``pixel_size_unit``,
        ``channel_names`` (``None`` when unknown) and the ``extra`` metadata.

    Raises:
        ValueError: when ``info.extra`` holds a column that no installed loader declares
            in its metadata, or ``dim_order`` and ``shape`` disagree.
    """
    if len(info.dim_order) != len(info.shape):
        raise ValueError(f"dim_order {info.dim_order!r} does not match shape {info.shape}")
    undeclared = sorted(n for n in set(info.extra) - EXTRA_NAMES if not _loader_declares(n))
    if undeclared:
        raise ValueError(f"undeclared extra header column(s): {', '.join(undeclared)}")
    row: dict[str, Any] = {
        "dim_order": info.dim_order,
        "shape": list(info.shape),
        "ndim": len(info.shape),
        "dtype": info.dtype,
        "n_images": n_images,
    }
    for axis, size in zip(info.dim_order, info.shape, strict=True):
        row[f"size_{axis.lower()}"] = size
    row["num_pixels"] = math.prod(info.shape)
    for axis, value in info.pixel_sizes.items():
        row[f"pixel_size_{axis.lower()}"] = float(value)
    row["pixel_size_unit"] = info.pixel_size_unit if info.pixel_sizes else None
    row["channel_names"] = list(info.channel_names) if info.channel_names else None
    row.update(info.extra)
    return row


def one_line(text: str, limit: int = _MAX_MESSAGE) -> str:
    """``text`` on one line (whitespace runs collapsed), cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def load_error(path: Path, reader: str, exc: BaseException) -> ImageLoadError:
    """An :class:`ImageLoadError` for ``exc``, one line, naming the file and the reader.

    The caller raises it ``from exc`` so the traceback stays available to a debugger,
    while the message (what lands in ``load_error``) is a single line.
    """
    if isinstance(exc, ImageLoadError):
        return exc
    detail = str(exc) or type(exc).__name__
    return ImageLoadError(
        one_line(f"cannot read '{path.name}' with {reader}: {type(exc).__name__}: {detail}")
    )


def check_unchanged(path: Path, info: ImageInfo, dim_order: str, shape: tuple[int, ...]) -> None:
    """Raise when the axes or shape now read differ from the header read before.

    Raises:
        ImageLoadError: naming the file and what it holds now.
    """
    if (dim_order, tuple(shape)) != (info.dim_order, tuple(info.shape)):
        raise ImageLoadError(
            f"'{path.name}' changed since its header was read "
            f"(now {dim_order} {tuple(shape)}); process it again"
        )


def matching_extension(path: Path, extensions: Iterable[str]) -> str | None:
    """The longest of ``extensions`` that ``path``'s name ends with (``'ome.tif'`` first)."""
    name = path.name.lower()
    found = [e for e in extensions if name.endswith("." + e)]
    return max(found, key=len) if found else None


def channel_names_or_none(names: Iterable[Any] | None, n_channels: int) -> tuple[str, ...] | None:
    """Channel names when the file really names its channels, else ``None``.

    Names are dropped when their count differs from ``n_channels`` or when all are
    placeholders that readers invent (``'Channel:0:1'``) or empty.
    """
    if names is None:
        return None
    clean = tuple("" if n is None else str(n) for n in names)
    if len(clean) != n_channels or all(not n or _DEFAULT_CHANNEL.fullmatch(n) for n in clean):
        return None
    return clean


def size_of(dim_order: str, shape: tuple[int, ...], axis: str) -> int:
    """Extent of ``axis`` (1 when the axis is absent)."""
    return shape[dim_order.index(axis)] if axis in dim_order else 1
