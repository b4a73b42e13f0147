# Named input and resource functions shared by the rules. Every workdir path comes from
# pixel_patrol_base.pipeline.run.layout, the plan and shard files are read through their
# typed records, so the rules and the package cannot disagree about the layout.
from pathlib import Path

from pixel_patrol_base.pipeline.run import layout
from pixel_patrol_base.pipeline.run.config import RunConfig
from pixel_patrol_base.pipeline.run.records import PlanRecord, ShardRecord
from pixel_patrol_base.project import workdir_for


wildcard_constraints:
    shard="[0-9a-f]{16}",


def get_workdir():
    """The workdir from the config, by default .pixel_patrol/<stem>-<hash>/ next to the output."""
    if config.get("workdir"):
        return config["workdir"]
    output = Path(config["output"]).expanduser().resolve()
    config["workdir"] = str(workdir_for(output))
    return config["workdir"]


def get_shard_chunks(wildcards):
    """Chunk files of every shard of the current plan, in shard order."""
    plan = PlanRecord.read(Path(checkpoints.plan.get().output[0]))
    return [layout.CHUNK_PATTERN.format(shard=shard_id) for shard_id in plan.shard_ids]


def get_planned_mb(input):
    """Planned size in MiB of the shard a job processes."""
    return ShardRecord.read(Path(input[0])).planned_bytes / 2**20


def get_shard_mem_mb(wildcards, input, attempt):
    """Memory of a shard job: a base (interpreter, bioio, Arrow: ~300 MB resident; cgroups
    also count page cache) plus a few times the per-image budget, more per retry."""
    budget = min(float(config["mb_per_task"]), max(get_planned_mb(input), 1.0))
    return int((1024 + 4 * budget) * attempt)


def get_shard_runtime(wildcards, input, attempt):
    """Runtime in minutes: a floor plus planned size at a pessimistic 20 MiB/s, per retry."""
    return int((10 + get_planned_mb(input) / 20 / 60) * attempt)


def get_merge_mem_mb(wildcards, input, attempt):
    """Memory of the merge: a base plus the chunks' size on disk, more per retry."""
    chunk_mb = sum(Path(f).stat().st_size for f in input.chunks) / 2**20
    return int((1024 + 4 * chunk_mb) * attempt)


def get_merge_runtime(wildcards, input, attempt):
    """Runtime of the merge in minutes: a floor plus the chunks at 20 MiB/s, per retry."""
    chunk_mb = sum(Path(f).stat().st_size for f in input.chunks) / 2**20
    return int((10 + chunk_mb / 20 / 60) * attempt)


def get_qc_rules_digest(wildcards):
    """Digest of the effective QC rules: a changed rules file reruns the merge."""
    return RunConfig.from_mapping(config).qc_rules().digest()
