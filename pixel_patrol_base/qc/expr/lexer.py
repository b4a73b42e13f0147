"""Splits the text of a QC expression into tokens.

Tokens are numbers (``3``, ``0.5``, ``1e-3``; a minus sign is an operator), strings in single
or double quotes (``\\`` escapes the quote and itself), identifiers, backquoted column
names (`` `my column` ``), and the operators ``+ - * / < <= > >= == != ( ) [ ] { } ,``.
Anything else, a dot included, is refused here, so attribute access cannot even be
written. What does not belong here: grammar (``parser``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pixel_patrol_base.errors import ExpressionError

MAX_LENGTH = 2000
"""Longest expression accepted, in characters."""

_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (
    "<=",
    ">=",
    "==",
    "!=",
    "<",
    ">",
    "+",
    "-",
    "*",
    "/",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
)


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is number, string, ident, name (backquoted), op or end."""

    kind: str
    text: str
    pos: int
    value: int | float | str | None = None


def _string(source: str, start: int) -> tuple[Token, int]:
    quote = source[start]
    chars: list[str] = []
    i = start + 1
    while i < len(source):
        ch = source[i]
        if ch == "\\" and i + 1 < len(source) and source[i + 1] in (quote, "\\"):
            chars.append(source[i + 1])
            i += 2
            continue
        if ch == quote:
            text = source[start : i + 1]
            return Token("string", text, start, "".join(chars)), i + 1
        chars.append(ch)
        i += 1
    raise ExpressionError(source, start, f"expected a closing {quote} for this string")


def _quoted_name(source: str, start: int) -> tuple[Token, int]:
    end = source.find("`", start + 1)
    if end < 0:
        raise ExpressionError(source, start, "expected a closing ` for this column name")
    name = source[start + 1 : end]
    if not name:
        raise ExpressionError(source, start, "expected a column name between the backquotes")
    return Token("name", source[start : end + 1], start, name), end + 1


def _number(source: str, start: int) -> tuple[Token, int]:
    match = _NUMBER.match(source, start)
    assert match is not None  # the caller saw a digit or '.' followed by a digit
    text = match.group()
    end = match.end()
    if end < len(source) and (source[end].isalpha() or source[end] == "_"):
        raise ExpressionError(source, end, "expected an operator or space after the number")
    value: int | float = float(text) if any(c in text for c in ".eE") else int(text)
    return Token("number", text, start, value), end


def _one(source: str, i: int) -> tuple[Token, int]:
    ch = source[i]
    if ch.isdigit() or (ch == "." and i + 1 < len(source) and source[i + 1].isdigit()):
        return _number(source, i)
    if ch in "'\"":
        return _string(source, i)
    if ch == "`":
        return _quoted_name(source, i)
    match = _IDENT.match(source, i)
    if match is not None:
        return Token("ident", match.group(), i, match.group()), match.end()
    for op in _OPERATORS:
        if source.startswith(op, i):
            return Token("op", op, i), i + len(op)
    if ch == "=":
        raise ExpressionError(source, i, "expected '==' to compare (a single '=' is not allowed)")
    if ch == ".":
        raise ExpressionError(
            source, i, "expected an operator ('.' attribute access is not allowed)"
        )
    raise ExpressionError(source, i, f"unexpected character {ch!r}")


def tokenize(source: str) -> list[Token]:
    """The tokens of ``source``, ending with an ``end`` token.

    Raises:
        ExpressionError: at the first character that starts no token.
    """
    if len(source) > MAX_LENGTH:
        raise ExpressionError(source[:60] + "...", 0, f"expected at most {MAX_LENGTH} characters")
    tokens: list[Token] = []
    i = 0
    while i < len(source):
        if source[i].isspace():
            i += 1
            continue
        token, i = _one(source, i)
        tokens.append(token)
    tokens.append(Token("end", "", len(source.rstrip())))  # just after the last character
    return tokens
