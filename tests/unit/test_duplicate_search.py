"""The banded Hamming search finds exactly the pairs of the brute-force scan."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixel_patrol_base.duplicates.bands import (
    MAX_BANDED_DISTANCE,
    Band,
    BandPlan,
    plan_bands,
)
from pixel_patrol_base.duplicates.search import (
    brute_force_pairs,
    near_pairs,
    popcount,
    popcount_swar,
)
from pixel_patrol_base.errors import InvalidInputError

R = 6


def _planted(n: int, r: int, per_distance: int, seed: int) -> tuple[np.ndarray, list[tuple]]:
    """n random hashes; for each distance 0..r+1, ``per_distance`` copies at that
    distance of a random hash. Returns the hashes and the planted (i, j, d)."""
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)
    targets = rng.choice(n, size=2 * (r + 2) * per_distance, replace=False).reshape(-1, 2)
    planted = []
    for k, (i, j) in enumerate(targets):
        d = k % (r + 2)
        bits = rng.choice(64, size=d, replace=False)
        mask = np.uint64(sum(1 << int(b) for b in bits))
        hashes[j] = hashes[i] ^ mask
        planted.append((min(i, j), max(i, j), d))
    return hashes, planted


def _python_pairs(hashes: np.ndarray, r: int) -> list[tuple[int, int, int]]:
    """All pairs by plain Python integers (independent of numpy's bit operations)."""
    values = [int(h) for h in hashes]
    return [
        (i, j, bin(values[i] ^ values[j]).count("1"))
        for i in range(len(values))
        for j in range(i + 1, len(values))
        if bin(values[i] ^ values[j]).count("1") <= r
    ]


def _triples(pairs) -> list[tuple[int, int, int]]:
    return list(
        zip(pairs.left.tolist(), pairs.right.tolist(), pairs.distance.tolist(), strict=True)
    )


@pytest.fixture(scope="module")
def planted_20k() -> tuple[np.ndarray, list[tuple]]:
    return _planted(20_000, R, per_distance=25, seed=17)


@pytest.fixture(scope="module")
def brute_20k(planted_20k):
    return brute_force_pairs(planted_20k[0], R)


@pytest.mark.parametrize(
    "plan",
    [
        None,  # chosen for 20,000 hashes
        plan_bands(1_000_000, R),  # the 1M plan: four 16-bit bands
        BandPlan((Band(0, 22, 2), Band(22, 21, 1), Band(43, 21, 1))),
        BandPlan((Band(52, 12, 6),)),  # one band, its radius alone covers r
        BandPlan(tuple(Band(9 * k, 9, 0) for k in range(7))),  # pure pigeonhole
    ],
    ids=["auto", "plan-1M", "22-21-21", "one-band", "seven-bands"],
)
def test_banded_equals_brute_force_on_20000_hashes(planted_20k, brute_20k, plan) -> None:
    hashes, planted = planted_20k
    expected = brute_20k
    found = near_pairs(hashes, R, plan=plan)
    assert np.array_equal(found.as_array(), expected.as_array())
    assert np.array_equal(found.distance, expected.distance)
    # Every planted pair within R is found, at its distance; those at R + 1 are not.
    triples = set(_triples(found))
    for i, j, d in planted:
        assert ((i, j, d) in triples) == (d <= R)
    assert len(found) >= sum(d <= R for *_, d in planted)


def test_brute_force_equals_plain_python() -> None:
    hashes, _ = _planted(400, 8, per_distance=6, seed=3)
    for r in (0, 3, 8, 40):
        assert _triples(brute_force_pairs(hashes, r)) == _python_pairs(hashes, r)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 120),
    r=st.integers(0, 12),
    width=st.integers(1, 24),
)
def test_banded_equals_brute_force_on_clustered_hashes(
    seed: int, n: int, r: int, width: int
) -> None:
    """Hashes near a few centres (many pairs), any band width, the r + 1 units of
    radius shared round-robin over the bands: the same pairs as brute force."""
    rng = np.random.default_rng(seed)
    words = rng.integers(0, 2**64, (4, max(n, 1)), dtype=np.uint64, endpoint=False)
    centres = words[0, :4] if n >= 4 else words[0, :1]
    sparse = words[1, :n] & words[2, :n] & words[3, :n]  # about 8 bits set
    hashes = centres[rng.integers(0, centres.size, n)] ^ sparse
    shifts = list(range(0, 64, width))
    units = r + 1
    bands = []
    for k, shift in enumerate(shifts):
        radius = units // len(shifts) + (k < units % len(shifts)) - 1
        if radius >= 0:
            bands.append(Band(shift, min(width, 64 - shift), radius))
    plan = BandPlan(tuple(bands))
    expected = brute_force_pairs(hashes, r)
    for found in (near_pairs(hashes, r, plan=plan), near_pairs(hashes, r)):
        assert np.array_equal(found.as_array(), expected.as_array())
        assert np.array_equal(found.distance, expected.distance)


