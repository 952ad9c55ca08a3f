"""Shared pieces of the math tasks: number tokens, the token vocabulary, fraction text and a small
recursive-descent polynomial parser (never ``eval``, never sympy).

Token vocabulary (every math task uses the same ids; ``VOCAB_SIZE = 31``):

- ``0..9`` decimal digits; ``10`` PAD; ``11`` POS, ``12`` NEG, ``13`` POS_CLIPPED, ``14`` NEG_CLIPPED (the
  sign token of a number); ``15`` EMPTY (an empty slot);
- ``16`` CONST, ``17`` X, ``18`` X2 (the kind of an equation term: constant, ``c*x``, ``c*x^2``);
- ``19`` RUNNING, ``20`` SOLVED, ``21`` DECLARED, ``22`` FAILED (the status of an episode);
- ``23..30`` remaining-budget bucket ``0..7`` (:func:`~zeroforge.tasks.base.budget_bucket`).

The arithmetic task reuses ``16..19`` as its operators ``+ - * /``.

A number is :data:`NUMBER_TOKENS` = 7 tokens ``[sign, n2, n1, n0, d2, d1, d0]``: the value in lowest terms
``sign * numerator / denominator`` with three digits each (an integer has denominator ``001``, zero is
POS ``000/001``). If ``|numerator|`` or the denominator exceeds 999 both are clipped to 999 and the sign
becomes ``*_CLIPPED``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

from zeroforge.tasks.base import BUDGET_BUCKETS, fraction_tokens

PAD, POS, NEG, POS_CLIPPED, NEG_CLIPPED, EMPTY = 10, 11, 12, 13, 14, 15
CONST, X, X2 = 16, 17, 18
RUNNING, SOLVED, DECLARED, FAILED = 19, 20, 21, 22
BUDGET0 = 23
VOCAB_SIZE = BUDGET0 + BUDGET_BUCKETS
NUMBER_TOKENS = 7
_SIGNS = (POS, NEG, POS_CLIPPED, NEG_CLIPPED)
EMPTY_NUMBER = (EMPTY,) + (PAD,) * (NUMBER_TOKENS - 1)

#: input bounds of every parser: characters, nesting depth, digits of one integer literal, terms
MAX_CHARS = 1000
MAX_DEPTH = 32
MAX_DIGITS = 9
MAX_EXPANDED_TERMS = 64
MAX_EXPONENT = 9


def number_tokens(value: Fraction) -> tuple[int, ...]:
    """The 7 tokens of an exact number (see the module docstring)."""
    return fraction_tokens(value.numerator, value.denominator, _SIGNS)


def fmt(value: Fraction) -> str:
    """``"3"``, ``"-3"``, ``"1/2"``, ``"-1/2"`` (lowest terms)."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


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


# --------------------------------------------------------------------------------------------- tokens
@dataclass(frozen=True)
class Token:
    """One lexical token: ``kind`` is ``num``, ``var`` or the operator / parenthesis itself (``^`` also
    stands for ``**``); ``col`` is its 1-based column."""

    kind: str
    text: str
    col: int


