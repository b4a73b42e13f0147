"""Which route reads a file: the direct route, or bioio with which of its plugins.

Belongs here: the plugin table (:data:`FORMAT_PLUGINS`, extended by the extensions that
other installed plugins declare), the candidates for a file, opening it with the first
bioio plugin that reads it (:func:`open_bioimage`), and the choice of the direct route
(:func:`open_direct`). Not here: what the direct route reads (:mod:`.tiff`,
:mod:`.picture`) or what is done with the open file (:mod:`.loader`, :mod:`.pixels`).

Reader choice is deterministic and explainable. :data:`FORMAT_PLUGINS` lists, per
extension, the bioio plugins to try, in order; plugins installed but not listed there
add the extensions they declare. For TIFF the OME-TIFF reader is tried only when the
file carries OME-XML, so plain TIFFs go straight to bioio-tifffile. When no candidate
can read a file, the error says what each one answered. When the plugin for an
extension is not installed (nd2, czi, lif, OME-Zarr are the optional
``pixel-patrol[formats]`` extra), the loader raises :class:`MissingFormatPluginError`
naming the package to install instead of skipping the file.

The direct route. For a TIFF, which bioio reads with bioio-ome-tiff when it carries
OME-XML and with bioio-tifffile otherwise, and for a single-frame PNG, JPEG, BMP or GIF,
which it reads with bioio-imageio, the loader takes the header and the pixels from the
same tifffile, ome-types and imageio calls those plugins make, with the same rules for
axes, pixel sizes, channel names and scene ids, without what bioio wraps around them (an
xarray and a Dask graph per image, its dimension transform, the file opened and its
OME-XML parsed several times). For a small image that wrapping costs more than decoding
it, and importing bioio (with Dask, xarray and pandas) costs about a second per shard
job, which a job holding only such files no longer pays. Only the plain cases are
answered directly; anything else (including a file that fails to open) goes to bioio
itself, so such files keep bioio's behaviour and its error messages.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pixel_patrol_base.errors import ImageLoadError, MissingFormatPluginError
from pixel_patrol_base.loaders.bioio.picture import open_picture
from pixel_patrol_base.loaders.bioio.scene import (
    IMAGEIO_PLUGIN,
    OME_PLUGIN,
    TIFF_PLUGIN,
    DirectFile,
)
from pixel_patrol_base.loaders.bioio.tiff import open_tiff
from pixel_patrol_base.loaders.common import matching_extension, one_line

logger = logging.getLogger(__name__)

FORMATS_EXTRA = "pixel-patrol[formats]"
FORMAT_PLUGINS: Mapping[str, tuple[str, ...]] = {
    "ome.tif": ("bioio-ome-tiff", "bioio-tifffile"),
    "ome.tiff": ("bioio-ome-tiff", "bioio-tifffile"),
    "tif": ("bioio-ome-tiff", "bioio-tifffile"),
    "tiff": ("bioio-ome-tiff", "bioio-tifffile"),
    "lsm": ("bioio-tifffile",),
    "png": ("bioio-imageio",),
    "jpg": ("bioio-imageio",),
    "jpeg": ("bioio-imageio",),
    "bmp": ("bioio-imageio",),
    "gif": ("bioio-imageio",),
    "nd2": ("bioio-nd2",),
    "czi": ("bioio-czi",),
    "lif": ("bioio-lif",),
    "ome.zarr": ("bioio-ome-zarr",),
    "zarr": ("bioio-ome-zarr",),
}
"""Extension -> bioio plugins (distribution names) to try, in order."""

OPTIONAL_PLUGINS = frozenset({"bioio-nd2", "bioio-czi", "bioio-lif", "bioio-ome-zarr"})
"""Plugins of the ``pixel-patrol[formats]`` extra."""

_TIFF_PLUGINS = frozenset({OME_PLUGIN, TIFF_PLUGIN})
"""Plugins whose whole-image read is a tifffile series read (see
:func:`decodes_tiff_series`); they take ``chunk_dims`` and are asked for one chunk per
Y-X plane."""


@cache
def _installed() -> dict[str, Any]:
    """Installed bioio reader plugins: distribution name -> entry point."""
    return {ep.name: ep for ep in entry_points(group="bioio.readers")}


@cache
def plugins_by_extension() -> dict[str, tuple[str, ...]]:
    """Extension -> bioio plugins to try: :data:`FORMAT_PLUGINS`, then the extensions
    that installed plugins not listed there declare."""
    table = dict(FORMAT_PLUGINS)
    for name, ep in _installed().items():
        if any(name in plugins for plugins in FORMAT_PLUGINS.values()):
            continue
        try:
            declared = ep.load().ReaderMetadata.get_supported_extensions()
        except Exception as exc:  # a broken third-party plugin must not break the loader
            logger.warning("bioio plugin %s is unusable and ignored: %s", name, exc)
            continue
        for ext in declared:
            key = ext.lower().lstrip(".")
            table[key] = (*table.get(key, ()), name)
    return table


@cache
def _reader_class(plugin: str) -> Any:
    return _installed()[plugin].load().ReaderMetadata.get_reader()


@contextmanager
def quiet_ome_types() -> Iterator[None]:
    """Silence the one ome-types warning that bioio-ome-tiff causes on every OME-TIFF."""
    # bioio-ome-tiff still passes ``parser=`` to ome_types.from_xml, which warns about it
    # on every OME-TIFF; nothing a user can act on, so this one warning is silenced.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="As of version 0.4.0, the parser argument is ignored",
            category=DeprecationWarning,
        )
        yield


def decodes_tiff_series(plugin: str) -> bool:
    """Whether ``plugin``'s whole-image read of level 0 is a tifffile series read, which
    :func:`.tiff.read_tiff_series` does without bioio's wrapping."""
    return plugin in _TIFF_PLUGINS


