"""Readers over a format's own library, for files that bioio's plugin misreads or refuses.

Belongs here: one reader per format library (:mod:`.lif` over liffile, :mod:`.czi` over
aicspylibczi) and what they share (:mod:`.base`). Not here: deciding when such a reader
takes over from bioio (:mod:`pixel_patrol_base.loaders.bioio.fallback`).

Each reader describes every image the way the file stores it: all of its axes and
pixels, its scenes or series as images. Where it presents an axis under another letter
(a wavelength sweep as C, mosaic tiles as T, an XZ scan's Z as Y), the row's
``load_warnings`` says so.
"""
