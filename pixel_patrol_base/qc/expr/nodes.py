"""The syntax tree of a QC expression: small frozen dataclasses, and walks over them.

Every node keeps ``pos``, the offset of its first character in the source text, so
later stages (the compiler, the rules file) can point at the fault. What does not
belong here: reading text (``lexer``/``parser``) and building polars expressions
(``compiler``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from typing import Any

LiteralValue = int | float | str | bool | None


@dataclass(frozen=True)
class Literal:
    """A number, a string, ``true``/``false`` or ``null``."""

    value: LiteralValue
    pos: int


@dataclass(frozen=True)
class Column:
    """A column of the table, by name (bare identifier or backquoted)."""

    name: str
    pos: int


@dataclass(frozen=True)
class Unary:
    """``-x`` (op ``"neg"``) or ``not x`` (op ``"not"``)."""

    op: str
    operand: Node
    pos: int


@dataclass(frozen=True)
class Binary:
    """Arithmetic (``+ - * /``), comparison (``< <= > >= == !=``) or ``and``/``or``."""

    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class InRange:
    """``x in [low, high]``: the closed range low ≤ x ≤ high (``not in`` when negated)."""

    operand: Node
    low: Node
    high: Node
    negated: bool
    pos: int


@dataclass(frozen=True)
class InSet:
    """``x in {a, b, c}``: membership in a set of literals (``not in`` when negated)."""

    operand: Node
    items: tuple[Literal, ...]
    negated: bool
    pos: int


@dataclass(frozen=True)
class IsNull:
    """``x is null`` (or ``x is not null`` when negated)."""

    operand: Node
    negated: bool
    pos: int


@dataclass(frozen=True)
class Call:
    """A call of one of the whitelisted functions (``abs``, ``robust_z``, ...)."""

    name: str
    args: tuple[Node, ...]
    pos: int


Node = Literal | Column | Unary | Binary | InRange | InSet | IsNull | Call


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of ``node``."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, InRange):
        return (node.operand, node.low, node.high)
    if isinstance(node, InSet):
        return (node.operand, *node.items)
    if isinstance(node, IsNull):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args
    return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children, left to right."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def rename_column(node: Node, old: str, new: str) -> Node:
    """A copy of the tree with every column ``old`` read as ``new`` (``for_each`` rules)."""
    if isinstance(node, Column):
        return Column(new, node.pos) if node.name == old else node
    changes: dict[str, Any] = {}
    for item in fields(node):
        value = getattr(node, item.name)
        if isinstance(value, tuple):
            changes[item.name] = tuple(
                rename_column(v, old, new) if _is_node(v) else v for v in value
            )
        elif _is_node(value):
            changes[item.name] = rename_column(value, old, new)
    return replace(node, **changes) if changes else node


def _is_node(value: object) -> bool:
    return isinstance(value, Literal | Column | Unary | Binary | InRange | InSet | IsNull | Call)


def column_names(node: Node) -> list[str]:
    """The column names the expression reads, in order of first appearance."""
    seen: dict[str, None] = {}
    for current in walk(node):
        if isinstance(current, Column):
            seen.setdefault(current.name)
    return list(seen)


def subject(node: Node) -> Node | None:
    """The quantity a condition tests, shown as a rule's value when it names none.

    ``robust_z(x) < -3.5`` tests ``robust_z(x)``; ``x in [0, 1]``, ``x is null`` and
    ``differs_from_mode(x)`` test ``x``; ``a and b`` tests the subject of ``a``.
    """
    if isinstance(node, Binary):
        if node.op in ("and", "or"):
            return subject(node.left)
        return node.left if node.op in COMPARISONS else node
    if isinstance(node, InRange | InSet | IsNull):
        return node.operand
    if isinstance(node, Unary):
        return subject(node.operand) if node.op == "not" else node
    if isinstance(node, Call) and node.name in ("differs_from_mode",) and node.args:
        return node.args[0]
    return node


COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
