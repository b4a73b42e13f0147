"""Axis canonicalisation: from a library's axis letters to PixelPatrol's ``dim_order``.

Every loader describes an image by the axis letters of the library that reads it
(bioio's ``TCZYXS``, tifffile's series axes such as ``QYX`` or ``TZCYX``, OME-Zarr axis
names). :func:`plan_axes` turns them into an :class:`AxisPlan`, the single place where
PixelPatrol's axis rules live:

- Canonical letters are the standard T, C, Z, Y, X and S (samples, e.g. RGB), then the
  further axes E (wavelength λ), H (phase, e.g. Airyscan detector elements, or lifetime
  bins), M (mosaic tiles), V (view), I, R (rotation), A (angle), P (phase), L (exposure)
  and Q (other), always in that order (:data:`~pixel_patrol_base.table.columns.ALL_AXES`),
  so ``dim_order`` is a subsequence of ``TCZYXSEHMVIRAPLQ`` whatever the storage order was.
- Y and X are always kept, even with extent 1. Any other axis of extent 1 is dropped: it
  holds no data of its own (bioio's singleton T/C/Z, for instance).
- A canonical letter keeps its axis: a wavelength sweep is an E axis, an Airyscan phase
  axis an H axis, each with its own ``dim_e`` / ``dim_h`` rows.
- *Generic* letters name a stack of unknown meaning: tifffile's ``I`` (image sequence)
  and ``Q`` (unknown) by default. Like letters no rule knows (a CZI block axis ``B``),
  they take the first free of Z, T and C (T, Z and C for unknown letters), as bioio
  does; a generic letter with none free keeps its own, an unknown one becomes Q.
- An axis left without a letter (a fifth unnamed stack, say) is folded (merged, C order)
  into its neighbouring axis other than Y, X and S, so no pixel is ever dropped.

The plan also reads a block: it translates a key in canonical coordinates into a key in
source coordinates, and the block read back into canonical order. Units of pixel sizes
are normalised here too. This module knows nothing about files.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pixel_patrol_base.table.catalog import ALL_AXES, NON_SPATIAL_AXES

_DIRECT = frozenset(ALL_AXES)
_FOLD_TARGETS = frozenset(NON_SPATIAL_AXES) - {"S"}
GENERIC_AXES = "IQ"
"""Letters that name a stack of unknown meaning by default (tifffile's sequence ``I`` and
unknown ``Q``); they take a free Z, T or C letter first."""
_GENERIC_PREFERENCE = "ZTC"
_UNKNOWN_PREFERENCE = "TZCQ"

SourceKey = tuple[slice, ...]


class AxisError(ValueError):
    """The axes of an image cannot be mapped to canonical letters."""


@dataclass(frozen=True)
class AxisPlan:
    """How an array in source axes becomes an array in canonical axes.

    Attributes:
        source_axes: Axis letters as the library gives them, upper case.
        source_shape: Extent per source axis.
        dim_order: Canonical letters, a subsequence of ``ALL_AXES``.
        groups: For each letter of ``dim_order``, the source axes it holds (more than one
            where axes were folded), in source order.
    """

    source_axes: str
    source_shape: tuple[int, ...]
    dim_order: str
    groups: tuple[tuple[int, ...], ...]

    @property
    def shape(self) -> tuple[int, ...]:
        """Extent per canonical axis."""
        return tuple(math.prod(self.source_shape[i] for i in g) for g in self.groups)

    def with_source_shape(self, source_shape: Sequence[int]) -> AxisPlan:
        """The same plan for a lower-resolution level of the same image.

        Raises:
            AxisError: when the level's axes do not fit the plan (a dropped axis grew).
        """
        kept = {i for g in self.groups for i in g}
        shape = tuple(int(n) for n in source_shape)
        if len(shape) != len(self.source_shape) or any(
            shape[i] != 1 for i in range(len(shape)) if i not in kept
        ):
            raise AxisError(f"level shape {shape} does not fit axes {self.source_axes!r}")
        return AxisPlan(self.source_axes, shape, self.dim_order, self.groups)

    def source_chunks(self, storage_chunks: Sequence[int]) -> tuple[int, ...]:
        """Storage chunk sizes per canonical axis (1 along folded axes)."""
        return tuple(storage_chunks[g[0]] if len(g) == 1 else 1 for g in self.groups)

    def read(self, key: Any, read_source: Callable[[SourceKey], Any]) -> np.ndarray:
        """Read ``array[key]`` of the canonical array through ``read_source``.

        Args:
            key: An index into the canonical array: ints and slices (any step).
            read_source: Reads a box of the source array given one slice per source axis
                and returns it with every source axis kept.

        Returns:
            The selected block, as NumPy indexing of the canonical array would give it.
        """
        parts = _normalise_key(key, len(self.groups))
        if parts is None:  # fancy indexing: read everything, index in memory
            return np.asarray(np.asarray(self.read(slice(None), read_source))[key])
        shape = self.shape
        boxes: list[tuple[int, int]] = []
        post: list[int | slice] = []
        for k, n in zip(parts, shape, strict=True):
            lo, hi, sel = _bounds(k, n)
            boxes.append((lo, hi))
            post.append(sel)
        source: list[slice] = [slice(None)] * len(self.source_shape)
        for j, group in enumerate(self.groups):
            lo, hi = boxes[j]
            if len(group) == 1:
                source[group[0]] = slice(lo, hi)
            elif hi - lo == 1:
                index = np.unravel_index(lo, [self.source_shape[i] for i in group])
                for i, u in zip(group, index, strict=True):
                    source[i] = slice(int(u), int(u) + 1)
            else:  # a folded axis read in full; select inside the block afterwards
                post[j] = _shift(post[j], lo)
        block = np.asarray(read_source(tuple(source)))
        order = sorted(range(len(self.groups)), key=lambda j: self.groups[j][0])
        sizes = [math.prod(block.shape[i] for i in self.groups[j]) for j in order]
        block = block.reshape(sizes)
        block = block.transpose([order.index(j) for j in range(len(self.groups))])
        return np.asarray(block[tuple(post)])


def _normalise_key(key: Any, ndim: int) -> tuple[int | slice, ...] | None:
    """A tuple of one int or slice per axis, or ``None`` when the key is fancy."""
    parts = key if isinstance(key, tuple) else (key,)
    at = next((i for i, p in enumerate(parts) if p is Ellipsis), None)
    if at is not None:
        parts = (*parts[:at], *([slice(None)] * (ndim - len(parts) + 1)), *parts[at + 1 :])
    if len(parts) > ndim or not all(isinstance(p, slice | int | np.integer) for p in parts):
        return None
    return tuple(p if isinstance(p, slice) else int(p) for p in parts) + (slice(None),) * (
        ndim - len(parts)
    )


def _bounds(k: int | slice, n: int) -> tuple[int, int, int | slice]:
    """Bounding box ``[lo, hi)`` of ``k`` along an axis of extent ``n``, and ``k`` within it."""
    if isinstance(k, int):
        i = k + n if k < 0 else k
        if not 0 <= i < n:
            raise IndexError(f"index {k} is out of bounds for an axis of size {n}")
        return i, i + 1, 0
    start, stop, step = k.indices(n)
    picked = range(start, stop, step)
    if not picked:
        return 0, 0, slice(0, 0)
    lo, hi = min(picked), max(picked) + 1
    if step > 0:
        return lo, hi, slice(0, hi - lo, step)
    last = picked[-1] - lo - 1
    return lo, hi, slice(start - lo, last if last >= 0 else None, step)


def _shift(sel: int | slice, offset: int) -> int | slice:
    """``sel`` relative to a box starting at 0 instead of ``offset``."""
    if isinstance(sel, int):
        return sel + offset
    start = (sel.start or 0) + offset
    stop = None if sel.stop is None else sel.stop + offset
    return slice(start, stop, sel.step)


def plan_axes(axes: str, shape: Sequence[int], *, generic: str = GENERIC_AXES) -> AxisPlan:
    """Map source axis letters and extents to canonical axes (rules in the module doc).

    Args:
        axes: One letter per source axis (tifffile axis codes, bioio dims, or letters
            derived from OME-Zarr axis names); case does not matter.
        shape: Extent per source axis.
        generic: The letters that name a stack of unknown meaning in this library
            (:data:`GENERIC_AXES` unless given; a CZI's ``I`` is its illumination axis, so
            the CZI reader passes none).

    Raises:
        AxisError: when Y or X is missing, or an axis cannot be placed.
    """
    letters = axes.upper()
    dims = tuple(int(n) for n in shape)
    if len(letters) != len(dims):
        raise AxisError(f"axes {axes!r} do not match shape {dims}")
    kept = [i for i, (a, n) in enumerate(zip(letters, dims, strict=True)) if n > 1 or a in "YX"]
    wandering = set(generic.upper())
    assigned: dict[int, str] = {}
    for i in kept:
        own = letters[i]
        if own in _DIRECT and own not in wandering and own not in assigned.values():
            assigned[i] = own
    if "Y" not in assigned.values() or "X" not in assigned.values():
        raise AxisError(f"axes {axes!r} have no Y and X axis; an image needs both")
    for i in kept:
        if i not in assigned:
            own = letters[i]
            order = (
                _GENERIC_PREFERENCE + own
                if own in wandering and own in _DIRECT
                else _UNKNOWN_PREFERENCE
            )
            free = [c for c in order if c not in assigned.values()]
            if free:
                assigned[i] = free[0]
    members: dict[int, list[int]] = {i: [i] for i in assigned}
    for pos, i in enumerate(kept):
        if i not in assigned:
            members[_fold_target(kept, pos, assigned, axes)].append(i)
    groups = sorted(members.items(), key=lambda item: ALL_AXES.index(assigned[item[0]]))
    return AxisPlan(
        source_axes=letters,
        source_shape=dims,
        dim_order="".join(assigned[anchor] for anchor, _ in groups),
        groups=tuple(tuple(sorted(m)) for _, m in groups),
    )


def canonical_letters(axes: str, shape: Sequence[int]) -> str | None:
    """One canonical letter per source axis, as :func:`plan_axes` places them.

    Letters already canonical stay; unknown ones (``Q``, ``I``, ...) get the letter the
    axis rules give them, so that every loader names a file's axes the same way. An axis
    of extent 1 that the plan drops gets a free letter (it holds no data of its own).

    Returns:
        The letters, or ``None`` when the plan folds axes together or runs out of letters.

    Raises:
        AxisError: when the axes cannot be planned at all (no Y and X).
    """
    plan = plan_axes(axes, shape)
    letters: list[str | None] = [None] * len(plan.source_axes)
    for letter, group in zip(plan.dim_order, plan.groups, strict=True):
        if len(group) > 1:
            return None
        letters[group[0]] = letter
    for i, source in enumerate(plan.source_axes):
        if letters[i] is None:
            free = [c for c in (source, *ALL_AXES) if c in _DIRECT and c not in letters]
            if not free:
                return None
            letters[i] = free[0]
    return "".join(c for c in letters if c is not None)


def _fold_target(kept: list[int], pos: int, assigned: Mapping[int, str], axes: str) -> int:
    """The axis next to ``kept[pos]`` (across other unplaced axes; not Y, X or S) to fold
    into."""
    for direction in (1, -1):
        p = pos + direction
        while 0 <= p < len(kept) and kept[p] not in assigned:
            p += direction
        if 0 <= p < len(kept) and assigned[kept[p]] in _FOLD_TARGETS:
            return kept[p]
    raise AxisError(f"axes {axes!r}: axis {axes[kept[pos]]!r} has no free letter to map to")


def default_axes(ndim: int) -> str:
    """Axis letters for an array that names none: ``YX``, ``ZYX``, ``CZYX``, ``TCZYX``.

    Axes beyond five get ``Q``: the first is a Q axis, any further one is folded into T.
    """
    if ndim < 2:
        raise AxisError(f"a {ndim}-dimensional array is not an image; it needs Y and X")
    return ("Q" * max(0, ndim - 5) + "TCZYX")[-ndim:]


_UNIT_ALIASES: Mapping[str, str] = {
    "µm": "µm", "μm": "µm", "um": "µm", "micron": "µm", "microns": "µm", "micrometer": "µm",
    "micrometre": "µm", "\\u00b5m": "µm", "nm": "nm", "nanometer": "nm", "nanometre": "nm",
    "mm": "mm", "millimeter": "mm", "millimetre": "mm", "cm": "cm", "centimeter": "cm",
    "centimetre": "cm", "m": "m", "meter": "m", "metre": "m", "pm": "pm", "picometer": "pm",
    "picometre": "pm", "å": "Å", "angstrom": "Å", "inch": "inch", "in": "inch",
}  # fmt: skip
_METRES: Mapping[str, float] = {
    "pm": 1e-12, "Å": 1e-10, "nm": 1e-9, "µm": 1e-6, "mm": 1e-3, "cm": 1e-2, "m": 1.0,
    "inch": 0.0254,
}  # fmt: skip


def normalise_unit(unit: str | None) -> str | None:
    """A length unit in PixelPatrol's spelling (``'micron'`` -> ``'µm'``); ``None`` if unknown."""
    if unit is None:
        return None
    return _UNIT_ALIASES.get(unit.strip().lower())


