"""arithmetic and linear_system: known answers, masks, verifiers, generation."""

from __future__ import annotations

import json
from fractions import Fraction as F

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.math.arithmetic import Arithmetic, ArithmeticState, evaluate, verify_arithmetic
from zeroforge.tasks.math.linear_system import (
    LinearSystem,
    LinearSystemState,
    bfs_steps,
    gauss_jordan_steps,
    verify_system,
)


@pytest.fixture
def ar() -> Arithmetic:
    t = make_task("arithmetic")
    assert isinstance(t, Arithmetic)
    return t


@pytest.fixture
def ls() -> LinearSystem:
    t = make_task("linear_system")
    assert isinstance(t, LinearSystem)
    return t


def _play_ar(task: Arithmetic, s: ArithmeticState, actions: list[int]) -> ArithmeticState:
    for a in actions:
        nxt = task.step(s, a)
        assert isinstance(nxt, ArithmeticState)
        s = nxt
    return s


def test_arithmetic_shapes(ar: Arithmetic) -> None:
    assert (ar.num_actions, ar.seq_len, ar.max_episode_steps, ar.difficulty_levels) == (6, 69, 6, 5)


def test_precedence_violation_fails_and_correct_order_succeeds(ar: Arithmetic) -> None:
    s = ar.parse("2 + 3 * 4")
    assert s.target == 14 and s.legal_action_mask.tolist() == [True, True, False, False, False, False]
    wrong = _play_ar(ar, s, [0])
    assert wrong.to_text() == "5 * 4"
    wrong = _play_ar(ar, wrong, [0])
    assert wrong.terminal and wrong.rewards.tolist() == [-1.0] and ar.outcome(wrong) == "failure"
    assert ar.answer(wrong) is None and ar.score(wrong) == 0.0
    right = _play_ar(ar, s, [1, 0])
    assert right.terminal and right.rewards.tolist() == [1.0] and ar.answer(right) == "14" and ar.score(right) == 1.0


def test_parentheses_and_fractions(ar: Arithmetic) -> None:
    s = ar.parse("(3 + 4) * 2 - 5/3")
    assert s.target == F(37, 3)
    assert s.legal_action_mask.tolist()[:4] == [True, False, True, True]  # '*' has a ')' on its left
    assert ar.action_to_text(s, 0) == "evaluate 3 + 4"
    s = _play_ar(ar, s, [3])
    assert s.to_text() == "(3 + 4) * 2 - [5/3]"
    s = _play_ar(ar, s, [0])
    assert s.to_text() == "7 * 2 - [5/3]"  # the parentheses around the lone 7 vanished
    s = _play_ar(ar, s, [0, 0])
    assert s.rewards.tolist() == [1.0] and ar.answer(s) == "37/3"
    assert ar.instance_text(s) == "(3 + 4) * 2 - 5 / 3"


def test_division_by_zero_is_masked(ar: Arithmetic) -> None:
    s = _play_ar(ar, ar.parse("6 / 2 - 2 * 1"), [2])
    assert s.to_text() == "6 / 2 - 2"
    # evaluating "2 - 2" first leaves "6 / 0": the division is masked, nothing is legal, a terminal failure
    dead = _play_ar(ar, s, [1])
    assert dead.to_text() == "6 / 0" and dead.terminal and not dead.legal_action_mask.any()
    assert dead.rewards.tolist() == [-1.0] and ar.outcome(dead) == "failure"
    masked = _play_ar(ar, ar.parse("6 / 2 - 2 * 3"), [1])
    assert masked.to_text() == "6 / 0 * 3" and masked.legal_action_mask.tolist()[:2] == [False, True]


