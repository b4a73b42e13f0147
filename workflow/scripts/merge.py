"""Rule merge: validate the chunks and write the report (logic in pixel_patrol_base)."""

from pixel_patrol_base.pipeline import jobs

jobs.merge(snakemake.config, snakemake.log[0])
