"""One-variable equations as two sides of terms: the types, their text and the sound rewrite rules.

A term is ``(degree, coefficient)`` (``degree`` 0 constant, 1 ``c*x``, 2 ``c*x^2``; the coefficient an exact
non-zero ``Fraction``, kept as written); a side is an ordered tuple of terms (an empty side is ``0``). The
roots of a quadratic are ``(p, q, d)``: ``p ± q*sqrt(d)`` (:func:`~.algebra.quadratic_roots`).
"""

from __future__ import annotations

import math
from fractions import Fraction

from zeroforge.tasks.math.vocab import fmt

__all__ = [
    "NO_REAL",
    "Roots",
    "Side",
    "Term",
    "abc",
    "can_combine",
    "collect",
    "combine",
    "const_or_empty",
    "divide_linear",
    "equation_text",
    "lcd",
    "linear_divisible",
    "linear_solved",
    "move_term",
    "roots_text",
    "scale",
    "side_text",
    "single",
    "sqrt_form",
    "standard_side",
    "term_text",
]

Term = tuple[int, Fraction]  # (degree, coefficient)
Side = tuple[Term, ...]
Roots = tuple[Fraction, Fraction, int]  # p, q >= 0, d: roots p ± q*sqrt(d) (d = 1: rational)

NO_REAL = "no real solution"


# ------------------------------------------------------------------------------------------ text
def term_text(term: Term, first: bool, square: str = "^") -> str:
    """A term as it reads after the previous ones: ``"3*x"``, ``" - x"``, ``" + 1/2*x^2"``."""
    deg, c = term
    mag = abs(c) if not first else c
    if deg == 0:
        body = fmt(mag)
    else:
        var = "x" if deg == 1 else f"x{square}2"
        body = var if mag == 1 else "-" + var if mag == -1 else f"{fmt(mag)}*{var}"
    if first:
        return body
    return (" - " if c < 0 else " + ") + body


def side_text(side: Side, square: str = "^") -> str:
    """A side as plain math (``"0"`` when empty)."""
    return "".join(term_text(t, i == 0, square) for i, t in enumerate(side)) or "0"


def equation_text(left: Side, right: Side, square: str = "^") -> str:
    """``"2*x + 3 = 7"`` (``square`` writes the power: ``^`` for people, ``**`` for instance text)."""
    return f"{side_text(left, square)} = {side_text(right, square)}"


def _root_text(p: Fraction, q: Fraction, d: int, sign: int) -> str:
    if q == 0 or d == 1:
        return fmt(p + sign * q)
    rad = f"sqrt({d})" if q == 1 else f"{fmt(q)}*sqrt({d})"
    if p == 0:
        return rad if sign > 0 else "-" + rad
    return f"{fmt(p)} {'+' if sign > 0 else '-'} {rad}"


def roots_text(roots: Roots | None) -> str:
    """``"x = 2 or x = 3"`` (ascending), ``"x = 2"`` (double root), ``"no real solution"`` (``None``)."""
    if roots is None:
        return NO_REAL
    p, q, d = roots
    if q == 0:
        return f"x = {fmt(p)}"
    return f"x = {_root_text(p, q, d, -1)} or x = {_root_text(p, q, d, +1)}"


# ------------------------------------------------------------------------------------- rewrites
def collect(left: Side, right: Side) -> dict[int, Fraction]:
    """The coefficients of ``left - right`` by degree (0, 1, 2)."""
    out = {0: Fraction(0), 1: Fraction(0), 2: Fraction(0)}
    for deg, c in left:
        out[deg] += c
    for deg, c in right:
        out[deg] -= c
    return out


def move_term(src: Side, dst: Side, i: int) -> tuple[Side, Side]:
    """Term ``i`` of ``src`` moved to the end of ``dst``, negated: ``(new src, new dst)``."""
    deg, c = src[i]
    return src[:i] + src[i + 1 :], (*dst, (deg, -c))


def combine(side: Side) -> Side:
    """Like terms merged, ordered ``x^2, x, constant``; zero sums vanish."""
    sums: dict[int, Fraction] = {}
    for deg, c in side:
        sums[deg] = sums.get(deg, Fraction(0)) + c
    return tuple((deg, sums[deg]) for deg in (2, 1, 0) if sums.get(deg, 0) != 0)


def can_combine(side: Side) -> bool:
    """A degree occurs twice on ``side``."""
    degs = [deg for deg, _ in side]
    return len(set(degs)) < len(degs)


def lcd(left: Side, right: Side) -> int:
    """The least common denominator of every coefficient (``1`` when all are integers)."""
    return math.lcm(*(c.denominator for _, c in left + right)) if left or right else 1


def scale(side: Side, factor: Fraction) -> Side:
    """Every coefficient times ``factor``."""
    return tuple((deg, c * factor) for deg, c in side)


def single(side: Side, deg: int, coef: Fraction | None = None) -> bool:
    """``side`` is one term of degree ``deg`` (with coefficient ``coef`` if given)."""
    return len(side) == 1 and side[0][0] == deg and (coef is None or side[0][1] == coef)


def const_or_empty(side: Side) -> bool:
    """``side`` is one constant or nothing."""
    return not side or single(side, 0)


def linear_solved(left: Side, right: Side) -> bool:
    """``x = c`` or ``c = x`` (``c`` one constant or nothing)."""
    return (single(left, 1, Fraction(1)) and const_or_empty(right)) or (
        single(right, 1, Fraction(1)) and const_or_empty(left)
    )


def linear_divisible(left: Side, right: Side) -> bool:
    """``a*x = c`` or ``c = a*x`` with ``a != 1``: dividing by ``a`` solves it."""
    return any(single(a, 1) and a[0][1] != 1 and const_or_empty(b) for a, b in ((left, right), (right, left)))


def standard_side(left: Side, right: Side) -> Side | None:
    """The non-empty side if the equation is in standard form (``... = 0`` or ``0 = ...``), else ``None``."""
    for a, b in ((left, right), (right, left)):
        if not b and a:
            degs = [deg for deg, _ in a]
            if 2 in degs and len(set(degs)) == len(degs):
                return a
    return None


def sqrt_form(left: Side, right: Side) -> Fraction | None:
    """``c`` if the equation is ``x^2 = c`` / ``c = x^2`` with ``c >= 0``, else ``None``."""
    for a, b in ((left, right), (right, left)):
        if single(a, 2, Fraction(1)) and const_or_empty(b):
            c = b[0][1] if b else Fraction(0)
            if c >= 0:
                return c
    return None


def abc(side: Side) -> tuple[Fraction, Fraction, Fraction]:
    """The collected coefficients ``(a, b, c)`` of ``a*x^2 + b*x + c`` on one side."""
    coef = collect(side, ())
    return coef[2], coef[1], coef[0]


def divide_linear(left: Side, right: Side) -> tuple[Side, Side]:
    """Both sides divided by the coefficient of ``x`` (on a :func:`linear_divisible` equation)."""
    a = left[0][1] if single(left, 1) else right[0][1]
    return scale(left, 1 / a), scale(right, 1 / a)
