"""One-variable equations solved step by step: ``linear_equation`` and ``quadratic`` (single-agent MDPs).

State. An equation ``left = right`` whose sides are ordered lists of *terms* ``(degree, coefficient)``
(``degree`` 0 constant, 1 ``c*x``, 2 ``c*x^2``; the coefficient an exact non-zero ``Fraction``, kept as
written: like terms are only merged by the combine action). At most ``K = max_terms`` terms a side; an empty
side is ``0``. The original equation rides along (``orig_left``, ``orig_right``) for the verifier.

Actions (``K = max_terms``; every action is a sound equivalence, legal only where it applies)::

    0 .. K-1        move left term k to the right side (negated, appended)     needs k < len(left), room on the right
    K .. 2K-1       move right term k to the left side                         (a full side makes a move illegal)
    2K              combine like terms on the left     legal iff a degree occurs twice there; zero sums vanish
    2K+1            combine like terms on the right    (result ordered x^2, x, constant)
    2K+2            multiply both sides by the LCD of all denominators    legal iff a coefficient is not an integer
    2K+3            swap sides
    2K+4            linear_equation: divide both sides by the coefficient of x: legal iff the equation is
                    ``a*x = c`` or ``c = a*x`` (one term a side, or an empty side for c = 0), a != 1;
                    quadratic: divide both sides by the leading coefficient: legal on the standard form, a != 1
    linear_equation:
    2K+5            declare: no solution          (legal in every non-terminal state; terminal)
    2K+6            declare: infinitely many      (legal in every non-terminal state; terminal)
    quadratic:
    2K+5            factor: legal on the standard form with a discriminant that is the square of a rational;
                    it goes straight to the solved roots form (the factored form is shown in the action text)
    2K+6            quadratic formula: legal on the standard form; roots ``p ± q*sqrt(d)`` (exact, ``d``
                    square-free) or the solved form ``no real solution`` when the discriminant is negative
    2K+7            square root both sides: legal on ``x^2 = c`` (x^2 alone with coefficient 1 on one side,
                    one constant ``c >= 0`` or nothing on the other): roots ``±sqrt(c)``
    2K+8            declare: no real solution     (legal in every non-terminal state; terminal)

``num_actions = 2K + 7`` (linear, 15 for K = 4) and ``2K + 9`` (quadratic, 17). The *standard form* is one side
empty and the other holding an ``x^2`` term and at most one term of each degree (any order).

Episode end and rewards ``float32[1]``:

- linear_equation reaches the solved form ``x = c`` / ``c = x`` (x alone with coefficient 1 on one side, one
  constant or nothing on the other): ``+1``; quadratic reaches a roots form through factor / formula / square
  root: ``+1`` iff :func:`verify_quadratic` accepts the roots on the ORIGINAL equation (always, since every
  action is sound);
- a declaration: ``+1`` iff it is true of the original equation (collected ``a*x + b = 0``: no solution iff
  ``a = 0, b != 0``, infinitely many iff ``a = b = 0``; quadratic: discriminant ``< 0``), else ``-1``;
- the step budget runs out first: ``-1``.

Budget and optimum. ``horizon`` is the breadth-first distance (every non-terminal action except swap and
the declarations, states compared as multisets of terms per side and up to swapping sides, which changes
no distance) from the instance to the solved form (linear), to a state where factor / formula / square root is
legal plus that one step (quadratic), or, for a linear equation without a unique solution, to a collected
form with no x-term and at most one constant. The budget is ``min(max_episode_steps, ceil(step_budget_factor
* horizon))``; it does not reveal whether the declaration is the answer. The optimal episode length
``optimal`` is ``horizon`` for a solvable instance and ``1`` (declare at once) otherwise; ``score`` is
``optimal / steps`` on success, ``0.0`` on failure. Generated instances have ``horizon <= MAX_HORIZON`` (8),
so ``max_episode_steps = ceil(step_budget_factor * 8)`` (12 by default) bounds every episode.

Observation (``seq_len = 16 * K + 2`` tokens = 66 for K = 4; vocabulary of :mod:`._common`, 31 tokens):
per left slot then per right slot 8 tokens ``[kind, sign, n2, n1, n0, d2, d1, d0]`` (kind CONST / X / X2 and
the coefficient as a 7-token number; an empty slot is ``[EMPTY, PAD x 7]``), then ``[status, budget bucket]``
(status RUNNING / SOLVED / DECLARED / FAILED).

Levels (``difficulty_levels = 4``). linear_equation: (1) integer coefficients, x on one side; (2) terms on both
sides; (3) fractional coefficients, rational root; (4) levels 2-3 mixed, ~12 % of instances with no solution or
infinitely many. quadratic: (1) integer roots, leading coefficient 1, at most one term off the standard form;
(2) rational roots; (3) irrational roots, terms on both sides; (4) all kinds mixed, ~20 % without real roots.
The root ``x*`` (or the roots) is drawn first, so every solvable instance has a known answer.

Text. ``parse`` reads one equation (``2*x + 3 = 7``, ``x**2 - 5*x + 6 = 0``; ``^`` is a synonym of ``**``;
implicit multiplication ``2x`` is rejected), with the parser of :mod:`._common`: integers, ``/``, ``+ - *``,
unary minus, parentheses, ``x`` and its powers up to the degree; products of sums are expanded term by term
in order, zero terms dropped. A quadratic instance must have collected degree 2; an instance already in solved
form is rejected. ``instance_text`` writes the original equation (``3*x + 1/2*x**2 = -4``);
``to_text`` the current one (``x^2`` for squares) with the step count and budget. Answers: ``"x = 2"``,
``"no solution"``, ``"infinitely many"``; ``"x = 2 or x = 3"``, ``"x = -1"`` (double root),
``"x = 1 - sqrt(2) or x = 1 + sqrt(2)"``, ``"no real solution"``.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from zeroforge.tasks.base import (
    SOLO_FAILURE,
    SOLO_NO_REWARD,
    SOLO_SUCCESS,
    State,
    Task,
    budget_bucket,
    check_budget_factor,
    check_int_param,
    path_score,
    register_task,
)
from zeroforge.tasks.math._common import (
    BUDGET0,
    CONST,
    DECLARED,
    EMPTY,
    FAILED,
    PAD,
    RUNNING,
    SOLVED,
    VOCAB_SIZE,
    X2,
    X,
    fmt,
    number_tokens,
    parse_equation,
    parse_number,
)

__all__ = [
    "MAX_HORIZON",
    "EquationState",
    "LinearEquation",
    "Quadratic",
    "quadratic_roots",
    "roots_text",
    "verify_linear",
    "verify_quadratic",
]

Term = tuple[int, Fraction]  # (degree, coefficient)
Side = tuple[Term, ...]
Roots = tuple[Fraction, Fraction, int]  # p, q >= 0, d: roots p ± q*sqrt(d) (d = 1: rational)

MAX_HORIZON = 8
_KIND = {0: CONST, 1: X, 2: X2}
_SLOT = 8
_NO_SOLUTION, _INFINITE, _NO_REAL = "no solution", "infinitely many", "no real solution"


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
        return _NO_REAL
    p, q, d = roots
    if q == 0:
        return f"x = {fmt(p)}"
    return f"x = {_root_text(p, q, d, -1)} or x = {_root_text(p, q, d, +1)}"


# ------------------------------------------------------------------------------------ arithmetic
def collect(left: Side, right: Side) -> dict[int, Fraction]:
    """The coefficients of ``left - right`` by degree (0, 1, 2)."""
    out = {0: Fraction(0), 1: Fraction(0), 2: Fraction(0)}
    for deg, c in left:
        out[deg] += c
    for deg, c in right:
        out[deg] -= c
    return out


def _sqrt_rational(value: Fraction) -> tuple[Fraction, int]:
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


def quadratic_roots(a: Fraction, b: Fraction, c: Fraction) -> Roots | None:
    """The real roots of ``a*x^2 + b*x + c = 0`` (``a != 0``) as ``(p, q, d)``: ``p ± q*sqrt(d)``, ``q >= 0``
    (``d = 1``: rational; ``q = 0``: a double root); ``None`` when the discriminant is negative."""
    disc = b * b - 4 * a * c
    if disc < 0:
        return None
    s, f = _sqrt_rational(disc)
    p, q = -b / (2 * a), s / abs(2 * a)
    return (p, q, f)


def _is_square(value: Fraction) -> bool:
    return value >= 0 and _sqrt_rational(value)[1] == 1


# ------------------------------------------------------------------------------------- rewrites
def _combine(side: Side) -> Side:
    sums: dict[int, Fraction] = {}
    for deg, c in side:
        sums[deg] = sums.get(deg, Fraction(0)) + c
    return tuple((deg, sums[deg]) for deg in (2, 1, 0) if sums.get(deg, 0) != 0)


def _can_combine(side: Side) -> bool:
    degs = [deg for deg, _ in side]
    return len(set(degs)) < len(degs)


def _lcd(left: Side, right: Side) -> int:
    return math.lcm(*(c.denominator for _, c in left + right)) if left or right else 1


def _scale(side: Side, factor: Fraction) -> Side:
    return tuple((deg, c * factor) for deg, c in side)


def _single(side: Side, deg: int, coef: Fraction | None = None) -> bool:
    return len(side) == 1 and side[0][0] == deg and (coef is None or side[0][1] == coef)


def _const_or_empty(side: Side) -> bool:
    return not side or _single(side, 0)


def linear_solved(left: Side, right: Side) -> bool:
    """``x = c`` or ``c = x`` (``c`` one constant or nothing)."""
    return (_single(left, 1, Fraction(1)) and _const_or_empty(right)) or (
        _single(right, 1, Fraction(1)) and _const_or_empty(left)
    )


def _linear_divisible(left: Side, right: Side) -> bool:
    return any(_single(a, 1) and a[0][1] != 1 and _const_or_empty(b) for a, b in ((left, right), (right, left)))


def _standard(left: Side, right: Side) -> Side | None:
    """The non-empty side if the equation is in standard form (``... = 0`` or ``0 = ...``), else ``None``."""
    for a, b in ((left, right), (right, left)):
        if not b and a:
            degs = [deg for deg, _ in a]
            if 2 in degs and len(set(degs)) == len(degs):
                return a
    return None


def _sqrt_form(left: Side, right: Side) -> Fraction | None:
    """``c`` if the equation is ``x^2 = c`` / ``c = x^2`` with ``c >= 0``, else ``None``."""
    for a, b in ((left, right), (right, left)):
        if _single(a, 2, Fraction(1)) and _const_or_empty(b):
            c = b[0][1] if b else Fraction(0)
            if c >= 0:
                return c
    return None


def _abc(side: Side) -> tuple[Fraction, Fraction, Fraction]:
    coef = dict.fromkeys((0, 1, 2), Fraction(0))
    for deg, c in side:
        coef[deg] += c
    return coef[2], coef[1], coef[0]


def _canon(left: Side, right: Side) -> tuple[Side, Side]:
    a, b = tuple(sorted(left)), tuple(sorted(right))
    return (a, b) if a <= b else (b, a)


def _successors(left: Side, right: Side, k: int, quadratic: bool) -> list[tuple[Side, Side]]:
    """Every state one BFS action away (moves, combines, LCD, divide; not swap, finishing or declaring)."""
    out: list[tuple[Side, Side]] = []
    for src, dst, flip in ((left, right, False), (right, left, True)):
        if len(dst) < k:
            for term in dict.fromkeys(src):
                i = src.index(term)
                new_src = src[:i] + src[i + 1 :]
                new_dst = (*dst, (term[0], -term[1]))
                out.append((new_dst, new_src) if flip else (new_src, new_dst))
    if _can_combine(left):
        out.append((_combine(left), right))
    if _can_combine(right):
        out.append((left, _combine(right)))
    lcd = _lcd(left, right)
    if lcd != 1:
        out.append((_scale(left, Fraction(lcd)), _scale(right, Fraction(lcd))))
    if quadratic:
        std = _standard(left, right)
        if std is not None and _abc(std)[0] != 1:
            inv = 1 / _abc(std)[0]
            out.append((_scale(left, inv), _scale(right, inv)))
    elif _linear_divisible(left, right):
        out.append(_divide_linear(left, right))
    return out


def _divide_linear(left: Side, right: Side) -> tuple[Side, Side]:
    a = left[0][1] if _single(left, 1) else right[0][1]
    return _scale(left, 1 / a), _scale(right, 1 / a)


def _linear_goal(degenerate: bool) -> Callable[[Side, Side], bool]:
    if degenerate:
        return lambda left, right: all(deg == 0 for deg, _ in left + right) and len(left) + len(right) <= 1
    return linear_solved


def _quadratic_goal(left: Side, right: Side) -> bool:
    return _standard(left, right) is not None or _sqrt_form(left, right) is not None


@lru_cache(maxsize=4096)
def shortest_distance(left: Side, right: Side, k: int, quadratic: bool, degenerate: bool, limit: int) -> int | None:
    """Breadth-first distance (at most ``limit``) from ``left = right`` to the goal of the task (see the module
    docstring); ``None`` if the goal is farther."""
    goal = _quadratic_goal if quadratic else _linear_goal(degenerate)
    start = _canon(left, right)
    if goal(*start):
        return 0
    seen = {start}
    frontier = deque([(start, 0)])
    while frontier:
        (a, b), dist = frontier.popleft()
        if dist >= limit:
            continue
        for nxt in _successors(a, b, k, quadratic):
            key = _canon(*nxt)
            if key in seen:
                continue
            if goal(*key):
                return dist + 1
            seen.add(key)
            frontier.append((key, dist + 1))
    return None


# ----------------------------------------------------------------------------------------- verifiers
def _equation_sides(task: str, equation: str | EquationState, degree: int) -> tuple[Side, Side]:
    if isinstance(equation, EquationState):
        return equation.orig_left, equation.orig_right
    lhs, rhs = parse_equation(task, equation.strip(), "x", degree)
    return tuple((m[0], c) for m, c in lhs), tuple((m[0], c) for m, c in rhs)


def verify_linear(equation: str | EquationState, answer: str) -> bool:
    """Whether ``answer`` (``"x = c"`` with a rational ``c``, ``"no solution"`` or ``"infinitely many"``)
    is the solution of the linear ``equation`` (text or a state: its original equation), exactly.
    Malformed answers are ``False``; a malformed equation raises ``ValueError``."""
    return _verify_linear_sides(*_equation_sides("linear_equation", equation, 1), answer)


def _solved_answer(left: Side, right: Side) -> str:
    """``"x = c"`` of a solved form."""
    consts = [c for deg, c in left + right if deg == 0]
    return f"x = {fmt(consts[0]) if consts else '0'}"


def _verify_linear_sides(left: Side, right: Side, answer: str) -> bool:
    coef = collect(left, right)
    a, b = coef[1], coef[0]
    if not isinstance(answer, str):
        return False
    text = " ".join(answer.split())
    if text == _NO_SOLUTION:
        return a == 0 and b != 0
    if text == _INFINITE:
        return a == 0 and b == 0
    m = re.fullmatch(r"x\s*=\s*(.+)", text)
    value = parse_number(m.group(1)) if m else None
    return value is not None and a != 0 and a * value + b == 0


# a + b*sqrt(d): d = 1 means b == 0
_QElem = tuple[Fraction, Fraction, int]


class _RootParser:
    """``expr := term (('+'|'-') term)*``, ``term := unary (('*'|'/') unary)*``, ``unary := '-' unary | atom``,
    ``atom := INT | 'sqrt' '(' expr ')' | '(' expr ')'`` over ``Q(sqrt d)`` for one ``d``; ``ValueError`` on
    anything else (division by an irrational, two different radicals, deep nesting)."""

    def __init__(self, text: str) -> None:
        if len(text) > 200:
            raise ValueError("too long")
        self.tokens = re.findall(r"\d+|sqrt|[-+*/()]|\S", text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise ValueError("unexpected end")
        self.pos += 1
        return tok

    def parse(self) -> _QElem:
        value = self.expr(0)
        if self.peek() is not None:
            raise ValueError("trailing input")
        return value

    def expr(self, depth: int) -> _QElem:
        value = self.term(depth)
        while self.peek() in ("+", "-"):
            sign = 1 if self.take() == "+" else -1
            rhs = self.term(depth)
            value = _qadd(value, (sign * rhs[0], sign * rhs[1], rhs[2]))
        return value

    def term(self, depth: int) -> _QElem:
        value = self.unary(depth)
        while self.peek() in ("*", "/"):
            op = self.take()
            rhs = self.unary(depth)
            if op == "*":
                value = _qmul(value, rhs)
            else:
                if rhs[1] != 0 or rhs[0] == 0:
                    raise ValueError("division by an irrational or zero")
                value = (value[0] / rhs[0], value[1] / rhs[0], value[2])
        return value

    def unary(self, depth: int) -> _QElem:
        if depth > 20:
            raise ValueError("too deep")
        if self.peek() == "-":
            self.take()
            a, b, d = self.unary(depth + 1)
            return (-a, -b, d)
        return self.atom(depth)

    def atom(self, depth: int) -> _QElem:
        tok = self.take()
        if tok.isdigit() and tok.isascii() and len(tok) <= 30:
            return (Fraction(int(tok)), Fraction(0), 1)
        if tok in ("sqrt", "("):
            if tok == "sqrt" and self.take() != "(":
                raise ValueError("sqrt needs parentheses")
            inner = self.expr(depth + 1)
            if self.take() != ")":
                raise ValueError("missing )")
            if tok == "(":
                return inner
            if inner[1] != 0 or inner[0] < 0:
                raise ValueError("sqrt of an irrational or negative number")
            s, f = _sqrt_rational(inner[0])
            return (s, Fraction(0), 1) if f == 1 else (Fraction(0), s, f)
        raise ValueError(f"unexpected {tok!r}")


def _qnorm(a: Fraction, b: Fraction, d: int) -> _QElem:
    return (a, Fraction(0), 1) if b == 0 else (a, b, d)


def _qadd(x: _QElem, y: _QElem) -> _QElem:
    if x[1] != 0 and y[1] != 0 and x[2] != y[2]:
        raise ValueError("two different radicals")
    d = x[2] if x[1] != 0 else y[2]
    return _qnorm(x[0] + y[0], x[1] + y[1], d)


def _qmul(x: _QElem, y: _QElem) -> _QElem:
    if x[1] != 0 and y[1] != 0 and x[2] != y[2]:
        raise ValueError("two different radicals")
    d = x[2] if x[1] != 0 else y[2]
    return _qnorm(x[0] * y[0] + x[1] * y[1] * d, x[0] * y[1] + x[1] * y[0], d)


def verify_quadratic(equation: str | EquationState, answer: str) -> bool:
    """Whether ``answer`` is the complete real solution set of ``equation`` (text or a state: its original
    equation, degree <= 2), checked by substituting every root into the ORIGINAL equation with exact
    arithmetic in ``Q(sqrt d)`` (no floats) and counting distinct roots against the discriminant.

    ``answer``: ``"x = r1 or x = r2"``, ``"x = r"`` or ``"no real solution"``; a root is an expression of
    integers, ``+ - * /``, parentheses and ``sqrt(...)`` of a non-negative rational (``"1/2 - 3/2*sqrt(5)"``).
    Malformed answers, missing or extra roots and roots of another equation are ``False``."""
    return _verify_quadratic_sides(*_equation_sides("quadratic", equation, 2), answer)


def _verify_quadratic_sides(left: Side, right: Side, answer: str) -> bool:
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
    if text == _NO_REAL:
        return expected == 0
    roots: set[_QElem] = set()
    for part in text.split(" or "):
        m = re.fullmatch(r"x\s*=\s*(.+)", part.strip())
        if not m:
            return False
        try:
            u, v, d = _RootParser(m.group(1)).parse()
        except ValueError:
            return False
        # a*x^2 + b*x + c at x = u + v*sqrt(d)
        rational = a * (u * u + v * v * d) + b * u + c
        irrational = a * 2 * u * v + b * v
        if rational != 0 or irrational != 0:
            return False
        roots.add((u, v, d))
    return expected >= 1 and len(roots) == expected and len(text.split(" or ")) == expected


# ----------------------------------------------------------------------------------------------- state
@dataclass(frozen=True, eq=False)
class EquationState(State):
    """A point in an equation episode: the current sides, the original ones, the budget, the optimal episode
    length, ``declared`` (the declaration made, ``""`` if none) and, for quadratic, ``finished`` (a roots form
    was reached) with ``roots`` (``None`` = no real solution)."""

    left: Side
    right: Side
    orig_left: Side
    orig_right: Side
    budget: int
    optimal: int
    declared: str
    finished: bool
    roots: Roots | None

    def key(self) -> tuple[Any, ...]:
        """Original and current sides, the declaration / roots, step count and budget."""
        return (
            self.orig_left,
            self.orig_right,
            self.left,
            self.right,
            self.declared,
            self.finished,
            self.roots,
            self.step_count,
            self.budget,
        )

    def to_text(self) -> str:
        """E.g. ``"2*x = 7 - 3\\nstep 1/5"``; a solved quadratic shows its roots, a declaration its claim."""
        eq = roots_text(self.roots) if self.finished else equation_text(self.left, self.right)
        status = f"step {self.step_count}/{self.budget}"
        if self.declared:
            status += f", declared: {self.declared}"
        return f"{eq}\n{status}"


class _EquationTask(Task):
    """Shared machinery of ``linear_equation`` and ``quadratic`` (see the module docstring)."""

    name: ClassVar[str] = "equation"
    num_players = 1
    vocab_size = VOCAB_SIZE
    difficulty_levels = 4
    degree: ClassVar[int] = 1
    extra_actions: ClassVar[int] = 3

    def __init__(self, max_terms: int = 4, step_budget_factor: float = 1.5) -> None:
        self.max_terms = check_int_param(self.name, "max_terms", max_terms, 3, 8)
        self.step_budget_factor = check_budget_factor(self.name, step_budget_factor)
        k = self.max_terms
        self.combine_left, self.combine_right = 2 * k, 2 * k + 1
        self.lcd_action, self.swap_action = 2 * k + 2, 2 * k + 3
        self.divide_action = 2 * k + 4
        self.num_actions = 2 * k + 5 + self.extra_actions
        self.seq_len = 16 * k + 2
        self.max_episode_steps = math.ceil(self.step_budget_factor * MAX_HORIZON)
        self._no_actions = np.zeros(self.num_actions, dtype=np.bool_)
        self._no_actions.flags.writeable = False

    # ------------------------------------------------------------------------ hooks
    def _mask_extra(self, mask: np.ndarray, left: Side, right: Side) -> None:
        raise NotImplementedError

    def _degenerate(self, left: Side, right: Side) -> bool:
        return False

    def _goal_reached(self, left: Side, right: Side) -> bool:
        return False

    def _success(self, orig_left: Side, orig_right: Side, left: Side, right: Side, declared: str,
                 roots: Roots | None) -> bool:
        """The verifier's verdict on a finished episode (solved form / roots / declaration)."""
        raise NotImplementedError

    def _verdict(self, s: EquationState) -> bool:
        done = s.finished or bool(s.declared) or self._goal_reached(s.left, s.right)
        return done and self._success(s.orig_left, s.orig_right, s.left, s.right, s.declared, s.roots)

    # ------------------------------------------------------------------------ states
    def _horizon(self, left: Side, right: Side) -> int:
        dist = shortest_distance(
            left, right, self.max_terms, self.degree == 2, self._degenerate(left, right), self.max_episode_steps
        )
        extra = 1 if self.degree == 2 else 0
        return self.max_episode_steps if dist is None else dist + extra

    def make_state(self, left: Side, right: Side) -> EquationState:
        """The initial state of ``left = right`` (terms ``(degree, Fraction)``, validated)."""
        for name, side in (("left", left), ("right", right)):
            if len(side) > self.max_terms:
                raise ValueError(
                    f"{self.name}: the {name} side has {len(side)} terms, at most max_terms = {self.max_terms}"
                )
            for deg, c in side:
                if deg not in range(self.degree + 1) or not isinstance(c, Fraction) or c == 0:
                    raise ValueError(f"{self.name}: bad term {(deg, c)!r}")
        self._check_instance(left, right)
        horizon = self._horizon(left, right)
        budget = min(self.max_episode_steps, max(1, math.ceil(self.step_budget_factor * horizon)))
        optimal = 1 if self._optimal_is_declaring(left, right) else max(1, horizon)
        return self._state(left, right, left, right, budget, optimal, "", False, None, 0)

    def _check_instance(self, left: Side, right: Side) -> None:
        pass

    def _optimal_is_declaring(self, left: Side, right: Side) -> bool:
        return self._degenerate(left, right)

    def _state(
        self,
        left: Side,
        right: Side,
        orig_left: Side,
        orig_right: Side,
        budget: int,
        optimal: int,
        declared: str,
        finished: bool,
        roots: Roots | None,
        steps: int,
    ) -> EquationState:
        done = finished or bool(declared) or self._goal_reached(left, right)
        terminal = done or steps >= budget
        success = done and self._success(orig_left, orig_right, left, right, declared, roots)
        status = RUNNING if not terminal else DECLARED if declared and success else SOLVED if success else FAILED
        obs = np.full(self.seq_len, PAD, dtype=np.int64)
        k = self.max_terms
        for s, side in enumerate((left, right)):
            for i in range(k):
                base = (s * k + i) * _SLOT
                if i < len(side):
                    deg, c = side[i]
                    obs[base : base + _SLOT] = (_KIND[deg], *number_tokens(c))
                else:
                    obs[base] = EMPTY
        obs[-2] = status
        obs[-1] = BUDGET0 + budget_bucket(budget - steps, budget)
        obs.flags.writeable = False
        rewards = SOLO_NO_REWARD if not terminal else SOLO_SUCCESS if success else SOLO_FAILURE
        mask = self._no_actions
        if not terminal:
            mask = np.zeros(self.num_actions, dtype=np.bool_)
            for i in range(k):
                mask[i] = i < len(left) and len(right) < k
                mask[k + i] = i < len(right) and len(left) < k
            mask[self.combine_left] = _can_combine(left)
            mask[self.combine_right] = _can_combine(right)
            mask[self.lcd_action] = _lcd(left, right) != 1
            mask[self.swap_action] = True
            self._mask_extra(mask, left, right)
            mask.flags.writeable = False
        return EquationState(
            current_player=0,
            legal_action_mask=mask,
            terminal=terminal,
            rewards=rewards,
            observation=obs,
            step_count=steps,
            left=left,
            right=right,
            orig_left=orig_left,
            orig_right=orig_right,
            budget=budget,
            optimal=optimal,
            declared=declared,
            finished=finished,
            roots=roots,
        )

    def _step_sides(self, state: EquationState, action: int) -> tuple[Side, Side]:
        left, right, k = state.left, state.right, self.max_terms
        if action < k:
            t = left[action]
            return left[:action] + left[action + 1 :], (*right, (t[0], -t[1]))
        if action < 2 * k:
            i = action - k
            t = right[i]
            return (*left, (t[0], -t[1])), right[:i] + right[i + 1 :]
        if action == self.combine_left:
            return _combine(left), right
        if action == self.combine_right:
            return left, _combine(right)
        if action == self.lcd_action:
            lcd = Fraction(_lcd(left, right))
            return _scale(left, lcd), _scale(right, lcd)
        if action == self.swap_action:
            return right, left
        raise AssertionError(action)

    def _check_state(self, state: State) -> EquationState:
        if type(state) is not EquationState:
            raise ValueError(f"{self.name}: expected an EquationState, got {type(state).__name__}")
        if max(len(state.left), len(state.right)) > self.max_terms:
            raise ValueError(f"{self.name}: the state's sides do not fit max_terms = {self.max_terms}")
        return state

    def _next(self, s: EquationState, left: Side, right: Side, declared: str = "", finished: bool = False,
              roots: Roots | None = None) -> EquationState:
        return self._state(left, right, s.orig_left, s.orig_right, s.budget, s.optimal, declared, finished, roots,
                           s.step_count + 1)

    # ------------------------------------------------------------------------ verdicts
    def outcome(self, state: State) -> str:
        """``success`` iff the episode ended solved or with a true declaration; ``timeout`` if not terminal."""
        if not state.terminal:
            return "timeout"
        if isinstance(state, EquationState):
            return "success" if self._verdict(state) else "failure"
        return super().outcome(state)

    def score(self, state: State) -> float | None:
        """``optimal / steps`` on success, ``0.0`` on failure, ``None`` while running."""
        if not isinstance(state, EquationState) or not state.terminal:
            return None
        return path_score(self.outcome(state) == "success", state.optimal, state.step_count)

    # ------------------------------------------------------------------------ text
    def instance_text(self, state: State) -> str:
        """The original equation in the format :meth:`parse` reads (``x**2`` for squares)."""
        if not isinstance(state, EquationState):
            raise ValueError(f"{self.name}: expected an EquationState, got {type(state).__name__}")
        return equation_text(state.orig_left, state.orig_right, square="**")

    def parse(self, text: str) -> EquationState:
        """The initial state of one equation in ``text`` (see the module docstring); one-line ``ValueError``
        starting with the task name on anything malformed."""
        if not isinstance(text, str):
            raise ValueError(f"{self.name}: expected text, got {type(text).__name__}")
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) != 1:
            raise ValueError(f"{self.name}: expected one equation on one line, got {len(lines)} lines")
        lhs, rhs = parse_equation(self.name, lines[0], "x", self.degree)
        left = tuple((m[0], c) for m, c in lhs)
        right = tuple((m[0], c) for m, c in rhs)
        return self.make_state(left, right)

    def _initial_state(self, seed: int, difficulty: int) -> EquationState:
        rng = np.random.default_rng(seed)
        for _ in range(200):
            sides = self._generate(rng, difficulty)
            if sides is None:
                continue
            left, right = sides
            if max(len(left), len(right)) > self.max_terms or self._goal_reached(left, right):
                continue
            if any(abs(c.numerator) > 999 or c.denominator > 999 for _, c in left + right):
                continue
            try:
                self._check_instance(left, right)
            except ValueError:
                continue
            # the limit make_state's _horizon uses, so that its call is a cache hit (one BFS per instance)
            dist = shortest_distance(left, right, self.max_terms, self.degree == 2, self._degenerate(left, right),
                                     self.max_episode_steps)
            if dist is None or dist + (self.degree == 2) > MAX_HORIZON:
                continue
            return self.make_state(left, right)
        raise AssertionError(f"{self.name}: no instance generated for seed {seed}")  # pragma: no cover

    def _generate(self, rng: np.random.Generator, level: int) -> tuple[Side, Side] | None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_terms={self.max_terms}, step_budget_factor={self.step_budget_factor})"


