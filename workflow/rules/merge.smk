# Merge all chunks of the current plan into the report. The report itself is written
# atomically by the script (Snakemake would delete a declared output before rerunning,
# losing the previous report if the merge then failed), so the declared output is the
# run summary. The QC verdicts are judged here, from the table alone: the digest of the
# effective rules (built-in + the config's expectations file) is a param, so editing the
# rules reruns the merge (and no shard: the QC settings are not in the shard ids).


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
    params:
        qc_rules=get_qc_rules_digest,
        qc_group_by=config.get("qc_group_by"),
    script:
        "../scripts/merge.py"
