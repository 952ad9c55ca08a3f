"""linear_equation and quadratic: rewrites, known solutions, verifiers, generation, text."""

from __future__ import annotations

import math
from fractions import Fraction as F

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.math.distance import shortest_distance
from zeroforge.tasks.math.equations import EquationState
from zeroforge.tasks.math.linear_equation import LinearEquation
from zeroforge.tasks.math.quadratic import Quadratic
from zeroforge.tasks.math.verify import verify_linear, verify_quadratic

# K = 4: moves 0..7, combine left 8 / right 9, LCD 10, swap 11, divide 12
MOVE_L, MOVE_R, COMB_L, COMB_R, LCD, SWAP, DIVIDE = 0, 4, 8, 9, 10, 11, 12
NO_SOLUTION, INFINITE = 13, 14  # linear
FACTOR, FORMULA, SQRT, NO_REAL = 13, 14, 15, 16  # quadratic


@pytest.fixture
def lin() -> LinearEquation:
    t = make_task("linear_equation")
    assert isinstance(t, LinearEquation)
    return t


@pytest.fixture
def quad() -> Quadratic:
    t = make_task("quadratic")
    assert isinstance(t, Quadratic)
    return t


def _eq(state: EquationState) -> str:
    return state.to_text().splitlines()[0]


def _play(task: LinearEquation | Quadratic, state: EquationState, actions: list[int]) -> EquationState:
    for a in actions:
        nxt = task.step(state, a)
        assert isinstance(nxt, EquationState)
        state = nxt
    return state


def test_shapes(lin: LinearEquation, quad: Quadratic) -> None:
    assert (lin.num_actions, lin.seq_len, lin.max_episode_steps, lin.difficulty_levels) == (15, 66, 12, 4)
    assert (quad.num_actions, quad.seq_len) == (17, 66)


def test_linear_optimal_solution_in_three_steps(lin: LinearEquation) -> None:
    s = lin.parse("2*x + 3 = 7")
    assert s.optimal == 3 and s.budget == math.ceil(1.5 * 3)
    assert s.to_text() == "2*x + 3 = 7\nstep 0/5"
    assert not s.legal_action_mask[DIVIDE] and not s.legal_action_mask[COMB_R] and not s.legal_action_mask[LCD]
    assert lin.action_to_text(s, MOVE_L + 1) == "move 3 to the right"
    s = _play(lin, s, [MOVE_L + 1])
    assert _eq(s) == "2*x = 7 - 3"
    s = _play(lin, s, [COMB_R])
    assert _eq(s) == "2*x = 4" and s.legal_action_mask[DIVIDE]
    assert lin.action_to_text(s, DIVIDE) == "divide both sides by 2"
    s = _play(lin, s, [DIVIDE])
    assert _eq(s) == "x = 2" and s.terminal and s.rewards.tolist() == [1.0]
    assert lin.outcome(s) == "success" and lin.score(s) == 1.0 and lin.answer(s) == "x = 2"
    assert not s.legal_action_mask.any()


def test_linear_rewrites(lin: LinearEquation) -> None:
    s = lin.parse("1/2*x + 3 - x = 2/3*x - 4")
    assert s.legal_action_mask[LCD] and s.legal_action_mask[COMB_L] and not s.legal_action_mask[COMB_R]
    assert _eq(_play(lin, s, [LCD])) == "3*x + 18 - 6*x = 4*x - 24"
    assert _eq(_play(lin, s, [COMB_L])) == "-1/2*x + 3 = 2/3*x - 4"
    assert _eq(_play(lin, s, [MOVE_R + 0])) == "1/2*x + 3 - x - 2/3*x = -4"
    assert _eq(_play(lin, s, [SWAP])) == "2/3*x - 4 = 1/2*x + 3 - x"
    full = lin.parse("x + 1 + 2 + 3 = 4*x")
    assert not full.legal_action_mask[MOVE_R + 0]  # the left side is full
    assert full.legal_action_mask[MOVE_L + 0]
    assert _eq(_play(lin, lin.parse("x + 3 = 3"), [MOVE_L + 1, COMB_R])) == "x = 0"  # a zero sum vanishes
    s = lin.parse("6 = -3*x")
    assert s.legal_action_mask[DIVIDE]
    assert _eq(_play(lin, s, [DIVIDE])) == "-2 = x"
    assert not lin.parse("x + 1 = 3").legal_action_mask[DIVIDE]


