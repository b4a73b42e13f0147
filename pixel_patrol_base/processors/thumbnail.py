"""``thumbnail``: a small PNG of the whole image (level-0 rows only).

Composition: the middle time point (and the middle index of every further axis, such as
Airyscan phases H, a wavelength sweep E or mosaic tiles M); a maximum projection over Z;
up to six channels as a false-colour composite (one channel shows grey); RGB(A) samples
kept as colour. The pixels are taken with a stride of ``max(1, longest side // (4 ×
thumbnail_size))`` from the tiles the engine reads anyway, or from a lower pyramid level
when the loader has one, so no image is read in full just for its thumbnail. The strided
canvas is stretched between its 0.5th and 99.5th percentiles and resized (area average)
to ``thumbnail_size``.
"""

from __future__ import annotations

import io
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pixel_patrol_base.imaging.blocks import ImageContext, Leaf
from pixel_patrol_base.imaging.order import percentiles
from pixel_patrol_base.imaging.stats import FloatArray, IntCounts, is_small_int
from pixel_patrol_base.imaging.tiles import Tile
from pixel_patrol_base.plugins.contracts import TileVisitor
from pixel_patrol_base.processors.manifest import THUMBNAIL_METADATA

METADATA = THUMBNAIL_METADATA
ID = METADATA.id
VERSION = METADATA.version
COLUMNS = METADATA.columns
MAX_CHANNELS = 6
COLOURS = np.array(
    [(1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 1), (1, 0, 1), (1, 1, 0)], dtype=np.float64
)
"""Channel colours of the false-colour composite: red, green, blue, cyan, magenta, yellow."""


@dataclass(frozen=True)
class ThumbnailState:
    """Strided canvases, max-projected over Z, per (channel, sample)."""

    image: ImageContext
    canvases: dict[tuple[int, int], FloatArray]


