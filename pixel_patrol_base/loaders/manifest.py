"""Metadata of the built-in loaders, and the header columns loaders fill through ``extra``.

The entry points in ``pyproject.toml`` name the ``*_METADATA`` objects here, so listing
loaders, their extensions or the column catalog imports no loader (nor numpy, tifffile,
zarr or bioio). :data:`EXTRA_COLUMNS` are the columns a built-in loader may fill through
``ImageInfo.extra``; every built-in loader declares them.

The ``bioio`` loader's object reads the extensions declared here and, at run time, those
of any installed third-party bioio plugin too (see
:mod:`pixel_patrol_base.loaders.bioio.routes`). The ``tifffile`` and ``zarr`` loaders take
their id, version and extensions from their metadata.

This module imports only the catalog's declarations and the metadata type.
"""

from __future__ import annotations

from pixel_patrol_base.plugins.metadata import LoaderMetadata
from pixel_patrol_base.table.catalog import Column, Levels

EXTRA_COLUMNS: tuple[Column, ...] = (
    Column("image_name", "string",
           "Name of the image (series or scene) in the file's own metadata, where it has one.",
           producer="loader", levels=Levels.IMAGE),
    Column("resolution_levels", "int32",
           "Number of resolution levels stored for the image (1 when it is not a pyramid).",
           producer="loader", levels=Levels.IMAGE),
    Column("compression", "string",
           "Compression of the stored pixels as the file names it, lower case (e.g. 'lzw', "
           "'zlib', 'zstd'); "
           "'none' when uncompressed.", producer="loader", levels=Levels.IMAGE),
    Column("format_reader", "string",
           "Library or bioio plugin that decoded the file (e.g. 'bioio-ome-tiff', 'tifffile', "
           "'zarr'; with the bioio loader, 'liffile', 'aicspylibczi' or 'zarr' where the "
           "format's own library read what bioio's plugin could not, see load_warnings).",
           producer="loader", levels=Levels.IMAGE),
    Column("declared_bit_depth", "int32",
           "Bits per sample the file declares as significant (OME Pixels@SignificantBits; "
           "ND2 bitsPerComponentSignificant; CZI Information/Image/ComponentBitCount), "
           "where it states one; null otherwise. raster-qc measures saturation against "
           "2^declared_bit_depth − 1, falling back to the dtype's range when null.",
           producer="loader", levels=Levels.IMAGE),
)  # fmt: skip
"""Columns a loader may fill through ``ImageInfo.extra``."""

BIOIO_EXTENSIONS = frozenset(
    {"ome.tif", "ome.tiff", "tif", "tiff", "lsm", "png", "jpg", "jpeg", "bmp", "gif", "nd2",
     "czi", "lif", "ome.zarr", "zarr"}
)  # fmt: skip
"""What the bundled bioio plugins read: the keys of ``bioio.routes.FORMAT_PLUGINS``."""

TIFFFILE_EXTENSIONS = frozenset(
    {"tif", "tiff", "ome.tif", "ome.tiff", "btf", "ome.btf", "tf2", "tf8", "ome.tf2",
     "ome.tf8", "lsm", "stk"}
)  # fmt: skip

BIOIO_METADATA = LoaderMetadata(
    id="bioio",
    version="1",
    extensions=BIOIO_EXTENSIONS,
    target="pixel_patrol_base.loaders.bioio.loader:LOADER",
    columns=EXTRA_COLUMNS,
)

TIFFFILE_METADATA = LoaderMetadata(
    id="tifffile",
    version="1",
    extensions=TIFFFILE_EXTENSIONS,
    target="pixel_patrol_base.loaders.tifffile_loader:LOADER",
    columns=EXTRA_COLUMNS,
)

ZARR_METADATA = LoaderMetadata(
    id="zarr",
    version="1",
    extensions=frozenset({"zarr", "ome.zarr"}),
    target="pixel_patrol_base.loaders.zarr_loader:LOADER",
    columns=EXTRA_COLUMNS,
)
