"""Build, write and fingerprint the Snakemake config of a run.

``build_config`` turns a :class:`~pixel_patrol_base.project.Project` and validated
:class:`~pixel_patrol_base.settings.ProcessingSettings` into the dict written to
``<workdir>/config.yaml``. Two fingerprints are derived from a config:

* :func:`processing_fingerprint` covers only what changes results (loader, processors
  and their versions, slice size, thumbnail size, package version). It is part of every
  shard id, so changing any of these reprocesses everything.
* :func:`config_fingerprint` covers the whole config; it is recorded in the footer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from pixel_patrol_base import __version__, plugins
from pixel_patrol_base.pipeline.atomic import write_text_atomic
from pixel_patrol_base.project import Project
from pixel_patrol_base.settings import ProcessingSettings

RESULT_KEYS = ("loader", "processors", "slice_size", "thumbnail_size")
"""Config keys whose change changes the table's values (and so every shard id)."""

CONFIG_KEYS = (
    "project_name",
    "base_dir",
    "paths",
    "output",
    "workdir",
    "loader",
    "processors",
    "file_extensions",
    "slice_size",
    "max_workers",
    "mb_per_task",
    "max_images_per_task",
    "rows_per_part",
    "parquet_row_group_size",
    "thumbnail_size",
    "flavor",
    "description",
    "omit_base_dir",
    "scheduler",
)
"""Every key of a run's config (workflow/schemas/config.schema.yaml documents them)."""


def build_config(project: Project, settings: ProcessingSettings) -> dict[str, Any]:
    """The full workflow config of one run."""
    return {
        "project_name": project.name,
        "base_dir": str(project.base_dir),
        "paths": list(project.paths),
        "output": str(project.output_path),
        "workdir": str(project.workdir),
        "loader": project.loader,
        **settings.to_config(),
    }


def write_config(config: Mapping[str, Any], path: Path) -> None:
    """Write ``config`` as YAML (atomically, so a by-hand run never sees half a file)."""
    write_text_atomic(path, yaml.safe_dump(dict(config), sort_keys=False, allow_unicode=True))


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def plugin_versions(config: Mapping[str, Any]) -> dict[str, Any]:
    """Versions of the configured loader and processors (imports those plugins)."""
    loader_id = config.get("loader")
    return {
        "loader": None if loader_id is None else plugins.get_loader(loader_id).version,
        "processors": {p: plugins.get_processor(p).version for p in config.get("processors", [])},
    }


def processing_fingerprint(config: Mapping[str, Any]) -> str:
    """Hash of everything that changes results; part of every shard id."""
    payload = {key: config.get(key) for key in RESULT_KEYS}
    payload["versions"] = plugin_versions(config)
    payload["package_version"] = __version__
    return _digest(payload)


def config_fingerprint(config: Mapping[str, Any]) -> str:
    """Hash of the whole config (cosmetic settings included)."""
    return _digest({key: config.get(key) for key in CONFIG_KEYS})