def test_arithmetic_evaluator_and_parse_errors(ar: Arithmetic) -> None:
    assert evaluate("2 - -3 * 2") == 8 and evaluate("((2))") == 2 and evaluate("8 / 3 / 2") == F(4, 3)
    assert verify_arithmetic("(3 + 4) * 2 - 5/3", "37/3") and not verify_arithmetic("2 + 3 * 4", "20")
    for text, message in [
        ("", "arithmetic: expected one expression"),
        ("1 / (2 - 2)", "arithmetic: division by zero"),
        ("2 + x", "arithmetic: unexpected character 'x' at column 5"),
        ("-(2 + 3) * 4", "arithmetic: a unary minus must stand directly before a number"),
        ("(2 + 3", "arithmetic: unbalanced parentheses"),
        ("2 3", "arithmetic: implicit multiplication"),
        ("1+2+3+4+5+6+7+8", "arithmetic: more than max_operands = 7 numbers"),
        ("7", "arithmetic: an expression needs at least two numbers"),
        ("2 ** 3", "arithmetic: expected an operator at column 3, got '\\*\\*'"),
    ]:
        with pytest.raises(ValueError, match=message) as info:
            ar.parse(text)
        assert "\n" not in str(info.value)


def test_arithmetic_correct_order_solves_every_generated_instance(ar: Arithmetic) -> None:
    """Playing the operator the recursive-descent evaluator would apply next always succeeds."""
    for level in range(1, 6):
        has_parens = 0
        for seed in range(50):
            s = ar.initial_state(seed, level)
            has_parens += any(o for o, _, _ in s.items)
            while not s.terminal:
                s = ar.step(s, _precedence_action(s))
            assert ar.outcome(s) == "success"
        assert (has_parens == 50) if level >= 3 else (has_parens == 0)


def _precedence_action(s: ArithmeticState) -> int:
    """The legal operator of highest precedence, leftmost (inside the innermost legal group)."""
    legal = [k for k in np.flatnonzero(s.legal_action_mask)]
    depth, depths = 0, []
    for opens, _, closes in s.items:
        depth += opens
        depths.append(depth)
        depth -= closes
    best = max(legal, key=lambda k: (depths[k + 1], s.ops[k] in "*/", -k))
    return int(best)


# --------------------------------------------------------------------------------------- systems
def _play_ls(task: LinearSystem, s: LinearSystemState, actions: list[int]) -> LinearSystemState:
    for a in actions:
        nxt = task.step(s, a)
        assert isinstance(nxt, LinearSystemState)
        s = nxt
    return s


def test_system_shapes(ls: LinearSystem) -> None:
    assert (ls.num_actions, ls.seq_len, ls.max_episode_steps, ls.difficulty_levels) == (23, 86, 12, 4)
    small = LinearSystem(max_vars=2)
    assert (small.num_actions, small.seq_len, small.difficulty_levels) == (8, 44, 2)


def test_two_by_two_solution(ls: LinearSystem) -> None:
    s = ls.parse("x + y = 3\nx - y = -1")
    assert s.optimal == 3 and s.budget == 5 and gauss_jordan_steps(s.rows) == bfs_steps(s.rows, 6) == 3
    e = ls.encode_eliminate(1, 0, 0)
    assert ls.action_to_text(s, e) == "eliminate x from equation 2 using equation 1"
    s = _play_ls(ls, s, [e])
    assert s.to_text().splitlines()[:2] == ["x + y = 3", "-2*y = -4"]
    assert not s.legal_action_mask[ls.encode_eliminate(1, 0, 0)]  # x is gone from equation 2
    assert s.legal_action_mask[ls.normalise0 + 1] and not s.legal_action_mask[ls.normalise0 + 0]
    s = _play_ls(ls, s, [ls.normalise0 + 1])
    assert s.to_text().splitlines()[1] == "y = 2"
    s = _play_ls(ls, s, [ls.encode_eliminate(0, 1, 1)])
    assert s.terminal and s.rewards.tolist() == [1.0] and ls.answer(s) == {"x": "1", "y": "2"}
    assert ls.score(s) == 1.0
    assert verify_system("x + y = 3\nx - y = -1", json.dumps(ls.answer(s)))


