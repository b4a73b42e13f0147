"""The QC rule model: what one rule says, checked field by field.

A rule flags rows that are *bad*: ``warn`` and ``fail`` are conditions that are TRUE
on a bad row (at least one is given; ``fail`` wins where both hold). ``value`` is the
evidence shown in the results and messages; without it, the value is what the fail (or
warn) condition tests (``robust_z(x) < -3.5`` shows ``robust_z(x)``). A ``for_each``
rule is one rule applied to several columns: its expressions read the placeholder
column ``each``, and :meth:`Rule.instances` gives one concrete rule per listed column.
A ``fallback`` rule judges only rows that no other rule flagged (warn or fail). The
full format is in ``docs/rules.md``. What does not belong here: reading YAML (``rulefile``) and
evaluating rules on a table (``engine``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from pixel_patrol_base.errors import ExpressionError, RulesFileError
from pixel_patrol_base.qc.expr import Node, column_names, parse, rename_column, subject
from pixel_patrol_base.qc.expr.functions import DEFAULT_MIN_GROUP
from pixel_patrol_base.qc.messages import Template, parse_template


class Scope(StrEnum):
    """Which rows a rule looks at, and what one verdict belongs to."""

    SLICE = "slice"  # rows with obs_level >= 1; one verdict per slice (or per image with mostly)
    IMAGE = "image"  # obs_level 0 rows; one verdict per image
    GROUP = "group"  # image rows of one QC group; one verdict per group
    DATASET = "dataset"  # all image rows; one verdict for the dataset


ON_NULL = ("skip", "pass", "warn", "fail", "error")
IF_MISSING = ("error", "skip", "null")
KEYS = (
    "id",
    "scope",
    "description",
    "where",
    "warn",
    "fail",
    "value",
    "mostly",
    "message",
    "on_null",
    "if_missing",
    "min_group",
    "within",
    "for_each",
    "fallback",
)
"""Every key a rule may have."""
EACH = "each"
"""The placeholder column of a ``for_each`` rule's expressions."""
UNIT_PLACEHOLDERS = ("id", "rule", "scope", "status", "value", "column", "group", "mostly")
"""Placeholders every message may use."""
MOSTLY_PLACEHOLDERS = ("n", "n_bad")
"""Placeholders of rules with ``mostly`` (rows evaluated in the unit, rows not passing)."""
_EACH_WORD = re.compile(rf"\b{EACH}\b")
_ID = re.compile(r"[a-z][a-z0-9_]{0,47}\Z")

Complain = Callable[[str | None, str], RulesFileError]
"""Builds the error for a fault at a key of the rule (``None``: the rule as a whole)."""


@dataclass(frozen=True)
class Expression:
    """A parsed expression and the text it came from."""

    text: str
    node: Node

    @property
    def columns(self) -> list[str]:
        """The columns it reads, in order of first appearance."""
        return column_names(self.node)


@dataclass(frozen=True)
class Rule:
    """One checked QC rule. Build it with :func:`build_rule` (or load a rules file)."""

    id: str
    scope: Scope
    warn: Expression | None
    fail: Expression | None
    where: Expression | None = None
    value: Expression | None = None
    mostly: float | None = None
    message: Template | None = None
    description: str = ""
    on_null: str = "skip"
    if_missing: str = "error"
    min_group: int = DEFAULT_MIN_GROUP
    within: tuple[str, ...] | None = None
    for_each: tuple[str, ...] | None = None
    fallback: bool = False
    fields: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """The raw fields the rule was built from (what ``override`` merges into)."""
    source: str = field(default="", compare=False)
    """The rules file that defined it, or last overrode it (``builtin.yaml`` for the
    built-in rules); empty for a rule built in code."""

    @property
    def value_node(self) -> Node | None:
        """The expression of the value shown: ``value``, else the subject of the condition."""
        if self.value is not None:
            return self.value.node
        condition = self.fail or self.warn
        return subject(condition.node) if condition is not None else None

    @property
    def column(self) -> str | None:
        """The first column the value (or the condition) reads: ``{column}`` in messages."""
        node = self.value_node
        names = column_names(node) if node is not None else []
        return names[0] if names else (self.columns[0] if self.columns else None)

    @property
    def columns(self) -> list[str]:
        """Every table column the rule needs (expressions, ``within``, message names)."""
        names: dict[str, None] = {}
        for expr in (self.where, self.warn, self.fail, self.value):
            if expr is not None:
                names.update(dict.fromkeys(expr.columns))
        names.update(dict.fromkeys(self.within or ()))
        names.update(dict.fromkeys(self.message_columns))
        if self.for_each is not None:
            names.pop(EACH, None)
            names.update(dict.fromkeys(self.for_each))
        return list(names)

    def instances(self, present: Collection[str] | None = None) -> list[Rule]:
        """The concrete rules of a ``for_each`` rule, one per column (``each`` renamed).

        Args:
            present: the table's columns; when given, columns it lacks are left out.

        Returns:
            ``[self]`` for a plain rule.
        """
        if self.for_each is None:
            return [self]
        names = [c for c in self.for_each if present is None or c in present]
        return [self._instance(name) for name in names]

    def _instance(self, column: str) -> Rule:
        def renamed(expr: Expression | None) -> Expression | None:
            if expr is None:
                return None
            text = _EACH_WORD.sub(column, expr.text)
            return Expression(text, rename_column(expr.node, EACH, column))

        return replace(
            self,
            where=renamed(self.where),
            warn=renamed(self.warn),
            fail=renamed(self.fail),
            value=renamed(self.value),
            for_each=None,
        )

    @property
    def message_columns(self) -> list[str]:
        """Message placeholders that name table columns rather than rule facts."""
        if self.message is None:
            return []
        special = set(UNIT_PLACEHOLDERS) | set(MOSTLY_PLACEHOLDERS)
        return [name for name in self.message.names if name not in special]


