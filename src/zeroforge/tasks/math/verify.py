"""The verifiers of the one-variable equations: exact checks of an answer against the ORIGINAL equation.

``verify_linear``: ``"x = c"`` (a rational ``c``), ``"no solution"`` or ``"infinitely many"``, checked on the
collected ``a*x + b = 0``. ``verify_quadratic``: ``"x = r1 or x = r2"``, ``"x = r"`` or ``"no real solution"``;
each root (integers, ``+ - * /``, parentheses, ``sqrt(...)`` of a non-negative rational, read by the one
expression parser of :mod:`.parse` in ``Q(sqrt d)``) is substituted with exact arithmetic and the distinct
roots are counted against the discriminant. Malformed answers are ``False``; a malformed equation raises a
one-line ``ValueError``.
"""

from __future__ import annotations

import re

from zeroforge.tasks.math.algebra import Surd, Surds
from zeroforge.tasks.math.equations import EquationState
from zeroforge.tasks.math.parse import ExprParser, Syntax, parse_equation, parse_number, tokenize
from zeroforge.tasks.math.sides import NO_REAL, Side, collect

__all__ = [
    "INFINITE",
    "NO_SOLUTION",
    "ROOT_SYNTAX",
    "parse_root",
    "verify_linear",
    "verify_linear_sides",
    "verify_quadratic",
    "verify_quadratic_sides",
]

NO_SOLUTION, INFINITE = "no solution", "infinitely many"

#: a root of an answer: no variables, ``sqrt`` the one function, no unary ``+`` or powers, short
ROOT_SYNTAX = Syntax(functions=("sqrt",), unary_plus=False, powers=False, max_chars=200, max_digits=30, max_depth=20)


def parse_root(text: str) -> Surd:
    """A root written ``"1/2 - 3/2*sqrt(5)"`` as ``(a, b, d)`` = ``a + b*sqrt(d)``; ``ValueError`` if malformed."""
    return ExprParser("root", tokenize("root", text, ROOT_SYNTAX), Surds(), ROOT_SYNTAX).parse()


def _equation_sides(task: str, equation: str | EquationState, degree: int) -> tuple[Side, Side]:
    if isinstance(equation, EquationState):
        return equation.orig_left, equation.orig_right
    lhs, rhs = parse_equation(task, equation.strip(), "x", degree)
    return tuple((m[0], c) for m, c in lhs), tuple((m[0], c) for m, c in rhs)


def verify_linear(equation: str | EquationState, answer: str) -> bool:
    """Whether ``answer`` (``"x = c"`` with a rational ``c``, ``"no solution"`` or ``"infinitely many"``)
    is the solution of the linear ``equation`` (text or a state: its original equation), exactly.
    Malformed answers are ``False``; a malformed equation raises ``ValueError``."""
    return verify_linear_sides(*_equation_sides("linear_equation", equation, 1), answer)


def verify_linear_sides(left: Side, right: Side, answer: str) -> bool:
    """:func:`verify_linear` on the sides of the equation."""
    coef = collect(left, right)
    a, b = coef[1], coef[0]
    if not isinstance(answer, str):
        return False
    text = " ".join(answer.split())
    if text == NO_SOLUTION:
        return a == 0 and b != 0
    if text == INFINITE:
        return a == 0 and b == 0
    m = re.fullmatch(r"x\s*=\s*(.+)", text)
    value = parse_number(m.group(1)) if m else None
    return value is not None and a != 0 and a * value + b == 0


def verify_quadratic(equation: str | EquationState, answer: str) -> bool:
    """Whether ``answer`` is the complete real solution set of ``equation`` (text or a state: its original
    equation, degree <= 2), checked by substituting every root into the ORIGINAL equation with exact
    arithmetic in ``Q(sqrt d)`` (no floats) and counting distinct roots against the discriminant.

    ``answer``: ``"x = r1 or x = r2"``, ``"x = r"`` or ``"no real solution"``; a root is an expression of
    integers, ``+ - * /``, parentheses and ``sqrt(...)`` of a non-negative rational (``"1/2 - 3/2*sqrt(5)"``).
    Malformed answers, missing or extra roots and roots of another equation are ``False``."""
    return verify_quadratic_sides(*_equation_sides("quadratic", equation, 2), answer)


def verify_quadratic_sides(left: Side, right: Side, answer: str) -> bool:
    """:func:`verify_quadratic` on the sides of the equation."""
    coef = collect(left, right)
    a, b, c = coef[2], coef[1], coef[0]
    if a == 0:  # a linear equation: one root, none, or every x
        expected = 1 if b != 0 else 0 if c != 0 else -1
    else:
        disc = b * b - 4 * a * c
        expected = 2 if disc > 0 else 1 if disc == 0 else 0
    if not isinstance(answer, str):
        return False
    text = " ".join(answer.split())
    if text == NO_REAL:
        return expected == 0
    roots: set[Surd] = set()
    for part in text.split(" or "):
        m = re.fullmatch(r"x\s*=\s*(.+)", part.strip())
        if not m:
            return False
        try:
            u, v, d = parse_root(m.group(1))
        except ValueError:
            return False
        # a*x^2 + b*x + c at x = u + v*sqrt(d)
        rational = a * (u * u + v * v * d) + b * u + c
        irrational = a * 2 * u * v + b * v
        if rational != 0 or irrational != 0:
            return False
        roots.add((u, v, d))
    return expected >= 1 and len(roots) == expected and len(text.split(" or ")) == expected
