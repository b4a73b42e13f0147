"""Rules files: the built-ins, extending and overriding them, and refusing bad files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pixel_patrol_base.errors import InvalidInputError, RulesFileError
from pixel_patrol_base.qc import Scope, builtin_rules, load_rules, parse_rules
from pixel_patrol_base.qc.rulefile import builtin_text
from pixel_patrol_base.table import catalog


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_builtin_rules_load_and_name_only_catalog_columns() -> None:
    rules = builtin_rules()
    assert len(rules) >= 15
    assert len(set(rules.ids)) == len(rules.ids)
    for rule in rules:
        assert rule.description, rule.id
        for column in rule.columns:
            assert catalog.lookup(column) is not None, f"{rule.id} reads unknown {column!r}"
    assert rules.get("unreadable") is not None
    assert rules.get("unreadable").fail.text == "load_error is not null"  # type: ignore[union-attr]


def test_builtin_rules_have_a_comment_each() -> None:
    lines = builtin_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("  - id: "):
            above = lines[i - 1].strip()
            assert above.startswith("#") or lines[i - 2].strip().startswith("#"), line


def test_no_file_means_builtins() -> None:
    assert load_rules(None).ids == builtin_rules().ids


def test_user_file_extends_builtins_by_default(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        version: 1
        rules:
          - id: deep_enough
            scope: image
            fail: size_z < 10
            where: ndim >= 3
        """,
    )
    rules = load_rules(path)
    assert rules.ids == [*builtin_rules().ids, "deep_enough"]
    assert rules.sources == ("builtin.yaml", str(path))
    assert rules.get("deep_enough").scope is Scope.IMAGE  # type: ignore[union-attr]


def test_extends_none_disable_and_override(tmp_path: Path) -> None:
    alone = parse_rules("version: 1\nextends: none\nrules:\n  - {id: a, warn: 'x > 1'}\n")
    assert alone.ids == ["a"]
    rules = parse_rules(
        textwrap.dedent(
            """
            version: 1
            disable: [pixel_size_default, constant]
            override:
              saturated:
                warn: bright_clipping_fraction >= 0.005
                message: "{value:.1%} clipped"
            rules:
              - id: constant
                fail: std_intensity <= 1
            """
        )
    )
    assert "pixel_size_default" not in rules.ids
    saturated = rules.get("saturated")
    assert saturated is not None and saturated.warn is not None and saturated.fail is not None
    assert saturated.warn.text == "bright_clipping_fraction >= 0.005"
    assert saturated.fail.text == builtin_rules().get("saturated").fail.text  # type: ignore[union-attr]
    assert saturated.message is not None and saturated.message.text == "{value:.1%} clipped"
    constant = rules.get("constant")
    assert constant is not None and constant.fail is not None
    assert constant.fail.text == "std_intensity <= 1"  # disabled, then redefined
    # each rule names the file that defined it, or last overrode it (the footer's rule_info)
    assert saturated.source == constant.source == "<rules>"
    assert rules.get("dark").source == "builtin.yaml"  # type: ignore[union-attr]
    assert rules.digest() != builtin_rules().digest()
    assert builtin_rules().digest() == builtin_rules().digest()


