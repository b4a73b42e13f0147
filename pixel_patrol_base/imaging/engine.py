"""The pixel engine: one image array in, its obs_level rows out.

Call graph::

    process_image
      ├─ Layout(image, slice_size)            leaf grid and rows (blocks.py)
      ├─ _run_leaves(array)                   every wanted leaf, read once
      │    ├─ _leaf_blocks                    in memory, or batched block reads
      │    └─ _measure_leaf                   all processors in lockstep, pass by pass,
      │         └─ LeafTiles (tiles.py)         over the leaf's tiles
      ├─ _run_leaves(thumbnail_array)         overview processors, when an overview exists
      └─ _columns per processor               merge leaf states per row, finalize

Memory: an image whose decoded size fits ``mb_per_task`` is read at once; a larger one
is read leaf by leaf (leaves batched up to the budget, one ``dask.compute`` per batch),
and a leaf larger than the budget tile by tile, each pass reading its tiles again.
Planes larger than the tile budget (``mb_per_task / 16`` pixels, so that the float64
work arrays of a tile stay a small multiple of the budget) are cut into tiles with a
halo, so neighbour filters give the same values as on the whole plane.

Failures: a processor that raises anywhere leaves its columns ``None`` in every row, and
the level-0 row's ``processor_errors`` gets ``"<id>: <message>"``; the others go on.
Errors reading pixels are not processor failures and propagate to the caller.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from pixel_patrol_base.imaging.blocks import SPATIAL_AXES, ImageContext, Layout, Leaf, RowSpec
from pixel_patrol_base.imaging.tiles import LeafTiles, read, read_many
from pixel_patrol_base.plugins.contracts import ImageInfo, Processor, TileVisitor
from pixel_patrol_base.table.catalog import Levels

logger = logging.getLogger(__name__)

MIB = 1 << 20
MIN_TILE_PIXELS = 256
"""Smallest tile core; a tiny ``mb_per_task`` still leaves tiles of 16×16."""


def budget_bytes(mb_per_task: float) -> int:
    """The memory budget ``mb_per_task`` (MiB) in bytes, at least 1."""
    return max(1, int(mb_per_task * MIB))


def fits_budget(shape: Sequence[int], dtype: Any, budget: int) -> bool:
    """Whether an image of ``shape`` and ``dtype`` is read into memory at once."""
    return math.prod(shape) * int(np.dtype(dtype).itemsize) <= budget


@dataclass
class ImageResult:
    """The rows of one image.

    Attributes:
        rows: Level-0 row first. Each has ``obs_level``, ``dim_<axis>`` for the axes the
            row fixes, ``size_<axis>`` for the axes of the image, ``num_pixels``, every
            column of the selected processors (``None`` where not computed) and, on
            the level-0 row, ``processor_errors`` (list of ``"id: message"`` or ``None``).
    """

    rows: list[dict[str, Any]]
    cpu_s: dict[str, float]
    """CPU seconds each processor spent on the image, by processor id."""


class _Run:
    """One processor's progress on one image."""

    def __init__(self, processor: Processor) -> None:
        self.processor = processor
        self.image_only = all(c.levels is Levels.IMAGE for c in processor.columns)
        self.states: dict[tuple[int, ...], Any] = {}
        self.folded: Any = None
        self.has_state = False
        self.error: str | None = None
        self.cpu_s = 0.0

    def fail(self, exc: BaseException) -> None:
        if self.error is None:
            message = " ".join(f"{type(exc).__name__}: {exc}".split())
            self.error = f"{self.processor.id}: {message}"
            logger.debug("processor %s failed", self.processor.id, exc_info=exc)
        self.states.clear()
        self.folded = None

    def add(self, leaf: Leaf, state: Any) -> None:
        if not self.image_only:
            self.states[leaf.key] = state
        elif self.has_state:
            self.folded = self.processor.merge([self.folded, state])
        else:
            self.folded = state
        self.has_state = True