def harmonise_pixel_sizes(
    sizes: Mapping[str, tuple[float | None, str | None]],
) -> tuple[dict[str, float], str | None]:
    """Express per-axis pixel sizes in one unit.

    Args:
        sizes: Axis letter -> (size, unit as written in the file). Units are normalised;
            the unit of X (else of the first axis with a unit) wins and the others are
            converted to it. Sizes that are missing, not positive or not finite, and
            sizes in a unit that cannot be converted, are left out.

    Returns:
        The sizes per axis and their common unit (``None`` when the file gives none).
    """
    clean = {
        axis: (float(v), normalise_unit(u))
        for axis, (v, u) in sizes.items()
        if v is not None and math.isfinite(v) and v > 0
    }
    order = sorted(clean, key=lambda axis: axis != "X")
    target = next((clean[a][1] for a in order if clean[a][1] is not None), None)
    out: dict[str, float] = {}
    for axis, (value, unit) in clean.items():
        if unit == target:
            out[axis] = value
        elif unit is not None and target is not None:
            out[axis] = value * _METRES[unit] / _METRES[target]
    return out, target


def in_micrometres(
    sizes: Mapping[str, float], unit: str | None
) -> tuple[dict[str, float], str | None]:
    """Pixel sizes in ``unit`` converted to µm, where the unit is a length; else as given.

    Readers whose library states sizes in metres (LIF, CZI) report them in µm, as bioio's
    plugins do, so that one dataset's rows share a unit.
    """
    if unit is None or unit not in _METRES or unit == "µm":
        return dict(sizes), unit
    factor = _METRES[unit] / _METRES["µm"]
    return {axis: value * factor for axis, value in sizes.items()}, "µm"
