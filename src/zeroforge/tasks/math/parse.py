"""The one expression parser of the math tasks (never ``eval``, never sympy): a tokenizer and a recursive
descent over any value domain of :mod:`.algebra`.

Grammar (a :class:`Syntax` switches parts off and sets the bounds)::

    expr  := term (('+' | '-') term)*
    term  := unary (('*' | '/') unary)*
    unary := ('-' | '+') unary | power          '+' only with ``unary_plus``
    power := atom ('^' INT)?                    only with ``powers``; ``**`` is a synonym of ``^``
    atom  := NUM | VAR | FN '(' expr ')' | '(' expr ')'

Users of it: equation sides (:func:`parse_polynomial`, :func:`parse_equation`: linear_equation, quadratic,
linear_system), an arithmetic expression's exact value (``arithmetic``), the roots of a quadratic's answer
(:mod:`.verify`). :func:`parse_number` reads a lone rational literal (``"-3/4"``, answers).

Every error is a one-line ``ValueError`` starting with the task's name.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Generic, Protocol, TypeVar

from zeroforge.tasks.math.algebra import AlgebraError, Poly, Polynomials

__all__ = [
    "MAX_CHARS",
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "Algebra",
    "ExprParser",
    "Syntax",
    "Token",
    "parse_equation",
    "parse_number",
    "parse_polynomial",
    "tokenize",
]

#: default input bounds: characters, nesting depth, digits of one integer literal, largest exponent
MAX_CHARS = 1000
MAX_DEPTH = 32
MAX_DIGITS = 9
MAX_EXPONENT = 9

V = TypeVar("V")


class Algebra(Protocol[V]):
    """A value domain the parser computes in (:mod:`.algebra`); operations raise ``AlgebraError``."""

    def number(self, text: str) -> V: ...
    def variable(self, name: str) -> V: ...
    def add(self, a: V, b: V) -> V: ...
    def neg(self, a: V) -> V: ...
    def mul(self, a: V, b: V) -> V: ...
    def div(self, a: V, b: V) -> V: ...
    def power(self, a: V, n: int) -> V: ...
    def call(self, name: str, a: V) -> V: ...


@dataclass(frozen=True)
class Syntax:
    """What the tokenizer and parser accept: one-letter ``variables``, ``functions`` by name, a unary ``+``,
    powers, and the bounds (characters of a text, digits of an integer, nesting depth, largest exponent)."""

    variables: str = ""
    functions: tuple[str, ...] = ()
    unary_plus: bool = True
    powers: bool = True
    max_chars: int = MAX_CHARS
    max_digits: int = MAX_DIGITS
    max_depth: int = MAX_DEPTH
    max_exponent: int = MAX_EXPONENT


@dataclass(frozen=True)
class Token:
    """One lexical token: ``kind`` is ``num``, ``var``, ``fn`` or the operator / parenthesis itself (``^``
    also stands for ``**``); ``col`` is its 1-based column (``0``: not read from text)."""

    kind: str
    text: str
    col: int


def tokenize(task: str, text: str, syntax: Syntax, offset: int = 0) -> list[Token]:
    """Tokens of ``text``. One-line ``ValueError`` starting with ``task`` on anything else (unknown characters,
    too long, too many digits, implicit multiplication). Columns count ``offset`` characters before ``text``."""
    if not isinstance(text, str):
        raise ValueError(f"{task}: expected text, got {type(text).__name__}")
    if len(text) > syntax.max_chars:
        raise ValueError(f"{task}: input has {len(text)} characters, at most {syntax.max_chars}")
    tokens: list[Token] = []
    k = 0
    while k < len(text):
        ch = text[k]
        col = k + 1 + offset
        if ch in " \t":
            k += 1
        elif ch == "*" and text[k + 1 : k + 2] == "*":
            tokens.append(Token("^", "**", col))
            k += 2
        elif ch in "+-*/^()":
            tokens.append(Token(ch, ch, col))
            k += 1
        elif "0" <= ch <= "9":
            start = k
            while k < len(text) and "0" <= text[k] <= "9":
                k += 1
            if k - start > syntax.max_digits:
                raise ValueError(f"{task}: integer at column {col} has more than {syntax.max_digits} digits")
            tokens.append(Token("num", text[start:k], col))
        elif (fn := next((f for f in syntax.functions if text.startswith(f, k)), None)) is not None:
            tokens.append(Token("fn", fn, col))
            k += len(fn)
        elif ch in syntax.variables and ch.isalpha():
            tokens.append(Token("var", ch, col))
            k += 1
        else:
            raise ValueError(f"{task}: unexpected character {ch!r} at column {col}")
    for prev, nxt in itertools.pairwise(tokens):
        if prev.kind in ("num", "var", ")") and nxt.kind in ("num", "var", "("):
            raise ValueError(
                f"{task}: implicit multiplication '{prev.text}{nxt.text}' at column {prev.col} is not supported; "
                f"write '{prev.text}*{nxt.text}'"
            )
    return tokens


class ExprParser(Generic[V]):
    """Recursive descent over ``tokens`` (see the module docstring), computing in ``algebra``."""

    def __init__(self, task: str, tokens: Sequence[Token], algebra: Algebra[V], syntax: Syntax) -> None:
        self.task = task
        self.tokens = tokens
        self.algebra = algebra
        self.syntax = syntax
        self.pos = 0

    def parse(self) -> V:
        """The value of the whole token list."""
        if not self.tokens:
            raise self._fail("empty expression")
        value = self._expr(0)
        if self._peek() is not None:
            raise self._fail(f"unexpected {self._where()}")
        return value

    # ---------------------------------------------------------------------------- helpers
    def _fail(self, message: str) -> ValueError:
        return ValueError(f"{self.task}: {message}")

    def _peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _where(self) -> str:
        tok = self._peek()
        return "at the end" if tok is None else f"'{tok.text}' at column {tok.col}"

    def _do(self, op: Any, *args: Any, col: int = 0) -> V:
        """``op(*args)`` with an ``AlgebraError`` turned into the task's one-line error (at ``col`` if known)."""
        try:
            return op(*args)
        except AlgebraError as exc:
            raise self._fail(f"{exc} at column {col}" if col else str(exc)) from None

    def _nest(self, depth: int) -> int:
        if depth >= self.syntax.max_depth:
            raise self._fail(f"expression nested deeper than {self.syntax.max_depth}")
        return depth + 1

    # ---------------------------------------------------------------------------- grammar
    def _expr(self, depth: int) -> V:
        value = self._term(depth)
        while (tok := self._peek()) is not None and tok.kind in "+-":
            self.pos += 1
            rhs = self._term(depth)
            value = self._do(self.algebra.add, value, rhs if tok.kind == "+" else self._do(self.algebra.neg, rhs))
        return value

    def _term(self, depth: int) -> V:
        value = self._unary(depth)
        while (tok := self._peek()) is not None and tok.kind in "*/":
            self.pos += 1
            rhs = self._unary(depth)
            if tok.kind == "*":
                value = self._do(self.algebra.mul, value, rhs)
            else:
                value = self._do(self.algebra.div, value, rhs, col=tok.col)
        return value

    def _unary(self, depth: int) -> V:
        tok = self._peek()
        if tok is not None and (tok.kind == "-" or (tok.kind == "+" and self.syntax.unary_plus)):
            inner = self._nest(depth)
            self.pos += 1
            value = self._unary(inner)
            return value if tok.kind == "+" else self._do(self.algebra.neg, value)
        return self._power(depth)

    def _power(self, depth: int) -> V:
        base = self._atom(depth)
        tok = self._peek()
        if not self.syntax.powers or tok is None or tok.kind != "^":
            return base
        self.pos += 1
        exp = self._peek()
        if exp is None or exp.kind != "num" or int(exp.text) > self.syntax.max_exponent:
            raise self._fail(f"exponent {self._where()} must be an integer 0..{self.syntax.max_exponent}")
        self.pos += 1
        result = self._do(self.algebra.power, base, int(exp.text))
        if (nxt := self._peek()) is not None and nxt.kind == "^":
            raise self._fail(f"chained exponent at column {nxt.col}; use parentheses")
        return result

    def _atom(self, depth: int) -> V:
        tok = self._peek()
        if tok is None:
            raise self._fail("unexpected end of expression")
        if tok.kind == "num":
            self.pos += 1
            return self._do(self.algebra.number, tok.text)
        if tok.kind == "var":
            self.pos += 1
            return self._do(self.algebra.variable, tok.text)
        if tok.kind in ("(", "fn"):
            inner = self._nest(depth)
            self.pos += 1
            opening = tok
            if tok.kind == "fn":
                nxt = self._peek()
                if nxt is None or nxt.kind != "(":
                    raise self._fail(f"{tok.text} needs parentheses, got {self._where()}")
                opening = nxt
                self.pos += 1
            value = self._expr(inner)
            close = self._peek()
            if close is None or close.kind != ")":
                raise self._fail(f"missing ')' for the '(' at column {opening.col}")
            self.pos += 1
            return self._do(self.algebra.call, tok.text, value) if tok.kind == "fn" else value
        raise self._fail(f"unexpected {self._where()}")


