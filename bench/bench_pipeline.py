"""Benchmark the processing pipeline on many small files.

    python bench/bench_pipeline.py [--files 1000] [--max-workers N] [--keep]

Generates ``--files`` small files (a few bytes each, unique content, nested folders) in a
temporary folder and measures, in one run:

(a) baselines: ``python -c pass`` startup, and a bare Snakemake no-op (a one-rule workflow
    whose output is already there; the second of two runs is timed);
(b) the full run: ``api.process_files`` with no loader and no processors;
(c) a rerun with nothing changed (target: at most 3 s);
(d) a rerun after adding one file (how many shards were processed again);
(e) ``pixel-patrol --help`` (median of 5).

Each figure is printed in seconds and as a ratio to the Snakemake no-op baseline, so the
numbers can be compared across machines. Not a test: it asserts only that the report holds
one row per file.
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
from pathlib import Path
from typing import Any

NO_CHANGE_TARGET_S = 3.0
TRIVIAL_SNAKEFILE = """\
rule all:
    input:
        "out.txt",


rule make:
    output:
        "out.txt",
    shell:
        "echo done > {output}"
"""


def _timed(cmd: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def _median_timed(cmd: list[str], cwd: Path, repeat: int) -> float:
    return statistics.median(_timed(cmd, cwd) for _ in range(repeat))


def generate_files(base: Path, n_files: int) -> None:
    """``n_files`` files of a few bytes with unique content, 3 folder levels deep."""
    for i in range(n_files):
        folder = base / f"plate_{i % 10:02d}" / f"well_{(i // 10) % 10:02d}"
        if i % 3 == 0:
            folder = folder / "sub"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file_{i:06d}.dat").write_bytes(f"content {i}\n".encode())


def snakemake_noop_s(tmp: Path) -> float:
    """Second run of a trivial one-rule workflow: Snakemake's fixed cost per run."""
    folder = tmp / "trivial_workflow"
    folder.mkdir()
    (folder / "Snakefile").write_text(TRIVIAL_SNAKEFILE, "utf-8")
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", "Snakefile", "--cores", "1"]
    _timed(cmd, folder)
    return _timed(cmd, folder)


def cli_path() -> str:
    beside = Path(sys.executable).parent / "pixel-patrol"
    found = str(beside) if beside.exists() else shutil.which("pixel-patrol")
    if found is None:
        raise SystemExit("pixel-patrol is not installed in this environment")
    return found


def run_benchmark(n_files: int, max_workers: int | None, tmp: Path) -> list[tuple[str, float]]:
    results: list[tuple[str, float]] = []
    notes: dict[str, Any] = {}

    results.append(("python -c pass", _median_timed([sys.executable, "-c", "pass"], tmp, 5)))
    noop = snakemake_noop_s(tmp)
    results.append(("snakemake no-op (baseline)", noop))

    data = tmp / "data"
    started = time.perf_counter()
    generate_files(data, n_files)
    notes["generate_s"] = time.perf_counter() - started

    started = time.perf_counter()
    import polars as pl

    from pixel_patrol_base import api

    notes["import_s"] = time.perf_counter() - started

    output = tmp / "out" / "bench.parquet"
    project = api.create_project("bench", data, output_path=output)

    def process() -> tuple[float, dict[str, Any]]:
        began = time.perf_counter()
        api.process_files(project, processors_included=set(), max_workers=max_workers)
        summary = dict(project.last_run or {})
        return time.perf_counter() - began, summary

    full_s, full = process()
    results.append((f"full run ({n_files} files)", full_s))
    rows = pl.read_parquet(output).filter(pl.col("obs_level") == 0).height
    if rows != n_files:
        raise SystemExit(f"the report holds {rows} file rows, expected {n_files}")

    same_s, same = process()
    results.append(("rerun, nothing changed", same_s))

    (data / "plate_00" / "added_file.dat").write_bytes(b"one more file\n")
    added_s, added = process()
    results.append(("rerun, one file added", added_s))
    rows = pl.read_parquet(output).filter(pl.col("obs_level") == 0).height
    if rows != n_files + 1:
        raise SystemExit(f"after adding a file the report holds {rows} rows, not {n_files + 1}")

    results.append(
        ("pixel-patrol --help (median of 5)", _median_timed([cli_path(), "--help"], tmp, 5))
    )

    width = max(len(name) for name, _ in results)
    print(f"\n{'step':<{width}}  {'seconds':>8}  {'x no-op':>8}")
    print(f"{'-' * width}  {'-' * 8}  {'-' * 8}")
    for name, seconds in results:
        print(f"{name:<{width}}  {seconds:8.2f}  {seconds / noop:8.2f}")
    print()
    print(
        f"files generated in {notes['generate_s']:.2f} s; pixel_patrol_base.api imported in "
        f"{notes['import_s']:.2f} s (not included above)"
    )
    print(
        f"full run:        shards {full.get('shards')}, processed {full.get('shards_processed')}, "
        f"rows {full.get('rows')}, workflow wall {full.get('wall_s')} s"
    )
    print(
        f"nothing changed: shards processed {same.get('shards_processed')}, reused "
        f"{same.get('shards_reused')} -> {'OK' if same_s <= NO_CHANGE_TARGET_S else 'SLOW'} "
        f"(target <= {NO_CHANGE_TARGET_S:.0f} s)"
    )
    print(
        f"one file added:  shards {added.get('shards')}, processed "
        f"{added.get('shards_processed')}, reused {added.get('shards_reused')}"
    )
    print(f"cpus: {os.cpu_count()}, python {sys.version.split()[0]}, max_workers {max_workers}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="number of files (default 1000)")
    parser.add_argument(
        "--max-workers", type=int, default=None, help="parallel jobs (default: all CPUs)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.files < 1:
        parser.error("--files must be at least 1")

    tmp = Path(tempfile.mkdtemp(prefix="pixel_patrol_bench_"))
    cwd = Path.cwd()
    os.chdir(tmp)  # whatever a run drops into its working directory stays in tmp
    try:
        run_benchmark(args.files, args.max_workers, tmp)
    finally:
        os.chdir(cwd)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
