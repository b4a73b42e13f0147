"""``raster-hash``: what the duplicate search pairs images and planes by.

Per (Y, X) plane, in one pass over its tiles:

* a BLAKE3 digest of the plane's pixel bytes (row-major, little-endian), streamed row
  band by row band, so that it does not depend on how the engine tiles the plane;
* the 32×32 grid of block sums (:func:`~pixel_patrol_base.imaging.kernels.block_sums`),
  from which :mod:`pixel_patrol_base.imaging.perceptual` makes the pHash and the
  signature;
* the centre crop of at most :data:`CROP_SIDE` × :data:`CROP_SIDE` pixels: its Immerkaer
  noise σ tells an empty plane, and its difference with the previous plane of the stack
  gives ``plane_noise_distance``.

Leaf rows (one plane) get that plane's values; the level-0 row gets ``content_hash``,
made of every plane's digest in canonical order, and the pHash and signature of the
mean of the planes' normalised grids. Rows in between, and everything when
``slice_size`` cuts Y or X, are null. The formulas are the column descriptions in
:mod:`pixel_patrol_base.processors.manifest`.

The previous plane of a stack was measured in an earlier leaf (the engine measures the
leaves of an image one at a time, in storage order, so a plane's predecessor along Z or
T always comes first). The processor keeps the crops of the planes whose successor is
still to come, at most :data:`HELD_BYTES` of them, for the image in progress only.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import blake3
import numpy as np
import numpy.typing as npt

from pixel_patrol_base.imaging.blocks import ImageContext, Leaf
from pixel_patrol_base.imaging.kernels import block_sums, residual_counts, residual_values
from pixel_patrol_base.imaging.perceptual import (
    GRID,
    INT_NOISE_FLOOR,
    block_means,
    phash,
    signal_grid,
    signature,
)
from pixel_patrol_base.imaging.stats import is_small_int
from pixel_patrol_base.imaging.stencil import centre_crop
from pixel_patrol_base.imaging.tiles import Tile
from pixel_patrol_base.imaging.types import FloatArray
from pixel_patrol_base.plugins.contracts import TileVisitor
from pixel_patrol_base.processors.manifest import HASH_METADATA
from pixel_patrol_base.table.catalog import ALL_AXES

METADATA = HASH_METADATA
ID = METADATA.id
VERSION = METADATA.version
COLUMNS = METADATA.columns
NAMES = tuple(c.name for c in COLUMNS)
DIGEST_BYTES = 16
CROP_SIDE = 128
HELD_BYTES = 64 << 20
MAD_GAUSS = 0.6744897501960817  # median |z| of a standard normal
RESIDUAL_NORM = 6.0  # ‖N‖₂ of Immerkaer's kernel


def canonical_axes(image: ImageContext) -> tuple[str, ...]:
    """The image's axes in canonical order (T, C, Z, Y, X, S, then the further axes E, H,
    M, ...), other letters last."""
    known = [a for a in ALL_AXES if a in image.dim_order or a in "YX"]
    return (*known, *(a for a in image.dim_order if a not in ALL_AXES))


def content_header(image: ImageContext) -> bytes:
    """``"<dtype>;<shape>;"``: the dtype name and the extents of the non-singleton axes
    in canonical order, joined by ``x`` (``"uint16;3x512x512;"``)."""
    shape = [image.size(a) for a in canonical_axes(image) if image.size(a) != 1]
    return f"{image.dtype.name};{'x'.join(map(str, shape))};".encode()


def plane_header(dtype: np.dtype[Any], rows: int, cols: int) -> bytes:
    """``"<dtype>;<rows>x<cols>;"``, what a plane's digest starts from."""
    return f"{dtype.name};{rows}x{cols};".encode()


