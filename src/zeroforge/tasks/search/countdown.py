"""Countdown / the 24 game as a single-player MDP with an exact-arithmetic verifier.

An instance is ``2..num_numbers`` positive integers and a positive integer target. Each step combines two
of the remaining numbers with ``+ - * /``; after exactly ``len(numbers) - 1`` steps one number is left, and
the episode succeeds (reward ``+1``) iff it equals the target exactly, else fails (``-1``). There is no
early stop: the episode always combines down to one number. There is no graded quality: ``score`` is
``None`` (the base default).

Difficulty levels ``1..num_numbers - 1``: level ``k`` draws ``k + 1`` numbers (into slots ``0..k``; the
other slots start EMPTY) and the episode takes ``k`` steps. The target is drawn as at the top level: the
fixed ``target`` (small levels are then often unsolvable) or, with ``target=None``, by combining the drawn
numbers, so every level stays solvable. The top level (the default) uses all ``num_numbers`` numbers,
drawn exactly as before levels existed.

Arithmetic is exact (:class:`fractions.Fraction`), never floats. Negative and fractional intermediates are
allowed (``8 / (3 - 8/3) = 24`` needs ``1/3``); the only illegal operation is division by zero.

Slots and actions. The state has ``n = num_numbers`` slots, slot ``k`` starting with the ``k``-th number
(empty past the instance's numbers).
An action is ``(i, j, op)`` with ``i != j`` two filled slots and ``op`` in ``+ - * /`` (codes 0..3); it puts
``value[i] op value[j]`` into slot ``i`` and empties slot ``j``. Numbering::

    action = (i * (n - 1) + jj) * 4 + op      where jj = j if j < i else j - 1

so ``num_actions = n * (n - 1) * 4``. Legal iff both slots are filled and, for ``/``, ``value[j] != 0``.

Observation (``seq_len = 4 + 7 * n`` tokens, ``vocab_size = 16``):

- tokens ``0..9`` are decimal digits; ``10`` PAD; ``11`` EMPTY; ``12`` POS; ``13`` NEG; ``14`` POS_CLIPPED;
  ``15`` NEG_CLIPPED.
- first 4 tokens: the target's decimal digits, most significant first (targets are at most 9999).
- then per slot 7 tokens ``[status, n2, n1, n0, d2, d1, d0]``: the value in lowest terms as
  ``sign * numerator / denominator`` with 3 digits each (an integer has denominator ``001``; zero is POS
  ``000/001``). If ``|numerator|`` or ``denominator`` exceeds 999 both are clipped to 999 and the status
  becomes ``*_CLIPPED``. An empty slot is ``[EMPTY, PAD x 6]``.

State identity (``key()``): the target and the exact values per slot. The expression texts that produced
the values are carried along (for ``to_text`` / ``answer``) but do not distinguish states: two ways of
reaching the same numbers are the same MDP state.

Instances as text (``Countdown.parse``): JSON ``{"numbers": [4, 7, 8, 8], "target": 24}`` with ``2..num_numbers``
numbers in ``1..999`` and a target in ``1..9999``. An instance without a solution (``[1, 1, 1, 1]`` for 24) is
read: telling takes the exhaustive :func:`solve`, so its episodes simply fail. A solved
terminal state's :meth:`Countdown.answer` is an expression that :func:`verify_expression` accepts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

from zeroforge.tasks.base import SOLO_NO_REWARD, State, Task, frozen_array, solo_rewards
from zeroforge.tasks.instances import read_json_instance, short_repr
from zeroforge.tasks.registry import register_task
from zeroforge.tasks.tokens import digit_tokens, fraction_tokens

__all__ = ["Countdown", "CountdownState", "solve", "verify_expression"]

OPS = "+-*/"
MAX_TARGET = 9999
MAX_NUMBER = 999
_MAX_EXPR_CHARS = 2000
_MAX_DEPTH = 200

# observation tokens
_PAD, _EMPTY, _POS, _NEG, _POS_CLIPPED, _NEG_CLIPPED = 10, 11, 12, 13, 14, 15
_VOCAB = 16
_SLOT_TOKENS = 7
_TARGET_TOKENS = 4
_SIGNS = (_POS, _NEG, _POS_CLIPPED, _NEG_CLIPPED)
_EMPTY_SLOT = (_EMPTY,) + (_PAD,) * (_SLOT_TOKENS - 1)



def _apply(op: int, a: Fraction, b: Fraction) -> Fraction:
    if op == 0:
        return a + b
    if op == 1:
        return a - b
    if op == 2:
        return a * b
    return a / b


def _slot_tokens(numerator: int, denominator: int) -> tuple[int, ...]:
    return fraction_tokens(numerator, denominator, _SIGNS)


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
    (``None`` when empty); ``numbers`` is the original instance and ``target`` the goal."""

    target: int
    numbers: tuple[int, ...]
    values: tuple[Fraction | None, ...]
    exprs: tuple[str | None, ...]

    def key(self) -> tuple[Any, ...]:
        """``(target, per-slot (numerator, denominator) or None)``; expression texts are not part of it."""
        return (
            self.target,
            tuple(None if v is None else (v.numerator, v.denominator) for v in self.values),
        )

    def to_text(self) -> str:
        """``"target 24: (8-4) 6 1"``: the target, then the remaining numbers as expressions."""
        remaining = " ".join(e for e in self.exprs if e is not None)
        return f"target {self.target}: {remaining}"