def _nonzero(rng: np.random.Generator, lo: int, hi: int) -> int:
    while True:
        v = int(rng.integers(lo, hi + 1))
        if v != 0:
            return v


def _split_sides(rng: np.random.Generator, terms: list[Term], p_move: float) -> tuple[list[Term], list[Term]]:
    """Each term stays left or, with probability ``p_move``, moves right (negated)."""
    left: list[Term] = []
    right: list[Term] = []
    for deg, c in terms:
        if rng.random() < p_move:
            right.append((deg, -c))
        else:
            left.append((deg, c))
    return left, right


# ------------------------------------------------------------------------------------------ linear
@register_task("linear_equation")
class LinearEquation(_EquationTask):
    """Solve ``a*x + b = c*x + d``-like equations by moves, combines, LCD and division, or declare that
    there is no / every solution. ``max_terms`` (3..8) slots a side; ``step_budget_factor`` (>= 1) scales the
    BFS horizon into the budget. An instance read by ``parse`` is one line of at most 1000 characters a side:
    integers of at most 9 digits, ``x`` to the first power, nesting at most 32 deep, at most ``max_terms`` terms
    a side once collected, not already solved; "no solution" / "infinitely many" instances are valid. See the
    module docstring."""

    name: ClassVar[str] = "linear_equation"
    degree: ClassVar[int] = 1
    extra_actions: ClassVar[int] = 2

    def __init__(self, max_terms: int = 4, step_budget_factor: float = 1.5) -> None:
        super().__init__(max_terms, step_budget_factor)
        self.no_solution_action = 2 * self.max_terms + 5
        self.infinite_action = 2 * self.max_terms + 6

    def _degenerate(self, left: Side, right: Side) -> bool:
        return collect(left, right)[1] == 0

    def _goal_reached(self, left: Side, right: Side) -> bool:
        return linear_solved(left, right)

    def _check_instance(self, left: Side, right: Side) -> None:
        if linear_solved(left, right):
            raise ValueError(f"{self.name}: the equation is already solved")

    def _mask_extra(self, mask: np.ndarray, left: Side, right: Side) -> None:
        mask[self.divide_action] = _linear_divisible(left, right)
        mask[self.no_solution_action] = True
        mask[self.infinite_action] = True

    def _success(self, orig_left: Side, orig_right: Side, left: Side, right: Side, declared: str,
                 roots: Roots | None) -> bool:
        return _verify_linear_sides(orig_left, orig_right, declared or _solved_answer(left, right))

    def _step(self, state: State, action: int) -> EquationState:
        s = self._check_state(state)
        if action == self.no_solution_action:
            return self._next(s, s.left, s.right, declared=_NO_SOLUTION)
        if action == self.infinite_action:
            return self._next(s, s.left, s.right, declared=_INFINITE)
        if action == self.divide_action:
            return self._next(s, *_divide_linear(s.left, s.right))
        return self._next(s, *self._step_sides(s, action))

    def answer(self, state: State) -> str | None:
        """``"x = c"`` on the solved form, the declaration if it was true, else ``None``."""
        if not isinstance(state, EquationState) or self.outcome(state) != "success":
            return None
        return state.declared or _solved_answer(state.left, state.right)

    def action_to_text(self, state: State, action: int) -> str:
        """``"move 3 to the right"``, ``"combine like terms on the left"``, ``"divide both sides by 2"``, ..."""
        return _action_text(self, state, int(action))

    def _generate(self, rng: np.random.Generator, level: int) -> tuple[Side, Side] | None:
        if level == 4:
            if rng.random() < 0.12:
                return self._degenerate_instance(rng)
            level = 2 + int(rng.integers(2))
        frac = level >= 3
        root = Fraction(_nonzero(rng, -9, 9)) if not frac or rng.random() < 0.4 else Fraction(
            _nonzero(rng, -9, 9), int(rng.integers(2, 5)))

        def coef() -> Fraction:
            if frac and rng.random() < 0.6:
                return Fraction(_nonzero(rng, -9, 9), int(rng.integers(2, 7)))
            return Fraction(_nonzero(rng, -9, 9))

        if level == 1:
            x_left, x_right = 1, 0
            c_left, c_right = int(rng.integers(1, 3)), 1
        else:
            x_left, x_right = 1 + int(rng.random() < 0.3), 1
            c_left, c_right = int(rng.integers(0, 2)) + (level >= 3), int(rng.integers(1, 3))
        xs_left = [coef() for _ in range(x_left)]
        xs_right = [coef() for _ in range(x_right)]
        a = sum(xs_left, Fraction(0)) - sum(xs_right, Fraction(0))
        if a == 0:
            return None
        consts_left = [coef() * (1 if frac else int(rng.integers(1, 4))) for _ in range(c_left)]
        consts_right = [coef() * (1 if frac else int(rng.integers(1, 4))) for _ in range(c_right - 1)]
        # a*root + sum(consts_left) - sum(consts_right) - last = 0
        last = a * root + sum(consts_left, Fraction(0)) - sum(consts_right, Fraction(0))
        if last == 0:
            return None
        consts_right.append(last)
        left = [(1, c) for c in xs_left] + [(0, c) for c in consts_left]
        right = [(1, c) for c in xs_right] + [(0, c) for c in consts_right]
        left = _shuffle_some(rng, left)
        right = _shuffle_some(rng, right)
        if rng.random() < 0.5:
            left, right = right, left
        return tuple(left), tuple(right)

    def _degenerate_instance(self, rng: np.random.Generator) -> tuple[Side, Side] | None:
        """``a*x + b = a*x + d`` with the x-terms possibly split; ``b != d`` (no solution) or ``b == d``."""
        a = Fraction(_nonzero(rng, -9, 9), int(rng.integers(1, 4)))
        split = Fraction(_nonzero(rng, -9, 9))
        xs_left = [(1, a)] if rng.random() < 0.5 or split == a else [(1, split), (1, a - split)]
        b = Fraction(_nonzero(rng, -20, 20))
        d = b if rng.random() < 0.5 else Fraction(_nonzero(rng, -20, 20))
        left = [*xs_left, (0, b)]
        right = [(1, a), (0, d)]
        return tuple(_shuffle_some(rng, left)), tuple(_shuffle_some(rng, right))


