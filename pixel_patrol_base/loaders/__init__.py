"""Built-in loaders: ``bioio`` (the default), ``tifffile`` and ``zarr``.

Each loader module exposes ``LOADER``, registered under the ``pixel_patrol.loaders``
entry point group and found through :mod:`pixel_patrol_base.plugins.registry`; this package
imports none of them eagerly. Shared pieces:

- :mod:`.axes`: mapping library axes to the canonical ``dim_order`` (T, C, Z, Y, X, S);
- :mod:`.lazy`: block sources and their dask arrays;
- :mod:`.common`: :func:`~.common.header_row`, the extra header columns, error messages.
"""
