"""The merge stage: every chunk into one validated, QC-judged report with its footer.

Call graph::

    job.run_merge(config, workdir)
      ├─ labels.short_labels            imported_path_short
      ├─ job.qc_spec                    the effective QC rules and grouping
      ├─ combine.merge_chunks           chunks -> table.validation -> QC -> atomic write
      │    ├─ buffers                   counts and row groups while streaming
      │    └─ assess                    the rules judged on the columns they read
      └─ job.footer_metadata            project metadata and provenance (table.footer)
"""
