# Merge all chunks of the current plan into the report. The report itself is written
# atomically by the script (Snakemake would delete a declared output before rerunning,
# losing the previous report if the merge then failed), so the declared output is the
# run summary.


rule merge:
    input:
        plan=layout.PLAN,
        chunks=get_shard_chunks,
    output:
        layout.SUMMARY,
    log:
        layout.MERGE_LOG,
    benchmark:
        layout.MERGE_BENCHMARK
    conda:
        "../envs/pixel-patrol.yaml"
    resources:
        mem_mb=get_merge_mem_mb,
        runtime=get_merge_runtime,
    script:
        "../scripts/merge.py"
