"""The workflow's config schema, generated from the setting declarations.

``workflow/schemas/config.schema.yaml`` is this module's output: the keys that describe
the project (:data:`PROJECT_KEYS`) and one property per config key of
:data:`~pixel_patrol_base.settings.declarations.SETTINGS`, each with its type, bounds,
default and description, and no other key (``additionalProperties: false``, so a typo in
a hand-written config is an error). :func:`schema_drift` says how a schema file differs
from it; a test keeps the file up to date. Regenerate it with::

    python -m pixel_patrol_base.settings.schema --write
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from pixel_patrol_base.settings import declarations

HEADER = (
    "# Generated from pixel_patrol_base/settings/declarations.py; do not edit by hand.\n"
    "# Regenerate: python -m pixel_patrol_base.settings.schema --write\n"
)
PROJECT_KEYS: dict[str, dict[str, Any]] = {
    "project_name": {
        "type": "string",
        "minLength": 1,
        "description": "Project name, embedded in the report.",
    },
    "base_dir": {
        "type": "string",
        "description": "Absolute root folder of the dataset. Paths in the table are relative "
        "to it.",
    },
    "paths": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Sub-folders of base_dir to import ('/'-separated, relative); empty = "
        "all of base_dir.",
    },
    "output": {"type": "string", "description": "Path of the report Parquet file."},
    "workdir": {
        "type": ["string", "null"],
        "default": None,
        "description": "Folder for config, shards, chunks, logs and Snakemake state; null = "
        ".pixel_patrol/<output stem>-<hash of the output file name>/ next to the output.",
    },
    "loader": {
        "type": ["string", "null"],
        "default": None,
        "description": "Loader plugin id (e.g. bioio); null = file information only.",
    },
}
"""Config keys that describe the project rather than a setting."""
REQUIRED = ("project_name", "base_dir", "output")


def config_schema() -> dict[str, Any]:
    """The JSON schema of a run's config."""
    properties = dict(PROJECT_KEYS)
    for declared in declarations.config_settings():
        properties[str(declared.config_key)] = declared.value_schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": "Config of a PixelPatrol run. `pixel-patrol process` and "
        "`api.process_files` write it to <workdir>/config.yaml; defaults come from "
        "config/config.yaml.",
        "type": "object",
        "properties": properties,
        "required": list(REQUIRED),
        "additionalProperties": False,
    }


def _inline(value: list[Any] | dict[str, Any]) -> bool:
    """Whether to write a list or mapping on one line: short, scalars only, no description."""
    items = list(value.values()) if isinstance(value, dict) else value
    return (
        len(items) < 8
        and "description" not in value
        and all(not isinstance(v, dict) and (not isinstance(v, list) or _inline(v)) for v in items)
    )


def render_schema() -> str:
    """The schema file's text: block style, small leaf mappings and lists inline."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def collection(dumper: yaml.SafeDumper, value: Any) -> yaml.Node:
        flow = _inline(value)
        if isinstance(value, dict):
            return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=flow)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)

    _Dumper.add_representer(dict, collection)
    _Dumper.add_representer(list, collection)
    body = yaml.dump(
        config_schema(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )
    return HEADER + body


def schema_drift(schema: Mapping[str, Any]) -> list[str]:
    """How ``schema`` (a parsed schema file) differs from :func:`config_schema`; empty if not."""
    expected = config_schema()
    problems = [
        f"'{key}' is {schema.get(key)!r}, expected {value!r}"
        for key, value in expected.items()
        if key != "properties" and schema.get(key) != value
    ]
    found = dict(schema.get("properties") or {})
    for key, value in expected["properties"].items():
        if key not in found:
            problems.append(f"property '{key}' is missing")
        elif found[key] != value:
            problems.append(f"property '{key}' is {found[key]!r}, expected {value!r}")
    problems += [
        f"property '{key}' is not declared" for key in found if key not in expected["properties"]
    ]
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Check (or with ``--write`` rewrite) the workflow's config schema file."""
    import yaml

    from pixel_patrol_base import resources

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--write", action="store_true", help="rewrite the schema file")
    args = parser.parse_args(argv)
    path = resources.data_root() / "workflow" / "schemas" / "config.schema.yaml"
    if args.write:
        path.write_text(render_schema(), "utf-8")
        return 0
    problems = schema_drift(yaml.safe_load(path.read_text("utf-8")))
    for problem in problems:
        sys.stderr.write(f"{path}: {problem}\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
