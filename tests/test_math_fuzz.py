"""Parser fuzzing (hypothesis) and an independent cross-check of the math verifiers against sympy.

The text fuzz mixes arbitrary text with well-formed but varied instance text whose value is known by
construction (random coefficients, terms on both sides, ``^`` and ``**``, fractions, spacing); it counts how
many examples parse and how many are rejected, so that a strategy that only ever reaches one branch fails.
The sympy check parses the instance TEXT with sympy itself and solves it there."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from fractions import Fraction as F
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zeroforge.tasks import make_task
from zeroforge.tasks.math.arithmetic import ArithmeticState
from zeroforge.tasks.math.distance import shortest_distance
from zeroforge.tasks.math.equations import EquationState
from zeroforge.tasks.math.linear_system import LinearSystem, LinearSystemState, verify_system
from zeroforge.tasks.math.sides import collect
from zeroforge.tasks.math.verify import verify_linear, verify_quadratic

TASKS = ("arithmetic", "linear_equation", "quadratic", "linear_system")
ALPHABET = "0123456789xyz+-*/^()= \n.$2x"
FUZZ = settings(max_examples=300, deadline=None, derandomize=True)
VARS = "xyz"

# ------------------------------------------------------------------------------- well-formed text
# Each strategy draws ``(text, expected)``: ``expected`` is what the text means, computed while it is built
# (collected coefficients {(variable, degree): value}, one dict a line, or the exact value of an expression).
_space = st.sampled_from(["", " ", " ", "  ", "\t"])
_Coefs = dict[tuple[str, int], F]


@st.composite
def _number(draw: st.DrawFn) -> tuple[str, F]:
    """``"7"`` or ``"3/4"`` (a fraction is read as a division: ``3/4*x`` is ``(3/4)*x``)."""
    n = draw(st.integers(0, 30))
    if draw(st.booleans()):
        d = draw(st.integers(1, 9))
        return f"{n}{draw(_space)}/{draw(_space)}{d}", F(n, d)
    return str(n), F(n)


@st.composite
def _term(draw: st.DrawFn, variables: str, max_degree: int, min_degree: int = 0) -> tuple[str, tuple[str, int], F]:
    """One product: a constant, ``c*x``, ``x``, ``x^2``, ``x**2*c``, ``c*x*x``, ``x^1``, ... -> its text, its
    monomial (``("", 0)`` for a constant) and its coefficient."""
    sp = draw(_space)
    num, value = draw(_number())
    degree = draw(st.integers(min_degree, max_degree))
    if degree == 0:
        return (f"({sp}{num}{sp})" if draw(st.booleans()) else num), ("", 0), value
    var = draw(st.sampled_from(variables))
    op = draw(st.sampled_from(["^", "**"]))
    if degree == 2 and draw(st.booleans()):
        power = f"{var}{sp}*{sp}{var}"
    elif degree == 1 and draw(st.booleans()):
        power = var
    else:
        power = f"{var}{sp}{op}{sp}{degree}"
    form = draw(st.integers(0, 3))
    if form == 0:
        text, value = power, F(1)
    elif form == 1:
        text = f"{num}{sp}*{sp}{power}"
    elif form == 2:
        text = f"{power}{sp}*{sp}{num}"
    else:
        text = f"({num}){sp}*{sp}({power})"
    return text, (var, degree), value


@st.composite
def _side(draw: st.DrawFn, variables: str, max_degree: int, max_terms: int, square: bool = False
          ) -> tuple[str, _Coefs]:
    """A sum of signed terms (``"0"`` when empty) and its collected coefficients; ``square``: one of the terms
    is of degree 2."""
    terms = draw(st.lists(_term(variables, max_degree), max_size=max_terms - square))
    if square:
        terms.insert(draw(st.integers(0, len(terms))), draw(_term(variables, 2, min_degree=2)))
    coefs: _Coefs = {}
    parts: list[str] = []
    for i, (text, mono, value) in enumerate(terms):
        negative = draw(st.booleans())
        sp = draw(_space)
        if i == 0:
            parts.append(f"-{sp}{text}" if negative else text)
        else:
            parts.append(f"{sp}{'-' if negative else '+'}{sp}{text}")
        coefs[mono] = coefs.get(mono, F(0)) + (-value if negative else value)
    return "".join(parts) or "0", coefs


@st.composite
def _equation(draw: st.DrawFn, variables: str, max_degree: int, max_terms: int) -> tuple[str, _Coefs]:
    """``left = right`` and the coefficients of ``left - right`` (a quadratic has an ``x^2`` term on the left)."""
    left, lc = draw(_side(variables, max_degree, max_terms, square=max_degree == 2))
    right, rc = draw(_side(variables, max_degree, max_terms))
    coefs = dict(lc)
    for mono, value in rc.items():
        coefs[mono] = coefs.get(mono, F(0)) - value
    return f"{draw(_space)}{left}{draw(_space)}={draw(_space)}{right}{draw(_space)}", coefs


@st.composite
def _system(draw: st.DrawFn) -> tuple[str, list[_Coefs]]:
    n = draw(st.integers(2, 3))
    lines = [draw(_equation(VARS[:n], 1, 3)) for _ in range(n)]
    blank = draw(st.sampled_from(["\n", "\n\n", "\n  \n"]))
    return blank.join(text for text, _ in lines), [coefs for _, coefs in lines]


def _fold(operands: list[F], ops: list[str]) -> F:
    """The value of ``a op b op c ...`` with ``*`` and ``/`` before ``+`` and ``-``, left to right (raises
    ZeroDivisionError)."""
    terms, signs = [operands[0]], []
    for op, value in zip(ops, operands[1:], strict=True):
        if op == "*":
            terms[-1] *= value
        elif op == "/":
            terms[-1] /= value
        else:
            terms.append(value)
            signs.append(op)
    total = terms[0]
    for sign, value in zip(signs, terms[1:], strict=True):
        total = total + value if sign == "+" else total - value
    return total


@st.composite
def _expression(draw: st.DrawFn, depth: int = 0, budget: int = 7) -> tuple[str, F | None, int]:
    """A flat sequence of operands (numbers, ``-3``, parenthesised sub-expressions) joined by ``+ - * /``;
    -> its text, its exact value (``None`` on a division by zero) and the number of literals used."""
    count = draw(st.integers(2, min(4, budget)))
    texts: list[str] = []
    values: list[F | None] = []
    used = 0
    for i in range(count):
        left = budget - used - (count - i - 1)
        if depth < 2 and left >= 2 and draw(st.integers(0, 3)) == 0:
            text, value, k = draw(_expression(depth + 1, left))
            texts.append(f"({draw(_space)}{text}{draw(_space)})")
        else:
            n = draw(st.integers(0, 20))
            value, k = F(n), 1
            text = f"-{n}" if n and draw(st.integers(0, 4)) == 0 else str(n)
            value = -value if text.startswith("-") else value
            texts.append(text)
        values.append(value)
        used += k
    ops = [draw(st.sampled_from("+-*/")) for _ in range(count - 1)]
    text = texts[0] + "".join(f"{draw(_space)}{op}{draw(_space)}{t}" for op, t in zip(ops, texts[1:], strict=True))
    if any(v is None for v in values):
        return text, None, used
    try:
        return text, _fold([v for v in values if v is not None], ops), used
    except ZeroDivisionError:
        return text, None, used


def _well_formed(name: str) -> st.SearchStrategy[tuple[str, Any]]:
    if name == "arithmetic":
        return _expression().map(lambda t: (t[0], t[1]))
    if name == "linear_system":
        return _system()
    return _equation("x", 1 if name == "linear_equation" else 2, 4)


_random_text = st.text(alphabet=ALPHABET, max_size=40) | st.text(max_size=20)


def _collected(mono_coefs: dict[tuple[str, int], F]) -> dict[tuple[str, int], F]:
    return {mono: c for mono, c in mono_coefs.items() if c != 0}


def _meaning(name: str, state: Any) -> Any:
    """What a parsed state says, in the shape the strategies compute."""
    if name == "arithmetic":
        assert isinstance(state, ArithmeticState)
        return state.target
    if name == "linear_system":
        assert isinstance(state, LinearSystemState)
        n = len(state.orig_rows)
        return [
            _collected({**{(VARS[j], 1): row[j] for j in range(n)}, ("", 0): -row[n]}) for row in state.orig_rows
        ]
    assert isinstance(state, EquationState)
    coef = collect(state.orig_left, state.orig_right)
    return _collected({("", 0) if d == 0 else ("x", d): c for d, c in coef.items()})


def _expected(name: str, expected: Any) -> Any:
    if name == "arithmetic":
        return expected
    if name == "linear_system":
        return [_collected(row) for row in expected]
    return _collected(expected)


@pytest.mark.parametrize("name", TASKS)
def test_arbitrary_text_parses_or_raises_a_one_line_error(name: str) -> None:
    """Every text either parses, means what it says and round-trips through ``instance_text``, or raises a
    one-line error naming the task. Each example tries one well-formed and one arbitrary text; both branches
    must get a real share of the texts tried."""
    task = make_task(name)
    seen: Counter[str] = Counter()

    def attempt(text: str, expected: Any) -> None:
        try:
            state = task.parse(text)
        except ValueError as exc:
            msg = str(exc)
            assert msg.startswith(f"{name}:") and "\n" not in msg, msg
            seen["error"] += 1
            return
        seen["parsed"] += 1
        if expected is not None:
            seen["parsed well-formed"] += 1
            assert _meaning(name, state) == _expected(name, expected), text
        assert task.parse(task.instance_text(state)) == state

    @FUZZ
    @given(_well_formed(name), _random_text)
    def check(well_formed: tuple[str, Any], arbitrary: str) -> None:
        attempt(*well_formed)
        attempt(arbitrary, None)
        seen["examples"] += 1

    check()
    total = seen["parsed"] + seen["error"]
    assert seen["parsed"] >= 0.2 * total and seen["error"] >= 0.2 * total, seen
    assert seen["parsed well-formed"] >= 0.5 * seen["examples"], seen  # most well-formed text is an instance


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


_entry = st.fractions(min_value=-20, max_value=20, max_denominator=6)


@settings(max_examples=150, deadline=None, derandomize=True)  # make_state tries 72 Gauss-Jordan orders a 3 x 3
@given(st.integers(2, 3).flatmap(lambda n: st.lists(st.lists(_entry, min_size=n + 1, max_size=n + 1),
                                                    min_size=n, max_size=n)))
def test_well_formed_systems_round_trip(rows: list[list[F]]) -> None:
    """Rows (zero coefficients, fractions, singular systems included) -> instance text -> the same rows."""
    task = make_task("linear_system")
    assert isinstance(task, LinearSystem)
    system = tuple(tuple(r) for r in rows)
    try:
        state = task.make_state(system)
    except ValueError as exc:
        assert str(exc) == "linear_system: the system is already solved"
        return
    text = task.instance_text(state)
    again = task.parse(text)
    assert again == state and again.orig_rows == system, text


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
# The expectation comes from sympy alone: the instance TEXT is parsed by sympy's own parser and solved there.
def _sympy_equations(text: str, names: str) -> list[Any]:
    """``lhs - rhs`` of every line of ``text`` as sympy expressions."""
    sympy = pytest.importorskip("sympy")
    from sympy.parsing.sympy_parser import parse_expr

    symbols = {v: sympy.Symbol(v) for v in names}
    out = []
    for line in text.splitlines():
        lhs, rhs = line.replace("^", "**").split("=")
        out.append(sympy.expand(parse_expr(lhs, local_dict=symbols) - parse_expr(rhs, local_dict=symbols)))
    return out


def _sympy_linear_answer(text: str) -> str:
    sympy = pytest.importorskip("sympy")
    (expr,) = _sympy_equations(text, "x")
    x = sympy.Symbol("x")
    if expr == 0:
        return "infinitely many"
    if x not in expr.free_symbols:
        return "no solution"
    (root,) = sympy.solve(expr, x)
    return f"x = {root}"


def _sympy_real_roots(text: str) -> list[Any]:
    sympy = pytest.importorskip("sympy")
    (expr,) = _sympy_equations(text, "x")
    return [r for r in sympy.solve(expr, sympy.Symbol("x")) if r.is_real]


def _play(task: Any, state: Any, policy: Callable[[Any], int]) -> Any:
    while not state.terminal:
        state = task.step(state, policy(state))
    return state


def _greedy_bfs(task: Any, quadratic: bool) -> Callable[[Any], int]:
    """Take the closing action (quadratic formula / square root) once legal, else the rewrite that is
    closest to the goal by the task's breadth-first distance."""
    closing = (task.formula_action, task.sqrt_action) if quadratic else ()
    skip = {task.swap_action, *closing, *((task.no_real_action,) if quadratic else
                                          (task.no_solution_action, task.infinite_action))}

    def policy(s: EquationState) -> int:
        for a in closing:
            if s.legal_action_mask[a]:
                return int(a)
        here = shortest_distance(s.left, s.right, task.max_terms, quadratic, False, task.max_episode_steps)
        assert here is not None and here > 0
        for a in np.flatnonzero(s.legal_action_mask):
            if int(a) in skip:
                continue
            nxt = task.step(s, int(a))
            if (nxt.terminal and not quadratic) or (
                    not nxt.terminal
                    and shortest_distance(nxt.left, nxt.right, task.max_terms, quadratic, False, here - 1) is not None):
                return int(a)
        raise AssertionError(f"no step gets closer to the goal from {s.to_text()!r}")

    return policy