def process_image(
    array: Any,
    info: ImageInfo,
    processors: Sequence[Processor],
    *,
    slice_size: Mapping[str, int],
    mb_per_task: float,
    thumbnail_size: int = 64,
    thumbnail_array: Any | None = None,
) -> ImageResult:
    """Compute the obs_level rows of one image with the given processors.

    Args:
        array: numpy or Dask array, axes in ``info.dim_order``.
        info: Header of the image (its ``dim_order`` names the axes of ``array``).
        processors: Processors to run; each tile is read once for all of them.
        slice_size: Block size per axis letter (``-1``: full extent). Defaults: 1 for
            every axis but Y and X, the full extent for those.
        mb_per_task: Memory budget in MiB; larger images are read block by block.
        thumbnail_size: Longest side of the thumbnail in pixels.
        thumbnail_array: Optional lower-resolution version of the image (same axis
            order) for processors that use an overview (the thumbnail).

    Returns:
        The rows, level 0 first.

    Raises:
        SettingsError: for an invalid ``slice_size``.
        ValueError: when ``array`` does not have one axis per letter of ``dim_order``.
    """
    image = _context(array, info.dim_order, thumbnail_size, info.extra)
    layout = Layout(image, slice_size)
    budget = budget_bytes(mb_per_task)
    runs = [_Run(p) for p in processors]
    overview = thumbnail_array is not None
    main = [r for r in runs if not (overview and r.processor.uses_overview)]
    _run_leaves(array, layout, main, budget)
    if overview:
        small = _context(thumbnail_array, info.dim_order, thumbnail_size, info.extra)
        extra = [r for r in runs if r.processor.uses_overview]
        _run_leaves(thumbnail_array, Layout(small, {}), extra, budget)
    specs = list(layout.rows())
    rows = [layout.row_fields(spec) for spec in specs]
    for run in runs:
        for row, values in zip(rows, _columns(run, layout, specs), strict=True):
            row.update(values)
    errors = [r.error for r in runs if r.error is not None]
    rows[0]["processor_errors"] = errors or None
    return ImageResult(rows, {r.processor.id: r.cpu_s for r in runs})


def _context(
    array: Any, dim_order: str, thumbnail_size: int, extra: Mapping[str, Any]
) -> ImageContext:
    shape = tuple(int(n) for n in array.shape)
    if len(shape) != len(dim_order):
        raise ValueError(
            f"array has {len(shape)} axes but dim_order {dim_order!r} names "
            f"{len(dim_order)}; pass an array whose axes follow dim_order"
        )
    sizes = dict(zip(dim_order, shape, strict=True))
    return ImageContext(dim_order, sizes, np.dtype(array.dtype), thumbnail_size, dict(extra))


def _canonical(array: Any, image: ImageContext) -> Any:
    """``array`` with axes (plane axes..., Y, X), a singleton for a missing Y or X."""
    order = image.dim_order
    perm = [order.index(a) for a in image.plane_axes]
    perm += [order.index(a) for a in SPATIAL_AXES if a in order]
    if perm != list(range(len(order))):
        array = array.transpose(perm)
    if "Y" not in order:
        array = array[..., None, :] if "X" in order else array[..., None]
    if "X" not in order:
        array = array[..., None]
    return array