def _shuffle_some(rng: np.random.Generator, terms: list[Term]) -> list[Term]:
    """Keep the order or, one time in three, shuffle it."""
    if rng.random() < 1 / 3:
        return [terms[int(i)] for i in rng.permutation(len(terms))]
    return terms


# ---------------------------------------------------------------------------------------- quadratic
@register_task("quadratic")
class Quadratic(_EquationTask):
    """Solve degree-2 equations: collect into standard form, then factor / quadratic formula / square root,
    or declare that there is no real solution. ``max_terms`` (3..8) slots a side; ``step_budget_factor``
    (>= 1) scales the BFS horizon into the budget. An instance read by ``parse`` is one line of at most 1000
    characters a side: integers of at most 9 digits, powers of ``x`` up to 2 after expansion, nesting at most 32
    deep, at most ``max_terms`` terms a side, an ``x**2`` term after collecting; instances without real roots are
    valid. See the module docstring."""

    name: ClassVar[str] = "quadratic"
    degree: ClassVar[int] = 2
    extra_actions: ClassVar[int] = 4

    def __init__(self, max_terms: int = 4, step_budget_factor: float = 1.5) -> None:
        super().__init__(max_terms, step_budget_factor)
        k = self.max_terms
        self.factor_action, self.formula_action, self.sqrt_action = 2 * k + 5, 2 * k + 6, 2 * k + 7
        self.no_real_action = 2 * k + 8

    def _check_instance(self, left: Side, right: Side) -> None:
        if collect(left, right)[2] == 0:
            raise ValueError(f"{self.name}: the equation is not quadratic (no x**2 term after collecting)")

    def _optimal_is_declaring(self, left: Side, right: Side) -> bool:
        a, b, c = (collect(left, right)[d] for d in (2, 1, 0))
        return b * b - 4 * a * c < 0

    def _mask_extra(self, mask: np.ndarray, left: Side, right: Side) -> None:
        std = _standard(left, right)
        if std is not None:
            a, b, c = _abc(std)
            mask[self.divide_action] = a != 1
            mask[self.factor_action] = _is_square(b * b - 4 * a * c)
            mask[self.formula_action] = True
        mask[self.sqrt_action] = _sqrt_form(left, right) is not None
        mask[self.no_real_action] = True

    def _success(self, orig_left: Side, orig_right: Side, left: Side, right: Side, declared: str,
                 roots: Roots | None) -> bool:
        return _verify_quadratic_sides(orig_left, orig_right, declared or roots_text(roots))

    def _step(self, state: State, action: int) -> EquationState:
        s = self._check_state(state)
        if action == self.no_real_action:
            return self._next(s, s.left, s.right, declared=_NO_REAL)
        if action == self.sqrt_action:
            c = _sqrt_form(s.left, s.right)
            assert c is not None
            root, f = _sqrt_rational(c)
            return self._next(s, s.left, s.right, finished=True, roots=(Fraction(0), root, f))
        std = _standard(s.left, s.right)
        if action in (self.divide_action, self.factor_action, self.formula_action):
            assert std is not None
            a, b, c = _abc(std)
            if action == self.divide_action:
                return self._next(s, _scale(s.left, 1 / a), _scale(s.right, 1 / a))
            return self._next(s, s.left, s.right, finished=True, roots=quadratic_roots(a, b, c))
        return self._next(s, *self._step_sides(s, action))

    def answer(self, state: State) -> str | None:
        """The roots text on success (``"x = 2 or x = 3"``, ``"no real solution"``), else ``None``."""
        if not isinstance(state, EquationState) or self.outcome(state) != "success":
            return None
        return state.declared or roots_text(state.roots)

    def action_to_text(self, state: State, action: int) -> str:
        """``"move -6 to the left"``, ``"factor: (x - 2)*(x - 3) = 0"``, ``"quadratic formula"``, ..."""
        return _action_text(self, state, int(action))

    def _generate(self, rng: np.random.Generator, level: int) -> tuple[Side, Side] | None:
        kind = "integer"
        if level >= 2:
            r = rng.random()
            if level == 2:
                kind = "rational" if r < 0.6 else "integer"
            elif level == 3:
                kind = "irrational" if r < 0.5 else "rational" if r < 0.75 else "integer"
            else:
                kind = "none" if r < 0.2 else "irrational" if r < 0.5 else "rational" if r < 0.75 else "integer"
        if kind == "integer":
            r1, r2 = int(rng.integers(-9, 10)), int(rng.integers(-9, 10))
            lead = 1 if level == 1 else int(rng.choice([1, 1, 2, -1, 3]))
            a, b, c = Fraction(lead), Fraction(-lead * (r1 + r2)), Fraction(lead * r1 * r2)
        elif kind == "rational":
            p1, q1 = int(rng.integers(-6, 7)), int(rng.integers(1, 5))
            p2, q2 = int(rng.integers(-6, 7)), int(rng.integers(2, 5))
            a, b, c = Fraction(q1 * q2), Fraction(-(q1 * p2 + q2 * p1)), Fraction(p1 * p2)
        elif kind == "none":  # c > b^2 / (4a) for a > 0 (sign flipped half the time)
            a, b = Fraction(int(rng.choice([1, 1, 2, 3]))), Fraction(int(rng.integers(-9, 10)))
            c = Fraction(math.floor(b * b / (4 * a)) + int(rng.integers(1, 6)))
            if rng.random() < 0.5:
                a, b, c = -a, -b, -c
        else:
            a = Fraction(int(rng.choice([1, 1, 2, -1, 3])))
            b, c = Fraction(int(rng.integers(-9, 10))), Fraction(int(rng.integers(-12, 13)))
            disc = b * b - 4 * a * c
            if (kind == "none") != (disc < 0) or (kind == "irrational" and _is_square(disc)):
                return None
        terms: list[Term] = [(d, v) for d, v in ((2, a), (1, b), (0, c)) if v != 0]
        if level == 1:
            left, right = (terms, []) if rng.random() < 0.5 else _split_sides(rng, terms, 0.34)
            if len(right) > 1:
                return None
        else:
            left, right = _split_sides(rng, terms, 0.4 if level == 2 else 0.5)
            if level >= 3 and rng.random() < 0.6:  # the same term added to both sides
                extra: Term = (int(rng.integers(0, 3)), Fraction(_nonzero(rng, -9, 9)))
                left.append(extra)
                right.append(extra)
        if not left:
            left, right = right, left
        return tuple(_shuffle_some(rng, left)), tuple(_shuffle_some(rng, right))


