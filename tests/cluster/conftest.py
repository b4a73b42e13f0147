"""Fixtures of the cluster tests: a live single-node SLURM, a live Dask cluster, tiny images.

Everything here is real: the daemons are started by these fixtures (when none runs) and
stopped by PID afterwards. Every wait has a deadline that fails the test.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from slurm_harness import LocalSlurm

DASK_START_TIMEOUT_S = 60.0


@pytest.fixture(scope="session")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSlurm]:
    """A live SLURM: the one already running, or a single node started on 127.0.0.1."""
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def dask_scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Address of a live ``dask scheduler`` with two ``dask worker`` processes on 127.0.0.1."""
    from distributed import Client

    root = tmp_path_factory.mktemp("dask")
    scheduler_file = root / "scheduler.json"
    python = [sys.executable, "-m"]
    common = ["--no-dashboard"]
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], name: str) -> None:
        with (root / f"{name}.log").open("wb") as log:
            procs.append(
                subprocess.Popen(
                    args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
                )
            )

    try:
        start(
            [
                *python,
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--scheduler-file",
                str(scheduler_file),
                *common,
            ],
            "scheduler",
        )
        deadline = time.monotonic() + DASK_START_TIMEOUT_S
        while not scheduler_file.exists():
            if procs[0].poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"dask scheduler did not start: {(root / 'scheduler.log').read_text()[-2000:]}",
                    pytrace=False,
                )
            time.sleep(0.2)
        for i in range(2):
            start(
                [
                    *python,
                    "distributed.cli.dask_worker",
                    "--scheduler-file",
                    str(scheduler_file),
                    "--nthreads",
                    "1",
                    "--nworkers",
                    "1",
                    "--name",
                    f"w{i}",
                    *common,
                ],
                f"worker{i}",
            )
        with Client(scheduler_file=str(scheduler_file), timeout=30) as client:
            client.wait_for_workers(2, timeout=DASK_START_TIMEOUT_S)
            address = str(client.scheduler.address)  # type: ignore[no-untyped-call]
        yield address
    finally:
        _stop(procs)
