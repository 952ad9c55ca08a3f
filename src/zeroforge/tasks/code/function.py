"""``code_function``: synthesise an integer / list function from input-output examples, one instruction per step.

An instance is a hidden function given by ``num_examples`` visible examples ``f(input) = output`` (inputs and
outputs are values of :mod:`zeroforge.tasks.code.dsl`: ints or lists of at most 6 ints) and
``num_heldout`` held-out examples that never appear in the observation or the text. The agent writes a
program of the stack language one instruction per action; the input is pushed on the stack before the
program runs and the output is the top of the stack afterwards.

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

Observation (``seq_len = 22 * num_examples + 9``, ``vocab_size = 139``; value tokens as in
:mod:`zeroforge.tasks.code.common`, instruction ``a`` is token ``95 + a``): per visible example slot
``[input block (7), expected output block (7), current top-of-stack block (7), stack depth]`` (an
execution-guided view of the program so far; an empty slot is 22 PAD), then the program's instructions
(8 tokens, PAD after its end), then the remaining-budget bucket.

Text: ``CodeFunction.parse`` reads JSON ``{"kind": "function", "examples": [{"input": 3, "output": 11},
...], "heldout": [...], "budget": 8, "solution": "PUSH 3; MUL; PUSH 2; ADD"}``: ``examples`` 1..num_examples
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from zeroforge.tasks.base import State, Task, frozen_array, solo_rewards
from zeroforge.tasks.code.common import (
    FIRST_FREE,
    MAX_ABS,
    MAX_LIST,
    PAD,
    budget_token,
    check_int,
    check_kind,
    check_list,
    check_value,
    instruction_action,
    int_token,
    to_json,
    value_block,
)
from zeroforge.tasks.code.dsl import FILTERS, MAPS, PUSH_RANGE, Instr, Program, Value, parse_program, value_text
from zeroforge.tasks.code.export import to_python
from zeroforge.tasks.code.interpreter import Limits, apply, run
from zeroforge.tasks.instances import read_json_instance
from zeroforge.tasks.params import check_int_param
from zeroforge.tasks.path import path_score
from zeroforge.tasks.registry import register_task

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
_SLOT = 22
_PROGRAM_TOKENS = LEVEL_BUDGETS[-1]
_INDEX = {ins: a for a, ins in enumerate(FUNCTION_INSTRUCTIONS)}

Example = tuple[Value, Value]


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
    ``passed`` whether the finished program passes every visible example (``False`` before the end)."""

    examples: tuple[Example, ...]
    heldout: tuple[Example, ...]
    solution: Program | None
    budget: int
    program: Program
    stacks: tuple[tuple[Value, ...], ...]
    returned: bool
    passed: bool

    def key(self) -> tuple[Any, ...]:
        """The instance (examples, held-out examples, reference, budget), the program and whether it ended."""
        ref = None if self.solution is None else self.solution.instrs
        return (self.examples, self.heldout, ref, self.budget, self.program.instrs, self.returned, self.terminal)

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

    ``num_examples`` (1..8) visible examples per instance, ``num_heldout`` (0..32) held-out ones. An instance read by
    ``parse`` (a JSON text of at most 1,000,000 characters) has 1..num_examples visible and at most 32 held-out
    examples, values ints with ``|v| <= 10**6`` or lists of at most 6 of them, a budget in 1..8, and no input with
    two outputs.
    """

    name: ClassVar[str] = "code_function"
    num_players = 1
    num_actions = len(FUNCTION_INSTRUCTIONS) + 1
    vocab_size = FIRST_FREE + len(FUNCTION_INSTRUCTIONS)
    max_episode_steps = LEVEL_BUDGETS[-1]
    difficulty_levels = len(LEVEL_BUDGETS)

    def __init__(self, num_examples: int = 5, num_heldout: int = 10) -> None:
        self.num_examples = check_int_param(self.name, "num_examples", num_examples, 1, 8)
        self.num_heldout = check_int_param(self.name, "num_heldout", num_heldout, 0, MAX_HELDOUT)
        self.seq_len = _SLOT * self.num_examples + _PROGRAM_TOKENS + 1
        self._no_actions = frozen_array(np.zeros(self.num_actions, dtype=np.bool_), np.bool_)

    # ------------------------------------------------------------------------------------------ states
    def _mask(self, stacks: tuple[tuple[Value, ...], ...], length: int) -> np.ndarray:
        mask = np.zeros(self.num_actions, dtype=np.bool_)
        for a, ins in enumerate(FUNCTION_INSTRUCTIONS):
            mask[a] = all(not isinstance(apply(s, ins, LIMITS), str) for s in stacks)
        mask[RETURN] = length > 0
        mask.flags.writeable = False
        return mask

    def _observation(
        self, examples: tuple[Example, ...], stacks: tuple[tuple[Value, ...], ...], program: Program, budget: int
    ) -> np.ndarray:
        tokens: list[int] = []
        for (x, y), stack in zip(examples, stacks, strict=True):
            top = value_block(stack[-1]) if stack else value_block(None)
            tokens += [*value_block(x), *value_block(y), *top, int_token(len(stack))]
        tokens += [PAD] * (_SLOT * (self.num_examples - len(examples)))
        prog = [FIRST_FREE + _INDEX[i] for i in program.instrs[:_PROGRAM_TOKENS]]
        tokens += prog + [PAD] * (_PROGRAM_TOKENS - len(prog))
        tokens.append(budget_token(budget - len(program), budget))
        return frozen_array(tokens, np.int64)

    def _make(
        self,
        examples: tuple[Example, ...],
        heldout: tuple[Example, ...],
        solution: Program | None,
        budget: int,
        program: Program,
        stacks: tuple[tuple[Value, ...], ...],
        returned: bool,
    ) -> FunctionState:
        # a program whose stack tops already are the expected outputs is finished: it ends by itself, as a
        # sorting network ends once it sorts the visible cases
        matches = len(program) > 0 and all(st and st[-1] == y for st, (_, y) in zip(stacks, examples, strict=True))
        terminal = returned or matches or len(program) >= budget
        passed = terminal and _passes(program, examples)
        return FunctionState(
            current_player=0,
            legal_action_mask=self._no_actions if terminal else self._mask(stacks, len(program)),
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
        if not 1 <= len(ex) <= self.num_examples:
            raise ValueError(f"code_function: expected 1..{self.num_examples} examples, got {len(ex)}")
        if len(held) > MAX_HELDOUT:
            raise ValueError(f"code_function: at most {MAX_HELDOUT} held-out examples, got {len(held)}")
        top = self.max_episode_steps
        b = top if budget is None else check_int(self.name, "budget", budget, 1, top)
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
        if len(state.examples) > self.num_examples:
            raise ValueError(f"{self.name}: the state has more examples than this task's num_examples")
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
        examples = self._examples("examples", data["examples"], 1, self.num_examples)
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
        out = []
        for k, item in enumerate(check_list(self.name, f"'{where}'", items, lo, hi)):
            if not isinstance(item, dict) or set(item) != {"input", "output"}:
                raise ValueError(f"{self.name}: {where}[{k}] must be an object with exactly 'input' and 'output'")
            out.append(
                (
                    check_value(self.name, f"{where}[{k}] input", item["input"]),
                    check_value(self.name, f"{where}[{k}] output", item["output"]),
                )
            )
        return out

    def __repr__(self) -> str:
        return f"CodeFunction(num_examples={self.num_examples}, num_heldout={self.num_heldout})"


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
