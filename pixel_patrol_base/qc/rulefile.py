"""Reading QC rules files (YAML) into a :class:`RuleSet`, refusing malformed ones.

A file is a mapping::

    version: 1
    extends: builtin        # or none; default builtin (the packaged rules/builtin.yaml)
    disable: [pixel_size_default]
    override:
      saturated: {warn: "bright_clipping_fraction >= 0.005"}
    rules:
      - id: dark
        ...

``disable`` drops inherited rules by id, ``override`` replaces some keys of an inherited
rule, ``rules`` adds new ones (an id may not repeat, except one that was disabled). The
YAML is composed into nodes first, so every fault is reported as ``FILE:LINE: what is
wrong; what is expected``, before any rule runs. What does not belong here: the
meaning of each rule key (``rule``) and evaluation (``engine``).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from pixel_patrol_base.errors import RulesFileError
from pixel_patrol_base.qc.rule import Rule, build_rule

FILE_KEYS = ("version", "extends", "disable", "override", "rules")
BUILTIN = "builtin"
BUILTIN_NAME = "builtin.yaml"


@dataclass(frozen=True)
class RuleSet:
    """The effective rules, in evaluation order, and the files they came from."""

    rules: tuple[Rule, ...]
    sources: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    @property
    def ids(self) -> list[str]:
        """The rule ids, in order."""
        return [rule.id for rule in self.rules]

    def get(self, rule_id: str) -> Rule | None:
        """The rule with this id, or ``None``."""
        return next((rule for rule in self.rules if rule.id == rule_id), None)

    def digest(self) -> str:
        """A short hash of the effective rules: equal digests mean equal verdicts."""
        text = json.dumps([dict(r.fields) for r in self.rules], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class _File:
    """One file being read: its name, a constructor for scalar values, and errors."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.loader = yaml.SafeLoader("")

    def error(self, node: yaml.Node, what: str) -> RulesFileError:
        return RulesFileError(f"{self.name}:{node.start_mark.line + 1}: {what}")

    def value(self, node: yaml.Node) -> Any:
        return self.loader.construct_object(node, deep=True)

    def mapping(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """``key → (key node, value node)``; refuses non-mappings and repeated keys."""
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping (key: value)")
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = self.value(key_node)
            if not isinstance(key, str):
                raise self.error(key_node, f"keys of {what} must be text, got {key!r}")
            if key in out:
                raise self.error(key_node, f"key {key!r} appears twice in {what}")
            out[key] = (key_node, value_node)
        return out

    def ids(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node]]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, f"{what} must be a list of rule ids")
        out = []
        for item in node.value:
            rule_id = self.value(item)
            if not isinstance(rule_id, str):
                raise self.error(item, f"{what} must list rule ids, got {rule_id!r}")
            out.append((rule_id, item))
        return out

    def rule(self, node: yaml.Node, base: dict[str, Any] | None = None, rule_id: str = "") -> Rule:
        """Build a rule from a mapping node (merged over ``base`` for an override)."""
        entries = self.mapping(node, f"rule {rule_id!r}" if rule_id else "a rule")
        if base is not None and "id" in entries:
            raise self.error(entries["id"][0], "an override may not change the rule id")
        fields = dict(base or {})
        fields.update({key: self.value(v) for key, (_, v) in entries.items()})
        name = fields.get("id", rule_id)

        def complain(key: str | None, what: str) -> RulesFileError:
            where = entries[key][1] if key in entries else node
            label = f"rule {name!r}" + (f", key {key!r}" if key else "")
            return self.error(where, f"{label}: {what}")

        return replace(build_rule(fields, complain), source=self.name)


