"""Message templates of QC rules: checked when the rules load, filled in by polars.

A template is ``str.format`` text with plain placeholders: ``{value}``, ``{value:.3g}``.
Only a bare name may stand in the braces (no attribute access, no indexing, no
conversion such as ``!r``), and the only format specs are ``.Nf`` (N decimals, as Python),
``.Ng`` (N significant digits) and ``.N%`` (a share as a percentage with N decimals).
Filling is vectorised: each placeholder becomes a polars string expression and the
parts are concatenated, so a million messages cost no Python loop. A null shows as
``null``; a float without a spec shows with 4 significant digits; a list as its items
joined by ", ". What does not belong here: which placeholders a rule offers (engine).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SPEC = re.compile(r"\.(\d)([fg%])\Z")
DEFAULT_DIGITS = 4


@dataclass(frozen=True)
class Field:
    """One placeholder: its name and format spec (``""`` when none)."""

    name: str
    spec: str


@dataclass(frozen=True)
class Template:
    """A checked message template: literal text and placeholders, in order."""

    text: str
    parts: tuple[str | Field, ...]

    @property
    def names(self) -> list[str]:
        """The placeholder names, in order of first appearance."""
        return list(dict.fromkeys(p.name for p in self.parts if isinstance(p, Field)))


def parse_template(text: str) -> Template | str:
    """The checked template, or a sentence saying what is wrong with ``text``."""
    parts: list[str | Field] = []
    try:
        pieces = list(string.Formatter().parse(text))
    except ValueError as exc:
        return f"bad message template ({exc}); write '{{{{' and '}}}}' for literal braces"
    for literal, name, spec, conversion in pieces:
        if literal:
            parts.append(literal)
        if name is None:
            continue
        if not _NAME.match(name):
            return f"placeholder {{{name}}} must be a plain name such as {{value}}"
        if conversion:
            return f"placeholder {{{name}!{conversion}}}: conversions are not allowed"
        if spec and not _SPEC.match(spec):
            return f"placeholder {{{name}:{spec}}}: use no spec, or .Nf, .Ng or .N%"
        parts.append(Field(name, spec or ""))
    return Template(text, tuple(parts))


def _fixed(number: pl.Expr, places: int) -> pl.Expr:
    """``number`` with exactly ``places`` decimals, as ``f"{x:.{places}f}"`` writes it.

    Null where the value does not fit in 64-bit integers once scaled (or is NaN/inf).
    """
    scale = 10**places
    scaled = (number.abs() * scale).round(0).cast(pl.Int64, strict=False)
    sign = pl.when(number < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    whole = (scaled // scale).cast(pl.String)
    if places == 0:
        return pl.concat_str([sign, whole])
    decimals = (scaled % scale).cast(pl.String).str.zfill(places)
    return pl.concat_str([sign, whole, pl.lit("."), decimals])


def as_text(
    expr: pl.Expr, dtype: pl.DataType, spec: str = "", digits: int | None = DEFAULT_DIGITS
) -> pl.Expr:
    """``expr`` as text.

    Args:
        expr: the value.
        dtype: its polars dtype.
        spec: a template format spec (``.Nf``, ``.Ng``, ``.N%``) or ``""``.
        digits: significant digits of a float without a spec (``None``: all of them).
    """
    match = _SPEC.match(spec)
    if match is not None and dtype.is_numeric():
        places, kind = int(match.group(1)), match.group(2)
        number = expr.cast(pl.Float64)
        if kind == "g":
            return number.round_sig_figs(max(places, 1)).cast(pl.String)
        text = _fixed(number * 100 if kind == "%" else number, places)
        return pl.concat_str([text, pl.lit("%")]) if kind == "%" else text
    if dtype.is_float() and digits is not None:
        return expr.round_sig_figs(digits).cast(pl.String)
    if isinstance(dtype, pl.List):
        return expr.list.eval(pl.element().cast(pl.String)).list.join(", ")
    if dtype == pl.Binary:
        return pl.lit("<binary>")
    return expr.cast(pl.String)


def render(
    template: Template,
    specials: Mapping[str, tuple[pl.Expr, pl.DataType]],
    schema: pl.Schema,
) -> pl.Expr:
    """The expression filling ``template`` row by row.

    Args:
        template: a checked template.
        specials: placeholder name → (expression, its dtype) for the rule's own facts
            (``value``, ``id``...); any other name reads the frame column of that name.
        schema: the schema of the frame the expression runs on.
    """
    pieces: list[pl.Expr] = []
    for part in template.parts:
        if isinstance(part, str):
            pieces.append(pl.lit(part))
            continue
        expr, dtype = specials.get(part.name) or (pl.col(part.name), schema[part.name])
        pieces.append(as_text(expr, dtype, part.spec).fill_null("null"))
    if not pieces:
        return pl.lit("")
    return pl.concat_str(pieces)
