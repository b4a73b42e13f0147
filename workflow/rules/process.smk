# One job per shard. A shard's id hashes its files (path, size, mtime) and the
# processing fingerprint, so an existing chunk is always up to date.


rule process_shard:
    input:
        layout.SHARD_PATTERN,
    output:
        layout.CHUNK_PATTERN,
    log:
        layout.SHARD_LOG_PATTERN,
    benchmark:
        layout.SHARD_BENCHMARK_PATTERN
    conda:
        "../envs/pixel-patrol.yaml"
    threads: 1
    resources:
        mem_mb=get_shard_mem_mb,
        runtime=get_shard_runtime,
    script:
        "../scripts/process_shard.py"
