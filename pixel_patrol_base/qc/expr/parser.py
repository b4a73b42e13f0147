"""Recursive-descent parser of QC expressions into the tree of :mod:`.nodes`.

Grammar, loosest binding first (the same precedence as Python)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := sum [ ("<"|"<="|">"|">="|"=="|"!=") sum
                      | ["not"] "in" ( "[" sum "," sum "]" | "{" item ("," item)* "}" )
                      | "is" ["not"] "null" ]
    sum        := product (("+"|"-") product)*
    product    := unary (("*"|"/") unary)*
    unary      := "-" unary | primary
    primary    := number | string | "true" | "false" | "null" | column
                | function "(" [expr ("," expr)*] ")" | "(" expr ")"
    item       := ["-"] number | string | "true" | "false" | "null" | bare word

A bare word inside ``{...}`` is a string (``dtype in {uint16, uint8}``). Comparisons do
not chain (``a < b < c`` is refused). Only the functions of :data:`.functions.FUNCTIONS`
can be called. What does not belong here: meaning (``compiler``).
"""

from __future__ import annotations

from pixel_patrol_base.errors import ExpressionError
from pixel_patrol_base.qc.expr import nodes as n
from pixel_patrol_base.qc.expr.functions import FUNCTIONS
from pixel_patrol_base.qc.expr.lexer import Token, tokenize

KEYWORDS = frozenset({"and", "or", "not", "in", "is", "null", "true", "false"})
MAX_DEPTH = 64
"""Deepest nesting accepted (parentheses, calls, unary operators)."""

