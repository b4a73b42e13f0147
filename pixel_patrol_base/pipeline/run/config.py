"""The config of a run: built from the settings, written, read back typed, fingerprinted.

``build_config`` turns a :class:`~pixel_patrol_base.project.Project` and validated
:class:`~pixel_patrol_base.settings.ProcessingSettings` into the dict written to
``<workdir>/config.yaml``. Job-side code reads that dict (as Snakemake hands it over)
once, through :meth:`RunConfig.from_mapping`, and uses typed fields from then on. Two
fingerprints are derived from a config:

* :func:`processing_fingerprint` covers only what changes results (the loader, the
  settings declared ``fingerprint=True``, the plugins' versions, the package version).
  It is part of every shard id, so changing any of these reprocesses everything.
* :func:`config_fingerprint` covers the whole config; it is recorded in the footer.

The QC settings (``qc_group_by``, ``expectations``) are not in the processing
fingerprint: the rules are judged by the merge from the table alone, so changing them
reruns the merge and processes no shard. The merge rule takes the digest of the
effective rules (:meth:`RunConfig.qc_rules`) as a param, so editing the rules file's
content reruns it too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from pixel_patrol_base import __version__, plugins
from pixel_patrol_base.pipeline.atomic import write_text_atomic
from pixel_patrol_base.pipeline.run.lock import claim_workdir
from pixel_patrol_base.project import Project, workdir_for
from pixel_patrol_base.settings import ProcessingSettings, declarations
from pixel_patrol_base.settings.schema import PROJECT_KEYS

if TYPE_CHECKING:
    from pixel_patrol_base.qc import RuleSet


@dataclass(frozen=True)
class RunConfig:
    """A run's config, typed: the project keys and one field per config setting.

    The field names are the config keys (``workflow/schemas/config.schema.yaml``); a test
    keeps them equal to the declared ones.
    """

    project_name: str
    base_dir: Path
    output: Path
    workdir: Path
    paths: tuple[str, ...]
    loader: str | None
    processors: tuple[str, ...]
    file_extensions: tuple[str, ...] | None
    """``None``: every extension (the config's ``"all"``)."""
    max_workers: int | None
    mb_per_task: float
    max_images_per_task: int | None
    slice_size: Mapping[str, int]
    rows_per_part: int
    parquet_row_group_size: int
    flavor: str
    description: str
    omit_base_dir: bool
    scheduler: str | None
    thumbnail_size: int
    qc_group_by: str | None
    """The QC group column; ``None``: the default (see ``pipeline.merge.assess.group_column``)."""
    expectations: Path | None
    """The user's QC rules file, if any."""
    follow_external_links: bool
    """Whether discovery follows symlinks whose target lies outside ``base_dir``."""

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> RunConfig:
        """Read a config dict (as Snakemake or :func:`build_config` gives it).

        A setting missing from ``config`` takes its declared default; ``workdir`` defaults
        to ``.pixel_patrol/<output stem>-<hash>/`` next to the output (``workdir_for``).

        Raises:
            KeyError: when ``project_name``, ``base_dir`` or ``output`` is missing.
        """
        value = {**declarations.config_defaults(), **config}
        output = Path(value["output"])
        extensions = value["file_extensions"]
        return cls(
            project_name=str(value["project_name"]),
            base_dir=Path(value["base_dir"]),
            output=output,
            workdir=Path(value["workdir"]) if value.get("workdir") else workdir_for(output),
            paths=tuple(value.get("paths") or ()),
            loader=value.get("loader"),
            processors=tuple(value["processors"]),
            file_extensions=None if extensions == "all" else tuple(extensions),
            max_workers=None if value["max_workers"] is None else int(value["max_workers"]),
            mb_per_task=float(value["mb_per_task"]),
            max_images_per_task=None
            if value["max_images_per_task"] is None
            else int(value["max_images_per_task"]),
            slice_size={str(k): int(v) for k, v in dict(value["slice_size"]).items()},
            rows_per_part=int(value["rows_per_part"]),
            parquet_row_group_size=int(value["parquet_row_group_size"]),
            flavor=str(value["flavor"]),
            description=str(value["description"]),
            omit_base_dir=bool(value["omit_base_dir"]),
            scheduler=None if not value["scheduler"] else str(value["scheduler"]),
            thumbnail_size=int(value["thumbnail_size"]),
            qc_group_by=None if not value["qc_group_by"] else str(value["qc_group_by"]),
            expectations=Path(value["expectations"]) if value["expectations"] else None,
            follow_external_links=bool(value["follow_external_links"]),
        )

    def to_mapping(self) -> dict[str, Any]:
        """The config as plain YAML/JSON values (what :func:`build_config` writes)."""
        plain: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            plain[item.name] = value
        if self.file_extensions is None:
            plain["file_extensions"] = "all"
        return plain

    def qc_rules(self) -> RuleSet:
        """The effective QC rules: the built-ins with the user's file, if any.

        Raises:
            RulesFileError: when the user's file is missing or malformed.
        """
        from pixel_patrol_base.qc import load_rules

        return load_rules(self.expectations)

    def footer_settings(self) -> dict[str, Any]:
        """The settings the report footer lists (declared ``footer=True``)."""
        plain = self.to_mapping()
        return {key: plain[key] for key in declarations.footer_keys()}


def config_keys() -> tuple[str, ...]:
    """Every key of a run's config: the project keys, then one per config setting."""
    return (*PROJECT_KEYS, *(str(s.config_key) for s in declarations.config_settings()))


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


def config_yaml(config: Mapping[str, Any]) -> str:
    """``config`` as the YAML text :func:`write_config` writes, which loads back equal.

    Non-ASCII text stays readable, except where PyYAML would not read back what it wrote
    (it emits U+0085, NEL, unquoted as a line break): then every such character is escaped.
    """
    text = yaml.safe_dump(dict(config), sort_keys=False, allow_unicode=True)
    if yaml.safe_load(text) != dict(config):
        text = yaml.safe_dump(dict(config), sort_keys=False, allow_unicode=False)
    return text


def write_config(config: Mapping[str, Any], path: Path) -> None:
    """Write ``config`` as YAML (atomically, so a by-hand run never sees half a file).

    The folder it is written to is claimed as the workdir of the config's output, so a run
    started by hand from it is later taken for a PixelPatrol workdir.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, config_yaml(config))
    if config.get("output"):
        claim_workdir(path.parent, Path(config["output"]))


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def plugin_versions(config: Mapping[str, Any]) -> dict[str, Any]:
    """Versions of the configured loader and processors, from their metadata (no import)."""
    loader_id = config.get("loader")
    processors = config.get("processors", [])
    return {
        "loader": None if loader_id is None else plugins.loader_metadata(loader_id).version,
        "processors": {p: plugins.processor_metadata(p).version for p in processors},
    }


def processing_fingerprint(config: RunConfig) -> str:
    """Hash of everything that changes results; part of every shard id."""
    plain = config.to_mapping()
    payload = {key: plain[key] for key in ("loader", *declarations.fingerprint_keys())}
    payload["versions"] = plugin_versions(plain)
    payload["package_version"] = __version__
    return _digest(payload)


def config_fingerprint(config: RunConfig) -> str:
    """Hash of the whole config (cosmetic settings included)."""
    plain = config.to_mapping()
    return _digest({key: plain.get(key) for key in config_keys()})
