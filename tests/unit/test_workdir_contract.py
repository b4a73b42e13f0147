"""The workdir contract: one module names every path, typed records hold the JSON files.

``pipeline.run.layout`` names the files of ``<workdir>/``; the Snakemake rules take their
paths from it, and ``plan/plan.json``, ``shards/<id>.json`` and ``run/summary.json`` are
written and read through ``pipeline.run.records``. A real run (no loader) checks that
what lands in the workdir is what the layout says.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path

import pytest
from pipeline_helpers import write_file

from pixel_patrol_base import api, resources
from pixel_patrol_base.cli.process import summary_line
from pixel_patrol_base.pipeline.run import layout
from pixel_patrol_base.pipeline.run.records import PlannedShard, PlanRecord, RunSummary

WORKFLOW = resources.data_root() / "workflow"
PATTERNS = [
    layout.CONFIG,
    layout.LOCK,
    layout.MARKER,
    layout.PLAN,
    layout.PLAN_HANDOFF,
    layout.SUMMARY,
    layout.SHARD_PATTERN,
    layout.CHUNK_PATTERN,
    layout.PROGRESS_PATTERN,
    layout.SNAKEMAKE_LOG,
    layout.PLAN_LOG,
    layout.MERGE_LOG,
    layout.SHARD_LOG_PATTERN,
    layout.MERGE_BENCHMARK,
    layout.SHARD_BENCHMARK_PATTERN,
]


def _matches_layout(relative: str) -> bool:
    for pattern in PATTERNS:
        regex = re.escape(pattern).replace(re.escape("{shard}"), "[0-9a-f]{16}")
        if re.fullmatch(regex, relative):
            return True
    return False


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> api.Project:
    root = tmp_path_factory.mktemp("contract")
    for i in range(5):
        write_file(root / "data" / f"d{i % 2}" / f"f{i}.txt", f"file {i}\n")
    project = api.create_project("contract", root / "data", output_path=root / "r.parquet")
    api.process_files(project, max_workers=1, max_images_per_task=2)
    return project


def test_rules_take_every_workdir_path_from_the_layout() -> None:
    sources = [WORKFLOW / "Snakefile", *sorted((WORKFLOW / "rules").glob("*.smk"))]
    literal = re.compile(r"""["'](?:plan|shards|chunks|progress|logs|benchmarks|run)/""")
    for source in sources:
        text = source.read_text("utf-8")
        assert not literal.search(text), f"{source.name} hard-codes a workdir path"
    common = (WORKFLOW / "rules" / "common.smk").read_text("utf-8")
    assert "from pixel_patrol_base.pipeline.run import layout" in common


def test_a_run_leaves_only_what_the_layout_names(processed: api.Project) -> None:
    workdir = processed.workdir
    found = {
        p.relative_to(workdir).as_posix()
        for p in workdir.rglob("*")
        if p.is_file() and ".snakemake" not in p.relative_to(workdir).parts
    }
    assert {layout.CONFIG, layout.PLAN, layout.SUMMARY, layout.PLAN_LOG} <= found
    assert [f for f in found if not _matches_layout(f)] == []
    plan = PlanRecord.read(layout.plan_file(workdir))
    assert len(plan.shard_ids) >= 2  # max_images_per_task=2 on 5 files
    for shard_id in plan.shard_ids:
        assert layout.shard_file(workdir, shard_id).is_file()
        assert layout.chunk_file(workdir, shard_id).is_file()
        assert (workdir / layout.SHARD_LOG_PATTERN.format(shard=shard_id)).is_file()


def test_plan_record_holds_what_the_planner_wrote(processed: api.Project) -> None:
    raw = json.loads(layout.plan_file(processed.workdir).read_text("utf-8"))
    plan = PlanRecord.read(layout.plan_file(processed.workdir))
    assert plan.n_files == raw["n_files"] == 5
    assert plan.shards == [PlannedShard(**s) for s in raw["shards"]]
    assert sum(s.n_files for s in plan.shards) == 5


def test_last_run_is_the_summary_as_a_dict(processed: api.Project) -> None:
    last = processed.last_run
    assert last is not None
    assert set(last) == {f.name for f in fields(RunSummary)}
    written = RunSummary.read(layout.summary_file(processed.workdir))
    assert {**written.as_dict(), "seconds": last["seconds"]} == last
    assert last["files_found"] == 5 and last["shard_ids"] == written.shard_ids
    assert summary_line(last).startswith("pixel-patrol: 5 files found, 0 images, 0 failed")


def test_record_of_another_shape_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"output": "x", "files_found": 1}), "utf-8")
    with pytest.raises(ValueError, match="RunSummary"):
        RunSummary.read(path)
    path.write_text("[1, 2]", "utf-8")
    with pytest.raises(ValueError):
        PlanRecord.read(path)


def test_an_unreadable_summary_is_not_trusted(processed: api.Project) -> None:
    """A summary left by an older version makes the API run Snakemake, which reuses all."""
    summary = layout.summary_file(processed.workdir)
    shard_ids = RunSummary.read(summary).shard_ids
    summary.write_text(json.dumps({"shards": 1}), "utf-8")
    api.process_files(processed, max_workers=1, max_images_per_task=2)
    assert processed.last_run is not None
    assert processed.last_run["shards_processed"] == 0
    assert processed.last_run["shards_reused"] == len(shard_ids)
    assert RunSummary.read(summary).shard_ids == shard_ids


def test_a_handed_over_plan_is_taken_once_and_only_while_fresh(
    processed: api.Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pixel_patrol_base.pipeline.plan import planner

    workdir = processed.workdir
    plan = layout.plan_file(workdir)
    record = PlanRecord.read(plan)
    handoff = layout.plan_handoff_file(workdir)
    record.write(handoff)
    plan.unlink()  # as Snakemake may remove the checkpoint's output before its job
    assert planner.take_over(workdir) == record
    assert PlanRecord.read(plan) == record and not handoff.exists()
    assert planner.take_over(workdir) is None  # taken once
    # One left by a run that failed before its plan job is not taken later on.
    record.write(handoff)
    monkeypatch.setattr(planner, "HANDOFF_MAX_AGE_S", 0)
    assert planner.take_over(workdir) is None and not handoff.exists()
    # Nor one whose shard files are gone.
    monkeypatch.undo()
    record.write(handoff)
    shard = layout.shard_file(workdir, record.shards[0].id)
    content = shard.read_bytes()
    shard.unlink()
    try:
        assert planner.take_over(workdir) is None and not handoff.exists()
    finally:
        shard.write_bytes(content)