def _run_leaves(array: Any, layout: Layout, runs: list[_Run], budget: int) -> None:
    if not runs:
        return
    image = layout.image
    data = _canonical(array, image)
    halo = max(r.processor.halo for r in runs)
    max_pixels = max(MIN_TILE_PIXELS, budget // 16)
    leaves = [leaf for leaf in layout.leaves() if any(_wants(r, leaf) for r in runs)]
    for leaf, block in _leaf_blocks(data, image, leaves, budget):
        tiles = LeafTiles(leaf, block, data, halo=halo, max_pixels=max_pixels)
        _measure_leaf(runs, leaf, tiles)


def _wants(run: _Run, leaf: Leaf) -> bool:
    if run.error is not None:
        return False
    try:
        return run.processor.wants(leaf)
    except Exception as exc:
        run.fail(exc)
        return False


def _leaf_blocks(
    data: Any, image: ImageContext, leaves: list[Leaf], budget: int
) -> Iterator[tuple[Leaf, npt.NDArray[Any] | None]]:
    """Each leaf with its pixels, or ``None`` for a leaf too large to hold in memory."""
    itemsize = image.dtype.itemsize
    axes = (*image.plane_axes, *SPATIAL_AXES)
    if fits_budget(data.shape, image.dtype, budget):
        whole = read(data)
        for leaf in leaves:
            yield leaf, whole[leaf.selection(axes)]
        return
    batch: list[Leaf] = []
    size = 0
    for leaf in leaves:
        nbytes = leaf.num_pixels * itemsize
        if batch and size + nbytes > budget:
            yield from _read_batch(data, batch, axes)
            batch, size = [], 0
        if nbytes > budget:
            yield leaf, None
        else:
            batch.append(leaf)
            size += nbytes
    if batch:
        yield from _read_batch(data, batch, axes)


def _read_batch(
    data: Any, batch: list[Leaf], axes: tuple[str, ...]
) -> Iterator[tuple[Leaf, npt.NDArray[Any] | None]]:
    blocks = read_many([data[leaf.selection(axes)] for leaf in batch])
    yield from zip(batch, blocks, strict=True)


def _measure_leaf(runs: list[_Run], leaf: Leaf, tiles: LeafTiles) -> None:
    """Run every processor on one leaf, all in lockstep over the same tile passes."""
    active: list[tuple[_Run, Any, TileVisitor]] = []
    for run in runs:
        if not _wants(run, leaf):
            continue
        generator = run.processor.measure(leaf)
        _advance(run, leaf, generator, active, first=True)
    while active:
        for tile in tiles:
            for run, _, visit in active:
                if run.error is None:
                    started = time.process_time()
                    try:
                        visit(tile)
                    except Exception as exc:
                        run.fail(exc)
                    run.cpu_s += time.process_time() - started
        current, active = active, []
        for run, generator, _ in current:
            if run.error is None:
                _advance(run, leaf, generator, active, first=False)
            else:
                generator.close()


def _advance(
    run: _Run,
    leaf: Leaf,
    generator: Any,
    active: list[tuple[_Run, Any, TileVisitor]],
    *,
    first: bool,
) -> None:
    started = time.process_time()
    try:
        visit = next(generator) if first else generator.send(None)
    except StopIteration as stop:
        try:
            run.add(leaf, stop.value)
        except Exception as exc:
            run.fail(exc)
    except Exception as exc:
        run.fail(exc)
    else:
        active.append((run, generator, visit))
    run.cpu_s += time.process_time() - started


def _columns(run: _Run, layout: Layout, specs: list[RowSpec]) -> list[dict[str, Any]]:
    """Column values of one processor for every row (all ``None`` after a failure)."""
    names = [c.name for c in run.processor.columns]
    empty = dict.fromkeys(names)
    if run.error is None and run.has_state:
        started = time.process_time()
        try:
            return _finalized(run, layout, specs, empty)
        except Exception as exc:
            run.fail(exc)
        finally:
            run.cpu_s += time.process_time() - started
    return [dict(empty) for _ in specs]


def _finalized(
    run: _Run, layout: Layout, specs: list[RowSpec], empty: dict[str, Any]
) -> list[dict[str, Any]]:
    processor = run.processor
    out: list[dict[str, Any]] = []
    groups: dict[tuple[int, ...], dict[tuple[int, ...], list[Any]]] = {}
    full = tuple(range(len(layout.hierarchy)))
    for spec in specs:
        if run.image_only:
            values = processor.finalize(run.folded) if spec.level == 0 else {}
            out.append({**empty, **values})
            continue
        if spec.positions == full:
            states = [run.states[spec.blocks]] if spec.blocks in run.states else []
        else:
            if spec.positions not in groups:
                grouped: dict[tuple[int, ...], list[Any]] = defaultdict(list)
                for key, state in run.states.items():
                    grouped[tuple(key[p] for p in spec.positions)].append(state)
                groups[spec.positions] = grouped
            states = groups[spec.positions].get(spec.blocks, [])
        if not states:
            out.append(dict(empty))
            continue
        state = states[0] if len(states) == 1 else processor.merge(states)
        out.append({**empty, **processor.finalize(state)})
    return out
