"""Exact and near duplicate images: the components over the level-0 rows.

Belongs here: :func:`image_components`, from the image rows (sorted by path and child id)
to a component per image, with the kind, distance and correlation of each. Not here:
the search (:mod:`.search`), the output frames (:mod:`.sets`).

Call graph::

    image_components
    ├── _nodes                  one node per distinct content_hash (an exact group)
    ├── search.near_pairs       over the distinct phash values of the nodes
    ├── _candidates             node pairs: same phash value, or values within the distance
    ├── fetch signatures        of the candidate nodes' first rows only
    └── _confirm                correlation ≥ threshold → UnionFind edge (distance, corr)

Images with equal pixels (equal ``content_hash``) are one node, so a group of 10,000
copies costs nothing more than one image: such a node alone is an **exact** set. Near
duplicates are searched between nodes; a component of two or more nodes is a **near**
set and holds every image of its nodes, so exact copies inside it are members of the
near set (each image is in at most one set). Its distance is the largest Hamming
distance and its correlation the smallest correlation of the confirmed node pairs that
joined it. A pair that fails confirmation adds no edge, but its two nodes may still meet
in one set through other confirmed pairs (the grouping is transitive).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import polars as pl

from pixel_patrol_base.duplicates.search import near_pairs
from pixel_patrol_base.duplicates.signatures import SignatureFetcher, Signatures
from pixel_patrol_base.duplicates.unionfind import UnionFind

logger = logging.getLogger(__name__)

SMALL_GROUP = 16
"""Nodes sharing one phash value up to this many are paired explicitly; larger groups
are correlated by block products."""


@dataclass(frozen=True, eq=False)
class Components:
    """Per input row: its component (-1: in no set) and that component's facts."""

    component: np.ndarray
    """int64: an id shared by the members of a set (-1: in no set)."""
    kind: np.ndarray
    """object: ``"exact"``, ``"near"``, or ``None`` outside sets."""
    distance: np.ndarray
    """int64: the set's largest Hamming distance of confirmed pairs (0 for exact)."""
    correlation: np.ndarray
    """float64: a near set's smallest confirmed correlation, a plane set's largest noise
    distance (:mod:`.planes`); NaN otherwise."""


@dataclass(frozen=True, eq=False)
class _Nodes:
    node: np.ndarray  # per image: its node
    first: np.ndarray  # per node: the position of its first image
    size: np.ndarray  # per node: number of images
    phash: np.ndarray  # per node: uint64 phash of its first image with one
    has_phash: np.ndarray  # per node: bool


def _nodes(images: pl.DataFrame) -> _Nodes:
    """Nodes of the images (sorted by path and child id): one per distinct content_hash,
    one per image without one."""
    surrogate = pl.concat_str(pl.lit("\x00row "), pl.int_range(pl.len()).cast(pl.String))
    node = (
        images.select(pl.col("content_hash").fill_null(surrogate).rank("dense") - 1)
        .to_series()
        .to_numpy()
        .astype(np.int64)
    )
    _, first = np.unique(node, return_index=True)
    size = np.bincount(node, minlength=first.size)
    phash = images["phash"].to_numpy(allow_copy=True)
    has = ~images["phash"].is_null().to_numpy()
    node_phash = np.zeros(first.size, dtype=np.int64)
    node_has = np.zeros(first.size, dtype=bool)
    # Equal pixels give equal phashes; the last image with one writes it.
    node_phash[node[has]] = phash[has].astype(np.int64)
    node_has[node[has]] = True
    return _Nodes(node, first, size, node_phash.view(np.uint64), node_has)


@dataclass(frozen=True, eq=False)
class _Values:
    """The nodes with a phash, grouped by distinct value."""

    unique: np.ndarray  # uint64 distinct values
    nodes: np.ndarray  # node ids sorted by value
    starts: np.ndarray  # per value: first position in ``nodes``
    counts: np.ndarray  # per value: number of nodes

    @classmethod
    def of(cls, nodes: _Nodes) -> _Values:
        with_hash = np.flatnonzero(nodes.has_phash)
        unique, inverse = np.unique(nodes.phash[with_hash], return_inverse=True)
        inverse = inverse.reshape(-1)
        order = np.argsort(inverse, kind="stable")
        counts = np.bincount(inverse, minlength=unique.size)
        return cls(unique, with_hash[order], np.cumsum(counts) - counts, counts)

    def members(self, value: int) -> np.ndarray:
        return self.nodes[self.starts[value] : self.starts[value] + self.counts[value]]


class _Confirmer:
    """Correlates candidate node pairs and joins the confirmed ones."""

    def __init__(self, signatures: Signatures, slot: np.ndarray, threshold: float) -> None:
        self.signatures = signatures
        self.slot = slot  # node -> row of signatures.vectors (-1: not fetched)
        self.threshold = threshold
        self.union = UnionFind(slot.size)

    def pairs(self, left: np.ndarray, right: np.ndarray, distance: np.ndarray) -> None:
        for part, corr in self.signatures.pairs(self.slot[left], self.slot[right]):
            ok = corr >= self.threshold  # NaN: no correlation, never confirmed
            self.union.union(left[part][ok], right[part][ok], distance[part][ok], corr[ok])

    def block(self, first: np.ndarray, second: np.ndarray | None, distance: int) -> None:
        same = second is None
        other = first if second is None else second
        blocks = self.signatures.block(
            self.slot[first], self.slot[other], upper=same, threshold=self.threshold
        )
        for i, j, corr in blocks:
            self.union.union(first[i], other[j], float(distance), corr)


