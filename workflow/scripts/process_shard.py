"""Rule process_shard: read one shard's files and write its chunk (logic in pixel_patrol_base)."""

from pixel_patrol_base.pipeline import jobs

jobs.shard(snakemake.config, snakemake.input[0], snakemake.output[0], snakemake.log[0])
