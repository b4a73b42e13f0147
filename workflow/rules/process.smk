# One job per shard. A shard's id hashes its files (path, size, mtime) and the
# processing fingerprint, so an existing chunk is always up to date.


rule process_shard:
    input:
        "shards/{shard}.json",
    output:
        "chunks/{shard}.parquet",
    log:
        "logs/shards/{shard}.log",
    benchmark:
        "benchmarks/shards/{shard}.tsv"
    conda:
        "../envs/pixel-patrol.yaml"
    threads: 1
    resources:
        mem_mb=get_shard_mem_mb,
        runtime=get_shard_runtime,
    script:
        "../scripts/process_shard.py"
