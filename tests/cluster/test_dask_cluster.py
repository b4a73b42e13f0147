"""The external Dask cluster path: a live scheduler with two workers, and one that is gone."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from cluster_helpers import local_table, sorted_rows, write_images
from distributed import Client
from pipeline_helpers import deadline

from pixel_patrol_base import api
from pixel_patrol_base.errors import SchedulerUnreachableError

pytestmark = pytest.mark.cluster

SETTINGS = {"max_images_per_task": 6, "mb_per_task": 1.0, "slice_size": {"Y": 32}}
"""Images of 4 x 64 x 48 pixels cut into 32-row blocks: several Dask tasks per image."""


def executed_tasks(client: Client) -> dict[str, int]:
    """Tasks each worker of the cluster has executed so far."""
    counts: dict[str, int] = client.run(lambda dask_worker: dask_worker.state.executed_count)
    return counts


def test_active_client_runs_the_array_work_on_the_cluster(
    dask_scheduler: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    write_images(data, 4, seed=11, shape=(4, 64, 48))
    local = local_table(data, tmp_path / "local.parquet", **SETTINGS)

    project = api.create_project(
        "dask", data, loader="tifffile", output_path=tmp_path / "dask.parquet"
    )
    with Client(dask_scheduler, timeout=30) as client:
        before = executed_tasks(client)
        with deadline(300):
            api.process_files(project, max_workers=2, **SETTINGS)
        after = executed_tasks(client)

    assert len(after) == 2
    ran = {worker: after[worker] - before.get(worker, 0) for worker in after}
    assert sum(ran.values()) > 0, ran
    settings = api.load(project.output_path)[1].settings
    assert settings["scheduler"] == dask_scheduler
    df = sorted_rows(api.load(project.output_path)[0])
    assert df.filter(pl.col("obs_level") == 1).height > 0
    assert df.equals(local)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_scheduler_fails_at_once_naming_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_images(data, 1, seed=3)
    address = f"tcp://127.0.0.1:{_free_port()}"
    project = api.create_project(
        "gone", data, loader="tifffile", output_path=tmp_path / "r.parquet"
    )
    with deadline(30), pytest.raises(SchedulerUnreachableError, match=address):
        api.process_files(project, scheduler=address)
    assert not project.workdir.exists() or not (project.workdir / "chunks").exists()

    cli = [sys.executable, "-m", "pixel_patrol_base.cli", "process", str(data)]
    done = subprocess.run(
        [*cli, "-o", str(tmp_path / "r.parquet"), "--scheduler", address],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert address in done.stderr
    assert "Traceback" not in done.stderr
