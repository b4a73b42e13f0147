"""The format's own library, for files that bioio's plugin misreads or cannot read.

Belongs here: the fallback chain per format (:data:`CHAINS`), deciding which library's
reading of a file becomes its rows (:func:`header`), and handing later pixel reads to
that library (:func:`reader_for`). Not here: the readers themselves (the ``zarr``
loader's, :mod:`pixel_patrol_base.loaders.formats`) or bioio's plugins (:mod:`.routes`).

The chain, per format:

- **Zarr store** (a name ending in ``.zarr``): bioio-ome-zarr, then the ``zarr`` loader's
  reader, which reads every OME-Zarr version, HCS plates and plain arrays. The reader
  takes over when the plugin is not installed or fails (bioio-ome-zarr 3.8 fails on
  OME-Zarr 0.1/0.2, and finds no image in a plate).
- **LIF**: bioio-lif, then liffile. **CZI**: bioio-czi, then aicspylibczi. **TIFF**
  that the direct route leaves to bioio: bioio-ome-tiff or bioio-tifffile, then the
  ``tifffile`` loader's reader. Here the library also takes over when bioio's plugin
  reads the header but presents the file otherwise than the library finds it stored:
  other axes or extents, other images, or fewer pixels. bioio-lif 2.0.1 presents a
  wavelength sweep as one plane and an XZ scan with a Y axis it cannot read; bioio-czi
  keeps one Airyscan phase of 32 and stitches mosaics with the gaps between tiles;
  bioio-tifffile keeps the first index of a TIFF axis it has no letter for (R, E, H, or
  a third unknown axis). Where both agree, bioio's rows stand. The direct route's own
  readings stand as they are: it names axes by the rules the ``tifffile`` loader uses.

The first library that reads the file decides its rows: ``format_reader`` names it, and
``load_warnings`` starts with what bioio's plugin answered or how its view departed. A
file no library reads keeps one ``load_error`` with each one's answer. Every hand-over
is logged (at INFO: in a run, the shard job's log, ``logs/shards/<id>.log``, which the
runner repeats when the run ends, :mod:`pixel_patrol_base.pipeline.run.joblogs`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pixel_patrol_base.errors import ImageLoadError, MissingFormatPluginError
from pixel_patrol_base.loaders.common import matching_extension, one_line
from pixel_patrol_base.plugins.contracts import ImageInfo

logger = logging.getLogger(__name__)

ZARR_READER = "zarr"
"""``format_reader`` of the rows the ``zarr`` reader gave (the zarr loader's ``READER``)."""


class FallbackReader(Protocol):
    """What a fallback library's reader offers: the loader's reading methods."""

    def read_header(self, path: Path) -> list[ImageInfo]:
        """One header per image of ``path``."""
        ...

    def open_array(self, path: Path, info: ImageInfo) -> Any:
        """A lazy array of the image ``info``."""
        ...

    def read_array(self, path: Path, info: ImageInfo) -> np.ndarray:
        """The image ``info`` in memory."""
        ...

    def open_thumbnail_array(self, path: Path, info: ImageInfo, min_side: int = 64) -> Any:
        """A lower resolution level of the image ``info``, or ``None``."""
        ...


@dataclass(frozen=True)
class Chain:
    """What reads a format when bioio's plugin does not read it right.

    Attributes:
        library: The library's name, the ``format_reader`` of the rows it gives.
        package: The distribution that provides it (named when it is missing).
        compare: Whether bioio's header is checked against the library's; otherwise the
            library takes over only when bioio cannot read the file.
        make: Builds the reader (its import is deferred until a file needs it).
        after_direct: Whether the loader's direct route comes first (TIFF): its reading
            stands as it is, and the chain applies to the files bioio itself reads.
    """

    library: str
    package: str
    compare: bool
    make: Callable[[], FallbackReader]
    after_direct: bool = False


def _zarr() -> FallbackReader:
    from pixel_patrol_base.loaders.zarr_loader import ZarrLoader

    return ZarrLoader()


def _lif() -> FallbackReader:
    from pixel_patrol_base.loaders.formats.lif import LifReader

    return LifReader()


def _tifffile() -> FallbackReader:
    from pixel_patrol_base.loaders.tifffile_loader import TifffileLoader

    return TifffileLoader()


def _czi() -> FallbackReader:
    from pixel_patrol_base.loaders.formats.czi import CziReader

    return CziReader()


ZARR = Chain(ZARR_READER, "zarr", compare=False, make=_zarr)
_TIFF = Chain("tifffile", "tifffile", compare=True, make=_tifffile, after_direct=True)
CHAINS: Mapping[str, Chain] = {
    "lif": Chain("liffile", "liffile", compare=True, make=_lif),
    "czi": Chain("aicspylibczi", "aicspylibczi", compare=True, make=_czi),
    **dict.fromkeys(("tif", "tiff", "lsm"), _TIFF),
}
"""Extension -> the library bioio's plugin falls back to (Zarr stores: :data:`ZARR`)."""
_BY_LIBRARY: Mapping[str, Chain] = {c.library: c for c in (ZARR, *CHAINS.values())}
"""``format_reader`` of a fallback's rows -> its chain."""


def is_zarr_store(path: Path) -> bool:
    """Whether ``path`` names a Zarr store (``.zarr`` or ``.ome.zarr``)."""
    return path.name.lower().endswith(".zarr")


def chain_for(path: Path) -> Chain | None:
    """The fallback of ``path``'s format, or ``None`` when bioio alone reads it."""
    if is_zarr_store(path):
        return ZARR
    ext = matching_extension(path, CHAINS)
    return None if ext is None else CHAINS[ext]


@cache
def _reader(chain: Chain) -> FallbackReader:
    return chain.make()


def reader_for(info: ImageInfo) -> FallbackReader | None:
    """The library reader that gave the header ``info`` (so it reads its pixels), or
    ``None`` when bioio gave it."""
    chain = _BY_LIBRARY.get(str(info.extra.get("format_reader")))
    return None if chain is None else _reader(chain)


def header(path: Path, chain: Chain, by_bioio: Callable[[], list[ImageInfo]]) -> list[ImageInfo]:
    """The headers of ``path``: bioio's when they stand, else the library's (module doc).

    Raises:
        MissingFormatPluginError: when neither bioio's plugin nor the library is installed.
        ImageLoadError: when neither reads the file (the message gives both answers).
    """
    missing: MissingFormatPluginError | None = None
    bioio_said: str | None = None
    ours: list[ImageInfo] | None = None
    try:
        ours = by_bioio()
    except MissingFormatPluginError as exc:
        missing = exc
    except ImageLoadError as exc:
        bioio_said = str(exc)
    if ours is not None and not chain.compare:
        return ours
    theirs = _library_header(path, chain, ours is not None, missing, bioio_said)
    if theirs is None:  # the library cannot read it, but bioio could
        assert ours is not None
        return ours
    if ours is None:
        if bioio_said is None:
            return theirs  # bioio's plugin is not installed: nothing to say
        warnings = [one_line(bioio_said, 200)] * len(theirs)
    elif _views(ours) == _views(theirs):
        return ours
    else:
        warnings = departures(ours, theirs, chain.library)
    logger.info("'%s' is read with %s: %s", path, chain.library, warnings[0])
    return [_warned(info, w) for info, w in zip(theirs, warnings, strict=True)]


def _library_header(
    path: Path,
    chain: Chain,
    bioio_read: bool,
    missing: MissingFormatPluginError | None,
    bioio_said: str | None,
) -> list[ImageInfo] | None:
    """The library's headers of ``path``; ``None`` when the library cannot read it but
    bioio could (``bioio_read``), so that bioio's reading stands.

    Raises:
        MissingFormatPluginError: when neither bioio's plugin nor the library is installed.
        ImageLoadError: when neither reads the file (the message gives both answers).
    """
    try:
        infos = _reader(chain).read_header(path)
    except ImportError as exc:
        if bioio_read:
            return None
        if missing is not None:
            raise missing from exc
        said = f"{bioio_said}; the fallback {chain.library} is not installed"
        raise ImageLoadError(one_line(f"{said} (pip install {chain.package})")) from exc
    except ImageLoadError as exc:
        if bioio_read:
            logger.info("'%s': %s cannot read it either (%s); bioio's reading stands",
                        path, chain.library, exc)  # fmt: skip
            return None
        if bioio_said is None:
            raise
        # Both answers on one line: bioio's cut short, so that the library's stays.
        said = f"{one_line(bioio_said, 150)}; {chain.library}: {exc}"
        raise ImageLoadError(one_line(said)) from exc
    return infos


def _views(infos: Sequence[ImageInfo]) -> list[tuple[str, tuple[int, ...]]]:
    return [(info.dim_order, tuple(info.shape)) for info in infos]


def departures(ours: Sequence[ImageInfo], theirs: Sequence[ImageInfo], library: str) -> list[str]:
    """One ``load_warnings`` line per image of ``theirs``: how bioio's view of it (or of
    the file, when the two count other images) departs from the library's."""
    plugin = ours[0].extra.get("format_reader", "bioio")
    if len(ours) != len(theirs):
        shown = sum(math.prod(i.shape) for i in ours)
        stored = sum(math.prod(i.shape) for i in theirs)
        line = (
            f"{plugin} presents the file as {_described(ours)}, where {library} finds "
            f"{_described(theirs)}{_pixels(shown, stored)}; read with {library}"
        )
        return [line] * len(theirs)
    lines = []
    for bioio_view, view in zip(ours, theirs, strict=True):
        if _views([bioio_view]) == _views([view]):
            lines.append(f"{plugin} misreads other images of this file; all are read with "
                         f"{library}")  # fmt: skip
        else:
            shown, stored = math.prod(bioio_view.shape), math.prod(view.shape)
            lines.append(
                f"{plugin} presents this image as {_described([bioio_view])}"
                f"{_pixels(shown, stored)}; read with {library}"
            )
    return lines


def _pixels(shown: int, stored: int) -> str:
    return "" if shown == stored else f", {shown:,} pixels where the file stores {stored:,}"


def _described(infos: Sequence[ImageInfo]) -> str:
    if len(infos) == 1:
        return f"{infos[0].dim_order} {tuple(infos[0].shape)}"
    shapes = ", ".join(f"{i.dim_order} {tuple(i.shape)}" for i in infos[:3])
    more = ", …" if len(infos) > 3 else ""
    return f"{len(infos)} images ({shapes}{more})"


def _warned(info: ImageInfo, warning: str) -> ImageInfo:
    """``info`` with ``warning`` first among its ``load_warnings``."""
    earlier = list(info.extra.get("load_warnings") or [])
    return dataclasses.replace(info, extra={**info.extra, "load_warnings": [warning, *earlier]})