def test_linear_declarations(lin: LinearEquation) -> None:
    none = lin.parse("2*x + 1 = 2*x + 3")
    assert none.optimal == 1 and none.budget >= 4  # budget from the collecting distance, not the answer
    s = _play(lin, none, [NO_SOLUTION])
    assert s.terminal and s.rewards.tolist() == [1.0] and lin.answer(s) == "no solution"
    assert s.to_text().endswith("declared: no solution")
    wrong = _play(lin, none, [INFINITE])
    assert wrong.terminal and wrong.rewards.tolist() == [-1.0] and lin.outcome(wrong) == "failure"
    assert lin.score(wrong) == 0.0 and lin.answer(wrong) is None
    ident = lin.parse("x + x + 2 = 2*x + 2")
    assert _play(lin, ident, [INFINITE]).rewards.tolist() == [1.0]
    assert _play(lin, lin.parse("2*x = 4"), [NO_SOLUTION]).rewards.tolist() == [-1.0]


def test_linear_budget_runs_out(lin: LinearEquation) -> None:
    s = lin.parse("2*x + 3 = 7")
    for _ in range(s.budget):
        s = _play(lin, s, [SWAP])
    assert s.terminal and s.rewards.tolist() == [-1.0] and lin.outcome(s) == "failure"


def test_verify_linear() -> None:
    assert verify_linear("2*x + 3 = 7", "x = 2")
    assert verify_linear("1/2*x = 1/3", "x = 2/3")
    assert not verify_linear("2*x + 3 = 7", "x = 3")
    assert not verify_linear("2*x + 3 = 7", "no solution")
    assert not verify_linear("2*x + 3 = 7", "infinitely many")
    assert verify_linear("x + 1 = x + 2", "no solution") and not verify_linear("x + 1 = x + 2", "infinitely many")
    assert verify_linear("x + 1 = x + 1", "infinitely many") and not verify_linear("x + 1 = x + 1", "x = 0")
    assert not verify_linear("2*x = 4", "x == 2") and not verify_linear("2*x = 4", "2")


def test_quadratic_factor(quad: Quadratic) -> None:
    s = quad.parse("x**2 - 5*x + 6 = 0")
    assert s.optimal == 1 and s.legal_action_mask[FACTOR] and s.legal_action_mask[FORMULA]
    assert not s.legal_action_mask[DIVIDE] and not s.legal_action_mask[SQRT]
    assert quad.action_to_text(s, FACTOR) == "factor: (x - 2)*(x - 3) = 0"
    s = _play(quad, s, [FACTOR])
    assert s.terminal and s.rewards.tolist() == [1.0] and quad.answer(s) == "x = 2 or x = 3"
    assert s.to_text().splitlines()[0] == "x = 2 or x = 3"


def test_quadratic_collect_then_formula(quad: Quadratic) -> None:
    s = quad.parse("2*x^2 + 3 = 5*x - x^2")
    s = _play(quad, s, [MOVE_R + 0])
    assert _eq(s) == "2*x^2 + 3 - 5*x = -x^2"
    s = _play(quad, s, [MOVE_R + 0, COMB_L])
    assert _eq(s) == "3*x^2 - 5*x + 3 = 0"
    assert s.legal_action_mask[FORMULA] and not s.legal_action_mask[FACTOR] and s.legal_action_mask[DIVIDE]
    assert _eq(_play(quad, s, [DIVIDE])) == "x^2 - 5/3*x + 1 = 0"
    end = _play(quad, s, [FORMULA])
    assert end.rewards.tolist() == [1.0] and quad.answer(end) == "no real solution"
    wrong = _play(quad, quad.parse("x**2 - 5*x + 6 = 0"), [NO_REAL])
    assert wrong.rewards.tolist() == [-1.0] and quad.outcome(wrong) == "failure"


def test_quadratic_no_real_and_sqrt(quad: Quadratic) -> None:
    s = quad.parse("x**2 + 1 = 0")
    assert s.optimal == 1
    assert _play(quad, s, [NO_REAL]).rewards.tolist() == [1.0]
    s = quad.parse("x**2 = 2")
    assert s.legal_action_mask[SQRT] and not s.legal_action_mask[FORMULA] and s.optimal == 1
    s = _play(quad, s, [SQRT])
    assert s.rewards.tolist() == [1.0] and quad.answer(s) == "x = -sqrt(2) or x = sqrt(2)"
    assert not quad.parse("x**2 = -4").legal_action_mask[SQRT]
    assert not quad.parse("2*x**2 = 8").legal_action_mask[SQRT]
    half = _play(quad, quad.parse("4*x**2 - 8*x - 8 = 0"), [FORMULA])
    assert quad.answer(half) == "x = 1 - sqrt(3) or x = 1 + sqrt(3)"
    double = _play(quad, quad.parse("x**2 + 2*x + 1 = 0"), [FACTOR])
    assert quad.answer(double) == "x = -1"
    odd = _play(quad, quad.parse("2*x**2 - 2*x - 1 = 0"), [FORMULA])
    assert quad.answer(odd) == "x = 1/2 - 1/2*sqrt(3) or x = 1/2 + 1/2*sqrt(3)"


