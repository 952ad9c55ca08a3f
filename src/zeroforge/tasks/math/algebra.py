"""Exact arithmetic of the math tasks (``Fraction`` only, no floats): the value domains the one expression
parser (:mod:`.parse`) computes in, and the square roots of rationals.

- :class:`Rationals`: exact rationals (arithmetic instances).
- :class:`Polynomials`: polynomials in one-letter variables as ORDERED term lists ``[(mono, coefficient)]``
  (``mono`` the exponent per variable), never merged: products of sums are expanded term by term, in order,
  so that an equation keeps the terms as written. Division only by a non-zero constant; total degree at
  most ``max_degree``; at most :data:`MAX_EXPANDED_TERMS` terms.
- :class:`Surds`: ``Q(sqrt d)`` for one square-free ``d``, a number ``a + b*sqrt(d)`` as ``(a, b, d)`` with
  ``d = 1`` iff ``b = 0`` (the roots of a quadratic).

Each raises :class:`AlgebraError` (a ``ValueError``) with a short message on what it cannot do; the parser
prefixes the task's name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "MAX_EXPANDED_TERMS",
    "AlgebraError",
    "Mono",
    "Poly",
    "Polynomials",
    "Rationals",
    "Surd",
    "Surds",
    "is_square",
    "mono_text",
    "quadratic_roots",
    "sqrt_rational",
]

#: the most terms a polynomial may expand to (products of sums grow fast)
MAX_EXPANDED_TERMS = 64

Mono = tuple[int, ...]  # exponent per variable
Poly = list[tuple[Mono, Fraction]]  # ordered terms, not merged
Surd = tuple[Fraction, Fraction, int]  # a + b*sqrt(d); d = 1 iff b == 0


class AlgebraError(ValueError):
    """An operation the domain does not allow (division by zero, a term of too high a degree, ...)."""


# ------------------------------------------------------------------------------------------- rationals
@dataclass(frozen=True)
class Rationals:
    """Exact rationals; a literal is any text ``Fraction`` reads (``"3"``, ``"-3"``, ``"5/3"``)."""

    def number(self, text: str) -> Fraction:
        return Fraction(text)

    def variable(self, name: str) -> Fraction:
        raise AlgebraError(f"unexpected variable {name!r}")

    def add(self, a: Fraction, b: Fraction) -> Fraction:
        return a + b

    def neg(self, a: Fraction) -> Fraction:
        return -a

    def mul(self, a: Fraction, b: Fraction) -> Fraction:
        return a * b

    def div(self, a: Fraction, b: Fraction) -> Fraction:
        if b == 0:
            raise AlgebraError("division by zero")
        return a / b

    def power(self, a: Fraction, n: int) -> Fraction:
        return a**n

    def call(self, name: str, a: Fraction) -> Fraction:
        raise AlgebraError(f"unknown function {name!r}")


# ----------------------------------------------------------------------------------------- polynomials
def mono_text(mono: Mono, variables: str) -> str:
    """``"x**3"``, ``"x*y"``, ``"1"``."""
    parts = [v if e == 1 else f"{v}**{e}" for v, e in zip(variables, mono, strict=False) if e]
    return "*".join(parts) or "1"


@dataclass(frozen=True)
class Polynomials:
    """Polynomials in ``variables`` (one letter each) of total degree at most ``max_degree``, as ordered,
    unmerged term lists (see the module docstring)."""

    variables: str
    max_degree: int

    @property
    def zero_mono(self) -> Mono:
        return (0,) * len(self.variables)

    def number(self, text: str) -> Poly:
        return [(self.zero_mono, Fraction(int(text)))]

    def variable(self, name: str) -> Poly:
        mono = tuple(int(v == name) for v in self.variables)
        self._check_degree(mono)
        return [(mono, Fraction(1))]

    def add(self, a: Poly, b: Poly) -> Poly:
        out = a + b
        self._check_size(out)
        return out

    def neg(self, a: Poly) -> Poly:
        return [(m, -c) for m, c in a]

    def mul(self, a: Poly, b: Poly) -> Poly:
        out: Poly = []
        for ma, ca in a:
            for mb, cb in b:
                mono = tuple(x + y for x, y in zip(ma, mb, strict=True))
                self._check_degree(mono)
                out.append((mono, ca * cb))
                self._check_size(out)
        return out

    def div(self, a: Poly, b: Poly) -> Poly:
        if any(m != self.zero_mono for m, _ in b):
            raise AlgebraError("division by an expression with a variable")
        divisor = sum((c for _, c in b), Fraction(0))
        if divisor == 0:
            raise AlgebraError("division by zero")
        return [(m, c / divisor) for m, c in a]

    def power(self, a: Poly, n: int) -> Poly:
        result: Poly = [(self.zero_mono, Fraction(1))]
        for _ in range(n):
            result = self.mul(result, a)
        return result

    def call(self, name: str, a: Poly) -> Poly:
        raise AlgebraError(f"unknown function {name!r}")

    def _check_degree(self, mono: Mono) -> None:
        if sum(mono) > self.max_degree:
            raise AlgebraError(f"degree {sum(mono)} term '{mono_text(mono, self.variables)}' is not allowed")

    def _check_size(self, poly: Poly) -> None:
        if len(poly) > MAX_EXPANDED_TERMS:
            raise AlgebraError(f"expression expands to more than {MAX_EXPANDED_TERMS} terms")


# --------------------------------------------------------------------------------------- square roots
def sqrt_rational(value: Fraction) -> tuple[Fraction, int]:
    """``(s, f)`` with ``sqrt(value) = s * sqrt(f)``, ``value >= 0``, ``f`` free of square factors below
    ``10**4`` and never a perfect square > 1 (``f = 1`` iff ``value`` is a rational square)."""
    n = value.numerator * value.denominator
    outside, inside = 1, n
    k = 2
    while k * k <= inside and k < 10_000:
        while inside % (k * k) == 0:
            inside //= k * k
            outside *= k
        k += 1
    root = math.isqrt(inside)
    if root * root == inside:
        outside, inside = outside * root, 1
    return Fraction(outside, value.denominator), inside


def is_square(value: Fraction) -> bool:
    """``value`` is the square of a rational."""
    return value >= 0 and sqrt_rational(value)[1] == 1


def quadratic_roots(a: Fraction, b: Fraction, c: Fraction) -> Surd | None:
    """The real roots of ``a*x^2 + b*x + c = 0`` (``a != 0``) as ``(p, q, d)``: ``p ± q*sqrt(d)``, ``q >= 0``
    (``d = 1``: rational; ``q = 0``: a double root); ``None`` when the discriminant is negative."""
    disc = b * b - 4 * a * c
    if disc < 0:
        return None
    s, f = sqrt_rational(disc)
    p, q = -b / (2 * a), s / abs(2 * a)
    return (p, q, f)


@dataclass(frozen=True)
class Surds:
    """``Q(sqrt d)`` for one ``d`` per expression; ``sqrt`` of a non-negative rational is the one function."""

    def number(self, text: str) -> Surd:
        return (Fraction(int(text)), Fraction(0), 1)

    def variable(self, name: str) -> Surd:
        raise AlgebraError(f"unexpected variable {name!r}")

    def add(self, x: Surd, y: Surd) -> Surd:
        d = self._radical(x, y)
        return self._norm(x[0] + y[0], x[1] + y[1], d)

    def neg(self, x: Surd) -> Surd:
        return (-x[0], -x[1], x[2])

    def mul(self, x: Surd, y: Surd) -> Surd:
        d = self._radical(x, y)
        return self._norm(x[0] * y[0] + x[1] * y[1] * d, x[0] * y[1] + x[1] * y[0], d)

    def div(self, x: Surd, y: Surd) -> Surd:
        if y[1] != 0 or y[0] == 0:
            raise AlgebraError("division by an irrational or zero")
        return (x[0] / y[0], x[1] / y[0], x[2])

    def power(self, x: Surd, n: int) -> Surd:
        result: Surd = (Fraction(1), Fraction(0), 1)
        for _ in range(n):
            result = self.mul(result, x)
        return result

    def call(self, name: str, x: Surd) -> Surd:
        if name != "sqrt":
            raise AlgebraError(f"unknown function {name!r}")
        if x[1] != 0 or x[0] < 0:
            raise AlgebraError("sqrt of an irrational or negative number")
        s, f = sqrt_rational(x[0])
        return (s, Fraction(0), 1) if f == 1 else (Fraction(0), s, f)

    @staticmethod
    def _radical(x: Surd, y: Surd) -> int:
        if x[1] != 0 and y[1] != 0 and x[2] != y[2]:
            raise AlgebraError("two different radicals")
        return x[2] if x[1] != 0 else y[2]

    @staticmethod
    def _norm(a: Fraction, b: Fraction, d: int) -> Surd:
        return (a, Fraction(0), 1) if b == 0 else (a, b, d)
