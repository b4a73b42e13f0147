"""Shared machinery of the per-plane processors (``raster-quality``, ``raster-compression``).

A per-plane metric is computed on each 2D (Y, X) plane, then aggregated upward as the
mean weighted by the plane's pixel count, over the planes where it is defined. A plane
job sees the plane's tiles pass after pass (usually one pass: a plane that is a single
tile resolves everything at once) until it has no more passes to ask for.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from pixel_patrol_base.imaging.blocks import Leaf
from pixel_patrol_base.imaging.tiles import Tile
from pixel_patrol_base.plugins.contracts import TileVisitor
from pixel_patrol_base.table.catalog import Column

Metrics = dict[str, float | None]


class PlaneJob(Protocol):
    """Computes the metrics of one plane from its tiles."""

    weight: int
    """Pixels in the plane (the weight of its metrics)."""

    def visit(self, tile: Tile) -> None:
        """Take one tile of the plane in the current pass."""
        ...

    def end_pass(self) -> bool:
        """Close the pass; whether another pass over the plane is needed."""
        ...

    def result(self) -> Metrics:
        """The metrics (``None`` where undefined)."""
        ...


@dataclass(frozen=True)
class WeightedMeans:
    """Σ weight·value and Σ weight of each metric, over the planes where it is defined."""

    totals: Mapping[str, tuple[float, float]]

    @classmethod
    def of_planes(cls, planes: Iterable[tuple[int, Metrics]]) -> WeightedMeans:
        """Totals of (weight, metrics) pairs."""
        totals: dict[str, tuple[float, float]] = {}
        for weight, metrics in planes:
            for name, value in metrics.items():
                if value is None:
                    continue
                acc, norm = totals.get(name, (0.0, 0.0))
                totals[name] = (acc + weight * value, norm + weight)
        return cls(totals)

    @classmethod
    def merge(cls, states: Sequence[WeightedMeans]) -> WeightedMeans:
        """Sum of totals."""
        if len(states) == 1:
            return states[0]
        totals: dict[str, tuple[float, float]] = {}
        for state in states:
            for name, (acc, norm) in state.totals.items():
                old_acc, old_norm = totals.get(name, (0.0, 0.0))
                totals[name] = (old_acc + acc, old_norm + norm)
        return cls(totals)

    def values(self, names: Iterable[str]) -> Metrics:
        """Weighted mean per metric, ``None`` where no plane defined it."""
        out: Metrics = {}
        for name in names:
            acc, norm = self.totals.get(name, (0.0, 0.0))
            out[name] = acc / norm if norm > 0 else None
        return out


def measure_planes(
    make_job: Callable[[Tile], PlaneJob],
) -> Generator[TileVisitor, None, WeightedMeans]:
    """Drive one job per plane of a leaf through as many passes as the jobs need."""
    jobs: dict[tuple[int, ...], PlaneJob] = {}

    def first(tile: Tile) -> None:
        job = jobs.get(tile.key)
        if job is None:
            job = jobs[tile.key] = make_job(tile)
        with np.errstate(all="ignore"):
            job.visit(tile)

    yield first
    pending = {key for key, job in jobs.items() if job.end_pass()}

    def again(tile: Tile) -> None:
        if tile.key in pending:
            with np.errstate(all="ignore"):
                jobs[tile.key].visit(tile)

    while pending:
        yield again
        for key in list(pending):
            if not jobs[key].end_pass():
                pending.discard(key)
    return WeightedMeans.of_planes((job.weight, job.result()) for job in jobs.values())


class PlaneMeansProcessor:
    """A processor whose metrics are per-plane values aggregated as weighted means.

    ``raster-quality`` and ``raster-compression`` are instances: they differ only in
    their columns, the halo their neighbour filters need, and the plane job.
    """

    uses_overview = False

    def __init__(
        self,
        id: str,
        version: str,
        columns: tuple[Column, ...],
        *,
        halo: int,
        make_job: Callable[[Tile], PlaneJob],
    ) -> None:
        self.id = id
        self.version = version
        self.columns = columns
        self.halo = halo
        self._make_job = make_job
        self._names = tuple(c.name for c in columns)

    def wants(self, leaf: Leaf) -> bool:
        """Every leaf matters."""
        return True

    def measure(self, leaf: Leaf) -> Generator[TileVisitor, None, WeightedMeans]:
        """One pass per plane unless a plane is cut into tiles."""
        return measure_planes(self._make_job)

    def merge(self, states: Sequence[WeightedMeans]) -> WeightedMeans:
        """Sums of weighted values and weights."""
        return WeightedMeans.merge(states)

    def finalize(self, state: WeightedMeans) -> dict[str, Any]:
        """Weighted means."""
        return dict(state.values(self._names))
