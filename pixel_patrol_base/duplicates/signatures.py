"""Signatures of candidate rows and their Pearson correlations.

Belongs here: :class:`Signatures` (the fetched signatures as centred unit vectors, and
the correlation of pairs or blocks of them) and :data:`SignatureFetcher`, the lazy way
to get them. Not here: which rows are candidates (:mod:`.images`).

A signature is a byte string of uint8 values (a small normalised image, e.g. 16×16 mean
pooled). Its Pearson correlation with another is the dot product of the two vectors
after subtracting each one's mean and dividing by its norm. A signature that is missing
(``None``) or constant has no correlation: its pairs are never confirmed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from pixel_patrol_base.errors import InvalidInputError

SignatureFetcher = Callable[[np.ndarray], Sequence[bytes | None]]
"""Given sorted, distinct report row indices (int64), their signatures in that order."""

PAIR_BLOCK = 1 << 14
"""Most pairs correlated at once (two gathered float32 blocks of the signature length)."""

MATRIX_BLOCK = 1 << 22
"""Most correlations computed at once by a block product."""


class Signatures:
    """The signatures of some report rows, as centred unit float32 vectors.

    Args:
        rows: Sorted, distinct report row indices.
        raw: Their signatures, in the same order.

    Raises:
        InvalidInputError: When ``raw`` does not give one signature per row, or the
            signatures do not all have the same length.
    """

    def __init__(self, rows: np.ndarray, raw: Sequence[bytes | None]) -> None:
        if len(raw) != rows.size:
            raise InvalidInputError(
                f"the signature fetcher returned {len(raw)} signatures for {rows.size} rows"
            )
        lengths = {len(item) for item in raw if item is not None}
        if len(lengths) > 1:
            raise InvalidInputError(
                f"signatures of several lengths {sorted(lengths)}: the report mixes "
                "signature formats; process the dataset again with one version"
            )
        length = lengths.pop() if lengths else 1
        vectors = np.full((rows.size, length), np.nan, dtype=np.float32)
        for k, item in enumerate(raw):
            if item is not None:
                vectors[k] = np.frombuffer(item, dtype=np.uint8)
        vectors -= vectors.mean(axis=1, keepdims=True)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            vectors /= norms  # constant rows: 0/0 = NaN, never confirmed
        self.rows = rows
        self.vectors = vectors

    def positions(self, rows: np.ndarray) -> np.ndarray:
        """Where each of ``rows`` (all fetched) lies in :attr:`vectors`."""
        return np.searchsorted(self.rows, rows)

    def pairs(self, left: np.ndarray, right: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
        """Correlations of ``vectors[left[k]]`` with ``vectors[right[k]]`` (NaN: none), by
        blocks: each block's slice of the pairs and its correlations."""
        for a in range(0, left.size, PAIR_BLOCK):
            part = slice(a, a + PAIR_BLOCK)
            product = self.vectors[left[part]] * self.vectors[right[part]]
            yield part, product.sum(axis=1, dtype=np.float64)

    def block(
        self, first: np.ndarray, second: np.ndarray, *, upper: bool, threshold: float
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The correlations of ``vectors[first[i]]`` with ``vectors[second[j]]`` that reach
        ``threshold``, by row blocks of a matrix product.

        Yields (i, j, correlation) arrays; with ``upper``, ``first`` and ``second`` are
        the same list and only ``i < j`` is yielded.
        """
        rows = max(1, MATRIX_BLOCK // max(1, second.size))
        right = self.vectors[second]
        for a in range(0, first.size, rows):
            left = self.vectors[first[a : a + rows]]
            skip = a if upper else 0  # columns j ≤ i are not needed
            product = left @ right[skip:].T
            if upper:
                product[np.tril_indices(left.shape[0])] = np.nan
            i, j = np.nonzero(product >= threshold)  # NaN: no correlation
            yield i + a, j + skip, product[i, j].astype(np.float64)