def test_verify_quadratic() -> None:
    eq = "x**2 - 5*x + 6 = 0"
    assert verify_quadratic(eq, "x = 2 or x = 3") and verify_quadratic(eq, "x = 3 or x = 2")
    assert not verify_quadratic(eq, "x = 2")  # a missing root
    assert not verify_quadratic(eq, "x = 2 or x = 2")
    assert not verify_quadratic(eq, "x = 2 or x = 4")
    assert not verify_quadratic(eq, "no real solution")
    assert not verify_quadratic(eq, "x = 1 or x = 6")  # roots of x^2 - 7x + 6
    assert verify_quadratic("x**2 = 2", "x = sqrt(2) or x = -sqrt(2)")
    assert verify_quadratic("x**2 = 2", "x = sqrt(8)/2 or x = -1*sqrt(2)")
    assert not verify_quadratic("x**2 = 2", "x = sqrt(2)")
    assert not verify_quadratic("x**2 = 3", "x = sqrt(2) or x = -sqrt(2)")
    assert verify_quadratic("x**2 + 1 = 0", "no real solution")
    assert not verify_quadratic("x**2 + 1 = 0", "x = 1 or x = -1")
    assert verify_quadratic("x**2 + 2*x + 1 = 0", "x = -1") and not verify_quadratic("x**2 + 2*x + 1 = 0", "x = 1")
    assert not verify_quadratic(eq, "x = 2 or x = 3 or x = 3") and not verify_quadratic(eq, "x = (2")
    assert not verify_quadratic(eq, "x = sqrt(-1) or x = 2")


def test_parse_errors_are_one_line(lin: LinearEquation, quad: Quadratic) -> None:
    cases = [
        (quad, "x**3 + 1 = 0", "quadratic: degree 3 term 'x\\*\\*3' is not allowed"),
        (lin, "2*x + 3 = $", "linear_equation: unexpected character '\\$' at column 11"),
        (lin, "2x + 3 = 7", "linear_equation: implicit multiplication '2x'"),
        (lin, "x**2 = 4", "linear_equation: degree 2 term"),
        (lin, "x = 2", "linear_equation: the equation is already solved"),
        (lin, "x + 1 + 2 + 3 + 4 = 0", "linear_equation: the left side has 5 terms"),
        (lin, "2*x = 7 = 1", "linear_equation: an equation needs exactly one '='"),
        (lin, "2*x/(x+1) = 7", "linear_equation: division by an expression with a variable"),
        (lin, "2*x/0 = 7", "linear_equation: division by zero"),
        (lin, "1" * 10 + "*x = 2", "linear_equation: integer at column 1 has more than 9 digits"),
        (lin, "(" * 40 + "x" + ")" * 40 + " = 2", "linear_equation: expression nested deeper than 32"),
        (quad, "x**2 + x = x**2", "quadratic: the equation is not quadratic"),
        (quad, "", "quadratic: expected one equation"),
        (lin, "2*x + 1 = 3\n x = 1", "linear_equation: expected one equation on one line, got 2 lines"),
    ]
    for task, text, message in cases:
        with pytest.raises(ValueError, match=message) as info:
            task.parse(text)
        assert "\n" not in str(info.value)


def test_parse_expands_products_in_order(lin: LinearEquation, quad: Quadratic) -> None:
    s = lin.parse("2*(x - 3) = -(x + 1)/2")
    assert s.left == ((1, F(2)), (0, F(-6))) and s.right == ((1, F(-1, 2)), (0, F(-1, 2)))
    q = quad.parse("(x + 1)^2 = 0")
    assert q.left == ((2, F(1)), (1, F(1)), (1, F(1)), (0, F(1))) and q.right == ()
    assert quad.instance_text(q) == "x**2 + x + x + 1 = 0"
    assert quad.parse(quad.instance_text(q)) == q


@pytest.mark.parametrize("name", ["linear_equation", "quadratic"])
def test_every_generated_instance_is_solvable_within_its_budget(name: str) -> None:
    task = make_task(name)
    assert isinstance(task, LinearEquation | Quadratic)
    degenerate = 0
    for level in range(1, task.difficulty_levels + 1):
        for seed in range(50):
            s = task.initial_state(seed, level)
            quadratic = isinstance(task, Quadratic)
            dist = shortest_distance(s.left, s.right, task.max_terms, quadratic, task._degenerate(s.left, s.right), 12)
            assert dist is not None and dist + quadratic <= 8
            assert s.optimal <= s.budget <= task.max_episode_steps
            assert s.budget >= dist + quadratic
            if level == 4 and s.optimal == 1 and _solve_optimally(task, s):
                degenerate += 1
            if level == 1:
                assert not _has_fractions(s)
    share = degenerate / 50
    if name == "linear_equation":
        assert 0.04 <= share <= 0.25, share
    else:
        assert 0.08 <= share <= 0.35, share


