"""The shard stage: one job turns its shard's files into rows and writes a chunk.

Call graph::

    job.run_shard(shard json, chunk parquet, config)
      ├─ allocator.keep_freed_memory    reuse freed blocks within the task budget
      ├─ images.ImageRows               loader header + imaging.engine, errors as rows
      └─ chunks.ChunkWriter             rows -> chunks/<shard>.parquet, atomic rename
"""