def pixel_bytes(values: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    """The values' bytes, row-major and little-endian (a view when they already are)."""
    little = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<"))
    return little.reshape(-1).view(np.uint8)


def noise_sigma(crop: npt.NDArray[Any]) -> float | None:
    """Immerkaer σ of a crop as ``noise_sigma`` defines it: median |N ∗ I| / (6 · 0.67449)
    over the interior positions at even crop rows and columns; ``None`` under 3×3."""
    rows, cols = crop.shape
    if rows < 3 or cols < 3:
        return None
    rect = (1, rows - 1, 1, cols - 1)
    if is_small_int(crop.dtype):
        counts, large = residual_counts(np.ascontiguousarray(crop, dtype=np.int32), rect, (0, 0))
        median = _counted_median(counts, large)
    else:
        values = residual_values(np.ascontiguousarray(crop, dtype=np.float64), rect, (0, 0))
        median = float(np.median(values)) if values.size else None
    return None if median is None else median / (RESIDUAL_NORM * MAD_GAUSS)


def _counted_median(counts: npt.NDArray[np.int64], large: npt.NDArray[np.int64]) -> float | None:
    """Median (numpy's) of the values counted in ``counts`` (value v: ``counts[v]``) and
    of the ``large`` ones, all larger than the counted ones."""
    cumulative = np.cumsum(counts)
    small = int(cumulative[-1]) if cumulative.size else 0
    n = small + int(large.size)
    if n == 0:
        return None
    ordered = np.sort(large)

    def at(rank: int) -> float:
        if rank < small:
            return float(np.searchsorted(cumulative, rank, side="right"))
        return float(ordered[rank - small])

    return (at((n - 1) // 2) + at(n // 2)) / 2.0


@dataclass(frozen=True)
class PlaneHashes:
    """What one plane contributes to its rows."""

    position: tuple[int, ...]
    """Index along each plane axis, in canonical order (the order planes are combined in)."""
    digest: bytes | None
    """BLAKE3 digest of the plane (``None`` when its rows came in pieces)."""
    grid: FloatArray | None
    """Normalised 32×32 grid, ``None`` without signal."""
    noise_distance: float | None


@dataclass(frozen=True)
class HashState:
    """The planes of a set of leaves, and what the whole image has."""

    planes: tuple[PlaneHashes, ...]
    total: int
    """Planes in the whole image."""
    header: bytes
    """:func:`content_header` of the image."""


class _PlaneJob:
    """Digest, block sums and centre crop of one plane, from its tiles."""

    def __init__(self, tile: Tile) -> None:
        self.rows, self.cols = tile.plane_shape
        self.dtype = tile.data.dtype
        self.hasher: Any = blake3.blake3(plane_header(self.dtype, self.rows, self.cols))
        self.next_row = 0
        self.pooled = self.rows >= GRID and self.cols >= GRID
        self.sums = np.zeros((GRID, GRID))
        self.counts = np.zeros((GRID, GRID), dtype=np.int64)
        self.crop_rect = centre_crop(self.rows, self.cols, CROP_SIDE)
        cy0, cy1, cx0, cx1 = self.crop_rect
        self.crop = np.zeros((cy1 - cy0, cx1 - cx0), dtype=self.dtype)

    def visit(self, tile: Tile) -> None:
        y0, y1, x0, x1 = tile.core
        oy, ox = tile.offset
        if self.hasher is not None:
            if ox + x0 == 0 and ox + x1 == self.cols and oy + y0 == self.next_row:
                self.hasher.update(pixel_bytes(tile.core_data()))
                self.next_row = oy + y1
            else:  # rows in pieces: no digest (see the column description)
                self.hasher = None
        if self.pooled:
            block_sums(
                tile.work(), tile.core, tile.offset, tile.plane_shape, self.sums, self.counts
            )
        self._crop(tile)

    def _crop(self, tile: Tile) -> None:
        cy0, cy1, cx0, cx1 = self.crop_rect
        y0, y1, x0, x1 = tile.core
        oy, ox = tile.offset
        top, bottom = max(cy0, oy + y0), min(cy1, oy + y1)
        left, right = max(cx0, ox + x0), min(cx1, ox + x1)
        if top < bottom and left < right:
            self.crop[top - cy0 : bottom - cy0, left - cx0 : right - cx0] = tile.data[
                top - oy : bottom - oy, left - ox : right - ox
            ]

    def digest(self) -> bytes | None:
        if self.hasher is None or self.next_row != self.rows:
            return None
        value: bytes = self.hasher.digest(length=DIGEST_BYTES)
        return value

    def grid(self, sigma: float | None) -> FloatArray | None:
        if not self.pooled:
            return None
        means = block_means(self.sums, self.counts)
        if means is None:
            return None
        return signal_grid(means, self.counts, sigma, self.integer)

    @property
    def integer(self) -> bool:
        return self.dtype.kind in "biu"


@dataclass(frozen=True)
class _Held:
    """The crop of a plane whose successor along the stack axis is still to come."""

    index: int
    crop: npt.NDArray[Any]
    sigma: float | None


class _Stacks:
    """The held crops of one image, by plane position without the stack axis."""

    def __init__(self, image: ImageContext) -> None:
        self.image = image
        self.axis = next((a for a in ("Z", "T") if image.size(a) > 1), None)
        self.held: dict[tuple[tuple[str, int], ...], _Held] = {}
        self.nbytes = 0

    def distance(
        self, plane: Mapping[str, int], crop: npt.NDArray[Any], sigma: float | None
    ) -> float | None:
        """``plane_noise_distance`` of the plane against its predecessor, if held; holds
        the plane's crop for its successor."""
        if self.axis is None:
            return None
        index = plane[self.axis]
        key = tuple((a, i) for a, i in plane.items() if a != self.axis)
        previous = self.held.pop(key, None)
        if previous is not None:
            self.nbytes -= previous.crop.nbytes
        found = None
        if previous is not None and previous.index == index - 1:
            found = noise_distance(previous.crop, previous.sigma, crop, sigma)
        if index + 1 < self.image.size(self.axis) and self.nbytes + crop.nbytes <= HELD_BYTES:
            self.held[key] = _Held(index, crop, sigma)
            self.nbytes += crop.nbytes
        return found


def noise_distance(
    previous: npt.NDArray[Any],
    previous_sigma: float | None,
    crop: npt.NDArray[Any],
    sigma: float | None,
) -> float | None:
    """std(P − P_prev) / (√2 · σ_noise), σ_noise the mean of the two crops' σ (at least
    1/√12 for integers); ``None`` when a σ is unknown, σ_noise is 0 or no difference is
    finite."""
    if sigma is None or previous_sigma is None:
        return None
    noise = (sigma + previous_sigma) / 2.0
    if crop.dtype.kind in "biu":
        noise = max(noise, INT_NOISE_FLOOR)
    if noise <= 0.0:
        return None
    with np.errstate(all="ignore"):
        diff = crop.astype(np.float64) - previous.astype(np.float64)
    diff = diff[np.isfinite(diff)]
    if diff.size == 0:
        return None
    return float(diff.std()) / (math.sqrt(2.0) * noise)


def _projection(grids: Sequence[FloatArray]) -> FloatArray | None:
    """The mean of the grids, mapped from [min, max] to [0, 1]; ``None`` when flat."""
    if not grids:
        return None
    mean = np.mean(grids, axis=0) if len(grids) > 1 else grids[0]
    low, high = float(mean.min()), float(mean.max())
    if not high > low:
        return None
    out: FloatArray = (mean - low) / (high - low)
    return out


def _perceptual(grid: FloatArray | None) -> dict[str, Any]:
    if grid is None:
        return {"phash": None, "signature": None}
    return {"phash": phash(grid), "signature": signature(grid)}


class HashProcessor:
    """The ``raster-hash`` processor (see the module docstring)."""

    id = ID
    version = VERSION
    columns = COLUMNS
    halo = 0
    uses_overview = False

    def __init__(self) -> None:
        self._stacks: _Stacks | None = None

    def wants(self, leaf: Leaf) -> bool:
        """Leaves that span whole planes (all of them unless ``slice_size`` cuts Y or X)."""
        image = leaf.image
        return leaf.plane_shape == (image.size("Y"), image.size("X"))

    def measure(self, leaf: Leaf) -> Generator[TileVisitor, None, HashState]:
        """One pass: every plane's digest, block sums and crop."""
        image = leaf.image
        stacks = self._stacks
        if stacks is None or stacks.image is not image:
            stacks = self._stacks = _Stacks(image)
        jobs: dict[tuple[int, ...], tuple[Mapping[str, int], _PlaneJob]] = {}

        def visit(tile: Tile) -> None:
            found = jobs.get(tile.key)
            if found is None:
                found = jobs[tile.key] = (tile.plane, _PlaneJob(tile))
            with np.errstate(all="ignore"):
                found[1].visit(tile)

        yield visit
        order = [a for a in canonical_axes(image) if a in image.plane_axes]
        planes = []
        for plane, job in jobs.values():
            with np.errstate(all="ignore"):
                sigma = noise_sigma(job.crop)
                grid = job.grid(sigma)
            planes.append(
                PlaneHashes(
                    tuple(plane[a] for a in order),
                    job.digest(),
                    grid,
                    stacks.distance(plane, job.crop, sigma),
                )
            )
        total = math.prod(image.size(a) for a in image.plane_axes)
        return HashState(tuple(planes), total, content_header(image))

    def merge(self, states: Sequence[HashState]) -> HashState:
        """The planes of all the states."""
        planes = tuple(p for s in states for p in s.planes)
        return HashState(planes, states[0].total, states[0].header)

    def finalize(self, state: HashState) -> dict[str, Any]:
        """Image values for the whole image, plane values for one plane, else nulls."""
        out: dict[str, Any] = dict.fromkeys(NAMES)
        planes = state.planes
        if len(planes) == state.total:
            ordered = sorted(planes, key=lambda p: p.position)
            digests = [p.digest for p in ordered if p.digest is not None]
            if len(digests) == len(ordered):
                hasher = blake3.blake3(state.header)
                for digest in digests:
                    hasher.update(digest)
                out["content_hash"] = hasher.hexdigest(length=DIGEST_BYTES)
            grids = [p.grid for p in ordered if p.grid is not None]
            out.update(_perceptual(_projection(grids)))
        elif len(planes) == 1:
            plane = planes[0]
            out["plane_hash"] = plane.digest.hex() if plane.digest is not None else None
            out.update(_perceptual(plane.grid))
            out["plane_noise_distance"] = plane.noise_distance
        return out


PROCESSOR = HashProcessor()