def tokenize(task: str, text: str, variables: str, offset: int = 0) -> list[Token]:
    """Tokens of ``text``; ``variables`` are the allowed one-letter variable names. One-line ``ValueError``
    starting with ``task`` on anything else (unknown characters, too long, implicit multiplication). Columns
    are reported counting ``offset`` characters before ``text``."""
    if not isinstance(text, str):
        raise ValueError(f"{task}: expected text, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ValueError(f"{task}: input has {len(text)} characters, at most {MAX_CHARS}")
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
            if k - start > MAX_DIGITS:
                raise ValueError(f"{task}: integer at column {col} has more than {MAX_DIGITS} digits")
            tokens.append(Token("num", text[start:k], col))
        elif ch in variables and ch.isalpha():
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


# ----------------------------------------------------------------------------------------- polynomials
Mono = tuple[int, ...]  # exponent per variable
Poly = list[tuple[Mono, Fraction]]  # ordered terms, not merged


def mono_text(mono: Mono, variables: str) -> str:
    """``"x**3"``, ``"x*y"``, ``"1"``."""
    parts = [v if e == 1 else f"{v}**{e}" for v, e in zip(variables, mono, strict=False) if e]
    return "*".join(parts) or "1"


class PolyParser:
    """Recursive descent over ``expr := term (('+'|'-') term)*``, ``term := unary (('*'|'/') unary)*``,
    ``unary := ('-'|'+') unary | power``, ``power := atom ('^' INT)?``, ``atom := INT | VAR | '(' expr ')'``.

    Values are polynomials as ordered term lists (products of sums are expanded term by term, in order;
    terms are never merged); division only by a non-zero constant; total degree at most ``max_degree``.
    """

    def __init__(self, task: str, tokens: list[Token], variables: str, max_degree: int) -> None:
        self.task = task
        self.tokens = tokens
        self.variables = variables
        self.max_degree = max_degree
        self.pos = 0
        self.zero: Mono = (0,) * len(variables)

    def fail(self, message: str) -> ValueError:
        return ValueError(f"{self.task}: {message}")

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def where(self) -> str:
        tok = self.peek()
        return "at the end" if tok is None else f"'{tok.text}' at column {tok.col}"

    def parse(self) -> Poly:
        if not self.tokens:
            raise self.fail("empty expression")
        value = self.expr(0)
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.where()}")
        return [(m, c) for m, c in value if c != 0]

    def expr(self, depth: int) -> Poly:
        value = self.term(depth)
        while (tok := self.peek()) is not None and tok.kind in "+-":
            self.pos += 1
            rhs = self.term(depth)
            value = value + (rhs if tok.kind == "+" else [(m, -c) for m, c in rhs])
            self.check_size(value)
        return value

    def term(self, depth: int) -> Poly:
        value = self.unary(depth)
        while (tok := self.peek()) is not None and tok.kind in "*/":
            self.pos += 1
            rhs = self.unary(depth)
            if tok.kind == "*":
                value = self.mul(value, rhs)
            else:
                if any(m != self.zero for m, _ in rhs):
                    raise self.fail(f"division by an expression with a variable at column {tok.col}")
                divisor = sum((c for _, c in rhs), Fraction(0))
                if divisor == 0:
                    raise self.fail(f"division by zero at column {tok.col}")
                value = [(m, c / divisor) for m, c in value]
        return value

    def unary(self, depth: int) -> Poly:
        tok = self.peek()
        if tok is not None and tok.kind in "+-":
            if depth >= MAX_DEPTH:
                raise self.fail(f"expression nested deeper than {MAX_DEPTH}")
            self.pos += 1
            value = self.unary(depth + 1)
            return value if tok.kind == "+" else [(m, -c) for m, c in value]
        return self.power(depth)

    def power(self, depth: int) -> Poly:
        base = self.atom(depth)
        tok = self.peek()
        if tok is None or tok.kind != "^":
            return base
        self.pos += 1
        exp = self.peek()
        if exp is None or exp.kind != "num" or int(exp.text) > MAX_EXPONENT:
            raise self.fail(f"exponent {self.where()} must be an integer 0..{MAX_EXPONENT}")
        self.pos += 1
        result: Poly = [(self.zero, Fraction(1))]
        for _ in range(int(exp.text)):
            result = self.mul(result, base)
        if (nxt := self.peek()) is not None and nxt.kind == "^":
            raise self.fail(f"chained exponent at column {nxt.col}; use parentheses")
        return result

    def atom(self, depth: int) -> Poly:
        tok = self.peek()
        if tok is None:
            raise self.fail("unexpected end of expression")
        if tok.kind == "num":
            self.pos += 1
            return [(self.zero, Fraction(int(tok.text)))]
        if tok.kind == "var":
            self.pos += 1
            mono = tuple(int(v == tok.text) for v in self.variables)
            self.check_degree(mono)
            return [(mono, Fraction(1))]
        if tok.kind == "(":
            if depth >= MAX_DEPTH:
                raise self.fail(f"expression nested deeper than {MAX_DEPTH}")
            self.pos += 1
            value = self.expr(depth + 1)
            close = self.peek()
            if close is None or close.kind != ")":
                raise self.fail(f"missing ')' for the '(' at column {tok.col}")
            self.pos += 1
            return value
        raise self.fail(f"unexpected {self.where()}")

    def mul(self, a: Poly, b: Poly) -> Poly:
        out: Poly = []
        for ma, ca in a:
            for mb, cb in b:
                mono = tuple(x + y for x, y in zip(ma, mb, strict=True))
                self.check_degree(mono)
                out.append((mono, ca * cb))
                self.check_size(out)
        return out

    def check_degree(self, mono: Mono) -> None:
        if sum(mono) > self.max_degree:
            raise self.fail(f"degree {sum(mono)} term '{mono_text(mono, self.variables)}' is not allowed")

    def check_size(self, poly: Poly) -> None:
        if len(poly) > MAX_EXPANDED_TERMS:
            raise self.fail(f"expression expands to more than {MAX_EXPANDED_TERMS} terms")


def parse_equation(task: str, line: str, variables: str, max_degree: int) -> tuple[Poly, Poly]:
    """The two sides of ``lhs = rhs`` as ordered term lists (zero terms dropped)."""
    if line.count("=") != 1:
        raise ValueError(f"{task}: an equation needs exactly one '=', got {line.strip()!r:.60}")
    lhs, rhs = line.split("=")
    sides = []
    for part, offset in ((lhs, 0), (rhs, len(lhs) + 1)):
        if not part.strip():
            raise ValueError(f"{task}: a side of the equation is empty in {line.strip()!r:.60}")
        sides.append(PolyParser(task, tokenize(task, part, variables, offset), variables, max_degree).parse())
    return sides[0], sides[1]