@register_task("countdown")
class Countdown(Task):
    """Countdown / the 24 game: combine ``num_numbers`` integers with ``+ - * /`` to hit the target.

    ``num_numbers`` in 2..6; numbers drawn uniformly from ``1..max_number`` (``max_number`` in 1..999);
    ``target`` fixed (default 24, at most 9999) or ``None``: drawn per seed by combining the numbers
    randomly, so every such instance is solvable. With a fixed target some draws have no solution
    (``[1, 1, 1, 1]`` for 24); their episodes always fail. ``difficulty_levels = num_numbers - 1``: level
    ``k`` has ``k + 1`` numbers. An instance read by ``parse`` (a JSON text of at most 1,000,000 characters)
    has ``2..num_numbers`` numbers in 1..999 and a target in 1..9999; one without a solution is read too (its
    episodes fail).
    """

    name: ClassVar[str] = "countdown"
    num_players = 1
    vocab_size = _VOCAB

    def __init__(self, num_numbers: int = 4, max_number: int = 13, target: int | None = 24) -> None:
        if isinstance(num_numbers, bool) or not isinstance(num_numbers, int) or not 2 <= num_numbers <= 6:
            raise ValueError(f"countdown: num_numbers must be an integer in 2..6, got {num_numbers!r}")
        if isinstance(max_number, bool) or not isinstance(max_number, int) or not 1 <= max_number <= MAX_NUMBER:
            raise ValueError(f"countdown: max_number must be an integer in 1..{MAX_NUMBER}, got {max_number!r}")
        if target is not None and (
            isinstance(target, bool) or not isinstance(target, int) or not 1 <= target <= MAX_TARGET
        ):
            raise ValueError(f"countdown: target must be None or an integer in 1..{MAX_TARGET}, got {target!r}")
        self.num_numbers = num_numbers
        self.max_number = max_number
        self.target = target
        n = num_numbers
        self.num_actions = n * (n - 1) * 4
        self.seq_len = _TARGET_TOKENS + _SLOT_TOKENS * n
        self.max_episode_steps = n - 1
        self.difficulty_levels = n - 1
        table = [(i, j, op) for i in range(n) for j in range(n) if j != i for op in range(4)]
        self._decode: tuple[tuple[int, int, int], ...] = tuple(table)
        self._act_i = np.array([t[0] for t in table], dtype=np.int64)
        self._act_j = np.array([t[1] for t in table], dtype=np.int64)
        self._act_div = np.array([t[2] == 3 for t in table], dtype=np.bool_)
        self._no_actions = frozen_array(np.zeros(self.num_actions, dtype=np.bool_), np.bool_)

    # ----------------------------------------------------------------------------------------- actions
    def encode_action(self, i: int, j: int, op: str | int) -> int:
        """The action index of ``slot i  op  slot j`` (``op`` a code 0..3 or one of ``"+-*/"``)."""
        code = OPS.index(op) if isinstance(op, str) else int(op)
        n = self.num_numbers
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
    def _observation(self, target: int, values: tuple[Fraction | None, ...]) -> np.ndarray:
        tokens: list[int] = list(digit_tokens(target, _TARGET_TOKENS))
        for v in values:
            tokens.extend(_EMPTY_SLOT if v is None else _slot_tokens(v.numerator, v.denominator))
        return frozen_array(tokens, np.int64)

    def _mask(self, values: tuple[Fraction | None, ...]) -> np.ndarray:
        filled = np.array([v is not None for v in values], dtype=np.bool_)
        zero = np.array([v == 0 for v in values], dtype=np.bool_)
        mask = filled[self._act_i] & filled[self._act_j] & ~(self._act_div & zero[self._act_j])
        mask.flags.writeable = False
        return mask

    def make_state(self, numbers: list[int] | tuple[int, ...], target: int) -> CountdownState:
        """The initial state of the instance ``numbers`` (``2..num_numbers`` of them, in the first slots) /
        ``target`` (validated)."""
        nums = tuple(numbers)
        if not 2 <= len(nums) <= self.num_numbers:
            raise ValueError(
                f"countdown: expected 2..{self.num_numbers} numbers (num_numbers={self.num_numbers}), got {len(nums)}"
            )
        for x in nums:
            if isinstance(x, bool) or not isinstance(x, int) or not 1 <= x <= MAX_NUMBER:
                got = short_repr(x)
                raise ValueError(f"countdown: numbers must be positive integers at most {MAX_NUMBER}, got {got}")
        if isinstance(target, bool) or not isinstance(target, int) or not 1 <= target <= MAX_TARGET:
            raise ValueError(f"countdown: target must be an integer in 1..{MAX_TARGET}, got {target!r}")
        values = tuple(Fraction(x) for x in nums) + (None,) * (self.num_numbers - len(nums))
        return CountdownState(
            current_player=0,
            legal_action_mask=self._mask(values),
            terminal=False,
            rewards=SOLO_NO_REWARD,
            observation=self._observation(target, values),
            step_count=0,
            target=target,
            numbers=nums,
            values=values,
            exprs=tuple(str(x) for x in nums) + (None,) * (self.num_numbers - len(nums)),
        )

    def _initial_state(self, seed: int, difficulty: int) -> CountdownState:
        rng = np.random.default_rng(seed)
        numbers = [int(x) for x in rng.integers(1, self.max_number + 1, size=difficulty + 1)]
        target = self.target if self.target is not None else _reachable_target(numbers, rng)
        return self.make_state(numbers, target)

    def _step(self, state: State, action: int) -> CountdownState:
        if type(state) is not CountdownState:
            raise ValueError(f"{self.name}: expected a CountdownState, got {type(state).__name__}")
        if len(state.values) != self.num_numbers:
            raise ValueError(f"{self.name}: state has {len(state.values)} slots, this task has {self.num_numbers}")
        i, j, op = self._decode[action]
        a, b = state.values[i], state.values[j]
        assert a is not None and b is not None  # guaranteed by the legal mask
        result = _apply(op, a, b)
        values = list(state.values)
        values[i], values[j] = result, None
        exprs = list(state.exprs)
        exprs[i], exprs[j] = f"({exprs[i]}{OPS[op]}{exprs[j]})", None
        steps = state.step_count + 1
        new_values = tuple(values)
        terminal = sum(v is not None for v in new_values) == 1  # len(numbers) - 1 steps combine them into one
        obs = state.observation.copy()
        base_i, base_j = _TARGET_TOKENS + _SLOT_TOKENS * i, _TARGET_TOKENS + _SLOT_TOKENS * j
        obs[base_i : base_i + _SLOT_TOKENS] = _slot_tokens(result.numerator, result.denominator)
        obs[base_j : base_j + _SLOT_TOKENS] = _EMPTY_SLOT
        obs.flags.writeable = False
        return CountdownState(
            current_player=0,
            legal_action_mask=self._no_actions if terminal else self._mask(new_values),
            terminal=terminal,
            rewards=solo_rewards(terminal, result == state.target),
            observation=obs,
            step_count=steps,
            target=state.target,
            numbers=state.numbers,
            values=new_values,
            exprs=tuple(exprs),
        )

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

    def instance_text(self, state: State) -> str:
        """The instance in the format :meth:`parse` reads."""
        if not isinstance(state, CountdownState):
            raise ValueError(f"{self.name}: expected a CountdownState, got {type(state).__name__}")
        return json.dumps({"numbers": list(state.numbers), "target": state.target})

    def parse(self, text: str) -> CountdownState:
        """The initial state of a JSON instance ``{"numbers": [...], "target": N}``.

        ``numbers`` must be ``2..num_numbers`` integers in 1..999 (fewer than ``num_numbers`` is an easier
        instance, as a lower difficulty level draws), ``target`` an integer in 1..9999; anything else
        (malformed JSON, missing or unknown keys, wrong types or counts) raises a one-line ``ValueError``.
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
def solve(numbers: list[int] | tuple[int, ...], target: int | Fraction) -> str | None:
    """An expression using every number once that equals ``target`` exactly, or ``None`` (exhaustive)."""
    goal = Fraction(target)
    failed: set[tuple[Fraction, ...]] = set()

    def search(items: list[tuple[Fraction, str]]) -> str | None:
        if len(items) == 1:
            return items[0][1] if items[0][0] == goal else None
        sig = tuple(sorted(v for v, _ in items))
        if sig in failed:
            return None
        for a in range(len(items)):
            for b in range(a + 1, len(items)):
                (x, ex), (y, ey) = items[a], items[b]
                rest = [items[k] for k in range(len(items)) if k != a and k != b]
                candidates = [(x + y, f"({ex}+{ey})"), (x * y, f"({ex}*{ey})"), (x - y, f"({ex}-{ey})")]
                candidates.append((y - x, f"({ey}-{ex})"))
                if y != 0:
                    candidates.append((x / y, f"({ex}/{ey})"))
                if x != 0:
                    candidates.append((y / x, f"({ey}/{ex})"))
                for cand in candidates:
                    found = search([*rest, cand])
                    if found is not None:
                        return found
        failed.add(sig)
        return None

    result = search([(Fraction(x), str(x)) for x in numbers])
    return None if result is None else _strip_outer(result)


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
