"""Step-by-step evaluation of an arithmetic expression (``arithmetic``), a single-agent MDP.

An instance is an expression of integers, ``+ - * /`` and parentheses (``(3 + 4) * 2 - 5/3``), held as a flat
token sequence: number *items* ``(opens, value, closes)`` (the parentheses right before / after the number)
with an operator between neighbouring items. Values are exact ``Fraction``s.

Actions (``num_actions = max_operands - 1``): action ``k`` evaluates the ``k``-th remaining operator (left to
right); legal iff both neighbours of that operator are numbers (the left number has no ``)`` after it, the
right one no ``(`` before it) and it is not a division by zero. It replaces ``a op b`` by its exact value
(keeping ``a``'s opening and ``b``'s closing parentheses); parentheses around a lone number are then removed
automatically. This is the rule a student applies, and it may violate precedence or left-associativity
(``2 + 3 * 4`` evaluating ``+`` first gives 20).

Episode end and rewards ``float32[1]``: after ``operands - 1`` steps one number is left; ``+1`` iff it equals
the exact value of the original expression (:func:`evaluate`: the one expression parser of :mod:`.parse`
over exact rationals), else ``-1``. A non-terminal state without a legal action (only divisions by zero left)
is a terminal failure (``-1``). Every episode of a correct instance is exactly ``operands - 1`` steps long,
so there is no budget; ``score`` is ``1.0`` on success, ``0.0`` on failure.

Observation (``seq_len = 10 * max_operands - 1`` = 69 tokens for 7 operands; the vocabulary of
:mod:`.vocab`, 31 tokens): per number slot ``i`` 9 tokens ``[opens, sign, n2, n1, n0, d2, d1, d0, closes]``
(the counts as digits, the value as a 7-token number; an empty slot is ``[PAD, EMPTY, PAD x 7]``), and
between slots ``i`` and ``i + 1`` one operator token (``16..19`` for ``+ - * /``, PAD when empty). Remaining
numbers fill the first slots.

Levels (``difficulty_levels = 5``; operand counts are capped at ``max_operands``): (1) 2-3 operands 1..9,
``+ - *``; (2) 3-4 operands 1..12, ``+ - *``; (3) 4-5 operands with parentheses; (4) 5-6 operands with
parentheses and ``/``; (5) 6-7 operands up to ``max_value``, parentheses and ``/`` (fractions appear).

Text. ``parse`` reads one expression: integers (a ``-`` directly before a number is a negative literal;
``-(...)`` is rejected), ``+ - * /``, parentheses, at most ``max_operands`` numbers, 9 parentheses at one
number, 9 digits an integer; anything else (and a division by zero in the expression) raises a one-line
``ValueError`` starting with ``arithmetic:``. ``instance_text`` writes the original expression
(``(3 + 4) * 2 - 5 / 3``); ``to_text`` the current one with non-integers in brackets
(``7 * 2 - [5/3]``). ``answer`` is the final value (``"37/3"``) on success.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

from zeroforge.tasks.base import State, solo_rewards
from zeroforge.tasks.math.algebra import Rationals
from zeroforge.tasks.math.parse import ExprParser, Syntax, Token, parse_number, tokenize
from zeroforge.tasks.math.vocab import EMPTY_NUMBER, PAD, VOCAB_SIZE, fmt, number_tokens
from zeroforge.tasks.params import check_int_param
from zeroforge.tasks.path import PathTask
from zeroforge.tasks.registry import register_task

__all__ = ["Arithmetic", "ArithmeticState", "evaluate", "verify_arithmetic"]

OPS = "+-*/"
_OP_TOKEN0 = 16
_SLOT = 9
_MAX_PARENS = 9

Item = tuple[int, Fraction, int]  # (opens, value, closes)


def _apply(op: str, a: Fraction, b: Fraction) -> Fraction:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a / b


def _strip(item: Item) -> Item:
    """Remove parentheses around a lone number."""
    opens, value, closes = item
    k = min(opens, closes)
    return (opens - k, value, closes - k)


def _number_text(value: Fraction) -> str:
    return fmt(value) if value.denominator == 1 else f"[{fmt(value)}]"


def expression_text(items: tuple[Item, ...], ops: tuple[str, ...], plain: bool = False) -> str:
    """The expression as text; ``plain`` writes integers only (instance text)."""
    parts = []
    for i, (opens, value, closes) in enumerate(items):
        num = fmt(value) if plain else _number_text(value)
        parts.append("(" * opens + num + ")" * closes)
        if i < len(ops):
            parts.append(ops[i])
    return " ".join(parts)


#: the syntax of an arithmetic expression: no variables, no powers (the flat items of :func:`_split` come from it)
_SYNTAX = Syntax()
#: evaluating the flat items: ``_split`` bounds the parentheses (``_MAX_PARENS`` a number), the parser need not
_EVAL_SYNTAX = Syntax(powers=False, max_depth=10**6)


def _tokens(items: tuple[Item, ...], ops: tuple[str, ...]) -> list[Token]:
    """The flat items and operators as parser tokens (a number, negative or not, is one ``num`` literal)."""
    tokens: list[Token] = []
    for i, (opens, value, closes) in enumerate(items):
        tokens += [Token("(", "(", 0)] * opens + [Token("num", fmt(value), 0)] + [Token(")", ")", 0)] * closes
        if i < len(ops):
            tokens.append(Token(ops[i], ops[i], 0))
    return tokens


def _split(text: str, max_operands: int) -> tuple[tuple[Item, ...], tuple[str, ...]]:
    """The flat items and operators of ``text`` (one-line ``ValueError`` starting with ``arithmetic:``)."""
    tokens = tokenize("arithmetic", text, _SYNTAX)
    items: list[Item] = []
    ops: list[str] = []
    k = 0

    def at(j: int) -> Token | None:
        return tokens[j] if j < len(tokens) else None

    while True:
        opens = 0
        while (tok := at(k)) is not None and tok.kind == "(":
            opens += 1
            k += 1
        tok = at(k)
        neg = tok is not None and tok.kind == "-"
        if neg:
            k += 1
            tok = at(k)
            if tok is None or tok.kind != "num":
                raise ValueError("arithmetic: a unary minus must stand directly before a number")
        if tok is None:
            raise ValueError("arithmetic: the expression ends where a number is expected")
        if tok.kind != "num":
            raise ValueError(f"arithmetic: expected a number at column {tok.col}, got '{tok.text}'")
        value = Fraction(-int(tok.text) if neg else int(tok.text))
        k += 1
        closes = 0
        while (tok := at(k)) is not None and tok.kind == ")":
            closes += 1
            k += 1
        if opens > _MAX_PARENS or closes > _MAX_PARENS:
            raise ValueError(f"arithmetic: more than {_MAX_PARENS} parentheses at one number")
        items.append((opens, value, closes))
        if len(items) > max_operands:
            raise ValueError(f"arithmetic: more than max_operands = {max_operands} numbers")
        tok = at(k)
        if tok is None:
            break
        if tok.kind not in "+-*/" or len(tok.kind) != 1:
            raise ValueError(f"arithmetic: expected an operator at column {tok.col}, got '{tok.text}'")
        ops.append(tok.kind)
        k += 1
    return tuple(items), tuple(ops)


def evaluate(text: str, max_operands: int = 64) -> Fraction:
    """The exact value of an arithmetic expression (recursive descent, never ``eval``); one-line
    ``ValueError`` starting with ``arithmetic:`` if it is malformed or divides by zero."""
    items, ops = _split(text, max_operands)
    return _value(items, ops)


def _value(items: tuple[Item, ...], ops: tuple[str, ...]) -> Fraction:
    """The exact value of the flat expression (the one expression parser of :mod:`.parse`, over rationals); the
    items alternate with the operators, so anything the parser refuses but a division by zero is a misplaced
    parenthesis."""
    try:
        return ExprParser("arithmetic", _tokens(items, ops), Rationals(), _EVAL_SYNTAX).parse()
    except ValueError as exc:
        if str(exc) == "arithmetic: division by zero":
            raise
        raise ValueError("arithmetic: unbalanced parentheses") from None


def verify_arithmetic(expression: str, answer: str | Fraction | int) -> bool:
    """Whether ``answer`` (a rational as text ``"37/3"`` or a number) is the exact value of ``expression``."""
    value = parse_number(answer) if isinstance(answer, str) else Fraction(answer)
    try:
        return value is not None and evaluate(expression) == value
    except ValueError:
        return False


@dataclass(frozen=True, eq=False)
class ArithmeticState(State):
    """The current flat expression (``items`` / ``ops``), the original one and its exact ``target`` value."""

    items: tuple[Item, ...]
    ops: tuple[str, ...]
    orig_items: tuple[Item, ...]
    orig_ops: tuple[str, ...]
    target: Fraction

    def key(self) -> tuple[Any, ...]:
        """``(original, current)`` items and operators."""
        return (self.orig_items, self.orig_ops, self.items, self.ops)

    def to_text(self) -> str:
        """E.g. ``"7 * 2 - [5/3]"`` (non-integers in brackets)."""
        return expression_text(self.items, self.ops)


@register_task("arithmetic")
class Arithmetic(PathTask):
    """Evaluate an expression one operator at a time, respecting precedence and parentheses.

    ``max_operands`` (2..9) fixes the shapes; ``max_value`` (1..999) bounds the top level's integers. An
    instance read by ``parse`` is one line of at most 1000 characters with 2..max_operands integers of at most 9
    digits, at most 9 parentheses at one number and no division by zero. See the module docstring.
    """

    name: ClassVar[str] = "arithmetic"
    pad_token: ClassVar[int | None] = PAD
    path_state = ArithmeticState
    vocab_size = VOCAB_SIZE
    difficulty_levels = 5

    def __init__(self, max_operands: int = 7, max_value: int = 20) -> None:
        self.max_operands = max_operands = check_int_param("arithmetic", "max_operands", max_operands, 2, 9)
        self.max_value = check_int_param("arithmetic", "max_value", max_value, 1, 999)
        self.num_actions = max_operands - 1
        self.seq_len = 10 * max_operands - 1
        self.max_episode_steps = max_operands - 1
        self._no_actions = np.zeros(self.num_actions, dtype=np.bool_)
        self._no_actions.flags.writeable = False

    # ------------------------------------------------------------------------ states
    def _state(self, base: ArithmeticState | None, items: tuple[Item, ...], ops: tuple[str, ...], steps: int,
               orig: tuple[tuple[Item, ...], tuple[str, ...], Fraction] | None = None) -> ArithmeticState:
        if base is not None:
            orig = (base.orig_items, base.orig_ops, base.target)
        assert orig is not None
        mask = np.zeros(self.num_actions, dtype=np.bool_)
        for k, op in enumerate(ops):
            mask[k] = items[k][2] == 0 and items[k + 1][0] == 0 and not (op == "/" and items[k + 1][1] == 0)
        terminal = len(items) == 1 or not mask.any()
        success = len(items) == 1 and items[0][1] == orig[2]
        if terminal:
            mask = self._no_actions
        mask.flags.writeable = False
        obs = np.full(self.seq_len, PAD, dtype=np.int64)
        for i in range(self.max_operands):
            base_i = 10 * i
            if i < len(items):
                opens, value, closes = items[i]
                obs[base_i : base_i + _SLOT] = (opens, *number_tokens(value), closes)
            else:
                obs[base_i + 1 : base_i + 1 + len(EMPTY_NUMBER)] = EMPTY_NUMBER
            if i < len(ops):
                obs[base_i + _SLOT] = _OP_TOKEN0 + OPS.index(ops[i])
        obs.flags.writeable = False
        return ArithmeticState(
            current_player=0,
            legal_action_mask=mask,
            terminal=terminal,
            rewards=solo_rewards(terminal, success),
            observation=obs,
            step_count=steps,
            items=items,
            ops=ops,
            orig_items=orig[0],
            orig_ops=orig[1],
            target=orig[2],
        )

    def make_state(self, items: tuple[Item, ...], ops: tuple[str, ...]) -> ArithmeticState:
        """The initial state of a flat expression (validated: 2..max_operands numbers, a defined value)."""
        if not 2 <= len(items) <= self.max_operands or len(ops) != len(items) - 1:
            raise ValueError(f"arithmetic: an expression needs 2..{self.max_operands} numbers, got {len(items)}")
        if sum(o for o, _, _ in items) != sum(c for _, _, c in items):
            raise ValueError("arithmetic: unbalanced parentheses")
        items = tuple(_strip(it) for it in items)
        target = _value(items, ops)
        return self._state(None, items, ops, 0, (items, ops, target))

    def _step(self, state: State, action: int) -> ArithmeticState:
        if type(state) is not ArithmeticState or len(state.items) > self.max_operands:
            raise ValueError(f"{self.name}: expected an ArithmeticState of this task")
        k = action
        (opens, a, _), (_, b, closes) = state.items[k], state.items[k + 1]
        merged = _strip((opens, _apply(state.ops[k], a, b), closes))
        items = (*state.items[:k], merged, *state.items[k + 2:])
        ops = state.ops[:k] + state.ops[k + 1 :]
        return self._state(state, items, ops, state.step_count + 1)

    def _initial_state(self, seed: int, difficulty: int) -> ArithmeticState:
        rng = np.random.default_rng(seed)
        lo, hi, top, parens, ops = {
            1: (2, 3, 9, False, "+-*"),
            2: (3, 4, 12, False, "+-*"),
            3: (4, 5, 12, True, "+-*"),
            4: (5, 6, 12, True, "+-*/"),
            5: (6, 7, self.max_value, True, "+-*/"),
        }[difficulty]
        hi = min(hi, self.max_operands)
        lo = min(lo, hi)
        for _ in range(1000):
            n = int(rng.integers(lo, hi + 1))
            nums = [int(v) for v in rng.integers(1, top + 1, size=n)]
            signs = [ops[int(i)] for i in rng.integers(len(ops), size=n - 1)]
            if parens:
                items, flat_ops = _random_tree(rng, nums, signs)
                if not any(o for o, _, _ in items):
                    continue  # the parenthesis levels always have parentheses
            else:
                items, flat_ops = tuple((0, Fraction(v), 0) for v in nums), tuple(signs)
            try:
                return self.make_state(items, flat_ops)
            except ValueError:
                continue  # a division by zero somewhere: draw again
        raise AssertionError("arithmetic: no instance generated")  # pragma: no cover

    # ------------------------------------------------------------------------ verdicts
    def is_solved(self, state: State) -> bool:
        """One number is left and it equals the original expression's exact value."""
        assert isinstance(state, ArithmeticState)
        return len(state.items) == 1 and state.items[0][1] == state.target

    def optimal_steps(self, state: State) -> int:
        """Every episode of an instance takes one step per operator: ``operands - 1``."""
        assert isinstance(state, ArithmeticState)
        return len(state.orig_ops)

    def answer(self, state: State) -> str | None:
        """The final value (``"37/3"``) on success, else ``None``."""
        if not isinstance(state, ArithmeticState) or self.outcome(state) != "success":
            return None
        return fmt(state.items[0][1])

    def action_to_text(self, state: State, action: int) -> str:
        """``"evaluate 3 * 4"``."""
        a = int(action)
        if isinstance(state, ArithmeticState) and a < len(state.ops):
            x, y = state.items[a][1], state.items[a + 1][1]
            return f"evaluate {_number_text(x)} {state.ops[a]} {_number_text(y)}"
        return f"evaluate operator {a}"

    # ------------------------------------------------------------------------ text
    def instance_text(self, state: State) -> str:
        """The original expression in the format :meth:`parse` reads."""
        if not isinstance(state, ArithmeticState):
            raise ValueError(f"{self.name}: expected an ArithmeticState, got {type(state).__name__}")
        return expression_text(state.orig_items, state.orig_ops, plain=True)

    def parse(self, text: str) -> ArithmeticState:
        """The initial state of one expression (see the module docstring)."""
        if not isinstance(text, str):
            raise ValueError(f"arithmetic: expected text, got {type(text).__name__}")
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) != 1:
            raise ValueError(f"arithmetic: expected one expression on one line, got {len(lines)} lines")
        items, ops = _split(lines[0], self.max_operands)
        if len(items) < 2:
            raise ValueError("arithmetic: an expression needs at least two numbers")
        return self.make_state(items, ops)

    def __repr__(self) -> str:
        return f"Arithmetic(max_operands={self.max_operands}, max_value={self.max_value})"


def _random_tree(
    rng: np.random.Generator, nums: list[int], signs: list[str]
) -> tuple[tuple[Item, ...], tuple[str, ...]]:
    """A random binary expression tree over ``nums`` (in order) with operators ``signs`` (in order), written
    with the parentheses precedence and left-associativity need."""
    prec = {"+": 1, "-": 1, "*": 2, "/": 2}

    def build(lo: int, hi: int) -> tuple[list[list[Any]], int]:
        """Items as mutable [opens, value, closes] and the precedence of the top operator (3 = a number)."""
        if lo == hi:
            return [[0, Fraction(nums[lo]), 0]], 3
        split = int(rng.integers(lo, hi))
        op = signs[split]
        left, pl = build(lo, split)
        right, pr = build(split + 1, hi)
        if pl < prec[op]:
            left[0][0] += 1
            left[-1][2] += 1
        if pr < prec[op] or (pr == prec[op] and op in "-/") or (pr == prec[op] and rng.random() < 0.2):
            right[0][0] += 1
            right[-1][2] += 1
        return left + right, prec[op]

    items, _ = build(0, len(nums) - 1)
    return tuple((int(o), v, int(c)) for o, v, c in items), tuple(signs)
