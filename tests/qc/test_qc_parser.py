"""The QC expression parser: grammar, precedence, errors with a caret, and safety."""

from __future__ import annotations

import pytest

from pixel_patrol_base.errors import ExpressionError, InvalidInputError
from pixel_patrol_base.qc.expr import column_names, parse
from pixel_patrol_base.qc.expr import nodes as n


def shape(node: n.Node) -> object:
    """A compact, position-free rendering of a tree, to compare with hand-written ones."""
    if isinstance(node, n.Literal):
        return node.value
    if isinstance(node, n.Column):
        return f"${node.name}"
    if isinstance(node, n.Unary):
        return (node.op, shape(node.operand))
    if isinstance(node, n.Binary):
        return (node.op, shape(node.left), shape(node.right))
    if isinstance(node, n.InRange):
        return (
            "not in" if node.negated else "in",
            shape(node.operand),
            [shape(node.low), shape(node.high)],
        )
    if isinstance(node, n.InSet):
        items = {shape(i) for i in node.items}
        return ("not in" if node.negated else "in", shape(node.operand), items)
    if isinstance(node, n.IsNull):
        return ("is not null" if node.negated else "is null", shape(node.operand))
    assert isinstance(node, n.Call)
    return (node.name, *[shape(a) for a in node.args])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a + b * c", ("+", "$a", ("*", "$b", "$c"))),
        ("(a + b) * c", ("*", ("+", "$a", "$b"), "$c")),
        ("a - b - c", ("-", ("-", "$a", "$b"), "$c")),
        ("a / b / c", ("/", ("/", "$a", "$b"), "$c")),
        ("-a * b", ("*", ("neg", "$a"), "$b")),
        ("a + 1 > b * 2", (">", ("+", "$a", 1), ("*", "$b", 2))),
        ("a or b and c", ("or", "$a", ("and", "$b", "$c"))),
        ("not a and b", ("and", ("not", "$a"), "$b")),
        ("not a == 1", ("not", ("==", "$a", 1))),
        (
            "a < 1 or not b >= 2 and c != 3",
            ("or", ("<", "$a", 1), ("and", ("not", (">=", "$b", 2)), ("!=", "$c", 3))),
        ),
        ("a <= 1.5e-3", ("<=", "$a", 0.0015)),
        ("x in [0.1, 0.2]", ("in", "$x", [0.1, 0.2])),
        ("x not in [-1, 1 + 1]", ("not in", "$x", [("neg", 1), ("+", 1, 1)])),
        ("dtype in {uint16, 'uint8', \"int8\"}", ("in", "$dtype", {"uint16", "uint8", "int8"})),
        ("dtype not in {uint16}", ("not in", "$dtype", {"uint16"})),
        ("z in {-1, 2.5, true, null}", ("in", "$z", {-1, 2.5, True, None})),
        ("x is null", ("is null", "$x")),
        ("x is not null and y is null", ("and", ("is not null", "$x"), ("is null", "$y"))),
        ("`my column` > 0", (">", "$my column", 0)),
        ("`and` == true", ("==", "$and", True)),
        ("abs(x - 1) > max(y, 2, z)", (">", ("abs", ("-", "$x", 1)), ("max", "$y", 2, "$z"))),
        ("robust_z(log10(a)) < -3.5", ("<", ("robust_z", ("log10", "$a")), ("neg", 3.5))),
        ("count() >= 8", (">=", ("count",), 8)),
        ("'it\\'s' == name", ("==", "it's", "$name")),
        ("false", False),
    ],
)
def test_grammar_and_precedence(text: str, expected: object) -> None:
    assert shape(parse(text)) == expected


def test_column_names_without_evaluating() -> None:
    node = parse("robust_z(b) > 3 and a in [lo, hi] or `c d` is null and b > 0")
    assert column_names(node) == ["b", "a", "lo", "hi", "c d"]
    assert column_names(parse("dtype in {uint16, uint8}")) == ["dtype"]  # bare words are strings


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ("x >", 3, "expected a value"),
        ("x > 1 and", 9, "expected a value"),
        ("(x > 1", 6, "expected ')'"),
        ("a < b < c", 6, "do not chain"),
        ("x in {}", 6, "expected a number, string or word"),
        ("x in [1 2]", 8, "expected ','"),
        ("x in 3", 5, "expected '[low, high]' or '{a, b, ...}'"),
        ("x is 3", 5, "expected 'null'"),
        ("x == null", 2, "is null"),
        ("x = 1", 2, "expected '=='"),
        ("'open", 0, "closing '"),
        ("`open", 0, "closing `"),
        ("x > 1 1", 6, "expected an operator or the end"),
        ("abs(x, y)", 0, "expected 1 argument for abs()"),
        ("min()", 0, "expected 1 or more arguments for min()"),
        ("", 0, "expected an expression"),
        ("3x", 1, "expected an operator or space"),
        ("x $ 2", 2, "unexpected character '$'"),
    ],
)
def test_errors_show_position_and_expectation(text: str, position: int, expected: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(text)
    error = info.value
    assert isinstance(error, InvalidInputError)
    assert error.position == position
    assert expected in error.expected
    lines = str(error).splitlines()
    assert lines[1] == f"    {text}"
    assert lines[2] == "    " + " " * position + "^"
    assert f"position {position + 1}" in lines[0]


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("__import__('os')", "known function"),
        ("__import__('os').system('ls')", "attribute access"),
        ("x.__class__", "attribute access"),
        ("abs.__globals__", "attribute access"),
        ("lambda: 1", "unexpected character ':'"),
        ("lambda x: x", "unexpected character ':'"),
        ("eval('1')", "known function"),
        ("open('/etc/passwd')", "known function"),
        ("x[0]", "expected an operator"),
        ("x if y else z", "expected an operator"),
        ("(lambda: 0)()", "unexpected character ':'"),
        ("f'{x}'", "expected an operator"),
        ("x; y", "unexpected character ';'"),
        ("`a`(1)", "expected an operator"),
    ],
)
def test_unsafe_inputs_are_refused(text: str, fault: str) -> None:
    with pytest.raises(ExpressionError, match=fault):
        parse(text)


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    with pytest.raises(ExpressionError, match="levels of nesting"):
        parse("(" * 500 + "x" + ")" * 500)
    with pytest.raises(ExpressionError, match="levels of nesting"):
        parse("not " * 300 + "x")
    assert shape(parse("((x))")) == "$x"


def test_overlong_expression_is_refused() -> None:
    with pytest.raises(ExpressionError, match="at most"):
        parse("x + " * 1000 + "1")


def test_multi_line_expression_shows_the_line_of_the_fault() -> None:
    with pytest.raises(ExpressionError) as info:
        parse("a > 1 and\nb >\n")
    assert str(info.value).splitlines()[1:] == ["    b >", "       ^"]
