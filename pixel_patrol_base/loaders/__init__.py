"""Built-in loaders: ``bioio`` (the default), ``tifffile`` and ``zarr``.

Each loader module exposes ``LOADER``; its metadata (id, version, extensions, the columns
it fills), in :mod:`.manifest`, is what the ``pixel_patrol.loaders`` entry points name, so
listing loaders imports none of them. They are found through
:mod:`pixel_patrol_base.plugins.registry`; this package imports none of them eagerly.
Shared pieces:

- :mod:`.axes`: mapping library axes to the canonical ``dim_order`` (T, C, Z, Y, X, S
  and the further axes E, H, M, ...);
- :mod:`.lazy`: block sources and their dask arrays;
- :mod:`.common`: :func:`~.common.header_row`, the extra header columns, error messages.
"""