def test_linear_equation_agrees_with_sympy() -> None:
    sympy = pytest.importorskip("sympy")
    task = make_task("linear_equation")
    declared = solved = 0
    for level, seeds in ((1, 8), (2, 8), (3, 8), (4, 40)):  # ~12 % of level 4 has no unique solution
        for seed in range(seeds):
            s = task.initial_state(seed, level)
            assert isinstance(s, EquationState)
            text = task.instance_text(s)
            expected = _sympy_linear_answer(text)
            assert verify_linear(text, expected) and verify_linear(s, expected), (text, expected)
            shifted = f"x = {sympy.Rational(expected[4:]) + 1}" if expected.startswith("x = ") else "x = 0"
            for wrong in ("no solution", "infinitely many", shifted):
                if wrong != expected:
                    assert not verify_linear(text, wrong), (text, wrong)
            if expected in ("no solution", "infinitely many"):
                declared += 1
                continue
            end = _play(task, s, _greedy_bfs(task, quadratic=False))
            assert task.answer(end) == expected, (text, task.answer(end), expected)
            solved += 1
    assert declared >= 2 and solved >= 50, (declared, solved)


def test_quadratic_agrees_with_sympy() -> None:
    sympy = pytest.importorskip("sympy")
    from sympy.parsing.sympy_parser import parse_expr

    task = make_task("quadratic")
    kinds: Counter[int] = Counter()
    for level in range(1, 5):
        for seed in range(15):
            s = task.initial_state(seed, level)
            assert isinstance(s, EquationState)
            text = task.instance_text(s)
            real = _sympy_real_roots(text)
            kinds[len(real)] += 1
            answer = " or ".join(f"x = {sympy.sstr(r)}" for r in real) or "no real solution"
            assert verify_quadratic(text, answer) and verify_quadratic(s, answer), (text, answer)
            if real:
                assert not verify_quadratic(text, "no real solution")
                assert not verify_quadratic(text, f"x = {sympy.sstr(real[0] + 1)}")
                if len(real) == 2:
                    assert not verify_quadratic(text, f"x = {sympy.sstr(real[0])}")  # one root missing
            # the roots the task itself reaches (quadratic formula / square root) are sympy's
            end = _play(task, s, _greedy_bfs(task, quadratic=True))
            got = task.answer(end)
            assert got is not None, (text, end.to_text())
            mine = [] if got == "no real solution" else [parse_expr(p.split("=")[1]) for p in got.split(" or ")]
            assert len(mine) == len(real) and all(any(sympy.simplify(m - r) == 0 for r in real) for m in mine), (
                text, got, real)
    assert kinds[0] >= 2 and kinds[2] >= 20, kinds


