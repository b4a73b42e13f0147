"""Processing: the Snakemake workflow's stages, one sub-package each.

Call graph of one run::

    api.process_files
      └─ run.runner.run_workflow        writes run/config, holds run/lock, starts Snakemake
           ├─ rule plan     -> jobs.plan     -> plan.planner   (discovery, sharding)
           ├─ rule process  -> jobs.shard    -> shard.job      (images, chunks)
           └─ rule merge    -> jobs.merge    -> merge.job      (combine, validation, footer)

``jobs`` holds the one function each workflow script calls; ``atomic`` the atomic writes
every stage uses. ``run.layout`` names every file of the workdir.
"""
