"""Scale benchmark (issue 14): many files, few jobs, against PixelPatrol 1.0.1.

    python bench/bench_scale.py [--dest DIR] [--previous-tool EXE] [--workers 2]
                                [--files 20000 200000 1000000] [--images 10000 50000]
                                [--previous-max 200000] [--skip-reruns]

Generates, under ``--dest`` (kept and reused between invocations; default a temporary
folder, removed at the end):

* ``files-N``: N one-byte files in nested folders (100 per folder, 100 folders per
  parent), processed with ``-l none`` (file information only);
* ``images-N``: N 128×128 uint16 TIFFs (1,000 per folder), processed with ``-l bioio``
  and the default processors.

Each dataset is processed by ``pixel-patrol process --max-workers W`` in a fresh workdir,
and, with ``--previous-tool EXE`` (PixelPatrol 1.0.1's ``pixel-patrol``, see
``bench/README.md``), by the previous tool on the same files in the same invocation, up to
``--previous-max`` files (PixelPatrol 1.0.1 takes about 500 s per million files). For each
it prints wall seconds, CPU seconds (the whole process tree), peak RSS of the largest
process, our shard count and the merge job's peak RSS, and the ratios ours / previous.
Then, unless ``--skip-reruns``, a rerun with nothing changed of every file dataset, and
one with a file added at the largest of at most 200,000 files (with the shards processed
again).

Not a test: it asserts only that every file has a row.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bench_images import run_command  # this folder: wall, CPU and RSS of a process tree

FILES_PER_FOLDER = 100
IMAGES_PER_FOLDER = 1000
IMAGE_SIDE = 128
RERUN_AT_MOST = 200_000


@dataclass
class Measured:
    """What one run of one tool on one dataset cost."""

    wall_s: float
    cpu_s: float
    rss_mb: float
    shards: int | None = None
    merge_rss_mb: float | None = None
    shard_cpu_s: float = 0.0
    """CPU seconds of the shard jobs (Snakemake's benchmark files), all together."""
    merge_cpu_s: float = 0.0


def _ready(folder: Path) -> bool:
    return (folder / ".complete").is_file()


def make_files(folder: Path, n: int) -> Path:
    """``n`` one-byte files, 100 per folder and 100 folders per parent (kept when done)."""
    if _ready(folder):
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    for i in range(n):
        sub = folder / f"p{i // 10_000:03d}" / f"d{(i // FILES_PER_FOLDER) % 100:02d}"
        if i % FILES_PER_FOLDER == 0:
            sub.mkdir(parents=True)
        (sub / f"f{i:07d}.tif").write_bytes(b"x")
    (folder / ".complete").write_text(str(n))
    return folder


def _cells(rng: np.random.Generator) -> np.ndarray:
    """A plane of a dozen bright blobs on a noisy background, as a fluorescence field."""
    yy, xx = np.mgrid[:IMAGE_SIDE, :IMAGE_SIDE]
    plane = np.zeros((IMAGE_SIDE, IMAGE_SIDE))
    for y, x, r in zip(
        *rng.uniform(8, IMAGE_SIDE - 8, (2, 12)), rng.uniform(2, 6, 12), strict=True
    ):
        plane += 2000 * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * r * r))
    return (rng.poisson(plane + 100)).astype(np.uint16)


def make_images(folder: Path, n: int) -> Path:
    """``n`` 128×128 uint16 TIFFs of blobs (16 distinct fields, each shifted by a few
    grey levels), 1,000 per folder."""
    import tifffile

    if _ready(folder):
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    rng = np.random.default_rng(14)
    planes = [_cells(rng) for _ in range(16)]
    for i in range(n):
        sub = folder / f"plate{i // IMAGES_PER_FOLDER:03d}"
        if i % IMAGES_PER_FOLDER == 0:
            sub.mkdir(parents=True)
        tifffile.imwrite(sub / f"img{i:06d}.tif", planes[i % len(planes)] + (i % 7))
    (folder / ".complete").write_text(str(n))
    return folder


def _workdir(output: Path) -> Path:
    from pixel_patrol_base.project import workdir_for

    return workdir_for(output.resolve())


def _benchmark(table: Path) -> dict[str, str]:
    """The last row of one of Snakemake's benchmark files (empty when there is none)."""
    if not table.is_file():
        return {}
    rows = list(csv.DictReader(table.read_text("utf-8").splitlines(), delimiter="\t"))
    return rows[-1] if rows else {}


def _summary(workdir: Path) -> dict[str, object]:
    from pixel_patrol_base.pipeline.run import layout

    loaded: dict[str, object] = json.loads((workdir / layout.SUMMARY).read_text("utf-8"))
    return loaded


def run_ours(data: Path, output: Path, loader: list[str], workers: int) -> Measured:
    """``pixel-patrol process`` as a user runs it; the summary and merge RSS from its workdir."""
    command = [sys.executable, "-m", "pixel_patrol_base.cli", "process", str(data)]
    command += ["-o", str(output), *loader, "--max-workers", str(workers)]
    started = time.time()
    wall, cpu, rss = run_command("pixel-patrol", command)
    workdir = _workdir(output)
    summary = _summary(workdir)
    shard_cpu = sum(  # the shards of this run: those reused keep their old benchmark file
        float(_benchmark(table).get("cpu_time", 0.0))
        for table in (workdir / "benchmarks" / "shards").glob("*.tsv")
        if table.stat().st_mtime >= started
    )
    table = workdir / "benchmarks" / "merge.tsv"
    merge = _benchmark(table) if table.is_file() and table.stat().st_mtime >= started else {}
    return Measured(
        wall,
        cpu,
        rss,
        int(summary["shards"]),  # type: ignore[call-overload]
        float(merge["max_rss"]) if merge else None,
        shard_cpu,
        float(merge.get("cpu_time", 0.0)),
    )


