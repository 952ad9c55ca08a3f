"""One-variable equations solved step by step: the state and the machinery ``linear_equation``
(:mod:`.linear_equation`) and ``quadratic`` (:mod:`.quadratic`) share (single-agent MDPs).

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

Observation (``seq_len = 16 * K + 2`` tokens = 66 for K = 4; vocabulary of :mod:`.vocab`, 31 tokens):
per left slot then per right slot 8 tokens ``[kind, sign, n2, n1, n0, d2, d1, d0]`` (kind CONST / X / X2 and
the coefficient as a 7-token number; an empty slot is ``[EMPTY, PAD x 7]``), then ``[status, budget bucket]``
(status RUNNING / SOLVED / DECLARED / FAILED).

Levels (``difficulty_levels = 4``). linear_equation: (1) integer coefficients, x on one side; (2) terms on both
sides; (3) fractional coefficients, rational root; (4) levels 2-3 mixed, ~12 % of instances with no solution or
infinitely many. quadratic: (1) integer roots, leading coefficient 1, at most one term off the standard form;
(2) rational roots; (3) irrational roots, terms on both sides; (4) all kinds mixed, ~20 % without real roots.
The root ``x*`` (or the roots) is drawn first, so every solvable instance has a known answer.

Text. ``parse`` reads one equation (``2*x + 3 = 7``, ``x**2 - 5*x + 6 = 0``; ``^`` is a synonym of ``**``;
implicit multiplication ``2x`` is rejected), with the parser of :mod:`.parse`: integers, ``/``, ``+ - *``,
unary minus, parentheses, ``x`` and its powers up to the degree; products of sums are expanded term by term
in order, zero terms dropped. A quadratic instance must have collected degree 2; an instance already in solved
form is rejected. ``instance_text`` writes the original equation (``3*x + 1/2*x**2 = -4``);
``to_text`` the current one (``x^2`` for squares) with the step count and budget. Answers: ``"x = 2"``,
``"no solution"``, ``"infinitely many"``; ``"x = 2 or x = 3"``, ``"x = -1"`` (double root),
``"x = 1 - sqrt(2) or x = 1 + sqrt(2)"``, ``"no real solution"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

from zeroforge.tasks.base import State, solo_rewards
from zeroforge.tasks.math.distance import canonical_sides, shortest_distance, shortest_path
from zeroforge.tasks.math.parse import parse_equation
from zeroforge.tasks.math.sides import (
    Roots,
    Side,
    Term,
    can_combine,
    combine,
    equation_text,
    lcd,
    move_term,
    roots_text,
    scale,
    side_text,
)
from zeroforge.tasks.math.vocab import (
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
    number_tokens,
)
from zeroforge.tasks.params import check_budget_factor, check_int_param
from zeroforge.tasks.path import PathTask
from zeroforge.tasks.tokens import budget_bucket

__all__ = ["MAX_HORIZON", "EquationState", "EquationTask", "nonzero", "shuffle_some", "split_sides"]

MAX_HORIZON = 8
_KIND = {0: CONST, 1: X, 2: X2}
_SLOT = 8


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


class EquationTask(PathTask):
    """Shared machinery of ``linear_equation`` and ``quadratic`` (see the module docstring)."""

    name: ClassVar[str] = "equation"
    pad_token: ClassVar[int | None] = PAD
    path_state = EquationState
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
        """Finished (roots, declaration or goal reached) and accepted by :meth:`_success`."""
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
        budget = self.step_budget(horizon)
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
        mask = self._no_actions
        if not terminal:
            mask = np.zeros(self.num_actions, dtype=np.bool_)
            for i in range(k):
                mask[i] = i < len(left) and len(right) < k
                mask[k + i] = i < len(right) and len(left) < k
            mask[self.combine_left] = can_combine(left)
            mask[self.combine_right] = can_combine(right)
            mask[self.lcd_action] = lcd(left, right) != 1
            mask[self.swap_action] = True
            self._mask_extra(mask, left, right)
            mask.flags.writeable = False
        return EquationState(
            current_player=0,
            legal_action_mask=mask,
            terminal=terminal,
            rewards=solo_rewards(terminal, success),
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
            return move_term(left, right, action)
        if action < 2 * k:
            new_right, new_left = move_term(right, left, action - k)
            return new_left, new_right
        if action == self.combine_left:
            return combine(left), right
        if action == self.combine_right:
            return left, combine(right)
        if action == self.lcd_action:
            factor = Fraction(lcd(left, right))
            return scale(left, factor), scale(right, factor)
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
    def is_solved(self, state: State) -> bool:
        """The episode ended solved or with a true declaration (the verifier's verdict on the original)."""
        assert isinstance(state, EquationState)
        return self._verdict(state)

    def optimal_steps(self, state: State) -> int:
        """``horizon`` for a solvable instance, ``1`` (declare at once) otherwise."""
        assert isinstance(state, EquationState)
        return state.optimal

    def search_key(self, state: State) -> tuple[Any, ...]:
        """The sides, the declaration and the roots: the step count and budget do not tell positions apart."""
        assert isinstance(state, EquationState)
        return (state.left, state.right, state.declared, state.finished, state.roots)

    def demonstration(self, state: State) -> list[int] | None:
        """A shortest solution from ``state``: the moves to the solved form or the true declaration, ``None`` when
        none fits the remaining budget. Each step takes the first legal action that ends the episode solved, else
        the first that reaches the next position of the breadth-first path to the goal (:mod:`.distance`; the
        generic :meth:`~zeroforge.tasks.path.PathTask.shortest_solution` where no action does)."""
        if not isinstance(state, EquationState):
            raise ValueError(f"{self.name}: expected an EquationState, got {type(state).__name__}")
        actions: list[int] = []
        s: State = state
        path: list[tuple[Side, Side]] | None = None
        while not s.terminal:
            assert isinstance(s, EquationState)
            successors = [(int(a), self.step(s, int(a))) for a in np.flatnonzero(s.legal_action_mask)]
            for a, nxt in successors:
                if nxt.terminal and self.is_solved(nxt):
                    return [*actions, a]
            if path is None:
                path = shortest_path(s.left, s.right, self.max_terms, self.degree == 2,
                                     self._degenerate(s.left, s.right), self.max_episode_steps)
                if path is None:
                    return None
            target = path.pop(0) if path else None
            step = next(((a, nxt) for a, nxt in successors if not nxt.terminal and isinstance(nxt, EquationState)
                         and canonical_sides(nxt.left, nxt.right) == target), None)
            if step is None:
                rest = self.shortest_solution(s)
                return None if rest is None else actions + rest
            actions.append(step[0])
            s = step[1]
        return actions if self.is_solved(s) else None

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

    def action_to_text(self, state: State, action: int) -> str:
        """``"move 3 to the right"``, ``"combine like terms on the left"``, ``"multiply both sides by 6"``,
        ``"swap sides"``; the task's own actions read as :meth:`_extra_action_text` says."""
        a, k = int(action), self.max_terms
        s = state if isinstance(state, EquationState) else None
        if a < 2 * k:
            side = "left" if a < k else "right"
            i = a % k
            terms = (s.left if a < k else s.right) if s is not None else ()
            what = side_text((terms[i],)) if i < len(terms) else f"{side} term {i}"
            return f"move {what} to the {'right' if a < k else 'left'}"
        if a == self.combine_left:
            return "combine like terms on the left"
        if a == self.combine_right:
            return "combine like terms on the right"
        if a == self.lcd_action:
            return f"multiply both sides by {lcd(s.left, s.right) if s is not None else 'the LCD'}"
        if a == self.swap_action:
            return "swap sides"
        return self._extra_action_text(s, a)

    def _extra_action_text(self, state: EquationState | None, action: int) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_terms={self.max_terms}, step_budget_factor={self.step_budget_factor})"


def nonzero(rng: np.random.Generator, lo: int, hi: int) -> int:
    """A uniform integer in ``lo..hi`` other than ``0``."""
    while True:
        v = int(rng.integers(lo, hi + 1))
        if v != 0:
            return v


def split_sides(rng: np.random.Generator, terms: list[Term], p_move: float) -> tuple[list[Term], list[Term]]:
    """Each term stays left or, with probability ``p_move``, moves right (negated)."""
    left: list[Term] = []
    right: list[Term] = []
    for deg, c in terms:
        if rng.random() < p_move:
            right.append((deg, -c))
        else:
            left.append((deg, c))
    return left, right


def shuffle_some(rng: np.random.Generator, terms: list[Term]) -> list[Term]:
    """Keep the order or, one time in three, shuffle it."""
    if rng.random() < 1 / 3:
        return [terms[int(i)] for i in rng.permutation(len(terms))]
    return terms