_VALUE = "expected a value (a column, number, string, function call or '(')"
_CONSTANTS: dict[str, n.LiteralValue] = {"true": True, "false": False, "null": None}


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0

    # -- token helpers -------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def is_word(self, word: str, token: Token | None = None) -> bool:
        token = token or self.tok
        return token.kind == "ident" and token.text == word

    def advance(self) -> Token:
        token = self.tok
        self.i += 1
        return token

    def fail(self, expected: str, token: Token | None = None) -> ExpressionError:
        token = token or self.tok
        found = "the end" if token.kind == "end" else repr(token.text)
        return ExpressionError(self.source, token.pos, f"{expected}, found {found}")

    def expect_op(self, op: str, what: str) -> Token:
        if not self.is_op(op):
            raise self.fail(f"expected {op!r} {what}")
        return self.advance()

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"expected at most {MAX_DEPTH} levels of nesting")

    # -- grammar ---------------------------------------------------------------------
    def parse(self) -> n.Node:
        if self.tok.kind == "end":
            raise self.fail("expected an expression")
        node = self.expr()
        if self.tok.kind != "end":
            raise self.fail("expected an operator or the end of the expression")
        return node

    def expr(self) -> n.Node:
        node = self.and_expr()
        while self.is_word("or"):
            pos = self.advance().pos
            node = n.Binary("or", node, self.and_expr(), pos)
        return node

    def and_expr(self) -> n.Node:
        node = self.not_expr()
        while self.is_word("and"):
            pos = self.advance().pos
            node = n.Binary("and", node, self.not_expr(), pos)
        return node

    def not_expr(self) -> n.Node:
        if self.is_word("not"):
            pos = self.advance().pos
            self.enter()
            node = n.Unary("not", self.not_expr(), pos)
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> n.Node:
        left = self.sum()
        token = self.tok
        if token.kind == "op" and token.text in n.COMPARISONS:
            self.advance()
            right = self.sum()
            if isinstance(right, n.Literal) and right.value is None and token.text in ("==", "!="):
                raise self.fail("expected 'is null' or 'is not null' to test for null", token)
            node: n.Node = n.Binary(token.text, left, right, token.pos)
            if self.tok.kind == "op" and self.tok.text in n.COMPARISONS:
                raise self.fail("expected 'and' between comparisons (they do not chain)")
            return node
        if self.is_word("in") or (self.is_word("not") and self.is_word("in", self.peek())):
            negated = self.is_word("not")
            self.i += 2 if negated else 1
            return self.membership(left, negated, token.pos)
        if self.is_word("is"):
            self.advance()
            negated = self.is_word("not")
            if negated:
                self.advance()
            if not self.is_word("null"):
                raise self.fail("expected 'null' after 'is' (or 'is not')")
            self.advance()
            return n.IsNull(left, negated, token.pos)
        return left

    def membership(self, operand: n.Node, negated: bool, pos: int) -> n.Node:
        if self.is_op("["):
            self.advance()
            low = self.sum()
            self.expect_op(",", "between the two ends of the range [low, high]")
            high = self.sum()
            self.expect_op("]", "to close the range [low, high]")
            return n.InRange(operand, low, high, negated, pos)
        if self.is_op("{"):
            self.advance()
            items = [self.item()]
            while self.is_op(","):
                self.advance()
                items.append(self.item())
            self.expect_op("}", "or ',' in the set {a, b, ...}")
            return n.InSet(operand, tuple(items), negated, pos)
        raise self.fail("expected '[low, high]' or '{a, b, ...}' after 'in'")

    def item(self) -> n.Literal:
        token = self.tok
        if self.is_op("-") and self.peek().kind == "number":
            self.advance()
            number = self.advance().value
            assert isinstance(number, int | float)
            return n.Literal(-number, token.pos)
        if token.kind in ("number", "string"):
            self.advance()
            return n.Literal(token.value, token.pos)
        if token.kind == "ident":
            self.advance()
            value = _CONSTANTS.get(token.text, token.text)
            return n.Literal(value, token.pos)
        raise self.fail("expected a number, string or word in the set")

    def sum(self) -> n.Node:
        node = self.product()
        while self.is_op("+", "-"):
            token = self.advance()
            node = n.Binary(token.text, node, self.product(), token.pos)
        return node

    def product(self) -> n.Node:
        node = self.unary()
        while self.is_op("*", "/"):
            token = self.advance()
            node = n.Binary(token.text, node, self.unary(), token.pos)
        return node

    def unary(self) -> n.Node:
        if self.is_op("-"):
            pos = self.advance().pos
            self.enter()
            node = n.Unary("neg", self.unary(), pos)
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> n.Node:
        token = self.tok
        if token.kind in ("number", "string"):
            self.advance()
            return n.Literal(token.value, token.pos)
        if token.kind == "name":
            self.advance()
            return n.Column(str(token.value), token.pos)
        if self.is_op("("):
            self.advance()
            self.enter()
            node = self.expr()
            self.depth -= 1
            self.expect_op(")", "to close '('")
            return node
        if token.kind != "ident":
            raise self.fail(_VALUE)
        if token.text in _CONSTANTS:
            self.advance()
            return n.Literal(_CONSTANTS[token.text], token.pos)
        if token.text in KEYWORDS:
            raise self.fail(_VALUE)
        self.advance()
        if self.is_op("("):
            return self.call(token)
        return n.Column(token.text, token.pos)

    def call(self, name: Token) -> n.Node:
        signature = FUNCTIONS.get(name.text)
        if signature is None:
            known = ", ".join(sorted(FUNCTIONS))
            raise self.fail(f"expected a known function ({known})", name)
        self.advance()  # '('
        self.enter()
        args: list[n.Node] = []
        if not self.is_op(")"):
            args.append(self.expr())
            while self.is_op(","):
                self.advance()
                args.append(self.expr())
        self.expect_op(")", f"to close the call of {name.text}()")
        self.depth -= 1
        if not signature.min_args <= len(args) <= signature.max_args:
            raise ExpressionError(
                self.source, name.pos, f"expected {signature.arity_text()} for {name.text}()"
            )
        return n.Call(name.text, tuple(args), name.pos)


def parse(source: str) -> n.Node:
    """Parse the text of one expression.

    Args:
        source: the expression, e.g. ``"nan_fraction >= 0.01 and dtype in {float32}"``.

    Returns:
        The root node of its syntax tree.

    Raises:
        ExpressionError: showing the expression, a caret at the fault and what was expected.
    """
    return _Parser(source).parse()