def _small_groups(values: _Values) -> tuple[np.ndarray, np.ndarray]:
    """Every node pair within the groups of 2 to SMALL_GROUP nodes sharing a value."""
    lefts, rights = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    for size in range(2, SMALL_GROUP + 1):
        groups = np.flatnonzero(values.counts == size)
        if groups.size:
            members = values.nodes[values.starts[groups][:, None] + np.arange(size)]
            a, b = np.triu_indices(size, 1)
            lefts.append(members[:, a].reshape(-1))
            rights.append(members[:, b].reshape(-1))
    return np.concatenate(lefts), np.concatenate(rights)


def _expand(values: _Values, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every node pair of the value pairs (left[k], right[k]): their group products."""
    rows, cols = values.counts[left], values.counts[right]
    size = rows * cols
    pair = np.repeat(np.arange(left.size), size)
    k = np.arange(pair.size) - np.repeat(np.cumsum(size) - size, size)
    a = values.nodes[values.starts[left][pair] + k // cols[pair]]
    b = values.nodes[values.starts[right][pair] + k % cols[pair]]
    return a, b, pair


def _candidates(values: _Values, max_distance: int) -> tuple[np.ndarray, ...]:
    """Candidate node pairs (left, right, distance) and the value pairs too large to
    list, and the large groups of one value (handled by block products)."""
    pairs = near_pairs(values.unique, max_distance)
    product = values.counts[pairs.left] * values.counts[pairs.right]
    listed = product <= SMALL_GROUP * SMALL_GROUP
    a, b, which = _expand(values, pairs.left[listed], pairs.right[listed])
    dist = pairs.distance[listed][which].astype(np.int64)
    same_a, same_b = _small_groups(values)
    left = np.concatenate([same_a, a])
    right = np.concatenate([same_b, b])
    distance = np.concatenate([np.zeros(same_a.size, np.int64), dist])
    big_pairs = np.flatnonzero(~listed)
    big_groups = np.flatnonzero(values.counts > SMALL_GROUP)
    return (
        left,
        right,
        distance,
        np.stack(
            [pairs.left[big_pairs], pairs.right[big_pairs], pairs.distance[big_pairs]], axis=1
        ).astype(np.int64),
        big_groups,
    )


def image_components(
    images: pl.DataFrame,
    fetch: SignatureFetcher,
    *,
    max_distance: int,
    min_correlation: float,
) -> Components:
    """Exact and near duplicate sets of level-0 rows.

    Args:
        images: Level-0 rows sorted by (path, child_id), with ``row``,
            ``content_hash`` and ``phash``.
        fetch: Gives the signatures of report rows (called once, for the candidates).
        max_distance: Largest phash Hamming distance of a near pair.
        min_correlation: Smallest signature correlation that confirms a near pair.

    Returns:
        The component of each image row, in the order of ``images``.
    """
    nodes = _nodes(images)
    values = _Values.of(nodes)
    left, right, distance, big_pairs, big_groups = _candidates(values, max_distance)
    wanted = np.zeros(nodes.first.size, dtype=bool)
    wanted[left] = wanted[right] = True
    for u, v, _ in big_pairs:
        wanted[values.members(u)] = wanted[values.members(v)] = True
    for g in big_groups:
        wanted[values.members(g)] = True
    confirmer = _fetch(images, nodes, np.flatnonzero(wanted), fetch, min_correlation)
    confirmer.pairs(left, right, distance)
    for u, v, d in big_pairs:
        confirmer.block(values.members(u), values.members(v), int(d))
    for g in big_groups:
        confirmer.block(values.members(g), None, 0)
    logger.debug(
        "%d images, %d nodes, %d candidate rows, %d listed candidate pairs",
        images.height,
        nodes.first.size,
        int(wanted.sum()),
        left.size,
    )
    return _components(nodes, confirmer.union)


def _fetch(
    images: pl.DataFrame,
    nodes: _Nodes,
    candidates: np.ndarray,
    fetch: SignatureFetcher,
    min_correlation: float,
) -> _Confirmer:
    report_rows = images["row"].to_numpy().astype(np.int64)[nodes.first[candidates]]
    order = np.argsort(report_rows, kind="stable")
    rows = report_rows[order]
    signatures = Signatures(rows, fetch(rows) if rows.size else [])
    slot = np.full(nodes.first.size, -1, dtype=np.int64)
    slot[candidates[order]] = np.arange(rows.size)
    return _Confirmer(signatures, slot, min_correlation)


def _components(nodes: _Nodes, union: UnionFind) -> Components:
    roots = union.roots()
    joined = np.bincount(roots, minlength=roots.size)[roots] > 1  # per node
    root = roots[nodes.node]  # per image
    near = joined[nodes.node]
    exact = ~near & (nodes.size[nodes.node] > 1)
    in_set = near | exact
    component = np.where(in_set, root, -1).astype(np.int64)
    kind = np.full(root.size, None, dtype=object)
    kind[near], kind[exact] = "near", "exact"
    high, low = union.high()[nodes.node], union.low()[nodes.node]
    distance = np.where(near, high, 0).astype(np.int64)
    correlation = np.where(near, low, np.nan)
    return Components(component, kind, distance, correlation)
