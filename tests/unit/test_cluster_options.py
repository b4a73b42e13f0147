"""SLURM partition/account overrides and the Dask scheduler check, without a cluster."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from pixel_patrol_base import resources
from pixel_patrol_base.errors import SchedulerUnreachableError, SettingsError
from pixel_patrol_base.pipeline.run.runner import snakemake_command
from pixel_patrol_base.pipeline.run.scheduler import check_scheduler
from pixel_patrol_base.pipeline.run.slurm import ACCOUNT_ENV, PARTITION_ENV, slurm_arguments

SLURM = resources.profiles_dir() / "slurm"


def test_shipped_slurm_profile_groups_shards_and_asks_squeue() -> None:
    config = yaml.safe_load((SLURM / "config.yaml").read_text("utf-8"))
    assert config["executor"] == "slurm"
    assert config["groups"] == {"process_shard": "shards"}
    assert config["group-components"]["shards"] > 1
    assert config["slurm-status-command"] == "squeue"
    assert config["retries"] >= 1


def test_partition_and_account_keep_the_profile_defaults() -> None:
    args = slurm_arguments(SLURM, {PARTITION_ENV: "short", ACCOUNT_ENV: " lab42 "})
    assert args[0] == "--default-resources"
    assert sorted(args[1:]) == sorted(
        ["mem_mb=1000", "runtime=30", "slurm_partition='short'", "slurm_account='lab42'"]
    )


def test_no_override_without_env_or_for_other_executors() -> None:
    assert slurm_arguments(SLURM, {}) == []
    assert slurm_arguments(SLURM, {PARTITION_ENV: "  "}) == []
    local = resources.profiles_dir() / "local"
    assert slurm_arguments(local, {PARTITION_ENV: "short"}) == []


def test_runner_passes_the_partition_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PARTITION_ENV, "gpu")
    command = snakemake_command(tmp_path / "config.yaml", "slurm", 4)
    assert "slurm_partition='gpu'" in command
    assert command[command.index("--cores") + 1] == "4"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_scheduler_is_a_settings_error_naming_it() -> None:
    address = f"tcp://127.0.0.1:{_closed_port()}"
    with pytest.raises(SchedulerUnreachableError, match=address) as info:
        check_scheduler(address, timeout_s=2)
    assert isinstance(info.value, SettingsError)


def test_bad_port_is_named() -> None:
    with pytest.raises(SchedulerUnreachableError, match="no valid port"):
        check_scheduler("tcp://127.0.0.1:notaport")


def test_scheduler_that_accepts_connections_passes() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        check_scheduler(f"tcp://127.0.0.1:{server.getsockname()[1]}", timeout_s=2)
