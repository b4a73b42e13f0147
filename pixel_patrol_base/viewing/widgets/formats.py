"""Values as display text, the same in both viewer runtimes: number formats, summary, KPIs.

What belongs here: the pure functions that turn query results into the text a widget
shows (``format_value``, the Overview summary line, KPI cards, badge and hidden notes,
the header's counts).
``viewer/static/src/formats.js`` is their JavaScript twin, rule for rule;
``tests/widgets/render_vectors.json`` holds input/output pairs that both must reproduce.
What does not: drawing (``viewer/pp_viewer``), chart specs (:mod:`.specs`).

The number rules (docs/widgets.md, "Formats"). Rounding is always half away from zero
on the exact binary value (Python's ``Decimal(x)`` with ``ROUND_HALF_UP``, JavaScript's
``toFixed`` / ``toExponential``), so both runtimes print the same digits:

- an integer value below 2**53 in magnitude, or any number with format ``int``: the
  rounded integer with thousands separators (``12,345``);
- any other number: four significant digits, fixed notation for exponents -4..3 with
  trailing zeros dropped (``0.1235``, ``1,235``), the rounded integer for exponents 4..14
  (``123,457``), else scientific (``1.235e-05``, ``1.2e+20``);
- format ``bytes``: divided by 1024 up to TiB, one decimal (``1.5 KiB``, ``512 B``);
- format ``datetime``: epoch milliseconds (or a date/time value) as UTC
  ``YYYY-MM-DD HH:MM:SS``;
- ``None`` is ``—``; booleans ``true`` / ``false``; NaN and infinities ``nan``, ``inf``,
  ``-inf``; binary ``<n> bytes``; lists ``[a, b]`` and mappings ``{k: v}`` of formatted
  values.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from pixel_patrol_base.viewing.widgets.sql import Ident

MISSING = "—"
"""The text of a missing (null) value."""

BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")
EXACT_INT = 2**53
"""Integers below this magnitude are exact in both runtimes (JavaScript numbers)."""
FIXED_LIMIT = 1e15
"""Numbers below this magnitude print as rounded integers rather than in scientific form."""

_SIGNIFICANT = Context(prec=4, rounding=ROUND_HALF_UP)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _fixed(value: float, decimals: int) -> str:
    """``value`` rounded to ``decimals`` places, thousands grouped (no ``-`` on a zero)."""
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:,f}"


def _strip(text: str) -> str:
    """Drop the trailing zeros of a decimal fraction, then a trailing point."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def _general(value: float) -> str:
    """Four significant digits (see the module docstring for the notation chosen)."""
    rounded = _SIGNIFICANT.plus(Decimal(abs(value)))
    exponent = rounded.adjusted()
    if -4 <= exponent < 4:
        return _strip(_fixed(value, 3 - exponent))
    if exponent >= 4 and abs(value) < FIXED_LIMIT:
        return _fixed(value, 0)
    mantissa = _strip(f"{rounded.scaleb(-exponent):f}")
    sign = "-" if value < 0 else ""
    return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


def _bytes(value: float) -> str:
    size = float(value)
    unit = 0
    while abs(size) >= 1024 and unit < len(BYTE_UNITS) - 1:
        size /= 1024
        unit += 1
    return f"{_fixed(size, 0 if unit == 0 else 1)} {BYTE_UNITS[unit]}"


def _datetime(value: dt.datetime | dt.date) -> str:
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    elif value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )


def _number(value: float, kind: str | None) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if kind == "bytes":
        return _bytes(value)
    if kind == "datetime":
        return _datetime(_EPOCH + dt.timedelta(milliseconds=math.floor(value)))
    whole = kind == "int" or isinstance(value, int) or value.is_integer()
    if whole and abs(value) < EXACT_INT:
        return _fixed(value, 0)
    return _general(value)


def format_value(value: object, kind: str | None = None) -> str:
    """``value`` as display text, by declared format ``kind`` (see the module docstring).

    Args:
        value: a query result value (number, text, bytes, date/time, list, mapping, None).
        kind: a declared ``format`` (``text``, ``int``, ``float``, ``bytes``,
            ``datetime``), or ``None``.
    """
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, int | float):
        return _number(value, kind)
    if isinstance(value, dt.datetime | dt.date):
        return _datetime(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"{len(value)} bytes"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def fill_text(template: str, values: Mapping[str, object]) -> str:
    """``template`` with each ``{name}`` that ``values`` holds replaced by its formatted value.

    One pass, left to right: replaced text is never scanned again; unknown names stay.
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return format_value(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER.sub(replace, template)


def overview_text(
    template: str, rows: Sequence[Mapping[str, Any]], controls: Mapping[str, object]
) -> str | None:
    """The Overview summary line: ``{name}`` from the first row, else from the controls.

    Column controls (:class:`Ident`) give their column's name. ``None`` when the query
    returned no rows (the tile then shows its title only).
    """
    if not rows:
        return None
    values = {k: v.name if isinstance(v, Ident) else v for k, v in controls.items()}
    return fill_text(template, {**values, **rows[0]})


def kpi_cards(view: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(label, value text) per KPI card of a ``kpi`` view, from the first row.

    The view's ``items`` (``label``, ``column``, ``format``) in order; without items,
    every column of the row (label: the name with ``_`` as spaces). Empty without rows.
    """
    if not rows:
        return []
    row = rows[0]
    items = view.get("items") or [{"column": name} for name in row]
    return [
        (
            str(item.get("label") or str(item["column"]).replace("_", " ")),
            format_value(row.get(item["column"]), item.get("format")),
        )
        for item in items
    ]


def header_facts(counts: Mapping[str, object]) -> list[tuple[str, str]]:
    """(label, value text) per numeric count of the report's footer, in footer order.

    The label is the key with ``_`` as spaces (``files found``); other values are skipped.
    """
    return [
        (key.replace("_", " "), format_value(value))
        for key, value in counts.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]


def badge_text(badge: str) -> str:
    """The badge's explanation: what one data point is (``one point = one image``)."""
    return f"one point = one {badge}"


def hidden_note(title: str, missing: Sequence[str]) -> str:
    """The note shown instead of a widget whose required columns are missing."""
    return (
        f"{title} is hidden: the table has no column {', '.join(missing)} "
        "(run the processor that produces it)."
    )
