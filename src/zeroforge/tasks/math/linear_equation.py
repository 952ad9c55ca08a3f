"""``linear_equation``: solve ``a*x + b = c*x + d``-like equations step by step, or declare that there is no
or every solution (the actions, rewards, budget, levels and text are in :mod:`.equations`)."""

from __future__ import annotations

from fractions import Fraction
from typing import ClassVar

import numpy as np

from zeroforge.tasks.base import State
from zeroforge.tasks.math.equations import EquationState, EquationTask, nonzero, shuffle_some
from zeroforge.tasks.math.sides import Roots, Side, collect, divide_linear, linear_divisible, linear_solved, single
from zeroforge.tasks.math.verify import INFINITE, NO_SOLUTION, verify_linear_sides
from zeroforge.tasks.math.vocab import fmt
from zeroforge.tasks.registry import register_task

__all__ = ["LinearEquation", "solved_answer"]


def solved_answer(left: Side, right: Side) -> str:
    """``"x = c"`` of a solved form."""
    consts = [c for deg, c in left + right if deg == 0]
    return f"x = {fmt(consts[0]) if consts else '0'}"


@register_task("linear_equation")
class LinearEquation(EquationTask):
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
        mask[self.divide_action] = linear_divisible(left, right)
        mask[self.no_solution_action] = True
        mask[self.infinite_action] = True

    def _success(self, orig_left: Side, orig_right: Side, left: Side, right: Side, declared: str,
                 roots: Roots | None) -> bool:
        return verify_linear_sides(orig_left, orig_right, declared or solved_answer(left, right))

    def _step(self, state: State, action: int) -> EquationState:
        s = self._check_state(state)
        if action == self.no_solution_action:
            return self._next(s, s.left, s.right, declared=NO_SOLUTION)
        if action == self.infinite_action:
            return self._next(s, s.left, s.right, declared=INFINITE)
        if action == self.divide_action:
            return self._next(s, *divide_linear(s.left, s.right))
        return self._next(s, *self._step_sides(s, action))

    def answer(self, state: State) -> str | None:
        """``"x = c"`` on the solved form, the declaration if it was true, else ``None``."""
        if not isinstance(state, EquationState) or self.outcome(state) != "success":
            return None
        return state.declared or solved_answer(state.left, state.right)

    def _extra_action_text(self, state: EquationState | None, action: int) -> str:
        """``"divide both sides by 2"``, ``"declare: no solution"``, ``"declare: infinitely many"``."""
        if action == self.divide_action:
            if state is not None and linear_divisible(state.left, state.right):
                a = state.left[0][1] if single(state.left, 1) else state.right[0][1]
                return f"divide both sides by {fmt(a)}"
            return "divide both sides by the coefficient of x"
        return "declare: no solution" if action == self.no_solution_action else "declare: infinitely many"

    def _generate(self, rng: np.random.Generator, level: int) -> tuple[Side, Side] | None:
        if level == 4:
            if rng.random() < 0.12:
                return self._degenerate_instance(rng)
            level = 2 + int(rng.integers(2))
        frac = level >= 3
        root = Fraction(nonzero(rng, -9, 9)) if not frac or rng.random() < 0.4 else Fraction(
            nonzero(rng, -9, 9), int(rng.integers(2, 5)))

        def coef() -> Fraction:
            if frac and rng.random() < 0.6:
                return Fraction(nonzero(rng, -9, 9), int(rng.integers(2, 7)))
            return Fraction(nonzero(rng, -9, 9))

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
        left = shuffle_some(rng, left)
        right = shuffle_some(rng, right)
        if rng.random() < 0.5:
            left, right = right, left
        return tuple(left), tuple(right)

    def _degenerate_instance(self, rng: np.random.Generator) -> tuple[Side, Side] | None:
        """``a*x + b = a*x + d`` with the x-terms possibly split; ``b != d`` (no solution) or ``b == d``."""
        a = Fraction(nonzero(rng, -9, 9), int(rng.integers(1, 4)))
        split = Fraction(nonzero(rng, -9, 9))
        xs_left = [(1, a)] if rng.random() < 0.5 or split == a else [(1, split), (1, a - split)]
        b = Fraction(nonzero(rng, -20, 20))
        d = b if rng.random() < 0.5 else Fraction(nonzero(rng, -20, 20))
        left = [*xs_left, (0, b)]
        right = [(1, a), (0, d)]
        return tuple(shuffle_some(rng, left)), tuple(shuffle_some(rng, right))
