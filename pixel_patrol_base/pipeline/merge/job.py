"""The merge step of a run: chunks -> validated report with its footer, plus a summary.

Call graph::

    run_merge(config, workdir)
      ├─ plan/plan.json                       which chunks, in shard order
      ├─ chunks.read_chunk_info               processed in this run, or reused
      ├─ labels.short_labels                  imported_path_short
      ├─ footer_metadata(...)                 project metadata and provenance
      ├─ qc_spec(config)                      the effective QC rules and grouping
      ├─ combine.merge_chunks                 pandera validation, QC verdicts, atomic write
      └─ run/summary.json                     what the runner and the CLI report
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pixel_patrol_base import __version__
from pixel_patrol_base.pipeline.run import layout
from pixel_patrol_base.pipeline.run.config import RunConfig, config_fingerprint, plugin_versions
from pixel_patrol_base.pipeline.run.records import PlanRecord, RunSummary

if TYPE_CHECKING:
    from pixel_patrol_base.pipeline.merge.assess import QcSpec

log = logging.getLogger(__name__)

LIBRARIES = (
    "snakemake",
    "polars",
    "pyarrow",
    "pandera",
    "numpy",
    "dask",
    "bioio",
    "tifffile",
    "zarr",
    "duckdb",
)


def library_versions() -> dict[str, str]:
    """Installed versions of the main libraries (metadata only, nothing imported)."""
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def footer_metadata(
    config: RunConfig,
    plan: PlanRecord,
    shard_counts: Mapping[str, Any],
    timings: Mapping[str, Any],
) -> dict[str, Any]:
    """The project metadata embedded in the report footer (counts from data are added later)."""
    versions = plugin_versions(config.to_mapping())
    return {
        "format_version": 1,
        "project_name": config.project_name,
        "description": config.description,
        "flavor": config.flavor,
        "base_dir": None if config.omit_base_dir else str(config.base_dir),
        "paths": list(config.paths),
        "loader": config.loader,
        "processors": versions["processors"],
        "settings": config.footer_settings() | {"loader_version": versions["loader"]},
        "package_version": __version__,
        "library_versions": library_versions(),
        "config_fingerprint": config_fingerprint(config),
        "counts": {
            "files_found": plan.n_files,
            "skipped_by_extension": plan.skipped_by_extension,
            "skipped": plan.skipped,
            **shard_counts,
        },
        "timings": dict(timings),
        "created_at": datetime.now(UTC).isoformat(),
    }


def qc_spec(config: RunConfig) -> QcSpec:
    """The rules (built-in + ``expectations``) and grouping the merge judges by.

    Raises:
        RulesFileError: when the rules file is missing or malformed.
    """
    from pixel_patrol_base.pipeline.merge.assess import QcSpec

    return QcSpec(config.qc_rules(), config.qc_group_by, paths_added=bool(config.paths))


def run_merge(config: RunConfig, workdir: Path) -> RunSummary:
    """Merge the chunks of the current plan into the report and write the run summary.

    Returns:
        The summary (also written to ``run/summary.json``).
    """
    from pixel_patrol_base.pipeline.merge.combine import merge_chunks
    from pixel_patrol_base.pipeline.merge.labels import short_labels
    from pixel_patrol_base.pipeline.shard.chunks import read_chunk_info

    started = time.perf_counter()
    plan = PlanRecord.read(layout.plan_file(workdir))
    shard_ids = plan.shard_ids
    chunks = [layout.chunk_file(workdir, sid) for sid in shard_ids]
    infos = [read_chunk_info(c) for c in chunks]
    planned_at = datetime.fromisoformat(plan.planned_at)
    processed = [i for i in infos if datetime.fromisoformat(i.created_at) >= planned_at]
    shard_counts = {
        "shards": len(chunks),
        "shards_processed": len(processed),
        "shards_reused": len(chunks) - len(processed),
    }
    imported = sorted(set(config.paths or ["."]))
    base_name = "." if config.omit_base_dir else config.base_dir.name
    labels = short_labels(imported, base_name)
    processor_cpu: dict[str, float] = {}
    for info in processed:
        for pid, seconds in info.processor_cpu_s.items():
            processor_cpu[pid] = processor_cpu.get(pid, 0.0) + seconds
    timings: dict[str, Any] = {
        "plan_s": round(plan.plan_seconds, 3),
        "process_s": round(sum(i.elapsed_s for i in processed), 3),
        "process_cpu_s": round(sum(i.cpu_s for i in processed), 3),
        "processor_cpu_s": {pid: round(s, 3) for pid, s in sorted(processor_cpu.items())},
    }
    metadata = footer_metadata(config, plan, shard_counts, timings)
    output = config.output
    result = merge_chunks(
        chunks,
        output,
        labels=labels,
        metadata=metadata,
        row_group_size=config.parquet_row_group_size,
        qc=qc_spec(config),
    )
    merge_s = time.perf_counter() - started
    stat = output.stat()
    summary = RunSummary(
        output=str(output),
        files_found=plan.n_files,
        files=result.files,
        images=result.images,
        failed=result.failed,
        rows=result.rows,
        skipped_by_extension=plan.skipped_by_extension,
        skipped=plan.skipped,
        warnings=plan.warnings,
        shards=shard_counts["shards"],
        shards_processed=shard_counts["shards_processed"],
        shards_reused=shard_counts["shards_reused"],
        shard_ids=shard_ids,
        config_fingerprint=metadata["config_fingerprint"],
        output_size=stat.st_size,
        output_mtime_ns=stat.st_mtime_ns,
        merge_s=round(merge_s, 3),
        wall_s=round((time.time_ns() - plan.planned_at_ns) / 1e9, 3),
        qc_summary=str(result.qc.get("summary", "")),
        qc_counts=dict(result.qc.get("counts", {})),
        qc_rules_digest=str(result.qc.get("rules_digest", "")),
        report_digest=result.digest,
    )
    summary.write(layout.summary_file(workdir))
    log.info("merged %d rows from %d chunks into %s", result.rows, len(chunks), output)
    return summary
