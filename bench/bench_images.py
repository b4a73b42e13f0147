"""Benchmark image processing through the real pipeline (issue 3).

    python bench/bench_images.py [--files 1000] [--loader bioio] [--dest DIR] [--skip-large]
                                 [--repeat N] [--previous-tool EXE]

Generates about ``--files`` image files (default 1,000: 1024×1024 uint16 TIFFs, 5-plane
OME-TIFF Z stacks, 8-bit PNG and JPEG, and the kinds of issue 14's second dataset:
float32 TIFFs with 10 % NaN, 3-channel OME-TIFFs, 10-plane ImageJ stacks and RGB JPEGs;
about 2.5 GB) and measures, in one run:

(a) the floor: plain numpy over the same files, in as many processes as the pipeline
    uses: read each file (tifffile / imageio), then min, max, mean, std and a 256-bin
    histogram in one go;
(b) ``pixel-patrol process`` with raster-basic + raster-histogram;
(c) ``pixel-patrol process`` with the default processors (all six), and without
    ``raster-qc`` (issue 16's metrics may add at most 25% to the defaults' CPU time);
(d) unless ``--skip-large``: one 1.5 GiB Z stack processed with ``--mb-per-task 128``
    (peak RSS).

Each run prints its wall time, CPU seconds (the whole process tree), MB/s, peak RSS of
the largest process, and for the pipeline runs the CPU seconds of each processor (from
the report footer). Ratios compare with the floor measured in the same run. The default
run is compared with the previous tool: with ``--previous-tool EXE`` (PixelPatrol 1.0.1's
``pixel-patrol``, which needs Python >= 3.12:
``uv venv --python 3.12 /tmp/pp101 && uv pip install --python /tmp/pp101/bin/python
pixel-patrol==1.0.1``) it is run on the same files with its default processors in the same
run; otherwise its figures from the issue (55 s wall, 78 CPU s on 2 cores) are used.

``--repeat N`` repeats every run N times, interleaved, and reports the medians and their
spread: this shared machine's speed drifts by 10-20% from one minute to the next. Not a
test: it asserts only that every file has a row.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from bench_processors import SIDE, make_images  # this folder: same synthetic planes

PREVIOUS_TOOL_WALL_S = 55.0
PREVIOUS_TOOL_CPU_S = 78.0
LARGE_SHAPE = (6, 16384, 8192)  # uint16: 1.5 GiB


@dataclass
class Run:
    """What one measured piece of work cost."""

    name: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    processor_cpu_s: dict[str, float]
    jobs_cpu_s: float = 0.0
    """CPU seconds of the shard jobs' own work (imports and Snakemake excluded)."""


def generate(dest: Path, n_files: int) -> int:
    """Write the dataset (skipped when ``dest`` already holds it); returns its bytes."""
    import imageio.v3 as iio
    import tifffile

    marker = dest / f".complete-{n_files}-v2"  # v2: the kinds of issue 14's second dataset
    if not marker.exists():
        shutil.rmtree(dest, ignore_errors=True)
        planes = make_images(16, seed=0)
        # (kind, share): the rest are plain 1024x1024 uint16 TIFFs
        kinds = [("stack", 50), ("png", 25), ("jpeg", 25), ("nan", 25), ("ome_c3", 50),
                 ("imagej_z10", 50), ("rgb_jpeg", 25)]  # fmt: skip
        starts, start = {}, 0
        for kind, share in kinds:
            starts[kind] = (start, start + n_files // share)
            start += n_files // share
        for i in range(n_files):
            folder = dest / f"plate_{i % 4}"
            folder.mkdir(parents=True, exist_ok=True)
            kind = next((k for k, (a, b) in starts.items() if a <= i < b), "tif")
            _write_one(folder, i, kind, planes, tifffile, iio)
        marker.touch()
    return sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())


def _write_one(
    folder: Path, i: int, kind: str, planes: list[np.ndarray], tifffile: Any, iio: Any
) -> None:
    """One file of the dataset: ``kind`` says which (see :func:`generate`)."""
    plane = planes[i % len(planes)]

    def stack(depth: int) -> np.ndarray:
        return np.stack([planes[(i + k) % len(planes)] for k in range(depth)])

    if kind == "stack":
        tifffile.imwrite(folder / f"stack_{i:04d}.ome.tif", stack(5), metadata={"axes": "ZYX"})
    elif kind == "png":
        iio.imwrite(folder / f"image_{i:04d}.png", (plane >> 8).astype(np.uint8))
    elif kind == "jpeg":
        iio.imwrite(folder / f"image_{i:04d}.jpg", (plane >> 8).astype(np.uint8))
    elif kind == "nan":  # float32 with a tenth of its pixels NaN
        image = plane.astype(np.float32)
        image.ravel()[(i * 7919 + np.arange(0, image.size, 10)) % image.size] = np.nan
        tifffile.imwrite(folder / f"float_{i:04d}.tif", image)
    elif kind == "ome_c3":  # 3-channel OME-TIFF
        tifffile.imwrite(folder / f"channels_{i:04d}.ome.tif", stack(3), metadata={"axes": "CYX"})
    elif kind == "imagej_z10":  # 10-plane ImageJ hyperstack
        tifffile.imwrite(folder / f"imagej_{i:04d}.tif", stack(10), imagej=True,
                         metadata={"axes": "ZYX"})  # fmt: skip
    elif kind == "rgb_jpeg":
        rgb = np.stack([(p >> 8).astype(np.uint8) for p in stack(3)], axis=-1)
        iio.imwrite(folder / f"rgb_{i:04d}.jpg", rgb)
    else:
        tifffile.imwrite(folder / f"image_{i:04d}.tif", plane)


