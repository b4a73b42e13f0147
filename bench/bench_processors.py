"""Throughput of the pixel engine and its processors on in-memory images.

Generates N (default 200) microscopy-like 1024×1024 uint16 images in memory and prints:

* CPU seconds and MB/s of each processor alone, of raster-basic + raster-histogram
  together, of the five processors before ``raster-qc`` together, and of all six (one
  ``process_image`` call per image, as a shard job makes them);
* the same for a "floor": plain numpy, one pass per statistic, min/max/mean/std and a
  256-bin ``np.histogram`` of each image;
* the ratio of the basic + histogram throughput to the floor's (target: at least 0.5);
* the CPU time of all six over that of the five without ``raster-qc`` (issue 16's
  budget: at most 1.25).

Usage::

    .venv/bin/python bench/bench_processors.py [--images 200] [--repeat 1]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

import numpy as np

from pixel_patrol_base.imaging.engine import process_image
from pixel_patrol_base.plugins.contracts import ImageInfo, Processor
from pixel_patrol_base.plugins.registry import get_processor

SIDE = 1024
IDS = (
    "raster-basic",
    "raster-histogram",
    "thumbnail",
    "raster-quality",
    "raster-compression",
    "raster-qc",
)
WITHOUT_QC = IDS[:-1]


def make_images(count: int, seed: int = 0) -> list[np.ndarray]:
    """Smooth structure (upsampled noise), bright spots and shot-like noise, as uint16."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        coarse = rng.gamma(2.0, 300.0, size=(SIDE // 32, SIDE // 32))
        image = np.kron(coarse, np.ones((32, 32)))
        spots = rng.integers(0, SIDE, size=(40, 2))
        image[spots[:, 0], spots[:, 1]] += 20000
        image += rng.normal(0.0, 30.0, size=(SIDE, SIDE))
        images.append(np.clip(image, 0, 65535).astype(np.uint16))
    return images


def floor(image: np.ndarray) -> None:
    """The baseline: what plain numpy needs for the same statistics."""
    low, high = image.min(), image.max()
    image.mean()
    image.std()
    np.histogram(image, bins=256, range=(float(low), float(high)))


def timed(
    images: Sequence[np.ndarray], work: Callable[[np.ndarray], object]
) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of ``work`` over every image."""
    cpu, wall = time.process_time(), time.perf_counter()
    for image in images:
        work(image)
    return time.process_time() - cpu, time.perf_counter() - wall


def engine(processors: list[Processor]) -> Callable[[np.ndarray], object]:
    info = ImageInfo(None, "YX", (SIDE, SIDE), "uint16")

    def run(image: np.ndarray) -> object:
        return process_image(image, info, processors, slice_size={}, mb_per_task=256)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs")
    args = parser.parse_args()
    images = make_images(args.images)
    megabytes = sum(image.nbytes for image in images) / 1e6
    processors = {pid: get_processor(pid) for pid in IDS}
    engine([processors[p] for p in IDS])(images[0])  # warm caches and imports

    def best(work: Callable[[np.ndarray], object]) -> tuple[float, float]:
        return min((timed(images, work) for _ in range(args.repeat)), key=lambda t: t[0])

    print(f"{args.images} images of {SIDE}×{SIDE} uint16, {megabytes:.0f} MB in memory")
    print(f"{'work':<34}{'CPU s':>8}{'wall s':>8}{'MB/s':>9}{'ms/image':>10}")
    results: dict[str, tuple[float, float]] = {}
    runs: list[tuple[str, Callable[[np.ndarray], object]]] = [
        ("floor (numpy min/max/mean/std/hist)", floor),
        *((pid, engine([processors[pid]])) for pid in IDS),
        ("raster-basic + raster-histogram", engine([processors[p] for p in IDS[:2]])),
        ("five processors (no raster-qc)", engine([processors[p] for p in WITHOUT_QC])),
        ("all six processors", engine([processors[p] for p in IDS])),
    ]
    for name, work in runs:
        cpu, wall = results[name] = best(work)
        rate, per_image = megabytes / cpu, 1e3 * cpu / len(images)
        print(f"{name:<34}{cpu:>8.2f}{wall:>8.2f}{rate:>9.0f}{per_image:>10.2f}")
    floor_cpu = results[runs[0][0]][0]
    pair_cpu = results["raster-basic + raster-histogram"][0]
    ratio = floor_cpu / pair_cpu
    print(f"basic + histogram throughput / floor throughput = {ratio:.2f} (target ≥ 0.5)")
    with_qc = results["all six processors"][0] / results["five processors (no raster-qc)"][0]
    print(f"CPU with raster-qc / without = {with_qc:.3f} (target ≤ 1.25)")


if __name__ == "__main__":
    main()