def _compose(text: str, name: str) -> yaml.Node:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise RulesFileError(f"{name}:{line}: not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise RulesFileError(f"{name}:1: not valid YAML: {exc}") from None
    if node is None:
        raise RulesFileError(f"{name}:1: the file is empty; expected 'version: 1' and 'rules:'")
    return node


def _base(reader: _File, entries: dict[str, tuple[yaml.Node, yaml.Node]]) -> RuleSet:
    if "extends" not in entries:
        return builtin_rules()
    node = entries["extends"][1]
    extends = reader.value(node)
    if extends == BUILTIN:
        return builtin_rules()
    if extends in ("none", None):
        return RuleSet(())
    raise reader.error(node, f"extends must be 'builtin' or 'none', got {extends!r}")


def _apply(
    reader: _File, entries: dict[str, tuple[yaml.Node, yaml.Node]], base: RuleSet
) -> list[Rule]:
    rules = {rule.id: rule for rule in base}
    disabled: set[str] = set()
    if "disable" in entries:
        for rule_id, item in reader.ids(entries["disable"][1], "disable"):
            if rule_id not in rules:
                raise reader.error(
                    item, f"disable: no inherited rule {rule_id!r}; known: {', '.join(rules)}"
                )
            del rules[rule_id]
            disabled.add(rule_id)
    if "override" in entries:
        for rule_id, (key_node, value_node) in reader.mapping(
            entries["override"][1], "override"
        ).items():
            if rule_id not in rules:
                raise reader.error(
                    key_node, f"override: no inherited rule {rule_id!r}; add it under 'rules'"
                )
            rules[rule_id] = reader.rule(value_node, dict(rules[rule_id].fields), rule_id)
    node = entries["rules"][1] if "rules" in entries else None
    if node is not None and not isinstance(node, yaml.SequenceNode):
        raise reader.error(node, "rules must be a list of rules (each starting with '- id: ...')")
    for item in node.value if node is not None else []:
        rule = reader.rule(item)
        if rule.id in rules:
            origin = "inherited" if rule.id in {r.id for r in base} else "defined above"
            raise reader.error(
                item, f"rule id {rule.id!r} is already {origin}; use override, or disable it first"
            )
        rules[rule.id] = rule
    return list(rules.values())


def parse_rules(text: str, name: str = "<rules>") -> RuleSet:
    """Read rules from YAML text.

    Args:
        text: the YAML of a rules file.
        name: how errors name the source (a file name).

    Raises:
        RulesFileError: ``NAME:LINE: what is wrong`` for the first fault found.
    """
    reader = _File(name)
    entries = reader.mapping(_compose(text, name), "the rules file")
    for key, (key_node, _) in entries.items():
        if key not in FILE_KEYS:
            raise reader.error(
                key_node, f"unknown key {key!r}; expected one of {', '.join(FILE_KEYS)}"
            )
    if "version" not in entries:
        raise RulesFileError(f"{name}:1: missing 'version: 1' at the top of the rules file")
    version_node = entries["version"][1]
    if reader.value(version_node) != 1:
        raise reader.error(version_node, f"version must be 1, got {reader.value(version_node)!r}")
    base = _base(reader, entries)
    return RuleSet(tuple(_apply(reader, entries, base)), (*base.sources, name))


def load_rules(path: str | Path | None = None) -> RuleSet:
    """The effective rules: the built-ins, extended or overridden by the file at ``path``.

    Args:
        path: a rules file; ``None`` gives the built-in rules alone.

    Raises:
        RulesFileError: when the file cannot be read or is malformed.
    """
    if path is None:
        return builtin_rules()
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesFileError(f"{source}:1: cannot read the rules file ({exc})") from None
    return parse_rules(text, str(source))


def builtin_text() -> str:
    """The text of the packaged built-in rules file."""
    return files("pixel_patrol_base.qc").joinpath("rules", BUILTIN_NAME).read_text(encoding="utf-8")


@functools.cache
def builtin_rules() -> RuleSet:
    """The packaged built-in rules (``pixel_patrol_base/qc/rules/builtin.yaml``), read once."""
    return parse_rules(builtin_text(), BUILTIN_NAME)
