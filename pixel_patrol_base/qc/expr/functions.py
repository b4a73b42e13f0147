"""The functions a QC expression may call: their arity and their polars meaning.

Plain functions work row by row: ``abs(x)``, ``log10(x)`` (null where x ≤ 0),
``min(a, b, ...)`` / ``max(a, b, ...)`` (nulls ignored), ``len(list)``.

Group-relative functions compare a row with the other rows of its *comparison set*:
the rows that share the values of :attr:`Context.partition` (for an image rule, the
image rows of one QC group; see ``docs/rules.md``). Every row gets the result for its
own set, so they can be mixed freely with row values:

* ``robust_z(x)``: modified z-score 0.6745·(x − median)/MAD (Iglewicz and Hoaglin),
  MAD = median |x − median|. When MAD = 0 (more than half the values are equal) it
  falls back to (x − median)/(1.2533·MeanAD), MeanAD = mean |x − median|, as Iglewicz
  and Hoaglin advise. ``robust_z(x, floor)`` uses max(MAD, floor) (and max(1.2533·MeanAD
  / 1.4826, floor) in the fallback): a spread of at least ``floor``, in x's units, so
  that a tight group (values quantised to steps, identical settings) does not turn a
  tiny difference into a huge z. Null when the set has fewer than ``min_group``
  non-null values (default 8), or when no spread can be measured at all.
* ``rel_diff_from_median(x)``: |x − median| / |median|; null when the median is 0.
* ``mode(x)``: the most frequent non-null value (ties go to the smallest);
  ``differs_from_mode(x)`` is ``x != mode(x)``, null where x is null or where two or
  more values tie for most frequent (no majority to differ from).
* aggregates broadcast to every row: ``n_unique(x)`` (non-null distinct values),
  ``count(x)`` (non-null values; ``count()`` counts rows), ``fraction(condition)``
  (share of true among non-null), ``mean(x)``, ``median(x)``, ``min(x)``, ``max(x)``
  (one argument).

What does not belong here: parsing and the compilation of operators (``compiler``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

MODIFIED_Z = 0.6745
"""Scale of the modified z-score: 0.6745 = Φ⁻¹(0.75), so that z ≈ a standard score."""
MEAN_AD_AS_MAD = 1.253314 * MODIFIED_Z
"""MeanAD → MAD equivalent: 1.2533·MeanAD estimates σ as 1.4826·MAD does (1/0.6745)."""
DEFAULT_MIN_GROUP = 8
"""Fewest non-null values in a comparison set for ``robust_z`` to give a value."""


@dataclass(frozen=True)
class Context:
    """What a compiled expression needs to know about where it runs.

    Attributes:
        partition: columns whose values define a row's comparison set for the
            group-relative functions; empty means all rows evaluated together.
        min_group: fewest non-null values for ``robust_z``.
    """

    partition: tuple[str, ...] = ()
    min_group: int = DEFAULT_MIN_GROUP

    def over(self, expr: pl.Expr) -> pl.Expr:
        """``expr`` (an aggregate) computed per comparison set and broadcast to its rows."""
        return expr.over(list(self.partition) if self.partition else pl.lit(0))


Impl = Callable[[list[pl.Expr], Context], pl.Expr]


@dataclass(frozen=True)
class Signature:
    """One callable function: how many arguments it takes and what it computes."""

    min_args: int
    max_args: int
    impl: Impl

    def arity_text(self) -> str:
        """``"1 argument"``, ``"2 or more arguments"``... for error messages."""
        if self.min_args == self.max_args:
            plural = "" if self.min_args == 1 else "s"
            return f"{self.min_args} argument{plural}"
        if self.max_args >= _MANY:
            return f"{self.min_args} or more arguments"
        return f"{self.min_args} to {self.max_args} arguments"


_MANY = 64


def _float(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Float64)


def _log10(args: list[pl.Expr], ctx: Context) -> pl.Expr:
    x = _float(args[0])
    return pl.when(x > 0).then(x.log10()).otherwise(None)


def _extreme(name: str) -> Impl:
    def impl(args: list[pl.Expr], ctx: Context) -> pl.Expr:
        if len(args) == 1:
            return ctx.over(args[0].min() if name == "min" else args[0].max())
        return pl.min_horizontal(args) if name == "min" else pl.max_horizontal(args)

    return impl


def _robust_z(args: list[pl.Expr], ctx: Context) -> pl.Expr:
    x = _float(args[0])
    median = ctx.over(x.median())
    deviation = (x - median).abs()
    mad = ctx.over(deviation.median())
    # Iglewicz & Hoaglin: with MAD = 0, 1.2533·MeanAD takes the place of 1.4826·MAD
    spread = pl.when(mad > 0).then(mad).otherwise(ctx.over(deviation.mean()) * MEAN_AD_AS_MAD)
    if len(args) > 1:
        spread = pl.max_horizontal(spread, _float(args[1]))
    enough = ctx.over(x.count()) >= ctx.min_group
    return pl.when(enough & (spread > 0)).then(MODIFIED_Z * (x - median) / spread).otherwise(None)


def _rel_diff(args: list[pl.Expr], ctx: Context) -> pl.Expr:
    x = _float(args[0])
    median = ctx.over(x.median())
    return pl.when(median != 0).then((x - median).abs() / median.abs()).otherwise(None)


def _mode(args: list[pl.Expr], ctx: Context) -> pl.Expr:
    return ctx.over(args[0].drop_nulls().mode().sort().first())


def _differs(args: list[pl.Expr], ctx: Context) -> pl.Expr:
    clear = ctx.over(args[0].drop_nulls().mode().len()) == 1
    return pl.when(clear).then(args[0] != _mode(args, ctx)).otherwise(None)


def _count(args: list[pl.Expr], ctx: Context) -> pl.Expr:
    return ctx.over(args[0].count() if args else pl.len())


FUNCTIONS: dict[str, Signature] = {
    "abs": Signature(1, 1, lambda a, c: a[0].abs()),
    "log10": Signature(1, 1, _log10),
    "min": Signature(1, _MANY, _extreme("min")),
    "max": Signature(1, _MANY, _extreme("max")),
    "len": Signature(1, 1, lambda a, c: a[0].list.len()),
    "robust_z": Signature(1, 2, _robust_z),
    "rel_diff_from_median": Signature(1, 1, _rel_diff),
    "mode": Signature(1, 1, _mode),
    "differs_from_mode": Signature(1, 1, _differs),
    "n_unique": Signature(1, 1, lambda a, c: c.over(a[0].drop_nulls().n_unique())),
    "count": Signature(0, 1, _count),
    "fraction": Signature(1, 1, lambda a, c: c.over(_float(a[0]).mean())),
    "mean": Signature(1, 1, lambda a, c: c.over(_float(a[0]).mean())),
    "median": Signature(1, 1, lambda a, c: c.over(_float(a[0]).median())),
}
"""Every function an expression may call, by name."""
