"""Turns a parsed QC expression into a polars expression; never ``eval``.

Values follow polars (and SQL) three-valued logic: a comparison with a null gives null,
``null and false`` is false, ``null or true`` is true. ``/`` is true division. What
does not belong here: the meaning of rules (``pixel_patrol_base.qc.rule``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import polars as pl

from pixel_patrol_base.qc.expr import nodes as n
from pixel_patrol_base.qc.expr.functions import FUNCTIONS, Context

_BINARY: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "and": operator.and_,
    "or": operator.or_,
}


def _in_set(node: n.InSet, ctx: Context) -> pl.Expr:
    operand = compile_node(node.operand, ctx)
    values = [item.value for item in node.items if item.value is not None]
    has_null = len(values) < len(node.items)
    if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        # numbers compare by value whatever the column's numeric type (4095 in a float column)
        operand, values = operand.cast(pl.Float64), [float(v) for v in values]
    member = operand.is_in(values) if values else pl.lit(False)
    if has_null:
        member = operand.is_null() | member
    return ~member if node.negated else member


def compile_node(node: n.Node, ctx: Context | None = None) -> pl.Expr:
    """The polars expression computing ``node`` (row-aligned with the frame it runs on).

    Args:
        node: a tree from :func:`pixel_patrol_base.qc.expr.parser.parse`.
        ctx: the comparison sets of the group-relative functions; default: all rows.
    """
    ctx = ctx or Context()
    if isinstance(node, n.Literal):
        return pl.lit(node.value)
    if isinstance(node, n.Column):
        return pl.col(node.name)
    if isinstance(node, n.Unary):
        operand = compile_node(node.operand, ctx)
        return ~operand if node.op == "not" else -operand
    if isinstance(node, n.Binary):
        return _BINARY[node.op](compile_node(node.left, ctx), compile_node(node.right, ctx))
    if isinstance(node, n.InRange):
        low, high = compile_node(node.low, ctx), compile_node(node.high, ctx)
        inside = compile_node(node.operand, ctx).is_between(low, high, closed="both")
        return ~inside if node.negated else inside
    if isinstance(node, n.InSet):
        return _in_set(node, ctx)
    if isinstance(node, n.IsNull):
        operand = compile_node(node.operand, ctx)
        return operand.is_not_null() if node.negated else operand.is_null()
    args = [compile_node(arg, ctx) for arg in node.args]
    return FUNCTIONS[node.name].impl(args, ctx)
