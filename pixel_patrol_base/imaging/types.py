"""Type aliases shared by the pixel engine's modules.

Belongs here: the names of array and rectangle shapes that several modules of
:mod:`pixel_patrol_base.imaging` pass to each other, so that a module can name a type
without importing the module that computes with it (which would make the kernels, the
statistics and the tiles import each other). Not here: any function or class.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
"""float64 values, any shape."""
IntArray = npt.NDArray[np.int64]
"""int64 values, any shape."""
Rect = tuple[int, int, int, int]
"""(y0, y1, x0, x1), half-open, in the coordinates of a tile's data."""
Sums = tuple[int, float, float]
"""(n, Σv, Σv²) of the values a kernel selected."""
WorkArray = npt.NDArray[Any]
"""int32 (integers of up to 16 bits) or float64, 2D and C-contiguous."""
