"""Running the workflow: the config it reads, the workdir it uses, the lock and Snakemake.

``config`` builds, reads back (:class:`~.config.RunConfig`) and fingerprints the config;
``layout`` names the workdir's files; ``records`` reads and writes its JSON records (plan,
shards, run summary); ``lock`` keeps one run per output; ``runner`` is the only module
that starts Snakemake; ``scheduler`` and ``slurm`` hold the Dask and SLURM specifics.
"""
