"""Rule plan: discover files and cut them into shards (logic in pixel_patrol_base)."""

from pixel_patrol_base.pipeline import jobs

jobs.plan(snakemake.config, snakemake.log[0])
