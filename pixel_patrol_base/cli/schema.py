"""The ``pixel-patrol schema`` subcommand: print the column catalog.

Registered in :mod:`pixel_patrol_base.cli.entry` by :func:`add_schema_parser`. The
catalog lists the columns every installed loader and processor declares in its metadata,
without importing any plugin (:func:`pixel_patrol_base.table.catalog.all_columns`).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pixel_patrol_base.table.catalog import Column


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

    print(format_schema(_schema_rows(catalog.all_columns()), args.format))
    return 0