def _tiff_has_ome(path: Path) -> bool:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        return bool(tif.is_ome)


_PROBES: Mapping[str, Callable[[Path], bool]] = {"bioio-ome-tiff": _tiff_has_ome}


def _candidates(path: Path) -> tuple[str, ...]:
    """The installed bioio plugins to try for ``path``, in order.

    Raises:
        MissingFormatPluginError: when the plugin for the extension is not installed.
        ImageLoadError: when no bioio plugin is known for the extension.
    """
    table = plugins_by_extension()
    ext = matching_extension(path, table)
    if ext is None:
        raise ImageLoadError(f"'{path.name}': no bioio plugin is known for this extension")
    candidates = tuple(p for p in table[ext] if p in _installed())
    if not candidates:
        package = table[ext][0]
        hint = f" (or pip install '{FORMATS_EXTRA}')" if package in OPTIONAL_PLUGINS else ""
        raise MissingFormatPluginError(
            f"'{path.name}': reading .{ext} files needs the bioio plugin {package}, "
            f"which is not installed; pip install {package}{hint}"
        )
    return candidates


def open_bioimage(path: Path) -> tuple[Any, str]:
    """Open ``path`` with the first bioio plugin that reads it.

    Returns:
        The ``BioImage`` and the name of the plugin that opened it.

    Raises:
        MissingFormatPluginError: when the plugin for the extension is not installed.
        ImageLoadError: when no installed plugin reads the file (the message says what
            each one answered).
    """
    from bioio import BioImage

    answers = []
    for plugin in _candidates(path):
        probe = _PROBES.get(plugin)
        try:
            if probe is not None and not probe(path):
                answers.append(f"{plugin}: not this flavour")
                continue
            kwargs: dict[str, Any] = {"chunk_dims": "YX"} if plugin in _TIFF_PLUGINS else {}
            with quiet_ome_types():
                image = BioImage(path, reader=_reader_class(plugin), **kwargs)
            return image, plugin
        except Exception as exc:
            answers.append(f"{plugin}: {_reason(exc)}")
    raise ImageLoadError(one_line(f"cannot read '{path.name}' with bioio: {'; '.join(answers)}"))


def _reason(exc: Exception) -> str:
    """What a plugin answered, short: bioio wraps a reader's error in a longer message."""
    text = str(exc)
    wrapped = re.search(r"Readers attempted:\s*-\s*\w+:\s*(.*)", text, flags=re.DOTALL)
    if wrapped:
        return one_line(wrapped.group(1), 160)
    return one_line(f"{type(exc).__name__}: {text}", 160)


def open_direct(path: Path, plugins: Sequence[str]) -> DirectFile | None:
    """``path`` read without bioio, when bioio would read it with a plugin handled here.

    Args:
        path: The image file.
        plugins: The installed bioio plugins bioio would try for its extension, in order.

    Returns:
        The open file, or ``None`` when bioio itself must read it (see the module
        docstring for which files those are).
    """
    try:
        if plugins and plugins[0] == IMAGEIO_PLUGIN:
            return open_picture(path)
        if plugins and plugins[0] in (OME_PLUGIN, TIFF_PLUGIN):
            return open_tiff(path, plugins)
    except Exception as exc:  # bioio itself reads the file and reports any error
        logger.debug("'%s' is read through bioio: %s", path.name, exc)
    return None


def open_without_bioio(path: Path) -> DirectFile | None:
    """:func:`open_direct` for the candidates of ``path``: the file opened by the direct
    route, or ``None`` when bioio itself must read it.

    Raises:
        MissingFormatPluginError: when the plugin for the extension is not installed.
        ImageLoadError: when no bioio plugin is known for the extension.
    """
    return open_direct(path, _candidates(path))
