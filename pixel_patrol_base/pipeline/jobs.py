"""Entry points of the workflow's scripts: one function per rule.

Each function reads the Snakemake config once into a typed
:class:`~pixel_patrol_base.pipeline.run.config.RunConfig`, sends logging to the rule's
log file and, on a PixelPatrol error, records its type and message in ``run/error.json``
so the runner can raise the same error to the user, then re-raises so that Snakemake
marks the job as failed. Scripts under ``workflow/scripts/`` call exactly one of these.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from pixel_patrol_base.errors import PixelPatrolError
from pixel_patrol_base.pipeline.run import layout
from pixel_patrol_base.pipeline.run.config import RunConfig
from pixel_patrol_base.pipeline.run.records import JobError


@contextmanager
def _job(log_path: str | Path, workdir: Path, step: str) -> Iterator[None]:
    # backslashreplace: a message naming a file whose name is not UTF-8 is logged, not lost
    handler = logging.FileHandler(log_path, mode="w", encoding="utf-8", errors="backslashreplace")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("pixel_patrol_base")
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    except Exception as exc:
        if not isinstance(exc, PixelPatrolError):
            root.exception("%s failed", step)
        message = str(exc) if isinstance(exc, PixelPatrolError) else f"{type(exc).__name__}: {exc}"
        JobError(step, type(exc).__name__, message).write(layout.error_file(workdir))
        raise
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def plan(config: Mapping[str, Any], log_path: str | Path) -> None:
    """Rule ``plan``: discover and shard, write shard files and ``plan/plan.json``."""
    from pixel_patrol_base.pipeline.plan.planner import make_plan, take_over, write_plan
    from pixel_patrol_base.pipeline.run.outputs import refuse_foreign_output

    run = RunConfig.from_mapping(config)
    with _job(log_path, run.workdir, "plan"):
        layout.error_file(run.workdir).unlink(missing_ok=True)
        refuse_foreign_output(run.output)  # by-hand runs too: never write over an input
        if take_over(run.workdir) is None:  # the API's change check listed them just now
            write_plan(make_plan(run), run.workdir)


def shard(config: Mapping[str, Any], shard_path: str, chunk_path: str, log_path: str) -> None:
    """Rule ``process_shard``: one shard's entries -> its chunk Parquet."""
    from pixel_patrol_base.imaging.engine import budget_bytes
    from pixel_patrol_base.pipeline.shard.allocator import keep_freed_memory
    from pixel_patrol_base.pipeline.shard.job import run_shard

    run = RunConfig.from_mapping(config)
    keep_freed_memory(budget_bytes(run.mb_per_task))
    shard_id = Path(shard_path).stem
    with _job(log_path, run.workdir, f"process_shard {shard_id}"), ExitStack() as stack:
        if run.scheduler:
            from pixel_patrol_base.pipeline.run.scheduler import scheduler_client

            stack.enter_context(scheduler_client(run.scheduler))
        run_shard(
            Path(shard_path), Path(chunk_path), run, layout.progress_file(run.workdir, shard_id)
        )


def merge(config: Mapping[str, Any], log_path: str) -> None:
    """Rule ``merge``: chunks -> validated report and ``run/summary.json``."""
    from pixel_patrol_base.pipeline.merge.job import run_merge

    run = RunConfig.from_mapping(config)
    with _job(log_path, run.workdir, "merge"):
        run_merge(run, run.workdir)
