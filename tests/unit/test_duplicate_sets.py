"""Duplicate sets from hand-made hash frames: exact, near, plane, empties, stable ids."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
import pytest

from pixel_patrol_base.duplicates import DuplicateRules, find_duplicates
from pixel_patrol_base.errors import InvalidInputError

RNG = np.random.default_rng(11)
SCENE = RNG.integers(0, 256, 256).astype(np.uint8)
OTHER = RNG.integers(0, 256, 256).astype(np.uint8)


def _jitter(signature: np.ndarray, amount: int, seed: int) -> bytes:
    noise = np.random.default_rng(seed).integers(-amount, amount + 1, signature.size)
    return np.clip(signature.astype(int) + noise, 0, 255).astype(np.uint8).tobytes()


def _corr(a: bytes, b: bytes) -> float:
    return float(np.corrcoef(np.frombuffer(a, np.uint8), np.frombuffer(b, np.uint8))[0, 1])


def _image(path: str, content: str | None, phash: int | None, signature: bytes | None, **kw):
    return {
        "path": path,
        "child_id": kw.get("child_id"),
        "obs_level": 0,
        "content_hash": content,
        "phash": phash,
        "signature": signature,
    }


def _plane(path: str, plane_hash: str, noise: float | None, **dims: int):
    return {
        "path": path,
        "child_id": None,
        "obs_level": len(dims),
        "plane_hash": plane_hash,
        "plane_noise_distance": noise,
        **{f"dim_{axis}": index for axis, index in dims.items()},
    }


def _frame(records: Sequence[dict]) -> pl.DataFrame:
    schema = {
        "row": pl.Int64,
        "path": pl.String,
        "child_id": pl.String,
        "obs_level": pl.Int16,
        "dim_t": pl.Int64,
        "dim_c": pl.Int64,
        "dim_z": pl.Int64,
        "content_hash": pl.String,
        "plane_hash": pl.String,
        "phash": pl.Int64,
        "plane_noise_distance": pl.Float64,
        "signature": pl.Binary,
    }
    rows = [{**dict.fromkeys(schema), **r, "row": k} for k, r in enumerate(records)]
    return pl.DataFrame(rows, schema=schema)


def _sets(found) -> dict[tuple[str, ...], str]:
    """(sorted member paths with plane indices) → kind."""
    out = {}
    for row in found.sets.iter_rows(named=True):
        planes = row["planes"] or [None] * len(row["paths"])
        members = tuple(
            p if q is None else f"{p}[{q}]" for p, q in zip(row["paths"], planes, strict=True)
        )
        out[members] = row["duplicate_kind"]
    return out


def test_equal_content_hash_across_formats_is_one_exact_set() -> None:
    sig = SCENE.tobytes()
    found = find_duplicates(
        _frame(
            [
                _image("b/cells.tif", "h1", 99, sig),
                _image("a/cells.png", "h1", 99, sig),
                _image("c/cells.zarr", "h1", 99, sig),
                _image("other.tif", "h2", 2**40, OTHER.tobytes()),
            ]
        )
    )
    assert _sets(found) == {("a/cells.png", "b/cells.tif", "c/cells.zarr"): "exact"}
    row = found.sets.row(0, named=True)
    assert row["distance"] == 0 and row["correlation"] is None
    assert row["rows"] == [1, 0, 2]
    assert found.assignments["row"].to_list() == [0, 1, 2]
    assert set(found.assignments["duplicate_of"]) == {"a/cells.png"}
    assert found.summary["exact_sets"] == 1 and found.summary["images_in_sets"] == 3


def test_near_pair_confirmed_by_correlation() -> None:
    original, copy = SCENE.tobytes(), _jitter(SCENE, 4, seed=1)
    found = find_duplicates(
        _frame(
            [
                _image("raw16.tif", "h1", 0b1011, original),
                _image("jpeg.jpg", "h2", 0b1011 ^ (1 << 5) ^ (1 << 60), copy),
            ]
        )
    )
    assert _sets(found) == {("jpeg.jpg", "raw16.tif"): "near"}
    row = found.sets.row(0, named=True)
    assert row["distance"] == 2
    assert row["correlation"] == pytest.approx(_corr(original, copy), abs=1e-5)
    assert row["duplicate_of"] == "jpeg.jpg"


def test_near_pair_rejected_by_correlation_or_distance() -> None:
    shifted = np.roll(SCENE, 37).tobytes()
    assert _corr(SCENE.tobytes(), shifted) < 0.95
    records = [
        _image("a.tif", "h1", 0, SCENE.tobytes()),
        _image("shifted.tif", "h2", 1, shifted),  # close hash, signature does not confirm
        _image("far.tif", "h3", 0x7F, SCENE.tobytes()),  # 7 bits from a.tif: too far
    ]
    found = find_duplicates(_frame(records))
    assert _sets(found) == {}
    loose = find_duplicates(_frame(records), rules=DuplicateRules(near_max_distance=7))
    assert _sets(loose) == {("a.tif", "far.tif"): "near"}


def test_near_sets_are_transitive_and_skip_failed_pairs() -> None:
    """a–b and b–c confirm (a–c: 8 bits apart, never a candidate) → one set; d is close
    to a in hash but uncorrelated → alone."""
    sig = SCENE.tobytes()
    found = find_duplicates(
        _frame(
            [
                _image("a.tif", "ha", 0, sig),
                _image("b.tif", "hb", 0x0F, _jitter(SCENE, 2, 2)),
                _image("c.tif", "hc", 0xFF, _jitter(SCENE, 2, 3)),
                _image("d.tif", "hd", 0x100, OTHER.tobytes()),
            ]
        )
    )
    assert _sets(found) == {("a.tif", "b.tif", "c.tif"): "near"}
    assert found.sets["distance"].to_list() == [4]


def test_exact_copies_join_a_near_set_as_members() -> None:
    sig = SCENE.tobytes()
    found = find_duplicates(
        _frame(
            [
                _image("x.tif", "h1", 5, sig),
                _image("x.png", "h1", 5, sig),
                _image("x.jpg", "h2", 7, _jitter(SCENE, 3, 4)),
                _image("y.tif", "h3", 2**50, OTHER.tobytes()),
                _image("y.png", "h3", 2**50, OTHER.tobytes()),
            ]
        )
    )
    assert _sets(found) == {
        ("y.png", "y.tif"): "exact",
        ("x.jpg", "x.png", "x.tif"): "near",
    }
    assert found.sets["duplicate_kind"].to_list() == ["exact", "near"]
    assert found.summary == {
        "sets": 2,
        "exact_sets": 1,
        "near_sets": 1,
        "plane_sets": 0,
        "images_in_sets": 5,
        "planes_in_sets": 0,
        "images_with_duplicate_planes": 0,
    }


def test_empty_images_pair_only_as_exact_copies() -> None:
    found = find_duplicates(
        _frame(
            [
                _image("dark1.tif", "e1", None, None),
                _image("dark2.tif", "e2", None, None),
                _image("dark3.tif", "e1", None, None),
                _image("broken.tif", None, None, None),
                _image("broken2.tif", None, None, None),
            ]
        )
    )
    assert _sets(found) == {("dark1.tif", "dark3.tif"): "exact"}


def test_constant_signatures_never_confirm() -> None:
    flat = bytes(256)
    found = find_duplicates(_frame([_image("a", "h1", 1, flat), _image("b", "h2", 1, flat)]))
    assert _sets(found) == {}


def test_plane_duplicates_by_hash_and_by_noise_distance(caplog) -> None:
    found = find_duplicates(
        _frame(
            [
                _image("stack.tif", "s", 1, SCENE.tobytes()),
                _plane("stack.tif", "p0", None, z=0),
                _plane("stack.tif", "p1", 1.6, z=1),
                _plane("stack.tif", "p2", 0.2, z=2),  # copy + jitter of z=1
                _plane("stack.tif", "p3", 1.4, z=3),
                _plane("stack.tif", "p0", 1.5, z=4),  # exact copy of z=0
                _plane("movie.tif", "m0", None, t=0, c=0),
                _plane("movie.tif", "m1", 0.49, t=1, c=0),  # T stack: duplicate of t=0
                _plane("movie.tif", "m2", 0.1, t=0, c=1),  # no predecessor: warned, ignored
                _plane("movie.tif", "m0", None, t=0, c=2),  # equal hash in another channel
                _plane("other.tif", "p0", None, z=0),  # equal hash, other image
            ]
        )
    )
    assert _sets(found) == {
        ("movie.tif[t=0 c=0]", "movie.tif[t=0 c=2]", "movie.tif[t=1 c=0]"): "plane",
        ("stack.tif[z=0]", "stack.tif[z=4]"): "plane",
        ("stack.tif[z=1]", "stack.tif[z=2]"): "plane",
    }
    noise = dict(zip(found.sets["duplicate_of"], found.sets["noise_distance"], strict=False))
    assert noise["movie.tif"] == pytest.approx(0.49)
    assert sorted(found.sets["noise_distance"].to_list()) == [0.0, 0.2, 0.49]
    assert found.sets["distance"].null_count() == 3
    assert found.summary["plane_sets"] == 3
    assert found.summary["planes_in_sets"] == 7
    assert found.summary["images_with_duplicate_planes"] == 2
    assert "1 planes closer than noise to a previous plane that is not in" in caplog.text


def test_set_ids_do_not_depend_on_row_order() -> None:
    records = [
        _image("a.tif", "h1", 5, SCENE.tobytes()),
        _image("a.png", "h1", 5, SCENE.tobytes()),
        _image("b.jpg", "h2", 6, _jitter(SCENE, 3, 9)),
        _image("c.tif", "h3", 2**33, OTHER.tobytes()),
        _image("c.png", "h3", 2**33, OTHER.tobytes()),
        _plane("s.tif", "p", None, z=0),
        _plane("s.tif", "p", None, z=1),
    ]
    first = find_duplicates(_frame(records))
    order = [6, 3, 0, 5, 2, 4, 1]
    second = find_duplicates(_frame([records[k] for k in order]))
    by_path = [
        dict(zip(f.sets["duplicate_set"], f.sets["paths"].to_list(), strict=True))
        for f in (first, second)
    ]
    assert by_path[0] == by_path[1]
    assert all(s.startswith("dup-") and len(s) == 16 for s in by_path[0])
    assert first.sets.drop("rows").equals(second.sets.drop("rows"))


def test_signatures_are_fetched_once_for_candidates_only() -> None:
    unrelated = np.random.default_rng(2).integers(-(2**63), 2**63 - 1, 200, dtype=np.int64)
    records = [_image(f"u{k}.tif", f"h{k}", int(h), None) for k, h in enumerate(unrelated)]
    records += [
        _image("near1.tif", "n1", 3, None),
        _image("near2.tif", "n2", 3 ^ 8, None),
    ]
    frame = _frame(records).drop("signature")
    signatures = {200: SCENE.tobytes(), 201: _jitter(SCENE, 2, 5)}
    calls: list[list[int]] = []

    def fetch(rows: np.ndarray) -> list[bytes | None]:
        calls.append(rows.tolist())
        return [signatures.get(r) for r in rows.tolist()]

    found = find_duplicates(frame, fetch)
    assert _sets(found) == {("near1.tif", "near2.tif"): "near"}
    assert calls == [[200, 201]]
    with pytest.raises(InvalidInputError, match="signature"):
        find_duplicates(frame)


def test_large_groups_of_one_hash_stay_linear_or_blocked() -> None:
    """10,000 identical images: one exact set, no signature fetched. 300 distinct
    images sharing one phash, in two scenes: two near sets, as plain numpy says."""
    identical = [_image(f"copy{k:05d}.tif", "same", 42, None) for k in range(10_000)]
    calls: list[int] = []

    def never(rows: np.ndarray) -> list[bytes | None]:
        calls.append(rows.size)
        return [None] * rows.size

    found = find_duplicates(_frame(identical).drop("signature"), never)
    assert found.sets.height == 1 and found.summary["images_in_sets"] == 10_000
    assert calls == []

    scenes = [SCENE if k % 2 else OTHER for k in range(300)]
    group = [_image(f"g{k:03d}", f"h{k}", 7, _jitter(s, 3, k)) for k, s in enumerate(scenes)]
    found = find_duplicates(_frame(group))
    vectors = np.stack([np.frombuffer(r["signature"], np.uint8) for r in group])
    confirmed = np.corrcoef(vectors) >= 0.95
    # Components of the thresholded matrix, by repeated boolean reachability.
    reach = confirmed.copy()
    while True:
        grown = (reach.astype(np.int32) @ confirmed.astype(np.int32)) > 0
        if np.array_equal(grown, reach):
            break
        reach = grown
    expected = {tuple(sorted(f"g{j:03d}" for j in np.flatnonzero(row))) for row in reach}
    assert set(_sets(found)) == {m for m in expected if len(m) > 1}
    assert len(expected) == 2


def test_bad_input_is_refused() -> None:
    frame = _frame([_image("a", "h", 1, SCENE.tobytes())])
    with pytest.raises(InvalidInputError, match="phash"):
        find_duplicates(frame.drop("phash"))
    with pytest.raises(InvalidInputError, match="distinct"):
        find_duplicates(pl.concat([frame, frame]))
    mixed = _frame([_image("a", "h1", 1, SCENE.tobytes()), _image("b", "h2", 1, bytes(16))])
    with pytest.raises(InvalidInputError, match="several lengths"):
        find_duplicates(mixed)
    with pytest.raises(InvalidInputError, match="near_max_distance"):
        DuplicateRules(near_max_distance=65)