def _expression(fields: Mapping[str, Any], key: str, complain: Complain) -> Expression | None:
    raw = fields.get(key)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise complain(key, f"expected an expression as text, got {type(raw).__name__} {raw!r}")
    try:
        return Expression(raw, parse(raw))
    except ExpressionError as exc:
        raise complain(key, f"bad expression: {exc}") from None


def _choice(
    fields: Mapping[str, Any], key: str, options: tuple[str, ...], complain: Complain
) -> str:
    raw = fields.get(key, options[0])
    if raw not in options:
        raise complain(key, f"expected one of {', '.join(options)}, got {raw!r}")
    return str(raw)


def _mostly(fields: Mapping[str, Any], scope: Scope, complain: Complain) -> float | None:
    raw = fields.get("mostly")
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 < raw <= 1:
        raise complain("mostly", f"expected a number in (0, 1], got {raw!r}")
    if scope is Scope.IMAGE:
        raise complain("mostly", "expected scope slice, group or dataset with mostly")
    return float(raw)


def _min_group(fields: Mapping[str, Any], complain: Complain) -> int:
    raw = fields.get("min_group", DEFAULT_MIN_GROUP)
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 2:
        raise complain("min_group", f"expected a whole number of at least 2, got {raw!r}")
    return raw


def _within(fields: Mapping[str, Any], complain: Complain) -> tuple[str, ...] | None:
    raw = fields.get("within")
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw or not all(isinstance(c, str) for c in raw):
        raise complain("within", f"expected a list of column names, got {raw!r}")
    return tuple(raw)


def _for_each(
    fields: Mapping[str, Any], expressions: list[Expression | None], complain: Complain
) -> tuple[str, ...] | None:
    raw = fields.get("for_each")
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw or not all(isinstance(c, str) for c in raw):
        raise complain("for_each", f"expected a list of column names, got {raw!r}")
    if fields.get("mostly") is not None or fields.get("scope") in ("group", "dataset"):
        raise complain("for_each", "expected scope image or slice, without mostly, with for_each")
    if not any(EACH in e.columns for e in expressions if e is not None):
        raise complain("for_each", f"the conditions must read the placeholder column {EACH!r}")
    return tuple(raw)


def _flag(fields: Mapping[str, Any], key: str, complain: Complain) -> bool:
    raw = fields.get(key, False)
    if not isinstance(raw, bool):
        raise complain(key, f"expected true or false, got {raw!r}")
    return raw


def _message(
    fields: Mapping[str, Any], scope: Scope, mostly: bool, complain: Complain
) -> Template | None:
    raw = fields.get("message")
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise complain("message", f"expected text, got {type(raw).__name__} {raw!r}")
    template = parse_template(raw)
    if isinstance(template, str):
        raise complain("message", template)
    offered = set(UNIT_PLACEHOLDERS) | (set(MOSTLY_PLACEHOLDERS) if mostly else set())
    if scope in (Scope.GROUP, Scope.DATASET) or mostly:  # a unit has no row to read
        unknown = [name for name in template.names if name not in offered]
        if unknown:
            allowed = ", ".join(sorted(offered))
            raise complain("message", f"placeholder {{{unknown[0]}}}: use one of {allowed}")
    return template


def _header(fields: Mapping[str, Any], complain: Complain) -> tuple[str, Scope]:
    unknown = [key for key in fields if key not in KEYS]
    if unknown:
        raise complain(unknown[0], f"unknown key {unknown[0]!r}; expected one of {', '.join(KEYS)}")
    rule_id = fields.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise complain("id", f"expected a short lower-case id such as 'dark', got {rule_id!r}")
    scope = Scope(_choice(fields, "scope", ("image", "slice", "group", "dataset"), complain))
    return rule_id, scope


def build_rule(fields: Mapping[str, Any], complain: Complain) -> Rule:
    """Check the fields of one rule and build it.

    Args:
        fields: key → value as read from the rules file.
        complain: builds the error for a fault at a key (it knows the file and line).

    Raises:
        RulesFileError: built by ``complain`` for the first fault found.
    """
    rule_id, scope = _header(fields, complain)
    warn = _expression(fields, "warn", complain)
    fail = _expression(fields, "fail", complain)
    if warn is None and fail is None:
        raise complain(None, f"rule {rule_id!r} needs a 'warn' or a 'fail' condition")
    description = fields.get("description", "")
    if not isinstance(description, str):
        raise complain("description", f"expected text, got {description!r}")
    mostly = _mostly(fields, scope, complain)
    where = _expression(fields, "where", complain)
    value = _expression(fields, "value", complain)
    return Rule(
        id=rule_id,
        scope=scope,
        warn=warn,
        fail=fail,
        where=where,
        value=value,
        mostly=mostly,
        message=_message(fields, scope, mostly is not None, complain),
        description=description,
        on_null=_choice(fields, "on_null", ON_NULL, complain),
        if_missing=_choice(fields, "if_missing", IF_MISSING, complain),
        min_group=_min_group(fields, complain),
        within=_within(fields, complain),
        for_each=_for_each(fields, [where, warn, fail, value], complain),
        fallback=_flag(fields, "fallback", complain),
        fields=dict(fields),
    )
