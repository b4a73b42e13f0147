"""Connected components of confirmed pairs, streamed: a union-find with set aggregates.

Belongs here: :class:`UnionFind`, which takes edges in batches (so that the edges of a
large group never have to be held at once) and keeps, per component, the largest and
the smallest value of the edges that joined it (the sets' distance and correlation).
Not here: which edges (:mod:`.images`, :mod:`.planes`).

The loop over edges is a numba kernel (:func:`~pixel_patrol_base.imaging.kernels.lazy.compiled`,
compiled at its first call): union by smaller root index and path halving, O(α(n)) per
edge. A group of 10,000 images that all confirm each other gives 5·10⁷ edges; the kernel
takes them in well under a second, where a Python loop would take a minute.
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_base.imaging.kernels.lazy import compiled


@compiled
def _union_edges(
    parent: np.ndarray,
    facts: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    edges: np.ndarray,
) -> None:
    # facts[0] / edges[0]: the values kept as maxima; facts[1] / edges[1]: as minima.
    for e in range(left.size):
        a = left[e]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        b = right[e]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if b < a:
            a, b = b, a
        if a != b:
            parent[b] = a
            facts[0, a] = max(facts[0, a], facts[0, b])
            facts[1, a] = min(facts[1, a], facts[1, b])
        facts[0, a] = max(facts[0, a], edges[0, e])
        facts[1, a] = min(facts[1, a], edges[1, e])


class UnionFind:
    """Components over ``n`` nodes, joined by edges given in batches.

    Each component keeps the largest ``high`` and the smallest ``low`` value of the
    edges inside it (``-inf`` and ``+inf`` for a node alone).

    Args:
        n: Number of nodes (0 to n − 1).
    """

    def __init__(self, n: int) -> None:
        self._parent = np.arange(n, dtype=np.int64)
        self._facts = np.stack([np.full(n, -np.inf), np.full(n, np.inf)])

    def union(
        self,
        left: np.ndarray,
        right: np.ndarray,
        high: np.ndarray | float = 0.0,
        low: np.ndarray | float = 0.0,
    ) -> None:
        """Join ``left[k]`` with ``right[k]`` for every k, each edge carrying its values."""
        left = np.ascontiguousarray(left, dtype=np.int64)
        right = np.ascontiguousarray(right, dtype=np.int64)
        if left.size == 0:
            return
        edges = np.empty((2, left.size), dtype=np.float64)
        edges[0], edges[1] = high, low
        _union_edges(self._parent, self._facts, left, right, edges)

    def roots(self) -> np.ndarray:
        """The root (smallest node) of each node's component."""
        parent = self._parent
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                self._parent = parent
                return parent.copy()
            parent = grand

    def high(self) -> np.ndarray:
        """Per node, the largest edge ``high`` of its component (``-inf``: no edge)."""
        return np.asarray(self._facts[0, self.roots()])

    def low(self) -> np.ndarray:
        """Per node, the smallest edge ``low`` of its component (``+inf``: no edge)."""
        return np.asarray(self._facts[1, self.roots()])