BAD_FILES = [
    # (file text, line of the fault, words the first line must hold)
    ("version: 1\nrules:\n  - id: a\n   warn: x\n", 4, "not valid YAML"),
    ("- id: a\n", 1, "must be a mapping"),
    ("rules: []\n", 1, "missing 'version: 1'"),
    ("version: 2\nrules: []\n", 1, "version must be 1"),
    ("version: 1\nrule: []\n", 2, "unknown key 'rule'"),
    ("version: 1\nrules:\n  - id: a\n    wran: x > 1\n", 4, "unknown key 'wran'"),
    (
        "version: 1\nrules:\n  - id: a\n    scope: pixel\n    warn: x > 1\n",
        4,
        "expected one of image, slice, group, dataset",
    ),
    (
        "version: 1\nrules:\n  - id: a\n    scope: slice\n    warn: x > 1\n    mostly: high\n",
        6,
        "expected a number in (0, 1]",
    ),
    (
        "version: 1\nrules:\n  - id: a\n    mostly: 0.9\n    warn: x > 1\n",
        4,
        "scope slice, group or dataset",
    ),
    ("version: 1\nrules:\n  - id: a\n    warn: x > 1 and\n", 4, "bad expression"),
    ("version: 1\nrules:\n  - id: a\n    fail: 3\n", 4, "expected an expression as text"),
    ("version: 1\nrules:\n  - id: a\n    description: d\n", 3, "needs a 'warn' or a 'fail'"),
    ("version: 1\nrules:\n  - id: Bad-Id\n    warn: x\n", 3, "short lower-case id"),
    (
        "version: 1\nrules:\n  - id: a\n    warn: x\n  - id: a\n    fail: y\n",
        5,
        "already defined above",
    ),
    ("version: 1\nrules:\n  - id: saturated\n    warn: x\n", 3, "already inherited"),
    ("version: 1\nrules:\n  - id: a\n    warn: x\n    warn: y\n", 5, "appears twice"),
    (
        "version: 1\nrules:\n  - id: a\n    warn: x\n    message: '{value.__class__}'\n",
        5,
        "plain name",
    ),
    (
        "version: 1\nrules:\n  - id: a\n    warn: x\n    message: '{value!r}'\n",
        5,
        "conversions are not allowed",
    ),
    ("version: 1\nrules:\n  - id: a\n    warn: x\n    message: '{value:>{w}}'\n", 5, "use no spec"),
    (
        "version: 1\nrules:\n  - id: a\n    scope: group\n    warn: x\n    message: '{dtype}'\n",
        6,
        "placeholder {dtype}",
    ),
    (
        "version: 1\nrules:\n  - id: a\n    scope: slice\n    mostly: 0.9\n    warn: x\n"
        "    message: '{dim_z}'\n",
        7,
        "placeholder {dim_z}",
    ),
    ("version: 1\nrules:\n  - id: a\n    warn: x\n    min_group: 1\n", 5, "at least 2"),
    (
        "version: 1\nrules:\n  - id: a\n    warn: x\n    on_null: ignore\n",
        5,
        "skip, pass, warn, fail, error",
    ),
    ("version: 1\nrules: {id: a}\n", 2, "must be a list of rules"),
    ("version: 1\ndisable: [nope]\n", 2, "no inherited rule 'nope'"),
    ("version: 1\ndisable: dark\n", 2, "must be a list of rule ids"),
    ("version: 1\noverride:\n  nope: {warn: x}\n", 3, "no inherited rule 'nope'"),
    ("version: 1\noverride:\n  saturated:\n    id: other\n", 4, "may not change the rule id"),
    ("version: 1\noverride:\n  saturated:\n    warn: 'x >'\n", 4, "bad expression"),
    ("version: 1\nextends: mine.yaml\n", 2, "extends must be 'builtin' or 'none'"),
    ("", 1, "the file is empty"),
]


@pytest.mark.parametrize(("text", "line", "words"), BAD_FILES)
def test_malformed_files_give_one_clear_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesFileError) as info:
        load_rules(path)
    assert isinstance(info.value, InvalidInputError)  # the CLI maps it to exit status 2
    first = str(info.value).splitlines()[0]
    assert first.startswith(f"{path}:{line}: "), first
    assert words in first, first


def test_bad_expression_error_shows_the_caret(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\nrules:\n  - id: dark\n    warn: 'snr < 10 and'\n")
    with pytest.raises(RulesFileError) as info:
        load_rules(path)
    lines = str(info.value).splitlines()
    assert lines[0].startswith(
        f"{path}:4: rule 'dark', key 'warn': bad expression: expected a value"
    )
    assert lines[1:] == ["    snr < 10 and", "                ^"]


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(RulesFileError, match=r"missing\.yaml:1: cannot read"):
        load_rules(tmp_path / "missing.yaml")


def test_override_with_null_removes_a_key() -> None:
    rules = parse_rules("version: 1\noverride:\n  nan_heavy: {warn: null}\n")
    nan_heavy = rules.get("nan_heavy")
    assert nan_heavy is not None and nan_heavy.warn is None
    assert nan_heavy.fail is not None and nan_heavy.fail.text == "nan_fraction >= 0.5"
    with pytest.raises(
        RulesFileError, match=r"<rules>:3: rule 'nan_heavy': .*needs a 'warn' or a 'fail'"
    ):
        parse_rules("version: 1\noverride:\n  nan_heavy: {warn: null, fail: null}\n")
