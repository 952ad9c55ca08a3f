"""Parser fuzzing (hypothesis) and an independent cross-check of the math verifiers against sympy."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zeroforge.tasks import make_task
from zeroforge.tasks.math.equations import EquationState, collect, verify_linear, verify_quadratic
from zeroforge.tasks.math.linear_system import LinearSystemState, verify_system

TASKS = ("arithmetic", "linear_equation", "quadratic", "linear_system")
ALPHABET = "0123456789xyz+-*/^()= \n.$2x"
FUZZ = settings(max_examples=300, deadline=None, derandomize=True)


@pytest.mark.parametrize("name", TASKS)
def test_arbitrary_text_parses_or_raises_a_one_line_error(name: str) -> None:
    task = make_task(name)

    @FUZZ
    @given(st.text(alphabet=ALPHABET, max_size=40) | st.text(max_size=20))
    def check(text: str) -> None:
        try:
            state = task.parse(text)
        except ValueError as exc:
            msg = str(exc)
            assert msg.startswith(f"{name}:") and "\n" not in msg, msg
            return
        assert task.parse(task.instance_text(state)) == state

    check()


_coef = st.fractions(min_value=-20, max_value=20, max_denominator=6).filter(lambda c: c != 0)


@FUZZ
@given(
    st.lists(st.tuples(st.integers(0, 2), _coef), min_size=0, max_size=4),
    st.lists(st.tuples(st.integers(0, 2), _coef), min_size=0, max_size=4),
)
def test_well_formed_equations_round_trip(left: list[tuple[int, F]], right: list[tuple[int, F]]) -> None:
    for name, degree in (("linear_equation", 1), ("quadratic", 2)):
        task = make_task(name)
        lt = tuple((min(d, degree), c) for d, c in left)
        rt = tuple((min(d, degree), c) for d, c in right)
        try:
            state = task.make_state(lt, rt)  # type: ignore[attr-defined]
        except ValueError as exc:
            assert str(exc).startswith(f"{name}:")
            continue
        text = task.instance_text(state)
        again = task.parse(text)
        assert again == state and again.left == lt and again.right == rt, text


@FUZZ
@given(st.lists(st.integers(1, 30), min_size=2, max_size=7), st.lists(st.sampled_from("+-*/"), min_size=6),
       st.integers(0, 2**31))
def test_well_formed_expressions_round_trip(nums: list[int], ops: list[str], seed: int) -> None:
    task = make_task("arithmetic")
    text = " ".join(f"{n} {op}" for n, op in zip(nums, ops, strict=False))[:-2]
    try:
        state = task.parse(text)
    except ValueError as exc:
        assert str(exc) == "arithmetic: division by zero"
        return
    assert task.parse(task.instance_text(state)) == state
    del seed


# ------------------------------------------------------------------------------------------ sympy
def _sympy_solutions(state: EquationState) -> list[object]:
    sympy = pytest.importorskip("sympy")
    x = sympy.Symbol("x")
    coef = collect(state.orig_left, state.orig_right)
    expr = sum(sympy.Rational(c.numerator, c.denominator) * x**d for d, c in coef.items())
    return list(sympy.solve(sympy.Eq(expr, 0), x))


def test_linear_equation_agrees_with_sympy() -> None:
    sympy = pytest.importorskip("sympy")
    task = make_task("linear_equation")
    for seed in range(30):
        s = task.initial_state(seed)
        assert isinstance(s, EquationState)
        sols = _sympy_solutions(s)
        coef = collect(s.orig_left, s.orig_right)
        if coef[1] == 0:
            expected = "infinitely many" if coef[0] == 0 else "no solution"
            if coef[0] != 0:
                assert sols == []
        else:
            assert len(sols) == 1
            r = sympy.Rational(sols[0])
            expected = f"x = {r.p}" if r.q == 1 else f"x = {r.p}/{r.q}"
        assert verify_linear(s, expected)
        assert verify_linear(task.instance_text(s), expected)


def test_quadratic_agrees_with_sympy() -> None:
    sympy = pytest.importorskip("sympy")
    task = make_task("quadratic")
    for seed in range(30):
        s = task.initial_state(seed)
        assert isinstance(s, EquationState)
        real = [r for r in _sympy_solutions(s) if sympy.im(r) == 0]
        roots = " or ".join(f"x = {sympy.sstr(sympy.nsimplify(r))}" for r in real)
        answer = roots or "no real solution"
        assert verify_quadratic(s, answer), (task.instance_text(s), answer)
        # and the roots the task itself finds agree with sympy's
        state = s
        while not state.terminal:
            mask = state.legal_action_mask
            acts = [a for a in (14, 15) if mask[a]]  # formula / square root once legal
            state = task.step(state, acts[0] if acts else _collect_action(mask))
        if task.outcome(state) == "success" and not state.declared:
            assert verify_quadratic(task.instance_text(s), task.answer(state))
            assert (state.roots is None) == (not real)


def _collect_action(mask: np.ndarray) -> int:
    """Move right-side terms left, then combine (a simple collecting policy)."""
    for a in (4, 5, 6, 7, 8, 9):
        if mask[a]:
            return a
    return int(np.flatnonzero(mask)[0])


def test_linear_system_agrees_with_sympy() -> None:
    sympy = pytest.importorskip("sympy")
    task = make_task("linear_system")
    for seed in range(30):
        s = task.initial_state(seed)
        assert isinstance(s, LinearSystemState)
        n = len(s.rows)
        syms = sympy.symbols("x y z")[:n]
        eqs = [sympy.Eq(sum(sympy.Rational(str(r[j])) * syms[j] for j in range(n)), sympy.Rational(str(r[n])))
               for r in s.orig_rows]
        sol = sympy.solve(eqs, syms, dict=True)
        if not sol:
            answer: str | dict[str, str] = "no solution"
        elif any(v not in sol[0] for v in syms):
            answer = "infinitely many"
        else:
            answer = {str(v): str(sol[0][v]) for v in syms}
        assert verify_system(s, answer), (task.instance_text(s), answer)
        assert verify_system(task.instance_text(s), answer)