def run_previous(
    executable: str, data: Path, output: Path, loader: list[str], workers: int
) -> Measured:
    """PixelPatrol 1.0.1: no ``-l`` means file information only there."""
    output.unlink(missing_ok=True)
    previous_loader = [] if loader == ["-l", "none"] else loader
    command = [executable, "process", str(data), "-o", str(output), *previous_loader]
    wall, cpu, rss = run_command("previous tool", [*command, "--max-workers", str(workers)])
    return Measured(wall, cpu, rss)


def _rows(output: Path) -> int:
    import polars as pl

    return int(
        pl.scan_parquet(output).filter(pl.col("obs_level") == 0).select(pl.len()).collect().item()
    )


def _line(name: str, ours: Measured, previous: Measured | None) -> str:
    text = (
        f"{name:<14} ours {ours.wall_s:7.1f} s wall {ours.cpu_s:7.1f} CPU s {ours.rss_mb:6.0f} MB"
    )
    text += f" {ours.shards} shard{'' if ours.shards == 1 else 's'}"
    if ours.merge_rss_mb is not None:
        text += f", merge {ours.merge_rss_mb:.0f} MB"
    rest = ours.cpu_s - ours.shard_cpu_s - ours.merge_cpu_s
    text += (
        f" (CPU s: shard jobs {ours.shard_cpu_s:.1f}, merge {ours.merge_cpu_s:.1f}, "
        f"plan + Snakemake + CLI {rest:.1f})"
    )
    if previous is not None:
        text += (
            f" | 1.0.1 {previous.wall_s:7.1f} s wall {previous.cpu_s:7.1f} CPU s "
            f"{previous.rss_mb:6.0f} MB | ratio wall {ours.wall_s / previous.wall_s:.2f}, "
            f"CPU {ours.cpu_s / previous.cpu_s:.2f}"
        )
    return text


def _reset(output: Path) -> None:
    output.unlink(missing_ok=True)
    shutil.rmtree(_workdir(output), ignore_errors=True)


def measure(
    name: str, data: Path, loader: list[str], args: argparse.Namespace, n: int, out: Path
) -> Path:
    """Ours (fresh workdir), then the previous tool; prints one line."""
    output = out / f"{name}.parquet"
    _reset(output)
    ours = run_ours(data, output, loader, args.workers)
    assert _rows(output) == n, f"{name}: not every file has a row"
    previous = None
    if args.previous_tool and n <= args.previous_max:
        previous = run_previous(
            args.previous_tool, data, out / f"{name}-1.0.1.parquet", loader, args.workers
        )
    print(_line(name, ours, previous), flush=True)
    return output


def rerun_unchanged(name: str, data: Path, output: Path, workers: int) -> None:
    """The same command again, nothing changed (target: 5 s at 200k files, 15 s at 1M)."""
    same = run_ours(data, output, ["-l", "none"], workers)
    print(f"{name} rerun, nothing changed: {same.wall_s:.1f} s wall, {same.cpu_s:.1f} CPU s")


def rerun_added(name: str, data: Path, output: Path, workers: int) -> None:
    """One file added (removed again afterwards); target 10 s at 200k files."""
    loader = ["-l", "none"]
    added = data / "p000" / "d00" / "f-added.tif"
    added.write_bytes(b"y")
    try:
        grown = run_ours(data, output, loader, workers)
        processed = _summary(_workdir(output))["shards_processed"]
        print(
            f"{name} rerun, one file added: {grown.wall_s:.1f} s wall, {grown.cpu_s:.1f} CPU s, "
            f"{processed} of {grown.shards} shards processed"
        )
    finally:
        added.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, help="keep (and reuse) the datasets here")
    parser.add_argument("--previous-tool", help="PixelPatrol 1.0.1's pixel-patrol executable")
    parser.add_argument("--previous-max", type=int, default=200_000, help="largest dataset for it")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--files", type=int, nargs="*", default=[20_000, 200_000, 1_000_000])
    parser.add_argument("--images", type=int, nargs="*", default=[10_000, 50_000])
    parser.add_argument("--skip-reruns", action="store_true")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    dest = args.dest or scratch
    dest.mkdir(parents=True, exist_ok=True)
    out = scratch / "out"
    out.mkdir()
    try:
        print(f"workers {args.workers}; data under {dest}", flush=True)
        outputs = {}
        for n in args.files:
            name = f"files-{n}"
            outputs[n] = (
                make_files(dest / name, n),
                measure(name, dest / name, ["-l", "none"], args, n, out),
            )
        for n in args.images:
            name = f"images-{n}"
            measure(name, make_images(dest / name, n), ["-l", "bioio"], args, n, out)
        if not args.skip_reruns:
            for n, (data, output) in outputs.items():
                rerun_unchanged(f"files-{n}", data, output, args.workers)
            rerun_at = [n for n in outputs if n <= RERUN_AT_MOST]
            if rerun_at:
                n = max(rerun_at)
                rerun_added(f"files-{n}", *outputs[n], args.workers)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