def test_equal_hashes_give_every_pair_at_distance_zero() -> None:
    hashes = np.full(60, 0x0123456789ABCDEF, dtype=np.uint64)
    found = near_pairs(hashes, R, plan=plan_bands(1_000_000, R))
    i, j = np.triu_indices(60, 1)
    assert np.array_equal(found.left, i) and np.array_equal(found.right, j)
    assert not found.distance.any()


def test_a_large_equal_group_outgrows_the_pair_buffer() -> None:
    """One query with more pairs than the kernel's buffer holds (2**16) still finds all."""
    hashes = np.zeros(400, dtype=np.uint64)  # 400 queries of up to 399 pairs each
    hashes[::2] = 1
    found = near_pairs(hashes, 0, plan=BandPlan((Band(0, 8, 0),)))
    assert len(found) == 2 * (200 * 199 // 2)
    big = np.zeros(1200, dtype=np.uint64)  # 719,400 pairs
    assert len(near_pairs(big, 1, plan=plan_bands(1_000_000, 1))) == 1200 * 1199 // 2


def test_empty_and_single_inputs() -> None:
    for hashes in (np.empty(0, np.uint64), np.array([7], np.uint64)):
        for plan in (None, plan_bands(1_000_000, R)):
            found = near_pairs(hashes, R, plan=plan)
            assert len(found) == 0 and found.as_array().shape == (0, 2)
        assert len(brute_force_pairs(hashes, R)) == 0


def test_signed_hashes_are_read_bit_for_bit() -> None:
    unsigned = np.array([0, 2**63, 2**63 + 1, 2**64 - 1, 3], dtype=np.uint64)
    signed = unsigned.view(np.int64)  # negative values among them
    plans = {
        1: BandPlan((Band(0, 24, 1),)),
        2: BandPlan((Band(40, 24, 0), Band(0, 24, 1))),
        62: BandPlan(tuple(Band(8 * k, 8, 7) for k in range(8))),
    }
    for r, plan in plans.items():
        expected = _python_pairs(unsigned, r)
        assert _triples(near_pairs(signed, r, plan=plan)) == expected
        assert _triples(brute_force_pairs(signed, r)) == expected


def test_popcount_matches_python() -> None:
    rng = np.random.default_rng(5)
    values = rng.integers(0, 2**64, 5000, dtype=np.uint64, endpoint=False)
    values[:3] = [0, 2**64 - 1, 2**63]
    expected = [bin(int(v)).count("1") for v in values]
    assert popcount(values).tolist() == expected
    assert popcount_swar(values).tolist() == expected


@pytest.mark.parametrize("n", [2, 1000, 20_000, 1_000_000])
def test_every_plan_covers_its_distance(n: int) -> None:
    for r in range(65):
        plan = plan_bands(n, r)
        if plan is None:
            continue
        assert r <= MAX_BANDED_DISTANCE
        assert plan.max_distance >= r  # Σ (radius + 1) > r
        assert sum(band.width for band in plan.bands) <= 64
    assert plan_bands(n, MAX_BANDED_DISTANCE + 1) is None


def test_invalid_inputs_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="1-D int64 or uint64"):
        near_pairs(np.zeros((2, 2), np.uint64), 1)
    with pytest.raises(InvalidInputError, match="1-D int64 or uint64"):
        brute_force_pairs(np.zeros(3, np.float64), 1)
    with pytest.raises(InvalidInputError, match="max_distance must be 0 to 64"):
        near_pairs(np.zeros(3, np.uint64), 65)
    with pytest.raises(InvalidInputError, match="only up to distance 1"):
        near_pairs(np.zeros(3, np.uint64), 2, plan=BandPlan((Band(0, 16, 0), Band(16, 16, 0))))
    with pytest.raises(InvalidInputError, match="overlaps"):
        BandPlan((Band(0, 16, 0), Band(8, 16, 0)))
    with pytest.raises(InvalidInputError, match="outside"):
        BandPlan((Band(50, 20, 0),))
    with pytest.raises(InvalidInputError, match="1 to 24 bits"):
        BandPlan((Band(0, 25, 0),))