def test_inconsistent_and_dependent_systems(ls: LinearSystem) -> None:
    bad = ls.parse("x + y = 1\n2*x + 2*y = 5")
    assert bad.optimal == 1
    end = _play_ls(ls, bad, [ls.no_solution_action])
    assert end.rewards.tolist() == [1.0] and ls.answer(end) == "no solution"
    wrong = _play_ls(ls, bad, [ls.infinite_action])
    assert wrong.rewards.tolist() == [-1.0] and ls.outcome(wrong) == "failure" and ls.answer(wrong) is None
    dep = ls.parse("x + y + z = 1\nx - y = 0\n2*x + z = 1")
    assert _play_ls(ls, dep, [ls.infinite_action]).rewards.tolist() == [1.0]
    assert _play_ls(ls, dep, [ls.no_solution_action]).rewards.tolist() == [-1.0]
    s = _play_ls(ls, bad, [ls.encode_eliminate(1, 0, 0)])
    assert s.to_text().splitlines()[1] == "0 = 3" and not s.legal_action_mask[ls.normalise0 + 1]
    unique = ls.parse("x + y = 3\nx - y = -1")
    assert _play_ls(ls, unique, [ls.no_solution_action]).rewards.tolist() == [-1.0]


def test_verify_system() -> None:
    sys2 = "x + y = 3\nx - y = -1"
    assert verify_system(sys2, {"x": "1", "y": "2"}) and not verify_system(sys2, {"x": "2", "y": "1"})
    assert not verify_system(sys2, {"x": "1"}) and not verify_system(sys2, "no solution")
    assert not verify_system(sys2, "infinitely many") and not verify_system(sys2, "{bad json")
    assert verify_system("2*x = 1\n3*y = 2", {"x": "1/2", "y": "2/3"})
    assert verify_system("x + y = 1\nx + y = 2", "no solution")
    assert not verify_system("x + y = 1\nx + y = 2", "infinitely many")
    assert verify_system("x + y = 1\n2*x + 2*y = 2", "infinitely many")
    assert not verify_system("x + y = 1\n2*x + 2*y = 2", {"x": "0", "y": "1"})  # one of many is not the answer


def test_system_parse_errors(ls: LinearSystem) -> None:
    for text, message in [
        ("", "linear_system: expected 2..3 equations"),
        ("x + y = 1\nx*y = 2", "linear_system: degree 2 term 'x\\*y' is not allowed"),
        ("x + z = 1\nx - y = 2", "linear_system: a system of 2 equations uses only xy, got z"),
        ("x = 1\ny = 2", "linear_system: the system is already solved"),
        ("x + y = 1\nx - w = 2", "linear_system: unexpected character 'w'"),
    ]:
        with pytest.raises(ValueError, match=message) as info:
            ls.parse(text)
        assert "\n" not in str(info.value)


def test_every_generated_system_is_solvable_within_its_budget(ls: LinearSystem) -> None:
    for level in range(1, 5):
        degenerate = 0
        for seed in range(50):
            s = ls.initial_state(seed, level)
            n = len(s.rows)
            assert n == (2 if level <= 2 else 3)
            steps = gauss_jordan_steps(s.rows)
            if steps is None:
                degenerate += 1
                assert s.optimal == 1 and level == 4
                continue
            assert s.optimal <= steps <= s.budget
            if n == 2:
                assert bfs_steps(s.rows, 6) == s.optimal  # exact for 2 x 2
            else:
                assert s.optimal == steps
            if level == 1:
                assert all(v.denominator == 1 for v in _solve(ls, s).values())
        if level == 4:
            assert 3 <= degenerate <= 14, degenerate
        else:
            assert degenerate == 0


def _solve(ls: LinearSystem, s: LinearSystemState) -> dict[str, F]:
    """Play Gauss-Jordan through actions; return the solution."""
    n = len(s.rows)
    for v in range(n):
        k = next(i for i in range(n) if s.rows[i][v] != 0 and all(s.rows[i][u] == 0 for u in range(v)))
        for i in range(n):
            if i != k and s.rows[i][v] != 0:
                s = _play_ls(ls, s, [ls.encode_eliminate(i, k, v)])
    for i in range(n):
        if s.legal_action_mask[ls.normalise0 + i]:
            s = _play_ls(ls, s, [ls.normalise0 + i])
    assert s.terminal and ls.outcome(s) == "success"
    answer = ls.answer(s)
    assert isinstance(answer, dict)
    return {k: F(v) for k, v in answer.items()}
