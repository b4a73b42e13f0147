"""The direct route for TIFF files: bioio-tifffile's and bioio-ome-tiff's answers.

Belongs here: opening a TIFF the way the first bioio plugin that takes it would
(bioio offers a TIFF to bioio-ome-tiff only when it carries OME-XML), one scene per
tifffile series for bioio-tifffile and one per OME ``Image`` for bioio-ome-tiff, and
decoding a series as both plugins do. Only plain cases are answered: a MicroManager
stack, OME-XML that ome-types rejects or that bioio-ome-tiff would first rewrite, or
axes outside ``TCZYXS`` give ``None`` (bioio then reads the file). Not here: the axis,
pixel-size and channel rules themselves (:mod:`.metadata`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from pixel_patrol_base.loaders.bioio.metadata import (
    ome_scene,
    tiff_axes,
    tiff_pixel_sizes,
)
from pixel_patrol_base.loaders.bioio.scene import (
    OME_PLUGIN,
    TIFF_PLUGIN,
    DirectFile,
    ReaderScene,
    is_standard,
    scene_id,
)
from pixel_patrol_base.loaders.tiff_tags import series_facts

_OLD_OME_SCHEMAS = (
    "www.openmicroscopy.org/Schemas/ome/2013-06",
    "www.openmicroscopy.org/Schemas/OME/2012-03",
)
"""Schema references bioio-ome-tiff replaces before parsing (files written by old tools)."""


def open_tiff(path: Path, plugins: Sequence[str]) -> DirectFile | None:
    """A TIFF read the way the first of ``plugins`` that takes it would read it.

    bioio offers a TIFF to bioio-ome-tiff only when it carries OME-XML, and otherwise to
    the next plugin.

    Returns:
        The open file, or ``None`` when bioio itself must read it.
    """
    import tifffile

    tif = tifffile.TiffFile(path, is_mmstack=False)
    try:
        # MicroManager stacks are read differently depending on how the file is opened.
        if tif.is_micromanager or not tif.series:
            opened: DirectFile | None = None
        else:
            first = next((p for p in plugins if p != OME_PLUGIN or tif.is_ome), None)
            if first == OME_PLUGIN:
                opened = _OmeTiffFile.open(tif)
            elif first == TIFF_PLUGIN:
                opened = _TiffFile.open(tif)
            else:
                opened = None
    except Exception:
        tif.close()
        raise
    if opened is None:
        tif.close()
    return opened


def read_tiff_series(path: Path, index: int) -> tuple[np.ndarray, str]:
    """Series ``index`` of a TIFF as bioio's TIFF plugins decode it, and tifffile's axes."""
    import tifffile

    with tifffile.TiffFile(path, is_mmstack=False) as tif:
        series = tif.series[index]
        return np.asarray(series.asarray()), series.axes


class _TiffFile(DirectFile):
    """A TIFF as bioio-tifffile reads it: one scene per tifffile series."""

    plugin = TIFF_PLUGIN

    def __init__(self, tif: Any, scenes: tuple[ReaderScene, ...]) -> None:
        self._tif = tif
        self.scenes = scenes
        self.ids = tuple(scene_id(i) for i in range(len(scenes)))

    @classmethod
    def open(cls, tif: Any) -> _TiffFile | None:
        """``tif`` (open, with series) as bioio-tifffile reads it; ``None`` when its axes
        are not for here."""
        scenes = [_tiff_scene(tif, i) for i in range(len(tif.series))]
        if any(s is None for s in scenes):
            return None
        return cls(tif, tuple(s for s in scenes if s is not None))

    def read(self, index: int) -> np.ndarray:
        return np.asarray(self._tif.series[index].asarray())

    def close(self) -> None:
        self._tif.close()


def _tiff_scene(tif: Any, index: int) -> ReaderScene | None:
    series = tif.series[index]
    shape = tuple(int(n) for n in series.shape)
    axes = tiff_axes(series.axes, shape)
    if not is_standard(axes):
        return None
    sizes, units = tiff_pixel_sizes(tif, index)
    facts = series_facts(series)
    return ReaderScene(axes, shape, np.dtype(series.dtype), sizes, None, units, None, facts)


class _OmeTiffFile(DirectFile):
    """An OME-TIFF as bioio-ome-tiff reads it: one scene per OME ``Image``, read from the
    tifffile series of the same index and labelled with axes derived from the OME-XML."""

    plugin = OME_PLUGIN

    def __init__(
        self, tif: Any, scenes: tuple[ReaderScene, ...], ids: tuple[str, ...], expand: Any
    ) -> None:
        self._tif = tif
        self.scenes = scenes
        self.ids = ids
        self._expand = expand

    @classmethod
    def open(cls, tif: Any) -> _OmeTiffFile | None:
        """``tif`` (open, with OME-XML) as bioio-ome-tiff reads it; ``None`` when
        bioio-ome-tiff would refuse it, rewrite its OME-XML first, or fail on it."""
        import warnings

        import ome_types

        xml = tif.pages[0].description
        if any(ref in xml for ref in _OLD_OME_SCHEMAS):
            return None  # bioio-ome-tiff rewrites these schema references first
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bioio's reading would warn the same
            ome = ome_types.from_xml(xml)
        if ome.binary_only or len(ome.images) > len(tif.series):
            return None
        ids = tuple(str(image.id) for image in ome.images)
        if not ids or not all(i.startswith("Image") for i in ids):
            return None  # bioio-ome-tiff renames such images first
        described = [ome_scene(tif, ome.images[i].pixels, i) for i in range(len(ids))]
        if any(d is None for d in described):
            return None
        found = [d for d in described if d is not None]
        scenes = tuple(
            replace(scene, facts=series_facts(tif.series[i], ome.images[i].name))
            for i, (scene, _) in enumerate(found)
        )
        return cls(tif, scenes, ids, tuple(d[1] for d in found))

    def read(self, index: int) -> np.ndarray:
        return np.asarray(np.asarray(self._tif.series[index].asarray())[self._expand[index]])

    def close(self) -> None:
        self._tif.close()
