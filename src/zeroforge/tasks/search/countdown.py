"""Countdown / the 24 game as a single-player MDP with an exact-arithmetic verifier.

An instance is ``2..7`` positive integers and a positive integer target. Each step combines two of the
remaining numbers with ``+ - * /``; after exactly ``len(numbers) - 1`` steps one number is left, and the
episode succeeds (reward ``+1``) iff it equals the target exactly, else fails (``-1``). There is no early
stop: the episode always combines down to one number, so every solution takes the same number of steps.
There is no graded quality: ``score`` is ``None`` (the base default).

Bounds (``Countdown.bounds``): at most ``{"numbers": 7}`` numbers, each in ``1..999``, a target in
``1..9999``. One task object (any ``num_numbers``) plays and ``parse`` s every instance within them; a
longer instance is refused with a one-line error naming the bound.

Difficulty levels ``1..num_numbers - 1``: level ``k`` draws ``k + 1`` numbers (into slots ``0..k``; the
other slots start EMPTY) and the episode takes ``k`` steps. The target is drawn as at the top level: the
fixed ``target`` (small levels are then often unsolvable) or, with ``target=None``, by combining the drawn
numbers, so every level stays solvable. The top level (the default) uses all ``num_numbers`` numbers,
drawn exactly as before levels existed.

Arithmetic is exact (:class:`fractions.Fraction`), never floats. Negative and fractional intermediates are
allowed (``8 / (3 - 8/3) = 24`` needs ``1/3``); the only illegal operation is division by zero.

Slots and actions. The state has ``7`` slots (the bound), slot ``k`` starting with the ``k``-th number
(empty past the instance's numbers). An action is ``(i, j, op)`` with ``i != j`` two filled slots and
``op`` in ``+ - * /`` (codes 0..3); it puts ``value[i] op value[j]`` into slot ``i`` and empties slot
``j``. Numbering::

    action = (i * 6 + jj) * 4 + op      where jj = j if j < i else j - 1

so ``num_actions = 7 * 6 * 4 = 168`` whatever ``num_numbers``. Legal iff both slots are filled and, for
``/``, ``value[j] != 0``.

Observation (structured, :mod:`zeroforge.tasks.structured`): tokens ``(type, a, b, row, col)``, all at
``row = col = 0`` (the numbers are a set: no positional identity), types ``T = TOKEN_TYPE_BASE["countdown"]``:

==========  =================  =====================================================================
token       type               features
==========  =================  =====================================================================
0           ``T + 4`` TARGET   ``a`` = target, ``b`` = 1 (a target up to 1023: read like a NUMBER)
            ``T + 5`` TARGET_LARGE  ``a`` = target mod 1024, ``b`` = target div 1024 (exact)
1           ``T + 6`` STEPS    ``a`` = steps left (remaining numbers - 1), ``b`` = steps taken
2, 3, ...   one per filled slot, in slot order: the value in lowest terms ``num / den``
            ``T + 0`` NUMBER   ``value >= 0`` with ``|num|, den <= 1023``: ``a = |num|``, ``b = den``
            ``T + 1`` NEGATIVE ``value < 0``, same ranges: ``a = |num|``, ``b = den``
            ``T + 2`` LARGE    ``value >= 0`` beyond them: ``floor(|value|)`` in base 1024, ``a`` = low
                               digit, ``b`` = high digit (at most 1023); the fraction part is dropped
            ``T + 3`` LARGE_NEGATIVE  the same for ``value < 0``
==========  =================  =====================================================================

So an integer ``v <= 1023`` is ``(NUMBER, v, 1)`` and equals the target token's features when it hits a small
target; ``N = 2 + remaining numbers`` tokens (``seq_len = 9`` at the bound).

Pointers (``State.action_pointers()``): a legal action ``(i, j, op)`` is ``(K + op, 3 + r(i), 3 + r(j))`` with
``K = POINTER_KIND_BASE["countdown"]`` and ``r(k)`` the rank of slot ``k`` among the filled slots (so it names
the tokens of its two operands, left first); rows of illegal actions are zero.

State identity (``key()``): the target and the exact values per slot (trailing empty slots dropped). The
expression texts that produced the values are carried along (for ``to_text`` / ``answer``) but do not
distinguish states: two ways of reaching the same numbers are the same MDP state.

Solver: :class:`_Solver` splits the numbers into two groups (the two operands of the last operation),
enumerates every value of the smaller group (at most 3 numbers) and asks recursively whether the larger one
reaches the value the target needs (direct look-up in the enumerated values of groups of at most 4 numbers);
exhaustive, with failed ``(group, goal)`` pairs remembered. :func:`solve` writes its tree as an expression and
:meth:`Countdown.demonstration` as actions.

Instances as text (``Countdown.parse``): JSON ``{"numbers": [4, 7, 8, 8], "target": 24}`` with ``2..7``
numbers in ``1..999`` and a target in ``1..9999``. An instance without a solution (``[1, 1, 1, 1]`` for 24) is
read: telling takes the exhaustive :func:`solve`, so its episodes simply fail. A solved terminal state's
:meth:`Countdown.answer` is an expression that :func:`verify_expression` accepts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from zeroforge.tasks.base import State, Task, frozen_array, solo_rewards
from zeroforge.tasks.instances import read_json_instance, short_repr
from zeroforge.tasks.registry import register_task
from zeroforge.tasks.structured import (
    FEATURE_VOCAB,
    POINTER_KIND_BASE,
    TOKEN_TYPE_BASE,
    TOKEN_VOCAB,
    out_of_bounds,
    token_rows,
)

__all__ = ["Countdown", "CountdownState", "solve", "verify_expression"]

OPS = "+-*/"
MAX_TARGET = 9999
MAX_NUMBER = 999
#: the most numbers an instance may have (``Countdown.bounds``): the slots of every state
MAX_NUMBERS = 7
_MAX_EXPR_CHARS = 2000
_MAX_DEPTH = 200

# token types and pointer kinds
_T = TOKEN_TYPE_BASE["countdown"]
NUMBER, NEGATIVE, LARGE, LARGE_NEGATIVE, TARGET, TARGET_LARGE, STEPS = range(_T, _T + 7)
_KIND = POINTER_KIND_BASE["countdown"]
#: tokens before the numbers (target, steps): number token ``r`` is token ``_GLOBALS + r``
_GLOBALS = 2

Token = tuple[int, int, int, int, int]
#: an expression tree over the solver's numbers: a leaf index or ``(left, right, op)``
Tree = int | tuple["Tree", "Tree", int]


def _apply(op: int, a: Fraction, b: Fraction) -> Fraction:
    if op == 0:
        return a + b
    if op == 1:
        return a - b
    if op == 2:
        return a * b
    return a / b


@lru_cache(maxsize=65536)
def _number_token(numerator: int, denominator: int) -> Token:
    """The token of the value ``numerator / denominator`` (lowest terms, ``denominator > 0``)."""
    mag, negative = abs(numerator), numerator < 0
    if mag < FEATURE_VOCAB and denominator < FEATURE_VOCAB:
        return (NEGATIVE if negative else NUMBER, mag, denominator, 0, 0)
    whole = mag // denominator
    high = min(whole // FEATURE_VOCAB, FEATURE_VOCAB - 1)
    return (LARGE_NEGATIVE if negative else LARGE, whole % FEATURE_VOCAB, high, 0, 0)


def _target_token(target: int) -> Token:
    if target < FEATURE_VOCAB:
        return (TARGET, target, 1, 0, 0)
    return (TARGET_LARGE, target % FEATURE_VOCAB, target // FEATURE_VOCAB, 0, 0)


def _strip_outer(expr: str) -> str:
    """Drop one pair of parentheses wrapping the whole expression, if there is one."""
    if not (expr.startswith("(") and expr.endswith(")")):
        return expr
    depth = 0
    for k, ch in enumerate(expr):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and k < len(expr) - 1:
            return expr  # the first "(" closes before the end: "(a)+(b)"
    return expr[1:-1]


@dataclass(frozen=True, eq=False)
class CountdownState(State):
    """A Countdown position: ``values[k]`` / ``exprs[k]`` are slot ``k``'s exact value and expression text
    (``None`` when empty; ``MAX_NUMBERS`` slots); ``numbers`` is the original instance and ``target`` the goal;
    ``pointers`` the ``int64[num_actions, 3]`` action pointers."""

    target: int
    numbers: tuple[int, ...]
    values: tuple[Fraction | None, ...]
    exprs: tuple[str | None, ...]
    pointers: np.ndarray

    def key(self) -> tuple[Any, ...]:
        """``(target, per-slot (numerator, denominator) or None)`` without trailing empty slots; expression
        texts are not part of it."""
        values = list(self.values)
        while values and values[-1] is None:
            values.pop()
        return (self.target, tuple(None if v is None else (v.numerator, v.denominator) for v in values))

    def action_pointers(self) -> np.ndarray:
        """``int64[num_actions, 3]``: ``(K + op, operand i's token + 1, operand j's token + 1)`` per legal action."""
        return self.pointers

    def to_text(self) -> str:
        """``"target 24: (8-4) 6 1"``: the target, then the remaining numbers as expressions."""
        remaining = " ".join(e for e in self.exprs if e is not None)
        return f"target {self.target}: {remaining}"


@register_task("countdown")
class Countdown(Task):
    """Countdown / the 24 game: combine ``2..7`` integers with ``+ - * /`` to hit the target.

    ``num_numbers`` in 2..7 (the generator's size: the top level's count); numbers drawn uniformly from
    ``1..max_number`` (``max_number`` in 1..999); ``target`` fixed (default 24, at most 9999) or ``None``:
    drawn per seed by combining the numbers randomly, so every such instance is solvable. With a fixed target
    some draws have no solution (``[1, 1, 1, 1]`` for 24); their episodes always fail.
    ``difficulty_levels = num_numbers - 1``: level ``k`` has ``k + 1`` numbers. Whatever ``num_numbers``, the
    task plays and ``parse`` s (a JSON text of at most 1,000,000 characters) any instance of ``2..7`` numbers in
    1..999 and a target in 1..9999 (``bounds``); one without a solution is read too (its episodes fail).
    """

    name: ClassVar[str] = "countdown"
    structured: ClassVar[bool] = True
    bounds: ClassVar[dict[str, int]] = {"numbers": MAX_NUMBERS}
    num_players = 1
    vocab_size = TOKEN_VOCAB
    num_actions = MAX_NUMBERS * (MAX_NUMBERS - 1) * 4
    seq_len = _GLOBALS + MAX_NUMBERS
    max_episode_steps = MAX_NUMBERS - 1

    def __init__(self, num_numbers: int = 4, max_number: int = 13, target: int | None = 24) -> None:
        if (
            isinstance(num_numbers, bool)
            or not isinstance(num_numbers, int)
            or not 2 <= num_numbers <= MAX_NUMBERS
        ):
            raise ValueError(
                f"countdown: num_numbers must be an integer in 2..{MAX_NUMBERS}, got {num_numbers!r}"
            )
        if isinstance(max_number, bool) or not isinstance(max_number, int) or not 1 <= max_number <= MAX_NUMBER:
            raise ValueError(f"countdown: max_number must be an integer in 1..{MAX_NUMBER}, got {max_number!r}")
        if target is not None and (
            isinstance(target, bool) or not isinstance(target, int) or not 1 <= target <= MAX_TARGET
        ):
            raise ValueError(f"countdown: target must be None or an integer in 1..{MAX_TARGET}, got {target!r}")
        self.num_numbers = num_numbers
        self.max_number = max_number
        self.target = target
        self.difficulty_levels = num_numbers - 1
        n = MAX_NUMBERS
        table = [(i, j, op) for i in range(n) for j in range(n) if j != i for op in range(4)]
        self._decode: tuple[tuple[int, int, int], ...] = tuple(table)
        self._act_i = np.array([t[0] for t in table], dtype=np.int64)
        self._act_j = np.array([t[1] for t in table], dtype=np.int64)
        self._act_div = np.array([t[2] == 3 for t in table], dtype=np.bool_)
        self._act_kind = np.array([_KIND + t[2] for t in table], dtype=np.int64)
        self._no_actions = frozen_array(np.zeros(self.num_actions, dtype=np.bool_), np.bool_)
        self._no_pointers = frozen_array(np.zeros((self.num_actions, 3), dtype=np.int64), np.int64)

    # ----------------------------------------------------------------------------------------- actions
    def encode_action(self, i: int, j: int, op: str | int) -> int:
        """The action index of ``slot i  op  slot j`` (``op`` a code 0..3 or one of ``"+-*/"``)."""
        code = OPS.index(op) if isinstance(op, str) else int(op)
        n = MAX_NUMBERS
        if not (0 <= i < n and 0 <= j < n and i != j and 0 <= code < 4):
            raise ValueError(f"countdown: bad action parts i={i}, j={j}, op={op!r}")
        jj = j if j < i else j - 1
        return (i * (n - 1) + jj) * 4 + code

    def decode_action(self, action: int) -> tuple[int, int, int]:
        """``(i, j, op_code)`` of an action index."""
        return self._decode[int(action)]

    def action_to_text(self, state: State, action: int) -> str:
        """The two operands as their current expressions and the operator, e.g. ``"8 - 4"``."""
        i, j, op = self._decode[int(action)]
        exprs = state.exprs if isinstance(state, CountdownState) else ()
        left = exprs[i] if i < len(exprs) and exprs[i] is not None else f"#{i}"
        right = exprs[j] if j < len(exprs) and exprs[j] is not None else f"#{j}"
        return f"{left} {OPS[op]} {right}"

    # ------------------------------------------------------------------------------------------ states
    @staticmethod
    def _observation(target: int, values: tuple[Fraction | None, ...], steps: int) -> np.ndarray:
        """``int64[2 + remaining, 5]``: the target, the steps token, one token per filled slot (module docstring)."""
        numbers = [_number_token(v.numerator, v.denominator) for v in values if v is not None]
        return token_rows([_target_token(target), (STEPS, len(numbers) - 1, steps, 0, 0), *numbers])

    def _mask(self, values: tuple[Fraction | None, ...]) -> np.ndarray:
        filled = np.array([v is not None for v in values], dtype=np.bool_)
        zero = np.array([v == 0 for v in values], dtype=np.bool_)
        mask = filled[self._act_i] & filled[self._act_j] & ~(self._act_div & zero[self._act_j])
        mask.flags.writeable = False
        return mask

    def _pointers(self, values: tuple[Fraction | None, ...], mask: np.ndarray) -> np.ndarray:
        """``int64[num_actions, 3]``: ``(K + op, token of slot i + 1, token of slot j + 1)``; illegal rows zero."""
        filled = np.array([v is not None for v in values], dtype=np.int64)
        pointer = np.cumsum(filled) + _GLOBALS  # the pointer (token index + 1) of each filled slot
        out = np.stack([self._act_kind, pointer[self._act_i], pointer[self._act_j]], axis=1)
        out[~mask] = 0
        out.flags.writeable = False
        return out

    def _state(
        self,
        target: int,
        numbers: tuple[int, ...],
        values: tuple[Fraction | None, ...],
        exprs: tuple[str | None, ...],
        steps: int,
    ) -> CountdownState:
        remaining = [v for v in values if v is not None]
        terminal = len(remaining) == 1  # len(numbers) - 1 steps combine them into one
        mask = self._no_actions if terminal else self._mask(values)
        return CountdownState(
            current_player=0,
            legal_action_mask=mask,
            terminal=terminal,
            rewards=solo_rewards(terminal, terminal and remaining[0] == target),
            observation=self._observation(target, values, steps),
            step_count=steps,
            target=target,
            numbers=numbers,
            values=values,
            exprs=exprs,
            pointers=self._no_pointers if terminal else self._pointers(values, mask),
        )

    def make_state(self, numbers: list[int] | tuple[int, ...], target: int) -> CountdownState:
        """The initial state of the instance ``numbers`` (``2..7`` of them, in the first slots) / ``target``
        (validated; more than 7 numbers is beyond the bound)."""
        nums = tuple(numbers)
        if len(nums) > MAX_NUMBERS:
            raise out_of_bounds(self.name, "an instance of", f"{len(nums)} numbers", f"of {MAX_NUMBERS} numbers")
        if len(nums) < 2:
            raise ValueError(f"countdown: expected 2..{MAX_NUMBERS} numbers, got {len(nums)}")
        for x in nums:
            if isinstance(x, bool) or not isinstance(x, int) or not 1 <= x <= MAX_NUMBER:
                got = short_repr(x)
                raise ValueError(f"countdown: numbers must be positive integers at most {MAX_NUMBER}, got {got}")
        if isinstance(target, bool) or not isinstance(target, int) or not 1 <= target <= MAX_TARGET:
            raise ValueError(f"countdown: target must be an integer in 1..{MAX_TARGET}, got {target!r}")
        empty = (None,) * (MAX_NUMBERS - len(nums))
        values = tuple(Fraction(x) for x in nums) + empty
        return self._state(target, nums, values, tuple(str(x) for x in nums) + empty, 0)

    def _initial_state(self, seed: int, difficulty: int) -> CountdownState:
        rng = np.random.default_rng(seed)
        numbers = [int(x) for x in rng.integers(1, self.max_number + 1, size=difficulty + 1)]
        target = self.target if self.target is not None else _reachable_target(numbers, rng)
        return self.make_state(numbers, target)

    def _step(self, state: State, action: int) -> CountdownState:
        if type(state) is not CountdownState:
            raise ValueError(f"{self.name}: expected a CountdownState, got {type(state).__name__}")
        if len(state.values) != MAX_NUMBERS:
            raise ValueError(f"{self.name}: state has {len(state.values)} slots, this task has {MAX_NUMBERS}")
        i, j, op = self._decode[action]
        a, b = state.values[i], state.values[j]
        assert a is not None and b is not None  # guaranteed by the legal mask
        values = list(state.values)
        values[i], values[j] = _apply(op, a, b), None
        exprs = list(state.exprs)
        exprs[i], exprs[j] = f"({exprs[i]}{OPS[op]}{exprs[j]})", None
        return self._state(state.target, state.numbers, tuple(values), tuple(exprs), state.step_count + 1)

    # --------------------------------------------------------------------------------------- verdicts
    def outcome(self, state: State) -> str:
        """``success`` iff the last number equals the target exactly; ``timeout`` if not terminal."""
        if not state.terminal:
            return "timeout"
        if not isinstance(state, CountdownState):
            return super().outcome(state)
        left = [v for v in state.values if v is not None]
        return "success" if len(left) == 1 and left[0] == state.target else "failure"

    def answer(self, state: State) -> str | None:
        """On a solved terminal state, the final expression (e.g. ``"8/(3-(8/3))"``); else ``None``."""
        if not isinstance(state, CountdownState) or self.outcome(state) != "success":
            return None
        expr = next(e for e in state.exprs if e is not None)
        return _strip_outer(expr)

    def demonstration(self, state: State) -> list[int] | None:
        """The actions of a solution from ``state`` found by the exhaustive :class:`_Solver` (every solution
        takes ``remaining - 1`` steps, so any is shortest); ``[]`` on a solved terminal state, ``None`` when no
        solution is left."""
        if not isinstance(state, CountdownState):
            raise ValueError(f"{self.name}: expected a CountdownState, got {type(state).__name__}")
        if state.terminal:
            return [] if self.outcome(state) == "success" else None
        slots = [k for k, v in enumerate(state.values) if v is not None]
        tree = _Solver([v for v in state.values if v is not None]).solve(Fraction(state.target))
        return None if tree is None else self._tree_actions(tree, slots)

    def _tree_actions(self, tree: Tree, slots: list[int]) -> list[int]:
        """The actions that build ``tree`` (leaf ``k`` = the number in ``slots[k]``): children first, each
        operation's result in its left operand's slot."""
        actions: list[int] = []

        def emit(node: Tree) -> int:  # the slot that holds the node's value afterwards
            if isinstance(node, int):
                return slots[node]
            left, right, op = node
            i, j = emit(left), emit(right)
            actions.append(self.encode_action(i, j, op))
            return i

        emit(tree)
        return actions

    def instance_text(self, state: State) -> str:
        """The instance in the format :meth:`parse` reads."""
        if not isinstance(state, CountdownState):
            raise ValueError(f"{self.name}: expected a CountdownState, got {type(state).__name__}")
        return json.dumps({"numbers": list(state.numbers), "target": state.target})

    def parse(self, text: str) -> CountdownState:
        """The initial state of a JSON instance ``{"numbers": [...], "target": N}``.

        ``numbers`` must be ``2..7`` integers in 1..999 (more is beyond the bound; any count up to it is read,
        whatever ``num_numbers``), ``target`` an integer in 1..9999; anything else (malformed JSON, missing or
        unknown keys, wrong types or counts) raises a one-line ``ValueError``.
        """
        data = read_json_instance("countdown", text, ("numbers", "target"))
        numbers = data["numbers"]
        if not isinstance(numbers, list):
            raise ValueError(f"countdown: 'numbers' must be a list, got {type(numbers).__name__}")
        return self.make_state(numbers, data["target"])

    def __repr__(self) -> str:
        return f"Countdown(num_numbers={self.num_numbers}, max_number={self.max_number}, target={self.target})"


def _reachable_target(numbers: list[int], rng: np.random.Generator, tries: int = 100) -> int:
    """A target reachable from ``numbers``: random combinations until one gives an integer in 1..9999
    (fallback: the sum of the numbers, always reachable)."""
    for _ in range(tries):
        vals = [Fraction(x) for x in numbers]
        while len(vals) > 1:
            i, j = (int(k) for k in rng.choice(len(vals), size=2, replace=False))
            op = int(rng.integers(4))
            if op == 3 and vals[j] == 0:
                op = 0
            vals[i] = _apply(op, vals[i], vals[j])
            del vals[j]
        v = vals[0]
        if v.denominator == 1 and 1 <= v <= MAX_TARGET:
            return int(v)
    return sum(numbers)


# ------------------------------------------------------------------------------------------- solver
#: groups of at most this many numbers have every value they reach enumerated (look-up, no recursion)
_ENUMERATED = 4


def _combinations(x: Fraction, tx: Tree, y: Fraction, ty: Tree) -> Iterator[tuple[Fraction, Tree]]:
    """Every value of one operation on ``x`` and ``y`` (either order), with its tree."""
    yield x + y, (tx, ty, 0)
    yield x - y, (tx, ty, 1)
    yield y - x, (ty, tx, 1)
    yield x * y, (tx, ty, 2)
    if y != 0:
        yield x / y, (tx, ty, 3)
    if x != 0:
        yield y / x, (ty, tx, 3)


def _needs(x: Fraction, goal: Fraction) -> Iterator[tuple[Fraction, bool, int]]:
    """``(y, swapped, op)``: the values ``y`` of the other operand for which ``x op y`` (``y op x`` when
    ``swapped``) equals ``goal``, per operation (``0 * y = 0`` for any ``y`` is left to the caller)."""
    yield goal - x, False, 0
    yield x - goal, False, 1
    yield goal + x, True, 1
    if x != 0:
        yield goal / x, False, 2
        yield goal * x, True, 3
        if goal != 0:
            yield x / goal, False, 3


class _Solver:
    """Exhaustive search for an expression over ``values`` (every one used once) equal to a goal.

    Numbers are addressed by bit masks over ``values``. The last operation of any expression splits its numbers
    into two groups; the smaller has at most 3 numbers when there are at most 7: every value of it is enumerated
    and the larger group must reach the value the goal then needs, recursively. Values of groups of up to
    ``_ENUMERATED`` numbers are enumerated once (with one tree each); failed ``(mask, goal)`` pairs are
    remembered."""

    def __init__(self, values: list[Fraction]) -> None:
        self.values = values
        self.full = (1 << len(values)) - 1
        self._values: dict[int, dict[Fraction, Tree]] = {}
        self._failed: set[tuple[int, Fraction]] = set()

    def solve(self, goal: Fraction) -> Tree | None:
        """A tree over all the numbers whose value is ``goal``, or ``None``."""
        return self.reach(self.full, goal)

    def enumerate(self, mask: int) -> dict[Fraction, Tree]:
        """Every value the numbers of ``mask`` reach (each used once), with one tree each."""
        found = self._values.get(mask)
        if found is not None:
            return found
        if mask & (mask - 1) == 0:
            found = {self.values[mask.bit_length() - 1]: mask.bit_length() - 1}
        else:
            found = {}
            for left, right in _halves(mask):
                for x, tx in self.enumerate(left).items():
                    for y, ty in self.enumerate(right).items():
                        for value, tree in _combinations(x, tx, y, ty):
                            found.setdefault(value, tree)
        self._values[mask] = found
        return found

    def reach(self, mask: int, goal: Fraction) -> Tree | None:
        """A tree over the numbers of ``mask`` whose value is ``goal``, or ``None``."""
        if mask.bit_count() <= _ENUMERATED:
            return self.enumerate(mask).get(goal)
        if (mask, goal) in self._failed:
            return None
        for small, large in _smaller_halves(mask):
            for x, tx in self.enumerate(small).items():
                if x == 0 and goal == 0:
                    return (tx, self._any(large), 2)  # 0 * anything
                for y, swapped, op in _needs(x, goal):
                    ty = self.reach(large, y)
                    if ty is not None:
                        return (ty, tx, op) if swapped else (tx, ty, op)
        self._failed.add((mask, goal))
        return None

    def _any(self, mask: int) -> Tree:
        """Some tree over the numbers of ``mask`` (their sum)."""
        leaves = [k for k in range(len(self.values)) if mask >> k & 1]
        tree: Tree = leaves[0]
        for k in leaves[1:]:
            tree = (tree, k, 0)
        return tree


def _halves(mask: int) -> Iterator[tuple[int, int]]:
    """Every split of ``mask`` into two non-empty parts, once each (the first holds the lowest bit)."""
    low = mask & -mask
    rest = mask ^ low
    sub = rest
    while True:
        left = low | sub
        if left != mask:
            yield left, mask ^ left
        if sub == 0:
            return
        sub = (sub - 1) & rest


def _smaller_halves(mask: int) -> Iterator[tuple[int, int]]:
    """The splits of ``mask`` as ``(smaller, larger)``, the largest smaller parts first (cheapest look-ups)."""
    splits = [(a, b) if a.bit_count() <= b.bit_count() else (b, a) for a, b in _halves(mask)]
    return iter(sorted(splits, key=lambda s: -s[0].bit_count()))


def solve(numbers: list[int] | tuple[int, ...], target: int | Fraction) -> str | None:
    """An expression using every number once that equals ``target`` exactly, or ``None`` (exhaustive)."""
    tree = _Solver([Fraction(x) for x in numbers]).solve(Fraction(target))
    return None if tree is None else _strip_outer(_expression(tree, [str(x) for x in numbers]))


def _expression(tree: Tree, leaves: list[str]) -> str:
    if isinstance(tree, int):
        return leaves[tree]
    left, right, op = tree
    return f"({_expression(left, leaves)}{OPS[op]}{_expression(right, leaves)})"


# ----------------------------------------------------------------------------------------- verifier
def _tokenize(expr: str) -> list[str] | None:
    aliases = {"×": "*", "÷": "/", "−": "-"}
    tokens: list[str] = []
    k = 0
    while k < len(expr):
        ch = aliases.get(expr[k], expr[k])
        if ch.isspace():
            k += 1
        elif ch in "+-*/()":
            tokens.append(ch)
            k += 1
        elif "0" <= ch <= "9":
            start = k
            while k < len(expr) and "0" <= expr[k] <= "9":
                k += 1
            tokens.append(expr[start:k])
        else:
            return None  # forbidden character
    return tokens


class _Parser:
    """Recursive descent over ``expr := term (('+'|'-') term)*``, ``term := factor (('*'|'/') factor)*``,
    ``factor := INT | '(' expr ')'``. No unary operators. Raises ``ValueError`` on anything malformed."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.literals: list[int] = []

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def expr(self, depth: int) -> Fraction:
        value = self.term(depth)
        while self.peek() in ("+", "-"):
            op = self.tokens[self.pos]
            self.pos += 1
            rhs = self.term(depth)
            value = value + rhs if op == "+" else value - rhs
        return value

    def term(self, depth: int) -> Fraction:
        value = self.factor(depth)
        while self.peek() in ("*", "/"):
            op = self.tokens[self.pos]
            self.pos += 1
            rhs = self.factor(depth)
            if op == "*":
                value = value * rhs
            elif rhs == 0:
                raise ValueError("division by zero")
            else:
                value = value / rhs
        return value

    def factor(self, depth: int) -> Fraction:
        tok = self.peek()
        if tok is None:
            raise ValueError("unexpected end")
        if tok == "(":
            if depth >= _MAX_DEPTH:
                raise ValueError("too deeply nested")
            self.pos += 1
            value = self.expr(depth + 1)
            if self.peek() != ")":
                raise ValueError("unbalanced parentheses")
            self.pos += 1
            return value
        if tok.isdigit():
            self.pos += 1
            self.literals.append(int(tok))
            return Fraction(int(tok))
        raise ValueError(f"unexpected token {tok!r}")


def verify_expression(expr: str, numbers: list[int] | tuple[int, ...], target: int | Fraction) -> bool:
    """Whether ``expr`` (integers, ``+ - * /``, parentheses; ``× ÷ −`` accepted as aliases) uses each of
    ``numbers`` exactly once and equals ``target`` exactly. Never evaluates Python; malformed → ``False``."""
    if not isinstance(expr, str) or len(expr) > _MAX_EXPR_CHARS:
        return False
    tokens = _tokenize(expr)
    if not tokens:
        return False
    parser = _Parser(tokens)
    try:
        value = parser.expr(0)
    except ValueError:
        return False
    if parser.pos != len(tokens):
        return False  # trailing tokens, e.g. an unmatched ")"
    if sorted(parser.literals) != sorted(int(x) for x in numbers):
        return False
    return value == Fraction(target)