# -------------------------------------------------------------------------------------------- users
def parse_polynomial(task: str, text: str, variables: str, max_degree: int, offset: int = 0) -> Poly:
    """``text`` as an ordered term list in ``variables`` (zero terms dropped; see :class:`.Polynomials`)."""
    syntax = Syntax(variables=variables)
    tokens = tokenize(task, text, syntax, offset)
    value = ExprParser(task, tokens, Polynomials(variables, max_degree), syntax).parse()
    return [(m, c) for m, c in value if c != 0]


def parse_equation(task: str, line: str, variables: str, max_degree: int) -> tuple[Poly, Poly]:
    """The two sides of ``lhs = rhs`` as ordered term lists (zero terms dropped)."""
    if line.count("=") != 1:
        raise ValueError(f"{task}: an equation needs exactly one '=', got {line.strip()!r:.60}")
    lhs, rhs = line.split("=")
    sides = []
    for part, offset in ((lhs, 0), (rhs, len(lhs) + 1)):
        if not part.strip():
            raise ValueError(f"{task}: a side of the equation is empty in {line.strip()!r:.60}")
        sides.append(parse_polynomial(task, part, variables, max_degree, offset))
    return sides[0], sides[1]


def parse_number(text: str) -> Fraction | None:
    """A rational written ``"3"``, ``"-3"``, ``"1/2"``, ``"-1/2"`` (spaces allowed); ``None`` if it is not."""
    s = text.replace(" ", "")
    neg = s.startswith("-")
    s = s[1:] if neg else s
    parts = s.split("/")
    if not 1 <= len(parts) <= 2 or not all(p.isdigit() and p.isascii() and len(p) <= 30 for p in parts):
        return None
    den = int(parts[1]) if len(parts) == 2 else 1
    if den == 0:
        return None
    value = Fraction(int(parts[0]), den)
    return -value if neg else value
