"""PixelPatrol: quality control tables and reports for microscopy and bioimage datasets.

The public entry point is :mod:`pixel_patrol_base.api`. This module stays import-light
so that ``pixel-patrol --help`` answers quickly.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
