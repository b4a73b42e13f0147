"""Significance brackets: pairwise Mann-Whitney U tests with a Bonferroni correction.

NumPy and the standard library only. The p-value uses the normal approximation with a
tie correction and a continuity correction (as ``scipy.stats.mannwhitneyu(...,
method="asymptotic")`` does); it is the Streamlit runtime's only statistic.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Bracket:
    """One pairwise comparison between two groups."""

    group_a: str
    group_b: str
    u_statistic: float
    p_value: float
    p_adjusted: float
    stars: str


def _rank(values: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], float]:
    """Average ranks (1-based) and the tie term sum(t^3 - t)."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    _, first, counts = np.unique(sorted_values, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat(avg, counts)
    tie = float(np.sum(counts.astype(np.float64) ** 3 - counts))
    return ranks, tie


def mann_whitney_u(a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[float, float]:
    """Two-sided Mann-Whitney U test: ``(U of a, p-value)``; NaNs are dropped.

    Returns ``p = 1.0`` when either sample is empty or all values are equal.
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    x = x[np.isfinite(x)]
    y = y[np.isfinite(y)]
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        return float("nan"), 1.0
    ranks, tie = _rank(np.concatenate([x, y]))
    u1 = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2.0)
    n = n1 + n2
    mean = n1 * n2 / 2.0
    var = n1 * n2 / 12.0 * ((n + 1) - tie / (n * (n - 1)))
    if var <= 0:
        return u1, 1.0
    z = (abs(u1 - mean) - 0.5) / math.sqrt(var)
    p = math.erfc(max(z, 0.0) / math.sqrt(2.0))
    return u1, min(1.0, p)


def _stars(p: float) -> str:
    if p < 0.001:
        return "***"
    if p < 0.01:
        return "**"
    if p < 0.05:
        return "*"
    return "ns"


def mann_whitney_brackets(groups: Mapping[str, npt.ArrayLike]) -> list[Bracket]:
    """Every pair of groups, in group order, with Bonferroni-adjusted p-values.

    Args:
        groups: Group label -> values (NaNs ignored). Fewer than two groups give ``[]``.

    Returns:
        One :class:`Bracket` per pair; ``p_adjusted = min(1, p * number of pairs)`` and
        ``stars`` from it (``***`` < 0.001, ``**`` < 0.01, ``*`` < 0.05, else ``ns``).
    """
    pairs = list(itertools.combinations(groups, 2))
    out = []
    for a, b in pairs:
        u, p = mann_whitney_u(groups[a], groups[b])
        adjusted = min(1.0, p * len(pairs))
        out.append(Bracket(str(a), str(b), u, p, adjusted, _stars(adjusted)))
    return out