def _gauss_jordan(task: LinearSystem) -> Callable[[LinearSystemState], int]:
    """Eliminate each variable in turn with the first unused row that has it, then normalise."""

    def policy(s: LinearSystemState) -> int:
        n, rows, pivots = len(s.rows), s.rows, set()
        for v in range(n):
            k = next(k for k in range(n) if k not in pivots and rows[k][v] != 0)
            pivots.add(k)
            for i in range(n):
                if i != k and rows[i][v] != 0:
                    return task.encode_eliminate(i, k, v)
        return task.normalise0 + next(i for i in range(n) if s.legal_action_mask[task.normalise0 + i])

    return policy


def test_linear_system_agrees_with_sympy() -> None:
    sympy = pytest.importorskip("sympy")
    task = make_task("linear_system")
    assert isinstance(task, LinearSystem)
    kinds: Counter[str] = Counter()
    for level, seeds in ((1, 8), (2, 8), (3, 8), (4, 40)):  # ~15 % of level 4 has no unique solution
        for seed in range(seeds):
            s = task.initial_state(seed, level)
            assert isinstance(s, LinearSystemState)
            text = task.instance_text(s)
            n = len(text.splitlines())
            syms = sympy.symbols("x y z")[:n]
            sol = sympy.solve(_sympy_equations(text, "xyz"[:n]), syms, dict=True)
            if not sol:
                answer: str | dict[str, str] = "no solution"
            elif any(v not in sol[0] for v in syms):
                answer = "infinitely many"
            else:
                answer = {str(v): str(sol[0][v]) for v in syms}
            kinds[answer if isinstance(answer, str) else "unique"] += 1
            assert verify_system(text, answer) and verify_system(s, answer), (text, answer)
            for wrong in ("no solution", "infinitely many"):
                if wrong != answer:
                    assert not verify_system(text, wrong), (text, wrong)
            if isinstance(answer, dict):
                off = {**answer, "x": str(sympy.Rational(answer["x"]) + 1)}
                assert not verify_system(text, off), (text, off)
                end = _play(task, s, _gauss_jordan(task))
                assert task.answer(end) == answer, (text, task.answer(end), answer)
    assert kinds["unique"] >= 40 and kinds["no solution"] + kinds["infinitely many"] >= 1, kinds
