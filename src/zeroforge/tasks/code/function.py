"""``code_function``: synthesise an integer / list function from input-output examples, one instruction per step.

An instance is a hidden function given by 1..8 visible examples ``f(input) = output`` (the generator draws
``num_examples``; inputs and outputs are values of :mod:`zeroforge.tasks.code.dsl`: ints or lists of at most 6
ints) and held-out examples (the generator draws ``num_heldout``) that never appear in the observation or the
text. The agent writes a program of the stack language one instruction per action; the input is pushed on the
stack before the program runs and the output is the top of the stack afterwards.

Actions (``num_actions = 45``): ``0..43`` append the instruction :data:`FUNCTION_INSTRUCTIONS` ``[a]``
(``PUSH -1..9``, ``DUP SWAP DROP OVER``, ``ADD SUB MUL DIV MOD NEG INC DEC MAX2 MIN2``, ``LEN SUM MAXL MINL
HEAD LAST``, ``REVERSE SORT TAIL TAKE``, ``MAP_INC .. MAP_SQUARE``, ``FILTER_POS .. FILTER_ODD``, in that
order); ``44`` is ``RETURN``. The program runs incrementally on every visible input as it grows, and an
instruction is legal iff it runs without error on every visible input's current stack (type-directed
synthesis: ``SUM`` is illegal on an int, ``MAXL`` on a list that is empty for some example, ``DIV`` by a
zero, a ninth stack item...). ``RETURN`` is legal once the program has an instruction.

Episode end and rewards ``float32[1]``: the episode ends as soon as the top of every visible example's stack
is its expected output (the program is then correct on the visible examples: it ends by itself, and so
``RETURN`` only gives up early), on ``RETURN``, or when the program reaches the instance's length budget;
the program is then run by the interpreter (:func:`~zeroforge.tasks.code.interpreter.run`, 64 steps,
8 stack items) on every visible example: ``+1`` (``success``) iff every run ends ``ok`` with
the expected output, else ``-1`` (``failure``). :meth:`CodeFunction.heldout_pass_rate` reports the
fraction of held-out examples the finished program passes (``None`` before the end or without held-out
examples) - generalisation is reported, never rewarded.

Score: the generating (reference) program's length is the yardstick: ``path_score(success,
len(reference), len(program))`` (``1.0`` for a program no longer than the reference; a success can be
shorter than the reference, e.g. ``MINL`` for ``SORT; HEAD``, and still scores ``1.0``); ``None`` for an
instance read from text without a ``"solution"``, and before the end. ``answer`` on a solved state is
the program exported as Python source (:func:`~zeroforge.tasks.code.export.to_python`).

Generation (``initial_state(seed, difficulty)``, ``np.random.default_rng(seed)``): a template program
from :data:`TEMPLATES` of the level's length band with random constants (24 templates: ``3*x + 2``,
``x*(x + c)``, ``x mod c``, max / sum / length / reverse / sort of a list, filter-then-sum, map-then-sort,
the ``k`` smallest, range, floor mean, ...), inputs drawn at random (ints from ``-5..12`` without
repetition, lists of 1..5 elements in ``-5..9``) until the reference runs ``ok`` on each, outputs
computed by the interpreter; instances whose visible outputs are all equal are redrawn. Levels:
``1`` one-instruction references, budget 3; ``2`` two or three instructions, budget 5; ``3`` (the
default) four to six instructions, budget 8 (``max_episode_steps = 8``). The reference always fits the
budget and is legal at every step, so every generated instance is solvable.

Bounds (``CodeFunction.bounds``): ``{"examples": 8, "budget": 8, "list_length": 6}``: at most 8 visible
examples (whatever ``num_examples``, which only sizes the generator's instances), a length budget of at most
8 instructions (``max_episode_steps = 8``) and lists of at most 6 ints; beyond one of them ``parse`` says so in
one line naming the bound.

Observation (structured, :mod:`zeroforge.tasks.structured`): typed tokens ``(type, a, b, row, col)`` with
``T = TOKEN_TYPE_BASE["code_function"]``; an int ``v`` as a feature is ``feature(v) = v + 512`` for
``-511 <= v <= 510``, ``0`` below and ``1023`` above (clipped). In order:

- ``(T + 11 BUDGET, remaining budget, budget, 0, 0)``: the global token;
- the program so far, a sequence: ``(T + 10 INSTR, a, 0, 0, 1 + t)`` for its ``t``-th instruction
  ``FUNCTION_INSTRUCTIONS[a]``;
- per visible example ``e``, on row ``e + 1`` (the examples are a set; a row groups the tokens of one):
  ``(T + 9 EXAMPLE, stack depth, 1 if the top of the stack is the expected output else 0, e + 1, 0)``, then
  three kinds of values as short sequences: the input from column 1, the expected output from column 8, the
  current stack (after running the program so far on the input) item ``k`` from the top from column
  ``15 + 7 k``. A value is one token for an int ``(INT, feature(v), k, e + 1, c)`` or a header ``(LIST,
  length, k, e + 1, c)`` followed by one ``(ELEM, feature(x_i), k, e + 1, c + 1 + i)`` per element ``x_i``
  (at most 6: the bound); ``INT / LIST / ELEM`` are ``T + 0 / 1 / 2`` for the input, ``T + 3 / 4 / 5`` for
  the output, ``T + 6 / 7 / 8`` for stack items (``k = 0`` for input and output).

``N = 1 + len(program) + sum over examples of (1 + tokens of input, output and stack)``, at most ``seq_len =
577`` at the bounds (8 examples, 8 instructions, 8 stack items of 6-element lists).

Pointers: every action is global (it names no token): action ``a`` (``RETURN`` = 44 included) is ``(K + a, 0,
0)`` with ``K = POINTER_KIND_BASE["code_function"]``, zero rows for illegal actions.

Demonstration (:meth:`CodeFunction.demonstration`): the rest of the reference program when the program so far
is a prefix of it (cut where the episode ends by itself), else a breadth-first search over the visible stacks
for the shortest continuation that makes every visible top the expected output within the budget
(``None`` past ``SEARCH_NODES`` expanded programs, or when none exists). The reference passes the held-out
examples too; a searched program only has to pass the visible ones.

Text: ``CodeFunction.parse`` reads JSON ``{"kind": "function", "examples": [{"input": 3, "output": 11},
...], "heldout": [...], "budget": 8, "solution": "PUSH 3; MUL; PUSH 2; ADD"}``: ``examples`` 1..8
objects with exactly the keys ``input`` / ``output``, values ints with ``|v| <= 10**6`` or lists of at most
6 of them; optional ``heldout`` (0..32 examples, default none), ``budget`` (1..8, default 8) and
``solution`` (a reference program of this task's instructions within the budget that must pass every
example); two examples (visible or held out) with the same input and different outputs are refused (no
function passes both); ``instance_text`` writes all present keys. A consistent instance that no program of the
budget solves is read, and its episodes fail. ``to_text`` shows the visible examples, the program
and the current top of stack per example.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from zeroforge.tasks.base import State, Task, frozen_array, solo_rewards
from zeroforge.tasks.code.common import (
    MAX_ABS,
    MAX_LIST,
    check_int,
    check_kind,
    check_list,
    check_value,
    instruction_action,
    to_json,
)
from zeroforge.tasks.code.dsl import FILTERS, MAPS, PUSH_RANGE, Instr, Program, Value, parse_program, value_text
from zeroforge.tasks.code.export import to_python
from zeroforge.tasks.code.interpreter import Limits, apply, run
from zeroforge.tasks.instances import read_json_instance
from zeroforge.tasks.params import check_int_param
from zeroforge.tasks.path import path_score
from zeroforge.tasks.registry import register_task
from zeroforge.tasks.structured import (
    FEATURE_VOCAB,
    POINTER_KIND_BASE,
    TOKEN_TYPE_BASE,
    TOKEN_VOCAB,
    out_of_bounds,
    token_rows,
)

__all__ = ["FUNCTION_INSTRUCTIONS", "TEMPLATES", "CodeFunction", "FunctionState", "Template"]

#: the instructions of ``code_function``: action ``a < 44`` appends ``FUNCTION_INSTRUCTIONS[a]``
FUNCTION_INSTRUCTIONS: tuple[Instr, ...] = (
    *(Instr("PUSH", c) for c in PUSH_RANGE),
    *(Instr(op) for op in ("DUP", "SWAP", "DROP", "OVER")),
    *(Instr(op) for op in ("ADD", "SUB", "MUL", "DIV", "MOD", "NEG", "INC", "DEC", "MAX2", "MIN2")),
    *(Instr(op) for op in ("LEN", "SUM", "MAXL", "MINL", "HEAD", "LAST")),
    *(Instr(op) for op in ("REVERSE", "SORT", "TAIL", "TAKE")),
    *(Instr(f"MAP_{m}") for m in MAPS),
    *(Instr(f"FILTER_{p}") for p in FILTERS),
)
RETURN = len(FUNCTION_INSTRUCTIONS)
LIMITS = Limits(max_steps=64, max_stack=8, max_list=64, max_int=10**9)
LEVEL_BUDGETS = (3, 5, 8)
LEVEL_BANDS = ((1, 1), (2, 3), (4, 6))
MAX_HELDOUT = 32
#: the most visible examples an instance may have (``CodeFunction.bounds``)
MAX_EXAMPLES = 8
#: the largest length budget (``CodeFunction.bounds``, ``max_episode_steps``)
MAX_BUDGET = LEVEL_BUDGETS[-1]
#: programs the demonstration's breadth-first search expands at most before it gives up
SEARCH_NODES = 3000
_INDEX = {ins: a for a, ins in enumerate(FUNCTION_INSTRUCTIONS)}

# token types (module docstring): value tokens are ``role + (INT, LIST, ELEM)`` for the roles IN / OUT / STACK
_T = TOKEN_TYPE_BASE["code_function"]
IN, OUT, STACK = _T, _T + 3, _T + 6
INT, LIST, ELEM = 0, 1, 2
EXAMPLE, INSTR, BUDGET = _T + 9, _T + 10, _T + 11
#: where a value starts on its example's row: input, output, stack item ``k`` at ``_STACK_COL + _WIDTH * k``
_IN_COL, _OUT_COL, _STACK_COL, _WIDTH = 1, 1 + (1 + MAX_LIST), 1 + 2 * (1 + MAX_LIST), 1 + MAX_LIST
_INT_OFFSET = FEATURE_VOCAB // 2
#: every action's pointer: ``(K + a, 0, 0)`` (global actions)
_POINTERS = np.array(
    [(POINTER_KIND_BASE["code_function"] + a, 0, 0) for a in range(len(FUNCTION_INSTRUCTIONS) + 1)], np.int64
)

Example = tuple[Value, Value]
Token = tuple[int, int, int, int, int]
Stacks = tuple[tuple[Value, ...], ...]


def _feature(v: int) -> int:
    """An int as a token feature: ``v + 512`` for ``-511 <= v <= 510``, clipped to ``0`` / ``1023`` beyond."""
    return min(max(v + _INT_OFFSET, 0), FEATURE_VOCAB - 1)


@lru_cache(maxsize=65536)
def _value_tokens(role: int, v: Value, depth: int, row: int, col: int) -> tuple[Token, ...]:
    """The tokens of value ``v`` in ``role`` (IN / OUT / STACK) from ``(row, col)``: one int token, or a list
    header (``a`` = length) and one token per element; ``b`` = ``depth`` (a stack item's place from the top)."""
    if not isinstance(v, tuple):
        return ((role + INT, _feature(v), depth, row, col),)
    head = (role + LIST, min(len(v), FEATURE_VOCAB - 1), depth, row, col)
    return (head, *((role + ELEM, _feature(x), depth, row, col + 1 + i) for i, x in enumerate(v[:MAX_LIST])))


def _example_tokens(e: int, example: Example, stack: tuple[Value, ...]) -> list[Token]:
    """The tokens of visible example ``e`` (row ``e + 1``): its EXAMPLE token, input, output and current stack."""
    (x, y), row = example, e + 1
    match = int(bool(stack) and stack[-1] == y)
    out = [(EXAMPLE, len(stack), match, row, 0), *_value_tokens(IN, x, 0, row, _IN_COL)]
    out += _value_tokens(OUT, y, 0, row, _OUT_COL)
    for k, item in enumerate(reversed(stack)):
        out += _value_tokens(STACK, item, k, row, _STACK_COL + _WIDTH * k)
    return out


@dataclass(frozen=True)
class Template:
    """A family of reference programs: ``build(rng)`` writes one (random constants) as text; ``kind`` is the
    input type (``"int"`` or ``"list"``)."""

    name: str
    kind: str
    build: Callable[[np.random.Generator], str]


def _pick(rng: np.random.Generator, items: Sequence[str]) -> str:
    return items[int(rng.integers(len(items)))]


def _c(rng: np.random.Generator, lo: int, hi: int) -> int:
    return int(rng.integers(lo, hi + 1))


_REDUCE = ("SUM", "LEN", "MAXL", "MINL", "HEAD", "LAST")
_TRANSFORM = ("REVERSE", "SORT", "TAIL", *(f"MAP_{m}" for m in MAPS), *(f"FILTER_{p}" for p in FILTERS))
_MAP = tuple(f"MAP_{m}" for m in MAPS)
_FILTER = tuple(f"FILTER_{p}" for p in FILTERS)

#: the reference-program templates by level (level ``k`` draws from ``TEMPLATES[k - 1]``)
TEMPLATES: tuple[tuple[Template, ...], ...] = (
    (
        Template("list_reduce", "list", lambda r: _pick(r, _REDUCE)),
        Template("list_transform", "list", lambda r: _pick(r, _TRANSFORM)),
        Template("int_unary", "int", lambda r: _pick(r, ("NEG", "INC", "DEC"))),
    ),
    (
        Template("add_const", "int", lambda r: f"PUSH {_c(r, 2, 9)}; ADD"),
        Template("sub_const", "int", lambda r: f"PUSH {_c(r, 2, 9)}; SUB"),
        Template("scale", "int", lambda r: f"PUSH {_c(r, 2, 9)}; MUL"),
        Template("mod_const", "int", lambda r: f"PUSH {_c(r, 2, 5)}; MOD"),
        Template("div_const", "int", lambda r: f"PUSH {_c(r, 2, 4)}; DIV"),
        Template("clamp", "int", lambda r: f"PUSH {_c(r, 0, 5)}; {_pick(r, ('MAX2', 'MIN2'))}"),
        Template("square", "int", lambda r: "DUP; MUL"),
        Template("map_or_filter_reduce", "list", lambda r: f"{_pick(r, _MAP + _FILTER)}; {_pick(r, _REDUCE[:4])}"),
        Template("take", "list", lambda r: f"PUSH {_c(r, 1, 3)}; TAKE"),
        Template("sort_take", "list", lambda r: f"SORT; PUSH {_c(r, 1, 3)}; TAKE"),
        Template("reduce_plus", "list", lambda r: f"{_pick(r, ('SUM', 'LEN', 'MAXL'))}; PUSH {_c(r, 1, 9)}; ADD"),
        Template("map_sort", "list", lambda r: f"{_pick(r, _MAP)}; SORT"),
    ),
    (
        Template("affine", "int", lambda r: f"PUSH {_c(r, 2, 5)}; MUL; PUSH {_c(r, 1, 9)}; {_pick(r, ('ADD', 'SUB'))}"),
        Template("square_plus", "int", lambda r: f"DUP; MUL; PUSH {_c(r, 1, 9)}; ADD"),
        Template("times_plus", "int", lambda r: f"DUP; PUSH {_c(r, 1, 5)}; ADD; MUL"),
        Template(
            "filter_map_sum", "list", lambda r: f"{_pick(r, _FILTER)}; {_pick(r, _MAP)}; SUM; PUSH {_c(r, 1, 9)}; ADD"
        ),
        Template("top_k", "list", lambda r: f"SORT; REVERSE; PUSH {_c(r, 1, 3)}; TAKE"),
        Template("range", "list", lambda r: "DUP; MAXL; SWAP; MINL; SUB"),
        Template("mean", "list", lambda r: "DUP; SUM; SWAP; LEN; DIV"),
        Template("count_scale", "list", lambda r: f"{_pick(r, _FILTER)}; LEN; PUSH {_c(r, 2, 5)}; MUL"),
        Template(
            "reduce_affine",
            "list",
            lambda r: f"{_pick(r, ('SUM', 'MAXL'))}; PUSH {_c(r, 2, 4)}; MUL; PUSH {_c(r, 1, 9)}; ADD",
        ),
        Template("max_minus_first", "list", lambda r: "DUP; MAXL; SWAP; HEAD; SUB"),
    ),
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class FunctionState(State):
    """A program under construction: ``examples`` / ``heldout`` ``(input, output)`` pairs, ``solution`` the
    reference program (``None`` if unknown), ``budget`` the length limit, ``program`` so far, ``stacks``
    the stack of every visible example after running it, ``returned`` whether ``RETURN`` was played,
    ``passed`` whether the finished program passes every visible example (``False`` before the end);
    ``pointers`` the ``int64[num_actions, 3]`` action pointers."""

    examples: tuple[Example, ...]
    heldout: tuple[Example, ...]
    solution: Program | None
    budget: int
    program: Program
    stacks: Stacks
    returned: bool
    passed: bool
    pointers: np.ndarray

    def key(self) -> tuple[Any, ...]:
        """The instance (examples, held-out examples, reference, budget), the program and whether it ended."""
        ref = None if self.solution is None else self.solution.instrs
        return (self.examples, self.heldout, ref, self.budget, self.program.instrs, self.returned, self.terminal)

    def action_pointers(self) -> np.ndarray:
        """``int64[num_actions, 3]``: ``(K + a, 0, 0)`` per legal action ``a`` (global actions), zero rows else."""
        return self.pointers

    def to_text(self) -> str:
        """E.g.::

        code_function: find f with f(3) = 11; f(0) = 2
        program [2/8]: PUSH 3; MUL
        top of stack: f(3) -> 9; f(0) -> 0
        """
        wanted = "; ".join(f"f({value_text(x)}) = {value_text(y)}" for x, y in self.examples)
        now = "; ".join(
            f"f({value_text(x)}) -> {value_text(s[-1]) if s else 'empty'}"
            for (x, _), s in zip(self.examples, self.stacks, strict=True)
        )
        lines = [
            f"code_function: find f with {wanted}",
            f"program [{len(self.program)}/{self.budget}]: {self.program.text() or '(empty)'}",
            f"top of stack: {now}",
        ]
        if self.terminal:
            lines.append(f"returned: {'passes' if self.passed else 'fails'} the visible examples")
        return "\n".join(lines)


@register_task("code_function")
class CodeFunction(Task):
    """Program synthesis from input-output examples in the stack language (see the module docstring).

    The generator draws ``num_examples`` (1..8) visible examples per instance and ``num_heldout`` (0..32) held-out
    ones. Whatever they are, an instance read by ``parse`` (a JSON text of at most 1,000,000 characters) has 1..8
    visible and at most 32 held-out examples, values ints with ``|v| <= 10**6`` or lists of at most 6 of them, a
    budget in 1..8 (``bounds``), and no input with two outputs.
    """

    name: ClassVar[str] = "code_function"
    structured: ClassVar[bool] = True
    bounds: ClassVar[dict[str, int]] = {"examples": MAX_EXAMPLES, "budget": MAX_BUDGET, "list_length": MAX_LIST}
    num_players = 1
    num_actions = len(FUNCTION_INSTRUCTIONS) + 1
    vocab_size = TOKEN_VOCAB
    #: the most tokens: the budget token, 8 instructions, 8 examples of 3 + 8 stack values of 7 tokens each
    seq_len = 1 + MAX_BUDGET + MAX_EXAMPLES * (1 + (2 + LIMITS.max_stack) * _WIDTH)
    max_episode_steps = MAX_BUDGET
    difficulty_levels = len(LEVEL_BUDGETS)

    def __init__(self, num_examples: int = 5, num_heldout: int = 10) -> None:
        self.num_examples = check_int_param(self.name, "num_examples", num_examples, 1, MAX_EXAMPLES)
        self.num_heldout = check_int_param(self.name, "num_heldout", num_heldout, 0, MAX_HELDOUT)
        self._no_actions = frozen_array(np.zeros(self.num_actions, dtype=np.bool_), np.bool_)
        self._no_pointers = frozen_array(np.zeros((self.num_actions, 3), dtype=np.int64), np.int64)

    # ------------------------------------------------------------------------------------------ states
    def _mask(self, stacks: Stacks, length: int) -> np.ndarray:
        mask = np.zeros(self.num_actions, dtype=np.bool_)
        for a, ins in enumerate(FUNCTION_INSTRUCTIONS):
            mask[a] = all(not isinstance(apply(s, ins, LIMITS), str) for s in stacks)
        mask[RETURN] = length > 0
        mask.flags.writeable = False
        return mask

    @staticmethod
    def _observation(examples: tuple[Example, ...], stacks: Stacks, program: Program, budget: int) -> np.ndarray:
        """``int64[N, 5]``: the budget token, the program, then every visible example (module docstring)."""
        tokens: list[Token] = [(BUDGET, budget - len(program), budget, 0, 0)]
        tokens += [(INSTR, _INDEX[ins], 0, 0, 1 + t) for t, ins in enumerate(program.instrs)]
        for e, (example, stack) in enumerate(zip(examples, stacks, strict=True)):
            tokens += _example_tokens(e, example, stack)
        return token_rows(tokens)

    @staticmethod
    def _pointers(mask: np.ndarray) -> np.ndarray:
        """``int64[num_actions, 3]``: the global pointer ``(K + a, 0, 0)`` of every legal action, zero rows else."""
        out = _POINTERS * mask[:, None]
        out.flags.writeable = False
        return out

    def _make(
        self,
        examples: tuple[Example, ...],
        heldout: tuple[Example, ...],
        solution: Program | None,
        budget: int,
        program: Program,
        stacks: Stacks,
        returned: bool,
    ) -> FunctionState:
        # a program whose stack tops already are the expected outputs is finished: it ends by itself, as a
        # sorting network ends once it sorts the visible cases
        matches = len(program) > 0 and all(st and st[-1] == y for st, (_, y) in zip(stacks, examples, strict=True))
        terminal = returned or matches or len(program) >= budget
        passed = terminal and _passes(program, examples)
        mask = self._no_actions if terminal else self._mask(stacks, len(program))
        return FunctionState(
            current_player=0,
            legal_action_mask=mask,
            terminal=terminal,
            rewards=solo_rewards(terminal, passed),
            observation=self._observation(examples, stacks, program, budget),
            step_count=len(program) + int(returned),
            examples=examples,
            heldout=heldout,
            solution=solution,
            budget=budget,
            program=program,
            stacks=stacks,
            returned=returned,
            passed=passed,
            pointers=self._no_pointers if terminal else self._pointers(mask),
        )

    def make_state(
        self,
        examples: Sequence[Example],
        heldout: Sequence[Example] = (),
        solution: Program | None = None,
        budget: int | None = None,
    ) -> FunctionState:
        """The initial state of an instance (validated: counts, budget, reference passing every example)."""
        ex, held = tuple(examples), tuple(heldout)
        if len(ex) > MAX_EXAMPLES:
            raise out_of_bounds(self.name, "an instance of", f"{len(ex)} examples", f"of {MAX_EXAMPLES} examples")
        if not ex:
            raise ValueError(f"code_function: expected 1..{MAX_EXAMPLES} examples, got 0")
        if len(held) > MAX_HELDOUT:
            raise ValueError(f"code_function: at most {MAX_HELDOUT} held-out examples, got {len(held)}")
        b = MAX_BUDGET if budget is None else self._budget(budget)
        if solution is not None:
            if len(solution) > b:
                raise ValueError(f"code_function: the solution has {len(solution)} instructions, the budget is {b}")
            for k, (x, y) in enumerate((*ex, *held)):
                res = run(solution, x, limits=LIMITS)
                if not (res.ok and res.output == y):
                    case = f"f({value_text(x)}) = {value_text(y)}"
                    raise ValueError(f"code_function: the solution fails example {k} ({case})"[:200])
        return self._make(ex, held, solution, b, Program(), tuple((x,) for x, _ in ex), False)

    def generate(self, seed: int, level: int) -> tuple[tuple[Example, ...], tuple[Example, ...], Program]:
        """The instance drawn with ``seed`` at ``level``: ``(examples, heldout, reference program)``."""
        rng = np.random.default_rng(seed)
        templates = TEMPLATES[level - 1]
        n_vis, n_all = self.num_examples, self.num_examples + self.num_heldout
        for _ in range(200):
            template = templates[int(rng.integers(len(templates)))]
            program = parse_program(template.build(rng))
            pool = [int(v) for v in rng.permutation(np.arange(-5, 13))]
            cases: list[Example] = []
            for _ in range(n_all):
                for _ in range(20):
                    if template.kind == "int":
                        x: Value = pool.pop() if pool else int(rng.integers(-5, 13))
                    else:
                        x = tuple(int(v) for v in rng.integers(-5, 10, size=int(rng.integers(1, 6))))
                    res = run(program, x, limits=LIMITS)
                    if res.ok and res.output is not None and _representable(res.output):
                        cases.append((x, res.output))
                        break
                else:
                    break
            if len(cases) == n_all and (n_vis == 1 or len({y for _, y in cases[:n_vis]}) > 1):
                return tuple(cases[:n_vis]), tuple(cases[n_vis:]), program
        # a fallback that always works (never reached in practice): x + 1 on distinct ints
        program = parse_program("INC")
        cases = [(k, k + 1) for k in range(n_all)]
        return tuple(cases[:n_vis]), tuple(cases[n_vis:]), program

    def _initial_state(self, seed: int, difficulty: int) -> FunctionState:
        examples, heldout, program = self.generate(seed, difficulty)
        return self.make_state(examples, heldout, program, LEVEL_BUDGETS[difficulty - 1])

    def _step(self, state: State, action: int) -> FunctionState:
        if type(state) is not FunctionState:
            raise ValueError(f"{self.name}: expected a FunctionState, got {type(state).__name__}")
        if len(state.examples) > MAX_EXAMPLES:
            raise ValueError(f"{self.name}: the state has more examples than the bound {MAX_EXAMPLES}")
        s = state
        if action == RETURN:
            return self._make(s.examples, s.heldout, s.solution, s.budget, s.program, s.stacks, True)
        ins = FUNCTION_INSTRUCTIONS[action]
        stacks = tuple(apply(st, ins, LIMITS) for st in s.stacks)
        assert all(isinstance(st, tuple) for st in stacks)  # guaranteed by the legal mask
        program = Program((*s.program.instrs, ins))
        return self._make(s.examples, s.heldout, s.solution, s.budget, program, stacks, False)  # type: ignore[arg-type]

    # --------------------------------------------------------------------------------------- verdicts
    def outcome(self, state: State) -> str:
        """``success`` iff the finished program's interpreter run passes every visible example."""
        if not state.terminal:
            return "timeout"
        if isinstance(state, FunctionState):
            return "success" if _passes(state.program, state.examples) else "failure"
        return super().outcome(state)

    def heldout_pass_rate(self, state: State) -> float | None:
        """The fraction of held-out examples the finished program passes; ``None`` before the end or when the
        instance has no held-out examples."""
        if not isinstance(state, FunctionState) or not state.terminal or not state.heldout:
            return None
        good = sum(_passes(state.program, (ex,)) for ex in state.heldout)
        return good / len(state.heldout)

    def score(self, state: State) -> float | None:
        """``path_score(success, len(reference), len(program))``; ``None`` without a reference or before the end."""
        if not isinstance(state, FunctionState) or not state.terminal or state.solution is None:
            return None
        return path_score(state.passed, max(1, len(state.solution)), len(state.program))

    def answer(self, state: State) -> str | None:
        """On a solved state the program as Python source (``def f(x): ...``); else ``None``."""
        if not isinstance(state, FunctionState) or not state.terminal or not state.passed:
            return None
        return to_python(state.program)

    def demonstration(self, state: State) -> list[int] | None:
        """A shortest known way to finish ``state`` successfully: the rest of the reference program when the
        program so far is a prefix of it (cut where the episode ends by itself), else :meth:`search`'s shortest
        continuation; ``[]`` on a passed terminal state, ``None`` when nothing is found (module docstring)."""
        if not isinstance(state, FunctionState):
            raise ValueError(f"{self.name}: expected a FunctionState, got {type(state).__name__}")
        if state.terminal:
            return [] if state.passed else None
        done = len(state.program)
        if state.solution is not None and state.solution.instrs[:done] == state.program.instrs:
            plan = self._replay(state, [_INDEX[ins] for ins in state.solution.instrs[done:]])
            if plan is not None:
                return plan
        return self.search(state)

    def _replay(self, state: FunctionState, actions: list[int]) -> list[int] | None:
        """``actions`` up to where the episode ends, if they are legal and end it in success; else ``None``."""
        played: list[int] = []
        for a in actions:
            if state.terminal or not state.legal_action_mask[a]:
                break
            state = self._step(state, a)
            played.append(a)
        return played if state.terminal and state.passed else None

    def search(self, state: FunctionState, max_nodes: int = SEARCH_NODES) -> list[int] | None:
        """The shortest instruction sequence (breadth first over the visible examples' stacks, each stack tuple
        once) after which every visible top is the expected output, within the remaining budget; ``None`` when
        there is none or after ``max_nodes`` expanded programs."""
        outputs = tuple(y for _, y in state.examples)
        left = state.budget - len(state.program)
        step = _Stepper()
        seen = {state.stacks}
        frontier: deque[tuple[Stacks, tuple[int, ...]]] = deque([(state.stacks, ())])
        expanded = 0
        while frontier and expanded < max_nodes:
            stacks, path = frontier.popleft()
            expanded += 1
            for a, ins in enumerate(FUNCTION_INSTRUCTIONS):
                nxt = step(stacks, ins)
                if nxt is None or nxt in seen:
                    continue
                if all(st and st[-1] == y for st, y in zip(nxt, outputs, strict=True)):
                    return [*path, a]
                if len(path) + 1 < left:
                    seen.add(nxt)
                    frontier.append((nxt, (*path, a)))
        return None

    def action_to_text(self, state: State, action: int) -> str:
        """The instruction's text (``"PUSH 3"``) or ``"RETURN"``."""
        a = int(action)
        return "RETURN" if a == RETURN else str(FUNCTION_INSTRUCTIONS[a])

    def encode(self, text: str) -> int:
        """The action of an instruction text (``"PUSH 3"``, ``"RETURN"``)."""
        return instruction_action(self.name, text, FUNCTION_INSTRUCTIONS, ("RETURN", RETURN))

    # ------------------------------------------------------------------------------------------- text
    def instance_text(self, state: State) -> str:
        """The instance as the JSON :meth:`parse` reads."""
        if not isinstance(state, FunctionState):
            raise ValueError(f"{self.name}: expected a FunctionState, got {type(state).__name__}")
        data: dict[str, Any] = {
            "kind": "function",
            "examples": [{"input": to_json(x), "output": to_json(y)} for x, y in state.examples],
            "heldout": [{"input": to_json(x), "output": to_json(y)} for x, y in state.heldout],
            "budget": state.budget,
        }
        if state.solution is not None:
            data["solution"] = state.solution.text()
        return json.dumps(data)

    def parse(self, text: str) -> FunctionState:
        """The initial state of a JSON instance (format in the module docstring); anything malformed raises a
        one-line ``ValueError`` starting with ``code_function``."""
        data = read_json_instance(self.name, text, ("kind", "examples"), ("heldout", "budget", "solution"))
        check_kind(self.name, data, "function")
        examples = self._examples("examples", data["examples"], 1, MAX_EXAMPLES)
        heldout = self._examples("heldout", data.get("heldout", []), 0, MAX_HELDOUT)
        first: dict[Value, tuple[str, Value]] = {}  # input -> (where it first appears, its output)
        for where, items in (("examples", examples), ("heldout", heldout)):
            for k, (x, y) in enumerate(items):
                seen, want = first.setdefault(x, (f"{where}[{k}]", y))
                if want != y:  # no function maps one input to two outputs: unsolvable
                    raise ValueError(
                        f"{self.name}: {seen} and {where}[{k}] have the same input {value_text(x)} but different "
                        f"outputs ({value_text(want)} and {value_text(y)})"
                    )
        solution = None
        if "solution" in data:
            if not isinstance(data["solution"], str):
                got = type(data["solution"]).__name__
                raise ValueError(f"{self.name}: 'solution' must be a program text, got {got}")
            try:
                solution = parse_program(data["solution"], FUNCTION_INSTRUCTIONS)
            except ValueError as exc:
                raise ValueError(f"{self.name}: bad solution: {exc}") from None
        return self.make_state(examples, heldout, solution, data.get("budget"))

    def _examples(self, where: str, items: Any, lo: int, hi: int) -> list[Example]:
        """The ``(input, output)`` pairs of the JSON list ``items`` (``lo..hi`` of them; more visible examples than
        the bound is an ``out_of_bounds`` error)."""
        if where == "examples" and isinstance(items, list) and len(items) > MAX_EXAMPLES:
            raise out_of_bounds(self.name, "an instance of", f"{len(items)} examples", f"of {MAX_EXAMPLES} examples")
        out = []
        for k, item in enumerate(check_list(self.name, f"'{where}'", items, lo, hi)):
            if not isinstance(item, dict) or set(item) != {"input", "output"}:
                raise ValueError(f"{self.name}: {where}[{k}] must be an object with exactly 'input' and 'output'")
            out.append((self._value(f"{where}[{k}] input", item["input"]),
                        self._value(f"{where}[{k}] output", item["output"])))  # fmt: skip
        return out

    def _value(self, where: str, x: Any) -> Value:
        """A JSON value as a language value; a list longer than the bound is an ``out_of_bounds`` error."""
        if isinstance(x, list) and len(x) > MAX_LIST:
            raise out_of_bounds(self.name, f"{where}: a list of", f"{len(x)} items", f"of {MAX_LIST} items")
        return check_value(self.name, where, x)

    def _budget(self, budget: Any) -> int:
        """A length budget in ``1..8``; a larger integer is an ``out_of_bounds`` error."""
        if isinstance(budget, int) and not isinstance(budget, bool) and budget > MAX_BUDGET:
            raise out_of_bounds(self.name, "a budget of", budget, MAX_BUDGET)
        return check_int(self.name, "budget", budget, 1, MAX_BUDGET)

    def __repr__(self) -> str:
        return f"CodeFunction(num_examples={self.num_examples}, num_heldout={self.num_heldout})"


class _Stepper:
    """One instruction on every visible stack at once (``None`` if it fails on one), each stack's result cached."""

    def __init__(self) -> None:
        self._cache: dict[tuple[tuple[Value, ...], Instr], tuple[Value, ...] | None] = {}

    def __call__(self, stacks: Stacks, ins: Instr) -> Stacks | None:
        out = []
        for st in stacks:
            key = (st, ins)
            if key not in self._cache:
                res = apply(st, ins, LIMITS)
                self._cache[key] = None if isinstance(res, str) else res
            nxt = self._cache[key]
            if nxt is None:
                return None
            out.append(nxt)
        return tuple(out)


def _representable(v: Value) -> bool:
    if isinstance(v, tuple):
        return len(v) <= MAX_LIST and all(abs(x) <= MAX_ABS for x in v)
    return abs(v) <= MAX_ABS


def _passes(program: Program, examples: Sequence[Example]) -> bool:
    for x, y in examples:
        res = run(program, x, limits=LIMITS)
        if not (res.ok and res.output == y):
            return False
    return True
