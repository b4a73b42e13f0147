"""What a bioio reader reports about one image, and a file read without bioio.

Belongs here: the names of the bioio plugins the direct route stands in for, bioio's
standard axes, :class:`ReaderScene` (one image as its reader describes it, and how bioio
reorders it to its standard axes) and :class:`DirectFile` (the interface of a file that
the direct route opened). Not here: reading any file (:mod:`.tiff`, :mod:`.picture`,
:mod:`.routes`) or turning a scene into a header (:mod:`.metadata`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pixel_patrol_base.errors import ImageLoadError

TIFF_PLUGIN = "bioio-tifffile"
IMAGEIO_PLUGIN = "bioio-imageio"
OME_PLUGIN = "bioio-ome-tiff"

STANDARD_AXES = "TCZYX"
"""bioio's axes for every image; ``S`` (samples) is appended when the reader has it."""


@dataclass(frozen=True)
class ReaderScene:
    """One image of a file, as its bioio reader describes it.

    ``axes`` and ``shape`` are the reader's own (before bioio's transform to
    :data:`STANDARD_AXES`); ``pixel_sizes`` are bioio's ``PhysicalPixelSizes`` (Z, Y, X),
    as the file states them.
    """

    axes: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    pixel_sizes: tuple[float | None, float | None, float | None]
    channel_names: Sequence[str] | None = None
    """The reader's channel names (``None``: it invents them)."""
    pixel_size_units: tuple[str | None, str | None, str | None] | None = None
    """Units of ``pixel_sizes`` (Z, Y, X) where the file states them (OME-XML); ``None``
    for micrometres, which bioio's other TIFF and picture plugins report."""
    significant_bits: int | None = None
    """Bits per sample the file declares significant (``declared_bit_depth``), if any."""
    facts: Mapping[str, str] = field(default_factory=dict)
    """Loader columns read from the file itself (``image_name``, ``compression``), where
    PixelPatrol can tell them (TIFF and OME-TIFF, by ``tiff_tags.series_facts``)."""

    @property
    def standard_axes(self) -> str:
        """The axes bioio presents the image in: any others (mosaic tiles, ``M``) first,
        then ``TCZYX``, then ``S`` when the reader has samples."""
        others = "".join(a for a in self.axes if a not in STANDARD_AXES + "S")
        return others + STANDARD_AXES + ("S" if "S" in self.axes else "")

    @property
    def standard_shape(self) -> tuple[int, ...]:
        """The extents bioio presents the image with (1 for axes the reader lacks)."""
        sizes = dict(zip(self.axes, self.shape, strict=True))
        return tuple(sizes.get(axis, 1) for axis in self.standard_axes)

    def to_standard(self, pixels: np.ndarray) -> np.ndarray:
        """``pixels`` (in the reader's axes) reordered and padded to bioio's axes."""
        order = [self.axes.index(a) for a in self.standard_axes if a in self.axes]
        return pixels.transpose(order).reshape(self.standard_shape)


class DirectFile:
    """An image file bioio would read with ``plugin``, read here without bioio.

    Subclasses fill :attr:`scenes` and implement :meth:`read`; :meth:`close` releases the
    file.
    """

    plugin: str
    scenes: tuple[ReaderScene, ...]
    ids: tuple[str, ...]
    """bioio's scene ids, one per scene."""

    def read(self, index: int) -> np.ndarray:
        """The pixels of scene ``index``, in that scene's reader axes."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the file (idempotent)."""

    def index_of(self, child_id: str | None) -> int:
        """The index of the scene with id ``child_id`` (``None``: the only scene).

        Raises:
            ImageLoadError: when the file has no such scene.
        """
        if child_id is None:
            return 0
        if child_id in self.ids:
            return self.ids.index(child_id)
        raise ImageLoadError(f"no scene {child_id!r} in the file; process it again")


def scene_id(index: int) -> str:
    """bioio's id of scene ``index`` when the file has no ids of its own."""
    return f"Image:{index}"


def is_standard(axes: str) -> bool:
    """Whether ``axes`` make an image bioio's transform keeps whole: distinct letters of
    TCZYXS, Y and X among them."""
    letters = set(axes)
    return len(letters) == len(axes) and set("YX") <= letters <= set(STANDARD_AXES + "S")
