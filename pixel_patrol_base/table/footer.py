"""The report file: its footer metadata and loading it back.

What belongs here: :class:`ProjectMetadata` (the project metadata and provenance kept in
the Parquet key-value metadata under :data:`FOOTER_KEY`), encoding it
(:func:`encode_footer`), and reading a report (:func:`read_metadata`,
:func:`load_report`) with clear :class:`~pixel_patrol_base.errors.NotAReportError`
messages. What does not: writing the table itself (see
:mod:`pixel_patrol_base.pipeline.merge.combine`) or validating rows
(:mod:`pixel_patrol_base.table.validation`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pixel_patrol_base import __version__
from pixel_patrol_base.errors import NotAReportError
from pixel_patrol_base.table import catalog

logger = logging.getLogger(__name__)

FOOTER_KEY = b"pixel_patrol"
"""Key of the project metadata JSON in the Parquet key-value metadata."""

FORMAT_VERSION = 1
"""Version of the report layout; bumped when a reader must handle it differently."""

_NEXT_STEP = "pass a report written by 'pixel-patrol process' (or api.process_files)"


def utc_now() -> str:
    """The current time as an ISO 8601 string in UTC."""
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class ProjectMetadata:
    """Project metadata and provenance of a report, as kept in its footer.

    Attributes:
        project_name: Name of the project.
        description: Free-text description.
        flavor: Name of the flavor (processing preset) used.
        base_dir: Base directory the paths are relative to; ``None`` when omitted.
        paths: Paths added to the project, relative to ``base_dir``.
        loader: Id of the loader used; ``None`` for file information only.
        processors: Processor id -> version.
        settings: Processing settings (slice size, task budget...).
        package_version: PixelPatrol version that wrote the report.
        library_versions: Versions of the main libraries (name -> version).
        config_fingerprint: Fingerprint of the processing configuration.
        counts: Counts of the run (files, images, failed, rows, ...).
        timings: Durations of the run's stages, in seconds: ``plan_s``, ``process_s`` (wall
            time summed over the shard jobs that ran), ``process_cpu_s`` (their CPU time),
            and ``processor_cpu_s`` (processor id -> CPU seconds).
        created_at: When the report was written, ISO 8601 UTC.
        format_version: Version of the report layout (:data:`FORMAT_VERSION`).
        qc: The QC results judged at the merge: ``group_by`` (the QC group column),
            ``rules_digest`` and ``sources`` (the rules files), ``counts`` (image rows
            per status, per issue: ``summary_counts``), ``summary`` (the ``QC: ...``
            text), ``groups`` and ``dataset`` (the group- and dataset-level verdicts:
            rule, status, group, value, value_text, message), ``rule_counts``,
            ``not_evaluated`` and ``rule_info`` (rule id -> its ``scope`` and ``source``,
            the rules file that defined it). Empty for a report written before the QC
            existed.
        duplicates: The duplicate summary of the merge: ``sets``, ``exact_sets``,
            ``near_sets``, ``plane_sets``, ``images_in_sets``, ``planes_in_sets`` and
            ``images_with_duplicate_planes``. Empty without ``raster-hash`` columns or
            for a report written before the duplicate search existed.
        column_descriptions: Column name -> description, from the field metadata.
    """

    project_name: str
    description: str = ""
    flavor: str = ""
    base_dir: str | None = None
    paths: list[str] = field(default_factory=list)
    loader: str | None = None
    processors: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    package_version: str = __version__
    library_versions: dict[str, str] = field(default_factory=dict)
    config_fingerprint: str = ""
    counts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=utc_now)
    format_version: int = FORMAT_VERSION
    qc: dict[str, Any] = field(default_factory=dict)
    duplicates: dict[str, Any] = field(default_factory=dict)
    column_descriptions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_footer(
        cls, footer: Mapping[str, Any], column_descriptions: Mapping[str, str]
    ) -> ProjectMetadata:
        """Build from the decoded footer JSON and the field descriptions.

        Keys missing from ``footer`` take their defaults; unknown keys are ignored (and
        logged), so a report from a newer minor version still loads.

        Raises:
            ValueError: when ``project_name`` is missing or a value has the wrong type.
        """
        known = {f.name for f in fields(cls)} - {"column_descriptions"}
        unknown = sorted(set(footer) - known)
        if unknown:
            logger.debug("ignoring unknown footer keys %s", unknown)
        values = {k: v for k, v in footer.items() if k in known}
        if not isinstance(values.get("project_name"), str):
            raise ValueError("the footer has no project_name")
        if not isinstance(values.get("paths", []), list):
            raise ValueError("footer key 'paths' is not a list")
        objects = ("processors", "settings", "library_versions", "counts", "timings", "qc")
        for name in (*objects, "duplicates"):
            if name in values and not isinstance(values[name], dict):
                raise ValueError(f"footer key {name!r} is not an object")
        return cls(**values, column_descriptions=dict(column_descriptions))

    def to_footer(self) -> dict[str, Any]:
        """The footer JSON object (everything but ``column_descriptions``)."""
        footer = asdict(self)
        del footer["column_descriptions"]
        return footer


def _json_default(value: object) -> str:
    if isinstance(value, PurePath | datetime):
        return str(value)
    raise TypeError(f"footer value {value!r} of type {type(value).__name__} is not JSON")


def encode_footer(metadata: Mapping[str, Any]) -> bytes:
    """The footer bytes stored under :data:`FOOTER_KEY` (JSON, UTF-8).

    Paths and datetimes become strings; anything else that JSON cannot hold raises
    ``TypeError``.
    """
    return json.dumps(dict(metadata), default=_json_default, sort_keys=True).encode()


def _not_a_report(src: Path, why: str) -> NotAReportError:
    return NotAReportError(f"'{src}' {why}; {_NEXT_STEP}")


def _read_footer(src: Path) -> tuple[pa.Schema, dict[bytes, bytes]]:
    """Arrow schema and key-value metadata of ``src`` (footer only), or NotAReportError."""
    if not src.exists():
        raise _not_a_report(src, "does not exist")
    if src.is_dir():
        raise _not_a_report(src, "is a folder, not a report file")
    try:
        parquet = pq.read_metadata(src)
        return parquet.schema.to_arrow_schema(), dict(parquet.metadata or {})
    except (pa.ArrowException, OSError) as exc:
        raise _not_a_report(src, f"is not a Parquet file ({exc})") from exc


def read_metadata(src: Path) -> ProjectMetadata:
    """Read the project metadata of a report from its Parquet footer only (fast).

    Args:
        src: Path to the report Parquet file.

    Returns:
        The metadata, with the column descriptions from the field metadata.

    Raises:
        NotAReportError: when ``src`` is missing, a folder, not Parquet, has no
            PixelPatrol footer, a footer from a newer format, or lacks core columns.
    """
    src = Path(src)
    schema, key_values = _read_footer(src)
    raw = key_values.get(FOOTER_KEY)
    if raw is None:
        raise _not_a_report(src, "is a Parquet file without PixelPatrol metadata")
    missing = [c for c in catalog.core_column_names() if c not in schema.names]
    if missing:
        raise _not_a_report(src, f"lacks the core columns {', '.join(missing)}")
    try:
        footer = json.loads(raw)
        if not isinstance(footer, dict):
            raise ValueError("the footer is not a JSON object")
        descriptions = {
            f.name: f.metadata[b"description"].decode()
            for f in schema
            if f.metadata and b"description" in f.metadata
        }
        metadata = ProjectMetadata.from_footer(footer, descriptions)
    except (ValueError, TypeError) as exc:
        raise _not_a_report(src, f"has unreadable PixelPatrol metadata ({exc})") from exc
    if metadata.format_version > FORMAT_VERSION:
        raise NotAReportError(
            f"'{src}' uses report format {metadata.format_version}, newer than this "
            f"PixelPatrol ({__version__}) reads ({FORMAT_VERSION}); upgrade pixel-patrol"
        )
    return metadata


def load_report(src: str | Path) -> tuple[pl.DataFrame, ProjectMetadata]:
    """Load a report table and its metadata.

    Args:
        src: Path to the report Parquet file.

    Returns:
        The table and its :class:`ProjectMetadata`.

    Raises:
        NotAReportError: as :func:`read_metadata`, or when the data cannot be decoded.
    """
    path = Path(src)
    metadata = read_metadata(path)
    try:
        table = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, pa.ArrowException, OSError) as exc:
        raise _not_a_report(path, f"could not be read ({exc})") from exc
    return table, metadata
