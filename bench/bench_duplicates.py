"""Benchmark of the duplicate search (issue 17): banded Hamming search and set building.

    .venv/bin/python bench/bench_duplicates.py [--hashes 1000000] [--planted 10000]
        [--subset 20000] [--distance 6] [--sets-rows 1000000]

Each stage runs in its own Python process, so that its peak RSS is its own:

1. ``search``: ``--hashes`` random 64-bit hashes, with ``--planted`` pairs planted at
   distances cycling over 0..``--distance``; times :func:`near_pairs` (after a warm-up
   call that compiles the kernel) and reports the recall of the planted pairs.
2. ``brute``: the first ``--subset`` of those hashes (with pairs planted inside it):
   the brute-force scan (the baseline) and the banded search, checked equal.
3. ``sets``: :func:`find_duplicates` over ``--sets-rows`` level-0 rows (distinct
   content, random phash, the planted near pairs with confirming signatures, plus 1%
   exact copies), signatures fetched lazily from a generator.

Printed: seconds (wall and CPU), peak RSS, recall, and the ratios to the brute-force
baseline of the same run (speed-up at the subset size, and the brute force extrapolated
quadratically to the full size).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def _planted(n: int, planted: int, distance: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n random hashes with ``planted`` pairs (i, j, d) at distances 0..distance."""
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)
    ends = rng.permutation(n)[: 2 * planted].reshape(-1, 2)
    dists = np.arange(planted) % (distance + 1)
    for (i, j), d in zip(ends, dists, strict=True):
        bits = rng.choice(64, size=int(d), replace=False)
        hashes[j] = hashes[i] ^ np.uint64(sum(1 << int(b) for b in bits))
    pairs = np.column_stack([ends.min(axis=1), ends.max(axis=1), dists])
    return hashes, pairs


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(function, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _recall(found, planted: np.ndarray) -> float:
    n = int(max(found.right.max(initial=0), planted[:, 1].max(initial=0))) + 1
    keys = set((found.left * n + found.right).tolist())
    hits = sum(int(i) * n + int(j) in keys for i, j, _ in planted)
    return hits / max(1, len(planted))


def stage_search(args: argparse.Namespace) -> dict[str, float]:
    from pixel_patrol_base.duplicates.bands import plan_bands
    from pixel_patrol_base.duplicates.search import near_pairs

    hashes, planted = _planted(args.hashes, args.planted, args.distance, seed=1)
    plan = plan_bands(args.hashes, args.distance)
    _, compile_s, _ = _timed(near_pairs, hashes[:1000], args.distance, plan=plan)
    found, wall, cpu = _timed(near_pairs, hashes, args.distance)
    return {
        "hashes": args.hashes,
        "plan": str([(b.width, b.radius) for b in plan.bands]) if plan else "brute",
        "compile_s": compile_s,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_mib": _peak_mib(),
        "pairs": len(found),
        "recall": _recall(found, planted),
    }


def stage_brute(args: argparse.Namespace) -> dict[str, float]:
    from pixel_patrol_base.duplicates.bands import plan_bands
    from pixel_patrol_base.duplicates.search import brute_force_pairs, near_pairs

    hashes, planted = _planted(args.subset, args.planted // 10, args.distance, seed=2)
    near_pairs(hashes[:1000], args.distance, plan=plan_bands(args.subset, args.distance))
    brute, brute_wall, brute_cpu = _timed(brute_force_pairs, hashes, args.distance)
    plan = plan_bands(args.subset, args.distance)
    banded, wall, cpu = _timed(near_pairs, hashes, args.distance, plan=plan)
    equal = np.array_equal(banded.as_array(), brute.as_array()) and np.array_equal(
        banded.distance, brute.distance
    )
    return {
        "hashes": args.subset,
        "brute_wall_s": brute_wall,
        "brute_cpu_s": brute_cpu,
        "banded_wall_s": wall,
        "banded_cpu_s": cpu,
        "equal": float(equal),
        "recall": _recall(banded, planted),
    }


def stage_sets(args: argparse.Namespace) -> dict[str, float]:
    import polars as pl

    from pixel_patrol_base.duplicates import find_duplicates

    n = args.sets_rows
    hashes, planted = _planted(n, args.planted, args.distance, seed=3)
    content = np.arange(n).astype(str).astype(object)
    copies = np.random.default_rng(4).choice(n, size=n // 50, replace=False).reshape(-1, 2)
    content[copies[:, 1]] = content[copies[:, 0]]  # 1% exact copies (equal pixels)
    hashes[copies[:, 1]] = hashes[copies[:, 0]]
    partner = np.full(n, -1)
    partner[planted[:, 1]] = planted[:, 0]
    scene = np.random.default_rng(5).integers(0, 256, (97, 256)).astype(np.uint8)
    fetched = [0]

    def fetch(rows: np.ndarray) -> list[bytes | None]:
        fetched[0] += rows.size
        base = np.where(partner[rows] >= 0, partner[rows], rows)  # planted: one scene
        noise = np.random.default_rng(6).integers(-2, 3, (rows.size, 256))
        sigs = np.clip(scene[base % 97].astype(int) + noise, 0, 255).astype(np.uint8)
        sigs[:, 0] = base % 251  # distinct scenes for distinct images
        sigs[:, 1:9] = ((base[:, None] >> np.arange(0, 64, 8)) & 255).astype(np.uint8) * 9
        return [s.tobytes() for s in sigs]

    frame = pl.DataFrame(
        {
            "row": np.arange(n),
            "path": [f"d/{k:07d}.tif" for k in range(n)],
            "child_id": pl.Series([None] * n, dtype=pl.String),
            "obs_level": np.zeros(n, np.int16),
            "dim_t": pl.Series([None] * n, dtype=pl.Int64),
            "dim_c": pl.Series([None] * n, dtype=pl.Int64),
            "dim_z": pl.Series([None] * n, dtype=pl.Int64),
            "content_hash": pl.Series(content.tolist(), dtype=pl.String),
            "plane_hash": pl.Series([None] * n, dtype=pl.String),
            "phash": hashes.view(np.int64),
            "plane_noise_distance": pl.Series([None] * n, dtype=pl.Float64),
        }
    )
    start_mib = _peak_mib()
    result, wall, cpu = _timed(find_duplicates, frame, fetch)
    return {
        "rows": n,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_mib": _peak_mib(),
        "frame_peak_mib": start_mib,
        "signatures_fetched": fetched[0],
        **{k: float(v) for k, v in result.summary.items()},
    }


STAGES = {"search": stage_search, "brute": stage_brute, "sets": stage_sets}


def _run_stage(name: str, argv: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--stage", name, *argv],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--planted", type=int, default=10_000)
    parser.add_argument("--subset", type=int, default=20_000)
    parser.add_argument("--distance", type=int, default=6)
    parser.add_argument("--sets-rows", type=int, default=1_000_000)
    parser.add_argument("--stage", choices=sorted(STAGES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(STAGES[args.stage](args)))
        return
    argv = sys.argv[1:]
    brute = _run_stage("brute", argv)
    print(
        f"baseline  brute force, {brute['hashes']:,} hashes: {brute['brute_wall_s']:.2f} s "
        f"(cpu {brute['brute_cpu_s']:.2f} s)"
    )
    speedup = brute["brute_cpu_s"] / max(brute["banded_cpu_s"], 1e-9)
    print(
        f"banded    {brute['hashes']:,} hashes: {brute['banded_wall_s']:.3f} s "
        f"(cpu {brute['banded_cpu_s']:.3f} s), {speedup:.0f}x faster (cpu), equal to "
        f"brute force: {bool(brute['equal'])}, recall {brute['recall']:.4f}"
    )
    search = _run_stage("search", argv)
    scale = (search["hashes"] / brute["hashes"]) ** 2
    print(
        f"banded    {search['hashes']:,} hashes, plan {search['plan']}: {search['wall_s']:.2f} s "
        f"(cpu {search['cpu_s']:.2f} s; kernel compile {search['compile_s']:.2f} s), peak "
        f"RSS {search['peak_mib']:.0f} MiB, {search['pairs']:,} pairs, recall "
        f"{search['recall']:.4f}; brute force extrapolated x{scale:.0f}: "
        f"{brute['brute_cpu_s'] * scale:.0f} s cpu, ratio "
        f"{brute['brute_cpu_s'] * scale / max(search['cpu_s'], 1e-9):.0f}"
    )
    sets = _run_stage("sets", argv)
    print(
        f"sets      {sets['rows']:,} rows: {sets['wall_s']:.2f} s (cpu {sets['cpu_s']:.2f} s), "
        f"peak RSS {sets['peak_mib']:.0f} MiB (frame built: {sets['frame_peak_mib']:.0f}), "
        f"{sets['signatures_fetched']:,.0f} signatures fetched, {sets['near_sets']:,.0f} near "
        f"and {sets['exact_sets']:,.0f} exact sets, {sets['images_in_sets']:,.0f} images"
    )


if __name__ == "__main__":
    main()
