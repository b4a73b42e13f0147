"""SLURM partition and account from the environment, for runs with a SLURM profile.

What belongs here: turning ``PIXEL_PATROL_SLURM_PARTITION`` / ``PIXEL_PATROL_SLURM_ACCOUNT``
into Snakemake arguments. What does not: starting Snakemake (:mod:`.runner`).

A ``--default-resources`` given on the command line replaces the profile's whole
``default-resources`` mapping, so the profile's own entries are repeated with the
partition and account added.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

PARTITION_ENV = "PIXEL_PATROL_SLURM_PARTITION"
"""Environment variable naming the SLURM partition of every job."""
ACCOUNT_ENV = "PIXEL_PATROL_SLURM_ACCOUNT"
"""Environment variable naming the SLURM account charged for every job."""


def _profile_config(profile_folder: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load((profile_folder / "config.yaml").read_text("utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def slurm_arguments(profile_folder: Path, environ: Mapping[str, str] | None = None) -> list[str]:
    """Snakemake arguments setting partition and account, when the profile submits to SLURM.

    Returns an empty list for a profile whose executor is not ``slurm`` and when neither
    environment variable is set.
    """
    env = os.environ if environ is None else environ
    config = _profile_config(profile_folder)
    if config.get("executor") != "slurm":
        return []
    overrides = {
        key: env[name].strip()
        for key, name in (("slurm_partition", PARTITION_ENV), ("slurm_account", ACCOUNT_ENV))
        if env.get(name, "").strip()
    }
    if not overrides:
        return []
    defaults = config.get("default-resources") or {}
    resources = {str(k): str(v) for k, v in dict(defaults).items()}
    # Resource values are Python expressions: a name must be a quoted string.
    resources.update({key: repr(value) for key, value in overrides.items()})
    return ["--default-resources", *(f"{k}={v}" for k, v in resources.items())]