def _floor_one(path: str) -> float:
    """Read one file and compute the floor's statistics; returns the worker's peak RSS (MB)."""
    import resource

    if path.endswith((".tif", ".tiff")):
        import tifffile

        image = tifffile.imread(path)
    else:
        import imageio.v3 as iio

        image = iio.imread(path)
    if image.dtype.kind == "f":  # the NaN images: statistics of the finite pixels
        image = image[np.isfinite(image)]
    low, high = image.min(), image.max()
    image.mean()
    image.std()
    np.histogram(image, bins=256, range=(float(low), float(high)))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_floor(data: Path, workers: int) -> Run:
    """The floor, in ``workers`` processes (a fresh pool; RSS as its workers report it)."""
    files = sorted(str(p) for p in data.rglob("*") if p.is_file() and not p.name.startswith("."))
    cpu0 = _children_cpu()
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        rss = max(pool.map(_floor_one, files, chunksize=16))
    wall = time.perf_counter() - started
    return Run("floor (numpy read + stats + hist)", wall, _children_cpu() - cpu0, rss, {})


def run_command(name: str, command: list[str]) -> tuple[float, float, float]:
    """Run ``command``; (wall s, CPU s and peak RSS MB of its whole process tree)."""
    with tempfile.TemporaryFile("w+") as log:  # a file, not a pipe: a chatty tool can't block
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        if status != 0:
            log.seek(0)
            raise SystemExit(f"{name} failed:\n{log.read()[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def run_pipeline(name: str, args: list[str]) -> Run:
    """``pixel-patrol process ...`` as a child process; CPU and RSS of its whole tree."""
    command = [sys.executable, "-m", "pixel_patrol_base.cli", "process", *args]
    wall, cpu, rss = run_command(name, command)
    from pixel_patrol_base.table.footer import read_metadata

    timings = read_metadata(Path(args[args.index("-o") + 1])).timings
    return Run(
        name,
        wall,
        cpu,
        rss,
        dict(timings.get("processor_cpu_s", {})),
        float(timings.get("process_cpu_s", 0.0)),
    )


def run_previous(executable: str, data: Path, output: Path, workers: int) -> Run:
    """The previous tool (PixelPatrol 1.0.1's ``pixel-patrol``) with its default processors."""
    name = "previous tool (PixelPatrol 1.0.1)"
    command = [executable, "process", str(data), "-o", str(output), "-l", "bioio"]
    output.unlink(missing_ok=True)
    wall, cpu, rss = run_command(name, [*command, "--max-workers", str(workers)])
    return Run(name, wall, cpu, rss, {})


def median_run(runs: list[Run]) -> Run:
    """The run of median CPU time, with the median wall time and the largest peak RSS."""
    middle = sorted(runs, key=lambda run: run.cpu_s)[len(runs) // 2]
    return replace(
        middle,
        wall_s=statistics.median(run.wall_s for run in runs),
        peak_rss_mb=max(run.peak_rss_mb for run in runs),
    )


def spread(runs: list[Run]) -> str:
    """Range of wall and CPU seconds over repeated runs."""
    walls, cpus = [r.wall_s for r in runs], [r.cpu_s for r in runs]
    return (
        f"{runs[0].name}: wall {min(walls):.1f}-{max(walls):.1f} s, "
        f"CPU {min(cpus):.1f}-{max(cpus):.1f} s over {len(runs)} runs"
    )


def write_large(path: Path) -> int:
    """A 1.5 GiB uncompressed ZYX OME-TIFF, written plane by plane."""
    import tifffile

    planes = make_images(4, seed=1)
    depth, rows, cols = LARGE_SHAPE
    tiles_y, tiles_x = rows // SIDE, cols // SIDE

    def plane(z: int) -> np.ndarray:
        base = planes[z % len(planes)]
        return np.tile(base, (tiles_y, tiles_x))

    tifffile.imwrite(
        path,
        (plane(z) for z in range(depth)),
        shape=LARGE_SHAPE,
        dtype=np.uint16,
        metadata={"axes": "ZYX"},
    )
    return path.stat().st_size


def _print(runs: list[Run], megabytes: float, floor: Run) -> None:
    print(f"{'run':<40}{'wall s':>8}{'CPU s':>8}{'MB/s':>8}{'RSS MB':>8}{'× floor':>9}")
    for run in runs:
        rate = megabytes / run.wall_s
        ratio = floor.wall_s / run.wall_s
        print(
            f"{run.name:<40}{run.wall_s:>8.1f}{run.cpu_s:>8.1f}{rate:>8.0f}"
            f"{run.peak_rss_mb:>8.0f}{ratio:>9.2f}"
        )
    for run in runs:
        if run.processor_cpu_s:
            parts = ", ".join(f"{k} {v:.1f}" for k, v in run.processor_cpu_s.items())
            print(f"  {run.name}: shard jobs' work {run.jobs_cpu_s:.1f} CPU s, of which {parts}")


def run_large(scratch: Path, common: list[str]) -> None:
    """(d): one 1.5 GiB Z stack at ``--mb-per-task 128``; prints its cost and peak RSS."""
    large_dir = scratch / "large"
    large_dir.mkdir()
    size = write_large(large_dir / "large.ome.tif")
    large = run_pipeline(
        "1.5 GiB Z stack, --mb-per-task 128",
        [
            str(large_dir),
            "-o",
            str(scratch / "large.parquet"),
            *common,
            "--mb-per-task",
            "128",
        ],
    )
    print(
        f"1.5 GiB image ({size / 2**30:.2f} GiB on disk), --mb-per-task 128: "
        f"wall {large.wall_s:.1f} s, CPU {large.cpu_s:.1f} s, peak RSS "
        f"{large.peak_rss_mb:.0f} MB = {large.peak_rss_mb / 128:.1f} × mb_per_task"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--loader", default="bioio")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--dest", type=Path, help="dataset folder (kept; reused when complete)")
    parser.add_argument("--skip-large", action="store_true", help="skip the 1.5 GiB image")
    parser.add_argument("--repeat", type=int, default=1, help="report medians of N runs")
    parser.add_argument(
        "--previous-tool",
        metavar="EXE",
        help="PixelPatrol 1.0.1's pixel-patrol executable, measured in the same run",
    )
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="pp-bench-images-"))
    data = args.dest or scratch / "data"
    try:
        started = time.perf_counter()
        nbytes = generate(data, args.files)
        megabytes = nbytes / 1e6
        print(
            f"{args.files} files, {megabytes:.0f} MB, written in "
            f"{time.perf_counter() - started:.0f} s; loader {args.loader}, "
            f"{args.workers} workers"
        )
        common = ["-l", args.loader, "--max-workers", str(args.workers), "--clean"]
        pair_only = ["--processors-include", "raster-basic,raster-histogram"]
        without_qc = ["--processors-exclude", "raster-qc"]
        repeats: list[list[Run]] = []
        for _ in range(max(1, args.repeat)):
            runs = [
                run_floor(data, args.workers),
                run_pipeline(
                    "pipeline: raster-basic + raster-histogram",
                    [str(data), "-o", str(scratch / "pair.parquet"), *common, *pair_only],
                ),
                run_pipeline(
                    "pipeline: default processors (all six)",
                    [str(data), "-o", str(scratch / "all.parquet"), *common],
                ),
                run_pipeline(
                    "pipeline: defaults without raster-qc",
                    [str(data), "-o", str(scratch / "no_qc.parquet"), *common, *without_qc],
                ),
            ]
            if args.previous_tool:
                previous_out = scratch / "previous.parquet"
                runs.append(run_previous(args.previous_tool, data, previous_out, args.workers))
            repeats.append(runs)
        medians = [median_run([r[i] for r in repeats]) for i in range(len(repeats[0]))]
        floor, pair, default, no_qc = medians[:4]
        import polars as pl

        rows = pl.scan_parquet(scratch / "all.parquet").filter(pl.col("obs_level") == 0)
        files_with_rows = rows.select(pl.col("path").n_unique()).collect().item()
        assert files_with_rows == args.files, (files_with_rows, args.files)
        _print(medians, megabytes, floor)
        if len(repeats) > 1:
            for i in range(len(medians)):
                print("  " + spread([r[i] for r in repeats]))
        print(
            f"basic + histogram throughput / floor throughput = "
            f"{floor.wall_s / pair.wall_s:.2f} (target ≥ 0.5)"
        )
        print(
            f"raster-qc: the defaults take {default.cpu_s / no_qc.cpu_s:.2f} × the CPU time "
            f"and {default.wall_s / no_qc.wall_s:.2f} × the wall time of the defaults "
            "without it (target ≤ 1.25)"
        )
        if args.previous_tool:
            previous, source = medians[4], "measured in this run"
        else:
            previous = Run("previous", PREVIOUS_TOOL_WALL_S, PREVIOUS_TOOL_CPU_S, 0.0, {})
            source = "figures from the issue, not from this run"
        print(
            f"default processors: {default.wall_s / previous.wall_s:.2f} of the previous "
            f"tool's wall time and {default.cpu_s / previous.cpu_s:.2f} of its CPU time "
            f"(target < 0.25; {source}); its CPU time is "
            f"{default.cpu_s / floor.cpu_s:.2f} × the floor's"
        )
        if not args.skip_large:
            run_large(scratch, common)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
