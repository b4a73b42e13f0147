"""Built-in processors, one module each, found through the ``pixel_patrol.processors`` entry points.

:mod:`.manifest` holds each processor's metadata (id, version and its columns, with the
formula in each description); the entry points name those metadata objects, so the column
catalog lists every column without importing a processor. Each processor module exposes
``PROCESSOR``, an object that satisfies :class:`pixel_patrol_base.plugins.contracts.Processor`
and takes its id, version and columns from its metadata. The engine that drives them lives
in :mod:`pixel_patrol_base.imaging.engine`.

* ``raster-basic`` (:mod:`.basic`): min, max, mean, std, finite count, non-finite share.
* ``raster-histogram`` (:mod:`.histogram`): 256-bin histogram over the row's own range.
* ``thumbnail`` (:mod:`.thumbnail`): a small PNG of the whole image.
* ``raster-quality`` (:mod:`.quality`): sharpness, contrast and texture per 2D plane.
* ``raster-compression`` (:mod:`.compression`): blocking and ringing artefacts per plane.
* ``raster-qc`` (:mod:`.qc_metrics`): background, noise σ, SNR, signal fraction, focus,
  clipping against the declared bit depth and bit usage per plane (gain/offset-robust).
* ``raster-hash`` (:mod:`.hashes`): content hash, plane hashes, perceptual hash, signature
  and the noise distance to the previous plane, for the duplicate search.

:mod:`._planes` holds what the per-plane processors share.
"""