def stride(image: ImageContext) -> int:
    """Sampling step along Y and X."""
    longest = max(image.size("Y"), image.size("X"))
    return max(1, longest // (4 * image.thumbnail_size))


_COMPOSED_AXES = frozenset("CZSYX")
"""Axes the thumbnail draws whole (channels and samples composed, Z projected); along
every other one it takes the middle index."""


def middles(image: ImageContext) -> dict[str, int]:
    """The index the thumbnail takes along each axis it does not compose: the middle."""
    return {a: image.size(a) // 2 for a in image.plane_axes if a not in _COMPOSED_AXES}


def _sampled(tile: Tile, step: int) -> tuple[slice, slice, Any]:
    """Canvas slices and the tile's core pixels that fall on the sampling grid."""
    y0, y1, x0, x1 = tile.core
    gy, gx = tile.origin
    first_y = -(gy + y0) % step + y0
    first_x = -(gx + x0) % step + x0
    pixels = tile.data[first_y:y1:step, first_x:x1:step]
    cy, cx = (gy + first_y) // step, (gx + first_x) // step
    return slice(cy, cy + pixels.shape[0]), slice(cx, cx + pixels.shape[1]), pixels


class ThumbnailProcessor:
    """The ``thumbnail`` processor."""

    id = ID
    version = VERSION
    columns = COLUMNS
    halo = 0
    uses_overview = True

    def wants(self, leaf: Leaf) -> bool:
        """Leaves holding the middle time point (and middle further indices) and one of
        the first six channels."""
        image = leaf.image
        return all(leaf.covers(a, i) for a, i in middles(image).items()) and (
            "C" not in leaf.start or leaf.start["C"] < MAX_CHANNELS
        )

    def measure(self, leaf: Leaf) -> Generator[TileVisitor, None, ThumbnailState]:
        """One pass: sample each wanted plane onto its canvas, keeping the max over Z."""
        image = leaf.image
        step = stride(image)
        shape = (-(-image.size("Y") // step), -(-image.size("X") // step))
        middle = middles(image)
        canvases: dict[tuple[int, int], FloatArray] = {}

        def visit(tile: Tile) -> None:
            plane = tile.plane
            if plane.get("C", 0) >= MAX_CHANNELS or any(
                plane.get(a, i) != i for a, i in middle.items()
            ):
                return
            key = (plane.get("C", 0), plane.get("S", 0))
            if key not in canvases:
                canvases[key] = np.full(shape, np.nan)
            rows, cols, pixels = _sampled(tile, step)
            target = canvases[key][rows, cols]
            np.fmax(target, pixels, out=target)

        yield visit
        return ThumbnailState(image, canvases)

    def merge(self, states: Sequence[ThumbnailState]) -> ThumbnailState:
        """Union of channels; maximum where both have a canvas."""
        canvases: dict[tuple[int, int], FloatArray] = {}
        for state in states:
            for key, canvas in state.canvases.items():
                if key in canvases:
                    canvases[key] = np.fmax(canvases[key], canvas)
                else:
                    canvases[key] = canvas
        return ThumbnailState(states[0].image, canvases)

    def finalize(self, state: ThumbnailState) -> dict[str, Any]:
        """Compose, stretch, resize and encode."""
        composed = _compose(state)
        if composed is None:
            return {}
        picture, low, high = composed
        return {
            "thumbnail": _png(picture, state.image.thumbnail_size),
            "thumbnail_norm_min": low,
            "thumbnail_norm_max": high,
        }


def _stretch(values: FloatArray, low: float, high: float) -> FloatArray:
    """``(values − low) / (high − low)`` clipped to [0, 1], NaN as 0."""
    span = high - low
    with np.errstate(all="ignore"):
        if span > 0:
            out = values - low
            out /= span
        else:
            out = (values > low).astype(np.float64)
    np.fmax(out, 0.0, out=out)  # fmax, not maximum: NaN becomes 0
    return np.minimum(out, 1.0, out=out)


def _limits(values: FloatArray, dtype: np.dtype[Any]) -> list[float] | None:
    """0.5th and 99.5th percentiles of finite values (numpy's linear method), exactly:
    from per-value counts when they are pixels of an integer type of up to 16 bits."""
    if is_small_int(dtype):
        return IntCounts.of(values.astype(dtype)).percentiles([0.5, 99.5])
    return percentiles(values, [0.5, 99.5])


def _compose(state: ThumbnailState) -> tuple[FloatArray, float, float] | None:
    """Grey (H, W) or colour (H, W, 3) in [0, 1] and the stretch limits, or ``None``."""
    image, canvases = state.image, state.canvases
    if not canvases:
        return None
    keys = sorted(canvases)
    samples = image.size("S") if "S" in image.sizes else 1
    first = keys[0]
    if samples in (3, 4):
        planes = [canvases.get((first[0], s)) for s in range(3)]
        shape = canvases[first].shape
        stack = np.stack([p if p is not None else np.full(shape, np.nan) for p in planes])
        colours = np.eye(3)
    else:
        drawn = [canvases[k] for k in keys[:MAX_CHANNELS]]
        stack = np.stack(drawn) if len(drawn) > 1 else drawn[0][None]  # one: no copy
        colours = COLOURS[: len(stack)] if len(stack) > 1 else np.ones((1, 3))
    finite = stack[np.isfinite(stack)]
    if samples in (3, 4) and image.dtype == np.uint8:
        limits = [0.0, 255.0] if finite.size else None
    else:
        limits = _limits(finite, image.dtype)
    if limits is None:
        return None
    low, high = limits
    stretched = _stretch(stack, low, high)
    if colours.shape[0] == 1:
        return stretched[0], low, high
    rgb = np.einsum("kyx,kc->yxc", stretched, colours)
    return np.clip(rgb, 0.0, 1.0), low, high


def _png(rgb: FloatArray, size: int) -> bytes:
    from PIL import Image

    rows, cols = rgb.shape[:2]
    scale = size / max(rows, cols)
    target = (max(1, round(cols * scale)), max(1, round(rows * scale)))
    pixels = np.rint(rgb * 255.0).astype(np.uint8)
    picture = Image.fromarray(pixels)
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.NEAREST
    if picture.size != target:
        picture = picture.resize(target, resample)
    buffer = io.BytesIO()
    # zlib level 1 rather than the default 6: the same pixels, encoded in about a
    # quarter less time, in about a tenth more bytes
    picture.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


PROCESSOR = ThumbnailProcessor()
