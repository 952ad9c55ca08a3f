"""Linear systems solved by elimination (``linear_system``), a single-agent MDP.

An instance is ``n`` equations in ``n`` unknowns (``x, y, z``; ``n`` = 2 or 3, at most ``max_vars``), each
kept as a coefficient row plus a constant (exact ``Fraction``s): ``a_i1*x + a_i2*y (+ a_i3*z) = b_i``.
Smaller systems occupy the first rows and columns.

Actions (``N = max_vars``; 23 for N = 3, 8 for N = 2)::

    (i * (N - 1) + kk) * N + v     eliminate variable v from equation i using equation k
                                   (kk = k if k < i else k - 1): row_i -= (a_iv / a_kv) * row_k;
                                   legal iff i != k < n, a_kv != 0 and a_iv != 0
    N * (N - 1) * N + i            normalise equation i: divide it by its first non-zero coefficient,
                                   legal iff there is one and it is not 1
    N * (N - 1) * N + N            declare: no solution        (legal in every non-terminal state; terminal)
    N * (N - 1) * N + N + 1        declare: infinitely many    (legal in every non-terminal state; terminal)

Episode end and rewards ``float32[1]``: the solved form (every equation ``v = c``: the coefficient matrix
a permutation matrix, rows are never reordered) gives ``+1``; a declaration is terminal, ``+1`` iff true by
ranks of the ORIGINAL system (exact Gaussian elimination: no solution iff ``rank A < rank [A|b]``,
infinitely many iff ``rank A = rank [A|b] < n``), else ``-1``; running out of the step budget gives ``-1``.

Budget and optimum. The budget is ``ceil(step_budget_factor * n^2)`` (capped at ``max_episode_steps =
ceil(step_budget_factor * N^2)``): Gauss-Jordan needs at most ``n (n - 1)`` eliminations and ``n``
normalisations, so the budget never depends on the answer. The reference length ``optimal`` is, for 2 x 2
systems, the breadth-first minimum (exact); for 3 x 3 the shortest Gauss-Jordan run over every assignment of
pivot rows to variables and every pivot order, normalising pivot rows first or at the end
(:func:`gauss_jordan_steps`) - a reference, not a proven minimum (a lucky coincidence can beat it; ``score =
min(1, optimal / steps)`` on success, ``0.0`` on failure). ``1`` (declare at once) for a system without a
unique solution.

Observation (``seq_len = N * (N + 1) * 7 + 2`` tokens = 86 for N = 3; the vocabulary of :mod:`.vocab`):
per row ``i`` and column ``j`` (``N`` coefficients, then the constant) a 7-token number, ``EMPTY`` slots for
rows / columns beyond ``n``; then ``[status, budget bucket]``.

Levels (``difficulty_levels = 4`` for N = 3, ``2`` for N = 2): (1) 2 x 2 with an integer solution; (2) 2 x 2
with a rational solution; (3) 3 x 3; (4) 3 x 3 with ~15 % inconsistent or dependent systems. With N = 2 the
levels are (1) and (2), the top one with ~15 % inconsistent or dependent systems. Coefficients are small
integers; the solution is drawn first.

Text. ``parse`` reads one equation a line (``x + y = 3`` / ``x - y = 1``; ``n`` lines use the first ``n`` of
``x, y, z``; terms may stand on both sides and are collected into the row; implicit ``2x`` is rejected);
``instance_text`` writes the rows (``2*x - y = 3``). ``answer`` on success is a dict ``{"x": "1", "y":
"-2/3"}`` (the CLI prints it as JSON) or the declaration string; :func:`verify_system` checks either.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

from zeroforge.tasks.base import State, solo_rewards
from zeroforge.tasks.math.parse import parse_equation, parse_number
from zeroforge.tasks.math.vocab import (
    BUDGET0,
    DECLARED,
    EMPTY_NUMBER,
    FAILED,
    PAD,
    RUNNING,
    SOLVED,
    VOCAB_SIZE,
    fmt,
    number_tokens,
)
from zeroforge.tasks.params import check_budget_factor
from zeroforge.tasks.path import PathTask
from zeroforge.tasks.registry import register_task
from zeroforge.tasks.tokens import budget_bucket

__all__ = ["LinearSystem", "LinearSystemState", "gauss_jordan_steps", "rank", "system_kind", "verify_system"]

VARS = "xyz"
Row = tuple[Fraction, ...]  # coefficients then the constant
_NO_SOLUTION, _INFINITE = "no solution", "infinitely many"


def rank(rows: list[list[Fraction]]) -> int:
    """The rank of a matrix (exact Gaussian elimination)."""
    m = [list(r) for r in rows]
    r = 0
    cols = len(m[0]) if m else 0
    for c in range(cols):
        pivot = next((i for i in range(r, len(m)) if m[i][c] != 0), None)
        if pivot is None:
            continue
        m[r], m[pivot] = m[pivot], m[r]
        for i in range(len(m)):
            if i != r and m[i][c] != 0:
                f = m[i][c] / m[r][c]
                m[i] = [a - f * b for a, b in zip(m[i], m[r], strict=True)]
        r += 1
    return r


def system_kind(rows: tuple[Row, ...]) -> str:
    """``"unique"``, ``"no solution"`` or ``"infinitely many"`` by ranks of ``A`` and ``[A|b]``."""
    n = len(rows)
    ra = rank([list(r[:n]) for r in rows])
    rab = rank([list(r) for r in rows])
    if ra < rab:
        return _NO_SOLUTION
    return "unique" if ra == n else _INFINITE


def solution(rows: tuple[Row, ...]) -> tuple[Fraction, ...] | None:
    """The unique solution (Gauss-Jordan), or ``None``."""
    n = len(rows)
    if system_kind(rows) != "unique":
        return None
    m = [list(r) for r in rows]
    for c in range(n):
        p = next(i for i in range(c, n) if m[i][c] != 0)
        m[c], m[p] = m[p], m[c]
        m[c] = [a / m[c][c] for a in m[c]]
        for i in range(n):
            if i != c and m[i][c] != 0:
                f = m[i][c]
                m[i] = [a - f * b for a, b in zip(m[i], m[c], strict=True)]
    return tuple(m[i][n] for i in range(n))


def _eliminate(rows: tuple[Row, ...], i: int, k: int, v: int) -> tuple[Row, ...]:
    f = rows[i][v] / rows[k][v]
    new = tuple(a - f * b for a, b in zip(rows[i], rows[k], strict=True))
    return (*rows[:i], new, *rows[i + 1:])


def _first_nonzero(row: Row, n: int) -> Fraction | None:
    return next((a for a in row[:n] if a != 0), None)


def _normalise(rows: tuple[Row, ...], i: int, n: int) -> tuple[Row, ...]:
    lead = _first_nonzero(rows[i], n)
    assert lead is not None
    return (*rows[:i], tuple(a / lead for a in rows[i]), *rows[i + 1:])


def solved(rows: tuple[Row, ...]) -> bool:
    """Every equation is ``v = c`` with distinct variables (the coefficients a permutation matrix)."""
    n = len(rows)
    seen = set()
    for r in rows:
        nz = [j for j in range(n) if r[j] != 0]
        if len(nz) != 1 or r[nz[0]] != 1:
            return False
        seen.add(nz[0])
    return len(seen) == n


def gauss_jordan_steps(rows: tuple[Row, ...]) -> int | None:
    """The shortest Gauss-Jordan run that reaches the solved form, ``None`` for a system without a unique
    solution. Tried: every assignment of pivot rows to variables, every order of the pivots, and normalising
    each pivot row before its eliminations or all rows at the end (a row already at 1 needs no step)."""
    n = len(rows)
    if solved(rows):
        return 0
    best: int | None = None
    for perm in itertools.permutations(range(n)):  # perm[v] = pivot row of variable v
        for order in itertools.permutations(range(n)):
            for early in (False, True):
                steps = _gauss_jordan_run(rows, perm, order, early)
                if steps is not None and (best is None or steps < best):
                    best = steps
    return best


def _gauss_jordan_run(rows: tuple[Row, ...], perm: tuple[int, ...], order: tuple[int, ...], early: bool) -> int | None:
    n = len(rows)
    cur, steps = rows, 0
    for v in order:
        k = perm[v]
        if cur[k][v] == 0:
            return None
        if early and _first_nonzero(cur[k], n) != 1:
            if _first_nonzero(cur[k], n) != cur[k][v]:
                return None  # normalising divides by the first non-zero coefficient, not the pivot
            cur = _normalise(cur, k, n)
            steps += 1
        for i in range(n):
            if i != k and cur[i][v] != 0:
                cur = _eliminate(cur, i, k, v)
                steps += 1
    steps += sum(1 for r in cur if _first_nonzero(r, n) != 1)
    return steps if solved(tuple(tuple(a / _first_nonzero(r, n) for a in r) for r in cur)) else None  # type: ignore[operator]


def bfs_steps(rows: tuple[Row, ...], limit: int) -> int | None:
    """Breadth-first minimum number of eliminate / normalise steps to the solved form (small systems)."""
    n = len(rows)
    if solved(rows):
        return 0
    seen = {rows}
    frontier = deque([(rows, 0)])
    while frontier:
        cur, dist = frontier.popleft()
        if dist >= limit:
            continue
        nexts = [_eliminate(cur, i, k, v) for i in range(n) for k in range(n) for v in range(n)
                 if i != k and cur[k][v] != 0 and cur[i][v] != 0]
        nexts += [_normalise(cur, i, n) for i in range(n) if _first_nonzero(cur[i], n) not in (None, 1)]
        for nxt in nexts:
            if nxt in seen:
                continue
            if solved(nxt):
                return dist + 1
            seen.add(nxt)
            frontier.append((nxt, dist + 1))
    return None


def _parse_rows(text: str, max_vars: int) -> tuple[Row, ...]:
    if not isinstance(text, str):
        raise ValueError(f"linear_system: expected text, got {type(text).__name__}")
    lines = [line for line in text.splitlines() if line.strip()]
    if not 2 <= len(lines) <= max_vars:
        raise ValueError(f"linear_system: expected 2..{max_vars} equations, one a line, got {len(lines)}")
    n = len(lines)
    rows = []
    for line in lines:
        lhs, rhs = parse_equation("linear_system", line, VARS[:max_vars], 1)
        coef = [Fraction(0)] * (n + 1)
        for sign, side in ((1, lhs), (-1, rhs)):
            for mono, c in side:
                if sum(mono) == 0:
                    coef[n] -= sign * c
                    continue
                v = mono.index(1)
                if v >= n:
                    raise ValueError(f"linear_system: a system of {n} equations uses only {VARS[:n]}, got {VARS[v]}")
                coef[v] += sign * c
        rows.append(tuple(coef))
    return tuple(rows)


def _row_text(row: Row) -> str:
    n = len(row) - 1
    parts: list[str] = []
    for j in range(n):
        c = row[j]
        if c == 0:
            continue
        mag = abs(c) if parts else c
        body = VARS[j] if mag == 1 else f"-{VARS[j]}" if mag == -1 else f"{fmt(mag)}*{VARS[j]}"
        parts.append(body if not parts else (" - " if c < 0 else " + ") + body)
    return f"{''.join(parts) or '0'} = {fmt(row[n])}"


def verify_system(system: str | LinearSystemState, answer: str | dict[str, str]) -> bool:
    """Whether ``answer`` solves the ORIGINAL system exactly: a dict ``{"x": "1", "y": "-2/3"}`` (or its JSON
    text) naming every unknown of a system with a unique solution, or ``"no solution"`` /
    ``"infinitely many"`` matching the ranks of ``A`` and ``[A|b]``. Malformed answers are ``False``."""
    rows = system.orig_rows if isinstance(system, LinearSystemState) else _parse_rows(system, 3)
    return verify_system_rows(rows, answer)


def verify_system_rows(rows: tuple[Row, ...], answer: str | dict[str, str]) -> bool:
    """:func:`verify_system` on rows (coefficients then the constant)."""
    n = len(rows)
    kind = system_kind(rows)
    if isinstance(answer, str) and " ".join(answer.split()) in (_NO_SOLUTION, _INFINITE):
        return kind == " ".join(answer.split())
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except (json.JSONDecodeError, RecursionError):
            return False
    if not isinstance(answer, dict) or set(answer) != set(VARS[:n]) or kind != "unique":
        return False
    values = [parse_number(answer[v]) if isinstance(answer[v], str) else None for v in VARS[:n]]
    if any(v is None for v in values):
        return False
    return all(sum((r[j] * values[j] for j in range(n)), Fraction(0)) == r[n] for r in rows)  # type: ignore[operator]


@dataclass(frozen=True, eq=False)
class LinearSystemState(State):
    """Current and original rows (coefficients then the constant), the declaration made (``""`` if none),
    the budget and the reference optimum."""

    rows: tuple[Row, ...]
    orig_rows: tuple[Row, ...]
    declared: str
    budget: int
    optimal: int

    def key(self) -> tuple[Any, ...]:
        return (self.orig_rows, self.rows, self.declared, self.step_count, self.budget)

    def to_text(self) -> str:
        """E.g. ``"x + y = 3\\n-2*y = -2\\nstep 1/5"``."""
        status = f"step {self.step_count}/{self.budget}"
        if self.declared:
            status += f", declared: {self.declared}"
        return "\n".join([*(_row_text(r) for r in self.rows), status])


@register_task("linear_system")
class LinearSystem(PathTask):
    """Solve ``n x n`` linear systems by elimination and normalisation, or declare that there is no / no
    unique solution. ``max_vars`` (2 or 3) fixes the shapes; ``step_budget_factor`` (>= 1) scales ``n^2``
    into the budget. An instance read by ``parse`` is ``2..max_vars`` lines, one linear equation each (at most
    1000 characters a side, integers of at most 9 digits) in the first ``n`` of ``x, y, z`` for ``n`` lines, not
    already solved; inconsistent and dependent systems are valid. See the module docstring."""

    name: ClassVar[str] = "linear_system"
    pad_token: ClassVar[int | None] = PAD
    path_state = LinearSystemState
    vocab_size = VOCAB_SIZE

    def __init__(self, max_vars: int = 3, step_budget_factor: float = 1.25) -> None:
        if isinstance(max_vars, bool) or not isinstance(max_vars, int) or max_vars not in (2, 3):
            raise ValueError(f"linear_system: max_vars must be 2 or 3, got {max_vars!r}")
        n = max_vars
        self.max_vars = n
        self.step_budget_factor = check_budget_factor("linear_system", step_budget_factor)
        self.difficulty_levels = 4 if n == 3 else 2
        self.normalise0 = n * (n - 1) * n
        self.no_solution_action = self.normalise0 + n
        self.infinite_action = self.normalise0 + n + 1
        self.num_actions = self.normalise0 + n + 2
        self.seq_len = n * (n + 1) * 7 + 2
        self.max_episode_steps = math.ceil(self.step_budget_factor * n * n)
        self._decode = [(i, k, v) for i in range(n) for k in range(n) if k != i for v in range(n)]
        self._no_actions = np.zeros(self.num_actions, dtype=np.bool_)
        self._no_actions.flags.writeable = False

    def encode_eliminate(self, i: int, k: int, v: int) -> int:
        """The action "eliminate variable ``v`` from equation ``i`` using equation ``k``"."""
        n = self.max_vars
        if not (0 <= i < n and 0 <= k < n and i != k and 0 <= v < n):
            raise ValueError(f"linear_system: bad eliminate parts i={i}, k={k}, v={v}")
        return (i * (n - 1) + (k if k < i else k - 1)) * n + v

    # ------------------------------------------------------------------------ states
    def _state(self, rows: tuple[Row, ...], orig: tuple[Row, ...], declared: str, budget: int, optimal: int,
               steps: int) -> LinearSystemState:
        n, big = len(rows), self.max_vars
        done = bool(declared) or solved(rows)
        terminal = done or steps >= budget
        success = done and self._success(orig, rows, declared)
        mask = self._no_actions
        if not terminal:
            mask = np.zeros(self.num_actions, dtype=np.bool_)
            for a, (i, k, v) in enumerate(self._decode):
                mask[a] = i < n and k < n and v < n and rows[k][v] != 0 and rows[i][v] != 0
            for i in range(n):
                mask[self.normalise0 + i] = _first_nonzero(rows[i], n) not in (None, 1)
            mask[self.no_solution_action] = mask[self.infinite_action] = True
            mask.flags.writeable = False
        obs: list[int] = []
        for i in range(big):
            for j in range(big + 1):
                if i < n and (j < n or j == big):
                    obs.extend(number_tokens(rows[i][j if j < n else n]))
                else:
                    obs.extend(EMPTY_NUMBER)
        status = RUNNING if not terminal else DECLARED if declared and success else SOLVED if success else FAILED
        obs += [status, BUDGET0 + budget_bucket(budget - steps, budget)]
        observation = np.array(obs, dtype=np.int64)
        observation.flags.writeable = False
        return LinearSystemState(
            current_player=0,
            legal_action_mask=mask,
            terminal=terminal,
            rewards=solo_rewards(terminal, success),
            observation=observation,
            step_count=steps,
            rows=rows,
            orig_rows=orig,
            declared=declared,
            budget=budget,
            optimal=optimal,
        )

    def _success(self, orig: tuple[Row, ...], rows: tuple[Row, ...], declared: str) -> bool:
        if declared:
            return system_kind(orig) == declared
        return solved(rows) and verify_system_rows(orig, _solution_dict(rows))

    def make_state(self, rows: tuple[Row, ...]) -> LinearSystemState:
        """The initial state of ``rows`` (``n`` rows of ``n`` coefficients and a constant, Fractions)."""
        n = len(rows)
        if not 2 <= n <= self.max_vars or any(len(r) != n + 1 for r in rows):
            raise ValueError(f"linear_system: expected 2..{self.max_vars} rows of n + 1 numbers")
        if solved(rows):
            raise ValueError("linear_system: the system is already solved")
        budget = self.step_budget(n * n)
        ref = gauss_jordan_steps(rows)
        if ref is not None and n == 2:
            ref = bfs_steps(rows, ref)  # exact for 2 x 2
        optimal = 1 if ref is None else max(1, ref)
        return self._state(rows, rows, "", budget, optimal, 0)

    def _step(self, state: State, action: int) -> LinearSystemState:
        if type(state) is not LinearSystemState or len(state.rows) > self.max_vars:
            raise ValueError(f"{self.name}: expected a LinearSystemState of this task")
        s, n = state, len(state.rows)
        rows, declared = s.rows, ""
        if action == self.no_solution_action:
            declared = _NO_SOLUTION
        elif action == self.infinite_action:
            declared = _INFINITE
        elif action >= self.normalise0:
            rows = _normalise(rows, action - self.normalise0, n)
        else:
            i, k, v = self._decode[action]
            rows = _eliminate(rows, i, k, v)
        return self._state(rows, s.orig_rows, declared, s.budget, s.optimal, s.step_count + 1)

    def _initial_state(self, seed: int, difficulty: int) -> LinearSystemState:
        rng = np.random.default_rng(seed)
        top = self.difficulty_levels
        n = 2 if difficulty <= 2 else 3
        rational = difficulty == 2 or (difficulty >= 3 and rng.random() < 0.5)
        degenerate = difficulty == top and rng.random() < 0.15
        for _ in range(1000):
            rows = self._draw(rng, n, rational, degenerate)
            if rows is None or solved(rows):
                continue
            if any(abs(a.numerator) > 999 or a.denominator > 999 for r in rows for a in r):
                continue
            if not degenerate and (system_kind(rows) != "unique" or gauss_jordan_steps(rows) is None):
                continue
            return self.make_state(rows)
        raise AssertionError("linear_system: no instance generated")  # pragma: no cover

    def _draw(self, rng: np.random.Generator, n: int, rational: bool, degenerate: bool) -> tuple[Row, ...] | None:
        a = [[Fraction(int(v)) for v in rng.integers(-5, 6, size=n)] for _ in range(n)]
        if degenerate:
            alpha, beta = int(rng.integers(-2, 3)), int(rng.integers(-2, 3))
            if alpha == 0 and beta == 0:
                return None
            base = [list(r) for r in a[: n - 1]]
            consts = [Fraction(int(v)) for v in rng.integers(-9, 10, size=n - 1)]
            comb = [alpha * base[0][j] + (beta * base[1][j] if n == 3 else 0) for j in range(n)]
            const = alpha * consts[0] + (beta * consts[1] if n == 3 else 0)
            if all(c == 0 for c in comb):
                return None
            if rng.random() < 0.5:
                const += int(rng.integers(1, 5)) * (1 if rng.random() < 0.5 else -1)  # inconsistent
            rows = [(*base[i], consts[i]) for i in range(n - 1)] + [(*comb, Fraction(const))]
            order = rng.permutation(n)
            return tuple(tuple(rows[int(i)]) for i in order)
        if rank([list(r) for r in a]) < n:
            return None
        if rational:
            sol = [Fraction(int(rng.integers(-6, 7)), int(rng.integers(1, 4))) for _ in range(n)]
        else:
            sol = [Fraction(int(rng.integers(-6, 7))) for _ in range(n)]
        out = []
        for r in a:
            b = sum((c * s for c, s in zip(r, sol, strict=True)), Fraction(0))
            scale = b.denominator  # integer coefficients, integer constant
            out.append((*tuple(c * scale for c in r), b * scale))
        return tuple(out)

    # ------------------------------------------------------------------------ verdicts
    def is_solved(self, state: State) -> bool:
        """The solved form was reached or a true declaration was made."""
        assert isinstance(state, LinearSystemState)
        done = bool(state.declared) or solved(state.rows)
        return done and self._success(state.orig_rows, state.rows, state.declared)

    def optimal_steps(self, state: State) -> int:
        """The reference length (BFS for 2 x 2, the best Gauss-Jordan run for 3 x 3; 1 to declare)."""
        assert isinstance(state, LinearSystemState)
        return state.optimal

    def answer(self, state: State) -> dict[str, str] | str | None:
        """``{"x": "1", "y": "-2/3"}`` on the solved form, the declaration if it was true, else ``None``."""
        if not isinstance(state, LinearSystemState) or self.outcome(state) != "success":
            return None
        return state.declared or _solution_dict(state.rows)

    def action_to_text(self, state: State, action: int) -> str:
        """``"eliminate y from equation 2 using equation 1"`` (1-based), ``"normalise equation 1"``, ..."""
        a = int(action)
        if a == self.no_solution_action:
            return "declare: no solution"
        if a == self.infinite_action:
            return "declare: infinitely many"
        if a >= self.normalise0:
            return f"normalise equation {a - self.normalise0 + 1}"
        i, k, v = self._decode[a]
        return f"eliminate {VARS[v]} from equation {i + 1} using equation {k + 1}"

    # ------------------------------------------------------------------------ text
    def instance_text(self, state: State) -> str:
        """The original rows, one equation a line."""
        if not isinstance(state, LinearSystemState):
            raise ValueError(f"{self.name}: expected a LinearSystemState, got {type(state).__name__}")
        return "\n".join(_row_text(r) for r in state.orig_rows)

    def parse(self, text: str) -> LinearSystemState:
        """The initial state of a system written one equation a line (see the module docstring)."""
        return self.make_state(_parse_rows(text, self.max_vars))

    def __repr__(self) -> str:
        return f"LinearSystem(max_vars={self.max_vars}, step_budget_factor={self.step_budget_factor})"


def _solution_dict(rows: tuple[Row, ...]) -> dict[str, str]:
    n = len(rows)
    out = {}
    for r in rows:
        j = next(j for j in range(n) if r[j] != 0)
        out[VARS[j]] = fmt(r[n])
    return {v: out[v] for v in VARS[:n]}

