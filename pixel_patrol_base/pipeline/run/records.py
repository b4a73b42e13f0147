"""The JSON records a run leaves in its workdir, as typed readers and writers.

``shards/<id>.json`` (:class:`ShardRecord`), ``plan/plan.json`` (:class:`PlanRecord`),
``run/summary.json`` (:class:`RunSummary`) and ``run/error.json`` (:class:`JobError`):
the planner, the merge and the jobs write them; the rules, the runner, the merge and the
API read them. Each ``read`` raises ``ValueError``
for a file that is not such a record (e.g. one left by an older version), so a reader
can treat it like a missing file. Where each file lives is :mod:`.layout`'s business.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

from pixel_patrol_base.pipeline.atomic import write_text_atomic


def _plain(value: Any) -> Any:
    """A field's value as JSON values: nested dataclasses (alone or in a list) as dicts."""
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, list) and value and is_dataclass(value[0]):
        return [asdict(item) for item in value]
    return value


class _Record:
    """JSON (de)serialisation shared by the records: one key per dataclass field."""

    INDENT: ClassVar[int | None] = None

    @classmethod
    def _decode(cls, data: dict[str, Any]) -> dict[str, Any]:
        return data

    @classmethod
    def read(cls, path: Path) -> Self:
        """Read the record at ``path``.

        Raises:
            OSError: when the file cannot be read.
            ValueError: when it is not JSON or not this record.
        """
        try:
            data = json.loads(path.read_text("utf-8"))
            names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
            return cls(**cls._decode({name: data[name] for name in names}))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path} is not a {cls.__name__} record ({exc!r})") from exc

    def as_dict(self) -> dict[str, Any]:
        """The record as plain JSON values.

        Not ``dataclasses.asdict``, which deep-copies every value: for a shard's 100,000
        entry lists that alone took seconds. Only nested records are converted.
        """
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]

    def write(self, path: Path) -> None:
        """Write the record to ``path`` atomically (its folder is created)."""
        write_text_atomic(path, json.dumps(self.as_dict(), ensure_ascii=False, indent=self.INDENT))


@dataclass(frozen=True)
class ShardRecord(_Record):
    """``shards/<id>.json``: one content-addressed shard and its file entries."""

    shard_id: str
    fingerprint: str
    planned_bytes: int
    cost: int
    entries: list[list[Any]]
    """One list per file: path, imported path, size, mtime (ns), type, extension, and for a
    file with a raw name or an error, those two (``FileEntry`` field order)."""


@dataclass(frozen=True)
class PlannedShard:
    """One shard of a plan."""

    id: str
    n_files: int
    planned_bytes: int
    reused: bool
    """Whether its chunk already existed when the plan was made."""


@dataclass(frozen=True)
class PlanRecord(_Record):
    """``plan/plan.json``: what the plan found and how it is sharded."""

    planned_at: str
    """ISO time of planning (UTC)."""
    planned_at_ns: int
    fingerprint: str
    target_cost: int
    n_files: int
    total_bytes: int
    skipped_by_extension: dict[str, int]
    warnings: list[str]
    plan_seconds: float
    shards: list[PlannedShard]
    skipped: dict[str, int] = field(default_factory=dict)
    """Items discovery left out, per reason (``discovery.SKIP_REASONS``); see warnings."""

    @classmethod
    def _decode(cls, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "shards": [PlannedShard(**s) for s in data["shards"]]}

    @property
    def shard_ids(self) -> list[str]:
        """Shard ids in path order."""
        return [s.id for s in self.shards]


@dataclass(frozen=True)
class RunSummary(_Record):
    """``run/summary.json``: counts and timings of a run (``project.last_run`` as a dict)."""

    INDENT: ClassVar[int | None] = 1

    output: str
    files_found: int
    files: int
    images: int
    failed: int
    rows: int
    skipped_by_extension: dict[str, int]
    warnings: list[str]
    shards: int
    shards_processed: int
    shards_reused: int
    shard_ids: list[str]
    config_fingerprint: str
    output_size: int
    output_mtime_ns: int
    merge_s: float
    wall_s: float
    seconds: float | None = None
    """Seconds the whole ``process_files`` call took (set by the API)."""
    qc_summary: str = ""
    """The QC counts as text: ``QC: 41 pass, 6 warn (4 blurry, 2 dark), 2 fail (saturated)``."""
    qc_counts: dict[str, Any] = field(default_factory=dict)
    """Image rows per QC status, per issue and status (``qc.summary_counts``)."""
    qc_rules_digest: str = ""
    """Digest of the effective QC rules the report was judged by (``RuleSet.digest``)."""
    report_digest: str = ""
    """Digest of the report written (its metadata and column-chunk checksums,
    ``integrity.report_digest``); the no-change path compares it with the report's."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Items discovery left out, per reason (``discovery.SKIP_REASONS``); see warnings."""


@dataclass(frozen=True)
class JobError(_Record):
    """``run/error.json``: the last failure of a job, for the runner to raise again."""

    step: str
    """The rule (and shard) that failed, e.g. ``process_shard 0123456789abcdef``."""
    type: str
    """The exception's class name."""
    message: str
