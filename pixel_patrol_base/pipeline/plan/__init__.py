"""The plan stage: list the project's files and cut them into content-addressed shards.

Call graph::

    planner.make_plan(config) / planner.write_plan(plan, workdir)
      ├─ discovery.discover             base_dir/paths -> FileEntry list (entries.py),
      │                                 names that are not UTF-8 kept raw (names.py)
      └─ sharding.plan_shards           entries -> shards (content-defined boundaries)
"""
