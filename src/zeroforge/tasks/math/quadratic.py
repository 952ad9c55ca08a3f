"""``quadratic``: solve degree-2 equations step by step (collect, then factor / quadratic formula / square
root) or declare that there is no real solution (the actions, rewards, budget, levels and text are in
:mod:`.equations`)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import ClassVar

import numpy as np

from zeroforge.tasks.base import State
from zeroforge.tasks.math.algebra import is_square, quadratic_roots, sqrt_rational
from zeroforge.tasks.math.equations import EquationState, EquationTask, nonzero, shuffle_some, split_sides
from zeroforge.tasks.math.sides import (
    NO_REAL,
    Roots,
    Side,
    Term,
    abc,
    collect,
    roots_text,
    scale,
    sqrt_form,
    standard_side,
)
from zeroforge.tasks.math.verify import verify_quadratic_sides
from zeroforge.tasks.math.vocab import fmt
from zeroforge.tasks.registry import register_task

__all__ = ["Quadratic"]


@register_task("quadratic")
class Quadratic(EquationTask):
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
        std = standard_side(left, right)
        if std is not None:
            a, b, c = abc(std)
            mask[self.divide_action] = a != 1
            mask[self.factor_action] = is_square(b * b - 4 * a * c)
            mask[self.formula_action] = True
        mask[self.sqrt_action] = sqrt_form(left, right) is not None
        mask[self.no_real_action] = True

    def _success(self, orig_left: Side, orig_right: Side, left: Side, right: Side, declared: str,
                 roots: Roots | None) -> bool:
        return verify_quadratic_sides(orig_left, orig_right, declared or roots_text(roots))

    def _step(self, state: State, action: int) -> EquationState:
        s = self._check_state(state)
        if action == self.no_real_action:
            return self._next(s, s.left, s.right, declared=NO_REAL)
        if action == self.sqrt_action:
            c = sqrt_form(s.left, s.right)
            assert c is not None
            root, f = sqrt_rational(c)
            return self._next(s, s.left, s.right, finished=True, roots=(Fraction(0), root, f))
        std = standard_side(s.left, s.right)
        if action in (self.divide_action, self.factor_action, self.formula_action):
            assert std is not None
            a, b, c = abc(std)
            if action == self.divide_action:
                return self._next(s, scale(s.left, 1 / a), scale(s.right, 1 / a))
            return self._next(s, s.left, s.right, finished=True, roots=quadratic_roots(a, b, c))
        return self._next(s, *self._step_sides(s, action))

    def answer(self, state: State) -> str | None:
        """The roots text on success (``"x = 2 or x = 3"``, ``"no real solution"``), else ``None``."""
        if not isinstance(state, EquationState) or self.outcome(state) != "success":
            return None
        return state.declared or roots_text(state.roots)

    def _extra_action_text(self, state: EquationState | None, action: int) -> str:
        """``"divide both sides by 2"``, ``"factor: (x - 2)*(x - 3) = 0"``, ``"quadratic formula"``, ..."""
        std = standard_side(state.left, state.right) if state is not None else None
        if action == self.divide_action:
            return f"divide both sides by {fmt(abc(std)[0])}" if std else "divide both sides by the leading coefficient"
        if action == self.factor_action:
            if std is not None:
                a, b, c = abc(std)
                roots = quadratic_roots(a, b, c)
                if roots is not None and roots[2] == 1:
                    p, q, _ = roots
                    factors = "*".join(f"(x {'-' if r >= 0 else '+'} {fmt(abs(r))})" for r in (p - q, p + q))
                    lead = "" if a == 1 else "-" if a == -1 else f"{fmt(a)}*"
                    return f"factor: {lead}{factors} = 0"
            return "factor"
        if action == self.formula_action:
            return "quadratic formula"
        if action == self.sqrt_action:
            return "square root both sides"
        return "declare: no real solution"

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
            if (kind == "none") != (disc < 0) or (kind == "irrational" and is_square(disc)):
                return None
        terms: list[Term] = [(d, v) for d, v in ((2, a), (1, b), (0, c)) if v != 0]
        if level == 1:
            left, right = (terms, []) if rng.random() < 0.5 else split_sides(rng, terms, 0.34)
            if len(right) > 1:
                return None
        else:
            left, right = split_sides(rng, terms, 0.4 if level == 2 else 0.5)
            if level >= 3 and rng.random() < 0.6:  # the same term added to both sides
                extra: Term = (int(rng.integers(0, 3)), Fraction(nonzero(rng, -9, 9)))
                left.append(extra)
                right.append(extra)
        if not left:
            left, right = right, left
        return tuple(shuffle_some(rng, left)), tuple(shuffle_some(rng, right))
