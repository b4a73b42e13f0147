"""The ``pixel-patrol schema`` subcommand: print the column catalog.

Registered in :mod:`pixel_patrol_base.cli.entry` by :func:`add_schema_parser`. Every installed
loader and processor is imported first, so that the columns they declare are listed too.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pixel_patrol_base.table.catalog import Column

log = logging.getLogger(__name__)


def add_schema_parser(subparsers: Any) -> None:
    """Add ``pixel-patrol schema``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "schema",
        help="print the column catalog of the report",
        description="Print every declared column of the report (core, loader and installed "
        "processor columns): name, type, nullable, unit, producer, aggregation, description.",
    )
    parser.add_argument(
        "--format",
        choices=("table", "markdown", "json"),
        default="table",
        help="output format (default: %(default)s)",
    )
    parser.set_defaults(handler=run_schema)


def _load_processor_columns() -> None:
    """Import every installed loader and processor so that their columns register."""
    from pixel_patrol_base import plugins
    from pixel_patrol_base.errors import PluginLoadError

    kinds = (
        ("loader", plugins.loader_ids(), plugins.get_loader),
        ("processor", plugins.processor_ids(), plugins.get_processor),
    )
    for kind, ids, get in kinds:
        for plugin_id in ids:
            try:
                get(plugin_id)
            except PluginLoadError as exc:
                log.warning("%s; the %s's columns are not listed", exc, kind)


def _schema_rows(columns: Iterable[Column]) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "type": c.type,
            "nullable": c.nullable,
            "unit": c.unit,
            "producer": c.producer,
            "aggregation": c.aggregation.value,
            "description": c.description,
        }
        for c in columns
    ]


def format_schema(rows: Sequence[Mapping[str, Any]], fmt: str) -> str:
    """The column catalog rows as ``table``, ``markdown`` or ``json`` text."""
    if fmt == "json":
        import json

        return json.dumps(list(rows), indent=2, ensure_ascii=False)
    headers = ["name", "type", "nullable", "unit", "producer", "aggregation", "description"]

    def cell(row: Mapping[str, Any], key: str) -> str:
        value = row[key]
        if key == "nullable":
            return "yes" if value else "no"
        return "" if value is None else str(value)

    table = [[cell(r, h) for h in headers] for r in rows]
    if fmt == "markdown":
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in table]
        return "\n".join(lines)
    widths = [max([len(h), *(len(r[i]) for r in table)]) for i, h in enumerate(headers[:-1])]

    def line(cells: Sequence[str]) -> str:
        fixed = "  ".join(c.ljust(w) for c, w in zip(cells[:-1], widths, strict=True))
        return f"{fixed}  {cells[-1]}".rstrip()

    rule = ["-" * w for w in widths] + ["-" * len(headers[-1])]
    return "\n".join([line(headers), line(rule), *(line(r) for r in table)])


def run_schema(args: argparse.Namespace) -> int:
    """Handle ``pixel-patrol schema``."""
    from pixel_patrol_base.table import catalog

    _load_processor_columns()
    print(format_schema(_schema_rows(catalog.all_columns()), args.format))
    return 0
