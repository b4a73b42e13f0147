# Discovery and sharding. Forced to run on every invocation (the profiles set
# `forcerun: [plan]`) so that added, changed and removed files are always seen; the
# shard files it writes are content-addressed, so unchanged shards keep their chunks.


checkpoint plan:
    output:
        layout.PLAN,
    log:
        layout.PLAN_LOG,
    localrule: True
    conda:
        "../envs/pixel-patrol.yaml"
    script:
        "../scripts/plan.py"
