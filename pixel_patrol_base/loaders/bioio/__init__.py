"""The ``bioio`` loader, the default: every format a bioio plugin reads.

Each bioio *scene* is one image; a file with several scenes gives one
:class:`~pixel_patrol_base.plugins.contracts.ImageInfo` per scene, ``child_id`` being the
scene id. bioio presents every image as ``TCZYX`` (plus ``S`` for RGB);
:mod:`pixel_patrol_base.loaders.axes` drops the singleton T, C and Z.

A file takes one of two routes. The *direct* route reads the commonest files (plain
TIFFs, OME-TIFFs, single-frame pictures) with the very tifffile, ome-types and imageio
calls bioio's plugins make, without importing bioio; everything else goes through bioio
and the first of its plugins that reads the file. Both routes give the same headers and
pixels (``tests/loaders/test_bioio_direct.py`` checks it file by file).

Modules, in the order a file meets them:
    routes: which route and which bioio plugin read a file (the plugin table, the
        "cannot read" and "install this plugin" errors, opening the file).
    scene: what a reader reports about one image (:class:`~.scene.ReaderScene`) and the
        interface of a file read without bioio (:class:`~.scene.DirectFile`).
    tiff, picture: the direct route for TIFF and OME-TIFF files, and for pictures.
    metadata: the rules for axes, pixel sizes, units and channel names that both routes
        share, and the header built from them.
    opened: the file a header was read from, kept for the pixel reads that follow.
    pixels: pixel reads: the whole array at once, or blocks through a Dask array.
    loader: :class:`~.loader.BioioLoader` and ``LOADER``, the registered instance (the
        ``target`` of ``BIOIO_METADATA`` in :mod:`pixel_patrol_base.loaders.manifest`,
        which the entry point names).

This package's ``__init__`` imports none of them.
"""