def _has_fractions(s: EquationState) -> bool:
    return any(c.denominator != 1 for _, c in s.left + s.right)


def _solve_optimally(task: LinearEquation | Quadratic, s: EquationState) -> bool:
    """True iff the instance's answer is a declaration (checked by playing it)."""
    action = NO_SOLUTION if isinstance(task, LinearEquation) else NO_REAL
    end = task.step(s, action)
    if end.rewards[0] > 0:
        return True
    if isinstance(task, LinearEquation):
        return bool(task.step(s, INFINITE).rewards[0] > 0)
    return False


def test_linear_bfs_plan_solves_every_level(lin: LinearEquation) -> None:
    """Greedy play along BFS distances reaches success in exactly ``optimal`` steps."""
    for level in range(1, 5):
        for seed in range(10):
            s = lin.initial_state(seed, level)
            if lin._degenerate(s.left, s.right):
                continue
            steps = 0
            while not s.terminal:
                best = None
                for a in np.flatnonzero(s.legal_action_mask):
                    if a in (NO_SOLUTION, INFINITE, SWAP):
                        continue
                    nxt = lin.step(s, int(a))
                    d = 0 if nxt.terminal else shortest_distance(nxt.left, nxt.right, 4, False, False, 10)
                    if d is not None and (best is None or d < best[0]):
                        best = (d, nxt)
                assert best is not None
                s, steps = best[1], steps + 1
            assert lin.outcome(s) == "success" and steps == s.optimal and lin.score(s) == 1.0


def test_levels_get_harder() -> None:
    lin = make_task("linear_equation")
    mean = [np.mean([lin.initial_state(seed, lvl).optimal for seed in range(30)]) for lvl in (1, 3)]
    assert mean[0] < mean[1]


def test_observation_layout(lin: LinearEquation) -> None:
    s = lin.parse("2*x + 3 = -1/2")
    obs = s.observation.tolist()
    assert obs[0:8] == [17, 11, 0, 0, 2, 0, 0, 1]  # X, +2/1
    assert obs[8:16] == [16, 11, 0, 0, 3, 0, 0, 1]
    assert obs[16:24] == [15] + [10] * 7  # empty slot
    assert obs[32:40] == [16, 12, 0, 0, 1, 0, 0, 2]  # right side: const -1/2
    assert obs[-2:] == [19, 23 + 7]


def test_linear_demonstration_known_answers(lin: LinearEquation) -> None:
    """The solver's demonstration: move, combine, divide for ``2*x + 3 = 7``; the true declaration at once for an
    equation without a unique solution; nothing after a failure."""
    assert lin.demonstration(lin.parse("2*x + 3 = 7")) == [MOVE_L + 1, COMB_R, DIVIDE]
    assert lin.demonstration(lin.parse("2*x + 1 = 2*x + 3")) == [NO_SOLUTION]
    assert lin.demonstration(lin.parse("x + x + 2 = 2*x + 2")) == [INFINITE]
    failed = _play(lin, lin.parse("2*x = 4"), [NO_SOLUTION])
    assert failed.terminal and lin.demonstration(failed) is None
    solved = _play(lin, lin.parse("2*x = 4"), [DIVIDE])
    assert lin.demonstration(solved) == []


@pytest.mark.parametrize("name", ["linear_equation", "quadratic"])
def test_demonstrations_are_shortest_solutions(name: str) -> None:
    """Replayed, every level's demonstration succeeds in the optimal number of steps (score 1.0), agrees in
    length with the generic breadth-first search over the task's own steps, and starts from any position."""
    task = make_task(name)
    assert isinstance(task, LinearEquation | Quadratic)
    for level in range(1, task.difficulty_levels + 1):
        for seed in range(6):
            s = task.initial_state(seed, level)
            actions = task.demonstration(s)
            assert actions is not None
            generic = task.shortest_solution(s)
            assert generic is not None and len(generic) == len(actions) == s.optimal
            end = _play(task, s, actions)
            assert end.terminal and task.outcome(end) == "success" and task.score(end) == 1.0
            if len(actions) > 1:  # from the middle of its own path too
                mid = _play(task, s, actions[:1])
                rest = task.demonstration(mid)
                assert rest is not None and len(rest) == len(actions) - 1