# ------------------------------------------------------------------------------------------ actions
def _action_text(task: _EquationTask, state: State, action: int) -> str:
    k = task.max_terms
    s = state if isinstance(state, EquationState) else None
    if action < 2 * k:
        side = "left" if action < k else "right"
        i = action % k
        terms = (s.left if action < k else s.right) if s is not None else ()
        what = side_text((terms[i],)) if i < len(terms) else f"{side} term {i}"
        return f"move {what} to the {'right' if action < k else 'left'}"
    if action == task.combine_left:
        return "combine like terms on the left"
    if action == task.combine_right:
        return "combine like terms on the right"
    if action == task.lcd_action:
        lcd = _lcd(s.left, s.right) if s is not None else "the LCD"
        return f"multiply both sides by {lcd}"
    if action == task.swap_action:
        return "swap sides"
    if isinstance(task, LinearEquation):
        if action == task.divide_action:
            if s is not None and _linear_divisible(s.left, s.right):
                a = s.left[0][1] if _single(s.left, 1) else s.right[0][1]
                return f"divide both sides by {fmt(a)}"
            return "divide both sides by the coefficient of x"
        return "declare: no solution" if action == task.no_solution_action else "declare: infinitely many"
    assert isinstance(task, Quadratic)
    std = _standard(s.left, s.right) if s is not None else None
    if action == task.divide_action:
        return f"divide both sides by {fmt(_abc(std)[0])}" if std else "divide both sides by the leading coefficient"
    if action == task.factor_action:
        if std is not None:
            a, b, c = _abc(std)
            roots = quadratic_roots(a, b, c)
            if roots is not None and roots[2] == 1:
                p, q, _ = roots
                factors = "*".join(f"(x {'-' if r >= 0 else '+'} {fmt(abs(r))})" for r in (p - q, p + q))
                lead = "" if a == 1 else "-" if a == -1 else f"{fmt(a)}*"
                return f"factor: {lead}{factors} = 0"
        return "factor"
    if action == task.formula_action:
        return "quadratic formula"
    if action == task.sqrt_action:
        return "square root both sides"
    return "declare: no real solution"
