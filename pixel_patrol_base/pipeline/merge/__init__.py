"""The merge stage: every chunk into one validated report with its footer.

Call graph::

    job.run_merge(config, workdir)
      ├─ labels.short_labels            imported_path_short
      ├─ combine.merge_chunks           chunks -> table.validation -> atomic write
      └─ job.footer_metadata            project metadata and provenance (table.footer)
"""
