"""The format's own library, for files that bioio cannot read: Zarr stores, for now.

Belongs here: deciding that a file goes to a reader outside bioio, and handing its calls
to that reader. Not here: the readers themselves (the ``zarr`` loader,
:mod:`pixel_patrol_base.loaders.zarr_loader`) or bioio's plugins (:mod:`.routes`).

A Zarr store (a name ending in ``.zarr``) is read by bioio-ome-zarr when that plugin is
installed and reads it; otherwise (the default install has no bioio-ome-zarr, and 3.8
fails on OME-Zarr 0.1/0.2 and on HCS plates) by the ``zarr`` loader's reader, which reads
every OME-Zarr version, plates and plain arrays. Its rows say so: ``format_reader`` is
``zarr``. So one ``bioio`` run covers a dataset of TIFFs, pictures and Zarr stores, and
their duplicates pair across formats.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from pixel_patrol_base.errors import ImageLoadError, MissingFormatPluginError
from pixel_patrol_base.loaders.common import one_line
from pixel_patrol_base.plugins.contracts import ImageInfo

if TYPE_CHECKING:
    from pixel_patrol_base.loaders.zarr_loader import ZarrLoader

logger = logging.getLogger(__name__)

ZARR_READER = "zarr"
"""``format_reader`` of the rows the ``zarr`` reader gave (the zarr loader's ``READER``)."""


def is_zarr_store(path: Path) -> bool:
    """Whether ``path`` names a Zarr store (``.zarr`` or ``.ome.zarr``)."""
    return path.name.lower().endswith(".zarr")


def read_by_fallback(info: ImageInfo) -> bool:
    """Whether the header ``info`` came from the fallback reader (so its pixels do too)."""
    return info.extra.get("format_reader") == ZARR_READER


@cache
def zarr_reader() -> ZarrLoader:
    """The ``zarr`` loader's reader (imported on first use: TIFF runs never import zarr)."""
    from pixel_patrol_base.loaders.zarr_loader import ZarrLoader

    return ZarrLoader()


def zarr_header(path: Path, by_bioio: Callable[[], list[ImageInfo]]) -> list[ImageInfo]:
    """The headers of the Zarr store ``path``: bioio's when its plugin reads it, else ours.

    Raises:
        ImageLoadError: when neither reads the store (the message gives both answers).
    """
    try:
        return by_bioio()
    except MissingFormatPluginError:
        bioio_said = None
    except ImageLoadError as exc:
        bioio_said = str(exc)
        logger.info("'%s': bioio could not read it (%s); trying the zarr reader", path, exc)
    try:
        return zarr_reader().read_header(path)
    except ImageLoadError as exc:
        if bioio_said is None:
            raise
        # Both answers on one line: bioio's cut short, so that the zarr reader's stays.
        said = f"{one_line(bioio_said, 150)}; the zarr reader: {exc}"
        raise ImageLoadError(one_line(said)) from exc
