"""``code_class``: write the methods of a small stateful class, one instruction per step.

Classes (:data:`CLASSES`): a ``counter`` (field ``f0 = 0``; methods ``inc``, ``dec``, ``get``, ``reset``;
generated counters step by a hidden ``k`` in ``1..3``), a ``stack`` (``f0 = []``; ``push(x)``, ``pop``,
``peek``, ``size``) and a bounded ``queue`` (``f0 = []``; ``enqueue(x)`` - dropped when the queue holds
its hidden capacity ``c`` in ``1..3`` -, ``dequeue``, ``size``). An instance names the class and the
methods to write (in order) and gives call sequences with expected return values: a call is ``(method,
argument or None)``, its expected value an int or ``None`` (not checked: a void method is judged only by
the later calls). Visible sequences are in the observation; held-out sequences never are.

The program is the method bodies written one after the other. A method runs its body on an empty stack
(``ARG`` pushes the call argument, ``LOAD 0`` / ``STORE 0`` read / write the field) and returns the top of
the stack (``None`` if empty); the field carries over from call to call.

Actions (``num_actions = 20``): ``0..18`` append :data:`CLASS_INSTRUCTIONS` ``[a]`` (``ARG``, ``LOAD 0``,
``STORE 0``, ``PUSH 0..4``, ``ADD SUB DUP SWAP DROP APPEND POP SHIFT LAST LEN TAKE``) to the current
method; ``19`` is ``END``, which closes it. Legal instructions are the well-typed ones on the current
method's statically known stack (ints and lists; the field's type is the class's, ``ARG`` is an int and
only legal in methods that take an argument, ``STORE 0`` needs the field's type, at most 4 items); ``END``
is always legal.

Episode end and rewards ``float32[1]``: the ``END`` of the last method, a last method whose body so far
makes every visible sequence pass (its ``END`` is implied: the class ends by itself), or reaching the
budget (the unwritten methods are then empty) ends the episode; every visible sequence is run by the interpreter
(:func:`~zeroforge.tasks.code.interpreter.run_calls`) on a fresh object: ``+1`` (``success``) iff every
call ends ``ok`` and every checked return value matches, else ``-1``. :meth:`CodeClass.heldout_pass_rate`
is the fraction of held-out sequences passed (``None`` before the end or without any). ``score`` =
``path_score(success, reference length, length)`` in actions (ENDs included) when a reference is known,
else ``None``. ``answer`` on success is the class as Python source
(:func:`~zeroforge.tasks.code.export.class_to_python`).

Levels (method subsets; reference lengths with ENDs): ``1`` counter ``inc get`` (7), stack ``push size``
/ ``push peek`` (8); ``2`` counter ``inc get reset`` (10), stack ``push pop`` (10), ``push peek size``
(11), queue ``enqueue size`` (10); ``3`` (default) counter ``inc dec get`` (12), stack ``push pop size`` /
``push pop peek`` (13), queue ``enqueue dequeue size`` (15). Budget = reference length + ``slack``, at
most ``max_episode_steps = max(15, 13 + slack)`` (so the queue's budget at level 3 may have no slack).
Generated call sequences (``calls_per_sequence`` calls, methods drawn at random, constructive ones three
times as often, arguments ``0..9``) never make the reference fail; the visible ones are redrawn (up to 100
times) until they call every method, reject every proper prefix of the last method's reference body (the
class would end there by itself) and tell the hidden constant apart (every variant with another step
``1..4`` / capacity ``1..5`` fails some visible sequence). So every generated instance is solvable within
its budget by its reference.

Observation (``seq_len = 14 + 7 * num_sequences * calls_per_sequence``, ``vocab_size = 125``; value
tokens as in :mod:`zeroforge.tasks.code.common`; method name ``k`` of :data:`METHOD_NAMES` is token
``95 + k``, instruction ``a`` token ``105 + a``): the 4 method slots (name or PAD), the current method's
index, the remaining-budget bucket, the current method's last 8 instructions (PAD-padded), then per
visible call ``[method, argument (int or NONE), expected (int or NONE), actual, field x 3]`` where *actual*
is what the program so far returns (unwritten methods empty, the current one as written so far): an int
token, ``LIST``, ``NONE``, ``ERR`` (the call failed) or PAD (not reached after a failure or an unused
slot); the three *field* tokens show the object after the call (execution-guided, so that a method's
effect is visible before the methods that read it are written): an int field as ``[value, PAD, PAD]``, a
list field as ``[length, first, last]`` (``NONE`` for an empty list's ends), PAD where the call failed or
was not reached.

Text: ``CodeClass.parse`` reads JSON ``{"kind": "class", "name": "stack", "methods": ["push", "pop"],
"calls": [[[["push", 3], null], [["pop"], 3]], ...], "heldout": [...], "budget": 12, "solution":
["LOAD 0; ARG; APPEND; STORE 0", "LOAD 0; POP; SWAP; STORE 0"]}``: ``calls`` is a list of 1..num_sequences
call sequences of 1..calls_per_sequence calls ``[[method, arg], expected]`` (``[method]`` for a method
without argument; ints with ``|v| <= 10**6``, ``expected`` may be ``null``); optional ``heldout`` (at most
16 sequences of at most 16 calls), ``budget`` (default ``max_episode_steps``) and ``solution`` (one body
text per method, within the budget, passing every sequence). ``instance_text`` writes all present keys.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from zeroforge.tasks.base import State, Task, frozen_array, solo_rewards
from zeroforge.tasks.code.common import (
    FIRST_FREE,
    NONE,
    PAD,
    budget_token,
    check_int,
    check_kind,
    check_list,
    instruction_action,
    int_token,
    value_token,
)
from zeroforge.tasks.code.dsl import Instr, Program, Value, parse_program, value_text
from zeroforge.tasks.code.export import class_to_python
from zeroforge.tasks.code.interpreter import Limits, RunResult, run, run_calls
from zeroforge.tasks.instances import read_json_instance
from zeroforge.tasks.params import check_int_param
from zeroforge.tasks.path import path_score
from zeroforge.tasks.registry import register_task

__all__ = ["CLASSES", "CLASS_INSTRUCTIONS", "METHOD_NAMES", "ClassSpec", "ClassState", "CodeClass"]


@dataclass(frozen=True)
class ClassSpec:
    """A class: its initial field values and methods ``name -> takes an argument``; ``returns`` the
    methods whose return value is checked in generated instances."""

    fields: tuple[Value, ...]
    methods: dict[str, bool]
    returns: frozenset[str]


CLASSES: dict[str, ClassSpec] = {
    "counter": ClassSpec((0,), {"inc": False, "dec": False, "get": False, "reset": False}, frozenset({"get"})),
    "stack": ClassSpec(
        ((),), {"push": True, "pop": False, "peek": False, "size": False}, frozenset({"pop", "peek", "size"})
    ),
    "queue": ClassSpec(((),), {"enqueue": True, "dequeue": False, "size": False}, frozenset({"dequeue", "size"})),
}
METHOD_NAMES: tuple[str, ...] = (
    "inc", "dec", "get", "reset", "push", "pop", "peek", "size", "enqueue", "dequeue",
)  # fmt: skip
CLASS_INSTRUCTIONS: tuple[Instr, ...] = (
    Instr("ARG"),
    Instr("LOAD", 0),
    Instr("STORE", 0),
    *(Instr("PUSH", c) for c in range(5)),
    *(Instr(op) for op in ("ADD", "SUB", "DUP", "SWAP", "DROP", "APPEND", "POP", "SHIFT", "LAST", "LEN", "TAKE")),
)
END = len(CLASS_INSTRUCTIONS)
MAX_METHODS = 4
MAX_DEPTH = 4
MAX_HELDOUT = 16
LIMITS = Limits(max_steps=64, max_stack=8, max_list=32, max_int=10**9)
_BODY_TOKENS = 8
_CALL_TOKENS = 7  # per visible call: method, argument, expected, actual, the field after the call (3)
_INDEX = {ins: a for a, ins in enumerate(CLASS_INSTRUCTIONS)}

#: the reference bodies (``{k}`` the counter step, ``{c}`` the queue capacity)
REFERENCE: dict[str, dict[str, str]] = {
    "counter": {
        "inc": "LOAD 0; PUSH {k}; ADD; STORE 0",
        "dec": "LOAD 0; PUSH {k}; SUB; STORE 0",
        "get": "LOAD 0",
        "reset": "PUSH 0; STORE 0",
    },
    "stack": {
        "push": "LOAD 0; ARG; APPEND; STORE 0",
        "pop": "LOAD 0; POP; SWAP; STORE 0",
        "peek": "LOAD 0; LAST",
        "size": "LOAD 0; LEN",
    },
    "queue": {
        "enqueue": "LOAD 0; ARG; APPEND; PUSH {c}; TAKE; STORE 0",
        "dequeue": "LOAD 0; SHIFT; SWAP; STORE 0",
        "size": "LOAD 0; LEN",
    },
}
#: the (class, methods) choices of each level
LEVELS: tuple[tuple[tuple[str, tuple[str, ...]], ...], ...] = (
    (("counter", ("inc", "get")), ("stack", ("push", "size")), ("stack", ("push", "peek"))),
    (
        ("counter", ("inc", "get", "reset")),
        ("stack", ("push", "pop")),
        ("stack", ("push", "peek", "size")),
        ("queue", ("enqueue", "size")),
    ),
    (
        ("counter", ("inc", "dec", "get")),
        ("stack", ("push", "pop", "size")),
        ("stack", ("push", "pop", "peek")),
        ("queue", ("enqueue", "dequeue", "size")),
    ),
)
_LONGEST_REFERENCE = 15

Call = tuple[str, Value | None, Value | None]  # (method, argument, expected return)
Sequence_ = tuple[Call, ...]


def _reference(class_name: str, methods: Sequence[str], k: int, c: int) -> tuple[Program, ...]:
    """The reference bodies of ``methods`` for counter step ``k`` / queue capacity ``c``."""
    return tuple(parse_program(REFERENCE[class_name][m].format(k=k, c=c)) for m in methods)


def _type_of(v: Value) -> str:
    return "l" if isinstance(v, tuple) else "i"


def type_step(types: tuple[str, ...], ins: Instr, field_type: str, takes_arg: bool) -> tuple[str, ...] | None:
    """The static type stack (``"i"`` int, ``"l"`` list, top last) after ``ins``, or ``None`` if ``ins`` is
    ill-typed there (``ARG`` needs ``takes_arg``; ``STORE 0`` needs a value of ``field_type``)."""
    op, t = ins.op, types
    if op == "ARG":
        return (*t, "i") if takes_arg else None
    if op == "LOAD":
        return (*t, field_type)
    if op == "PUSH":
        return (*t, "i")
    if op == "STORE":
        return t[:-1] if t and t[-1] == field_type else None
    if op == "DUP":
        return (*t, t[-1]) if t else None
    if op == "DROP":
        return t[:-1] if t else None
    if op == "SWAP":
        return (*t[:-2], t[-1], t[-2]) if len(t) >= 2 else None
    if op in ("ADD", "SUB"):
        return (*t[:-2], "i") if t[-2:] == ("i", "i") else None
    if op in ("APPEND", "TAKE"):
        return (*t[:-2], "l") if t[-2:] == ("l", "i") else None
    if op in ("POP", "SHIFT"):
        return (*t[:-1], "l", "i") if t[-1:] == ("l",) else None
    if op in ("LAST", "LEN"):
        return (*t[:-1], "i") if t[-1:] == ("l",) else None
    return None


@dataclass(frozen=True, eq=False)
class ClassState(State):
    """A class program under construction: the instance (``class_name``, ``methods``, visible ``calls`` and
    ``heldout`` call sequences, ``solution`` reference bodies or ``None``, ``budget``), the finished
    bodies ``done``, the ``current`` body, its static ``types``, and ``passed`` (the finished program
    passes every visible sequence; ``False`` before the end)."""

    class_name: str
    methods: tuple[str, ...]
    calls: tuple[Sequence_, ...]
    heldout: tuple[Sequence_, ...]
    solution: tuple[Program, ...] | None
    budget: int
    done: tuple[Program, ...]
    current: Program
    types: tuple[str, ...]
    passed: bool

    def key(self) -> tuple[Any, ...]:
        """The instance and the bodies so far."""
        ref = None if self.solution is None else tuple(p.instrs for p in self.solution)
        return (
            self.class_name,
            self.methods,
            self.calls,
            self.heldout,
            ref,
            self.budget,
            tuple(p.instrs for p in self.done),
            self.current.instrs,
            self.terminal,
        )

    @property
    def bodies(self) -> dict[str, Program]:
        """Every method's body as it stands (finished, the current prefix, then empty)."""
        return _bodies(self.methods, self.done, self.current)

    def to_text(self) -> str:
        """E.g.::

        code_class stack: methods push(x), pop()
        calls: push(3); pop() = 3 (now -)
        program [5/12]:
          push: LOAD 0; ARG; APPEND; STORE 0
          pop: (writing)
        """
        spec = CLASSES[self.class_name]
        sig = ", ".join(f"{m}({'x' if spec.methods[m] else ''})" for m in self.methods)
        lines = [f"code_class {self.class_name}: methods {sig}"]
        bodies = self.bodies
        for k, seq in enumerate(self.calls):
            results = run_calls(bodies, spec.fields, [(m, a) for m, a, _ in seq], LIMITS)
            parts = []
            for c, (m, a, want) in enumerate(seq):
                call = f"{m}({'' if a is None else value_text(a)})"
                now = _result_text(results, c)
                parts.append(call + (f" = {value_text(want)} (now {now})" if want is not None else f" (now {now})"))
            lines.append(f"calls #{k + 1}: " + "; ".join(parts))
        lines.append(f"program [{self.step_count}/{self.budget}]:")
        for k, m in enumerate(self.methods):
            if k < len(self.done):
                lines.append(f"  {m}: {self.done[k].text() or '(empty)'}")
            elif k == len(self.done):
                status = "unfinished" if self.terminal else "writing"
                lines.append(f"  {m}: {self.current.text() or '(empty)'} ({status})")
            else:
                lines.append(f"  {m}: (unwritten)")
        if self.terminal:
            lines.append(f"finished: {'passes' if self.passed else 'fails'} the visible calls")
        return "\n".join(lines)


def _field_tokens(result: RunResult) -> list[int]:
    """The object's field after a call, in three tokens (see the module docstring)."""
    if not result.ok or not result.fields:
        return [PAD] * 3
    f = result.fields[0]
    if isinstance(f, tuple):
        return [int_token(len(f)), value_token(f[0]) if f else NONE, value_token(f[-1]) if f else NONE]
    return [value_token(f), PAD, PAD]


def _bodies(methods: tuple[str, ...], done: tuple[Program, ...], current: Program) -> dict[str, Program]:
    parts = [*done, current] if len(done) < len(methods) else list(done)
    parts += [Program()] * (len(methods) - len(parts))
    return dict(zip(methods, parts, strict=True))


def _result_text(results: list[RunResult], c: int) -> str:
    if c >= len(results):
        return "not reached"
    res = results[c]
    return "error" if not res.ok else value_text(res.output)


def _sequence_passes(bodies: dict[str, Program], fields: tuple[Value, ...], seq: Sequence_) -> bool:
    results = run_calls(bodies, fields, [(m, a) for m, a, _ in seq], LIMITS)
    if len(results) != len(seq) or not all(r.ok for r in results):
        return False
    return all(want is None or r.output == want for r, (_, _, want) in zip(results, seq, strict=True))


@register_task("code_class")
class CodeClass(Task):
    """Write the methods of a counter / stack / bounded queue from call sequences (module docstring).

    ``num_sequences`` (1..4) visible call sequences of ``calls_per_sequence`` (2..8) calls, ``num_heldout`` (0..16)
    held-out sequences, budget slack ``slack`` (0..4) over the reference length. An instance read by ``parse`` (a
    JSON text of at most 1,000,000 characters) names a known class and 1..4 of its methods, has 1..num_sequences
    visible sequences of 1..calls_per_sequence calls and at most 16 held-out sequences of at most 16 calls, integers
    with ``|v| <= 10**6`` and a budget in 1..max_episode_steps.
    """

    name: ClassVar[str] = "code_class"
    pad_token: ClassVar[int | None] = PAD
    num_players = 1
    num_actions = len(CLASS_INSTRUCTIONS) + 1
    vocab_size = FIRST_FREE + len(METHOD_NAMES) + len(CLASS_INSTRUCTIONS) + 1
    difficulty_levels = len(LEVELS)

    def __init__(
        self, num_sequences: int = 2, calls_per_sequence: int = 6, num_heldout: int = 4, slack: int = 2
    ) -> None:
        self.num_sequences = check_int_param(self.name, "num_sequences", num_sequences, 1, 4)
        self.calls_per_sequence = check_int_param(self.name, "calls_per_sequence", calls_per_sequence, 2, 8)
        self.num_heldout = check_int_param(self.name, "num_heldout", num_heldout, 0, MAX_HELDOUT)
        self.slack = check_int_param(self.name, "slack", slack, 0, 4)
        self.max_episode_steps = max(_LONGEST_REFERENCE, 13 + self.slack)
        self.seq_len = 4 + 2 + _BODY_TOKENS + _CALL_TOKENS * self.num_sequences * self.calls_per_sequence
        self._no_actions = frozen_array(np.zeros(self.num_actions, dtype=np.bool_), np.bool_)

    # ------------------------------------------------------------------------------------------ states
    def _mask(self, class_name: str, method: str, types: tuple[str, ...]) -> np.ndarray:
        spec = CLASSES[class_name]
        field_type, takes_arg = _type_of(spec.fields[0]), spec.methods[method]
        mask = np.zeros(self.num_actions, dtype=np.bool_)
        for a, ins in enumerate(CLASS_INSTRUCTIONS):
            after = type_step(types, ins, field_type, takes_arg)
            mask[a] = after is not None and len(after) <= MAX_DEPTH
        mask[END] = True
        mask.flags.writeable = False
        return mask

    def _observation(
        self,
        inst: dict[str, Any],
        bodies: dict[str, Program],
        done: tuple[Program, ...],
        current: Program,
        steps: int,
    ) -> np.ndarray:
        methods, budget = inst["methods"], inst["budget"]
        tokens = [FIRST_FREE + METHOD_NAMES.index(m) for m in methods] + [PAD] * (MAX_METHODS - len(methods))
        tokens += [int_token(min(len(done), MAX_METHODS - 1)), budget_token(budget - steps, budget)]
        body = [FIRST_FREE + len(METHOD_NAMES) + _INDEX[i] for i in current.instrs[-_BODY_TOKENS:]]
        tokens += body + [PAD] * (_BODY_TOKENS - len(body))
        fields = CLASSES[inst["class_name"]].fields
        for seq in inst["calls"]:
            results = run_calls(bodies, fields, [(m, a) for m, a, _ in seq], LIMITS)
            for c, (m, a, want) in enumerate(seq):
                actual = value_token(results[c].output, error=not results[c].ok) if c < len(results) else PAD
                arg = NONE if a is None else value_token(a)
                after = _field_tokens(results[c]) if c < len(results) else [PAD] * 3
                tokens += [FIRST_FREE + METHOD_NAMES.index(m), arg, value_token(want), actual, *after]
            tokens += [PAD] * (_CALL_TOKENS * (self.calls_per_sequence - len(seq)))
        tokens += [PAD] * (_CALL_TOKENS * self.calls_per_sequence * (self.num_sequences - len(inst["calls"])))
        return frozen_array(tokens, np.int64)

    def _make(
        self,
        base: ClassState | None,
        done: tuple[Program, ...],
        current: Program,
        types: tuple[str, ...],
        **instance: Any,
    ) -> ClassState:
        inst: dict[str, Any] = (
            instance
            if base is None
            else {
                "class_name": base.class_name,
                "methods": base.methods,
                "calls": base.calls,
                "heldout": base.heldout,
                "solution": base.solution,
                "budget": base.budget,
            }
        )
        methods = inst["methods"]
        steps = sum(len(p) + 1 for p in done) + len(current)
        bodies = _bodies(methods, done, current)
        fields = CLASSES[inst["class_name"]].fields
        # while the last method is written, a class that passes every visible sequence ends by itself (its
        # END is implied), as a function ends once its outputs match
        last = len(done) == len(methods) - 1 and len(current) > 0
        passes = (last or len(done) == len(methods) or steps >= inst["budget"]) and all(
            _sequence_passes(bodies, fields, seq) for seq in inst["calls"])
        terminal = len(done) == len(methods) or steps >= inst["budget"] or (last and passes)
        passed = terminal and passes
        return ClassState(
            current_player=0,
            legal_action_mask=(
                self._no_actions if terminal else self._mask(inst["class_name"], methods[len(done)], types)
            ),
            terminal=terminal,
            rewards=solo_rewards(terminal, passed),
            observation=self._observation(inst, bodies, done, current, steps),
            step_count=steps,
            done=done,
            current=current,
            types=types,
            passed=passed,
            **inst,
        )

    def make_state(
        self,
        class_name: str,
        methods: Sequence[str],
        calls: Sequence[Sequence_],
        heldout: Sequence[Sequence_] = (),
        solution: Sequence[Program] | None = None,
        budget: int | None = None,
    ) -> ClassState:
        """The initial state of an instance (validated: class, methods, calls, counts, budget, reference)."""
        if class_name not in CLASSES:
            raise ValueError(f"code_class: unknown class {str(class_name)[:40]!r} (known: {', '.join(CLASSES)})")
        spec = CLASSES[class_name]
        meths = tuple(methods)
        if not 1 <= len(meths) <= MAX_METHODS or len(set(meths)) != len(meths):
            raise ValueError(f"code_class: methods must be 1..{MAX_METHODS} distinct names")
        for m in meths:
            if m not in spec.methods:
                have = ", ".join(spec.methods)
                raise ValueError(f"code_class: {class_name} has no method {str(m)[:40]!r} (it has {have})")
        vis, held = tuple(tuple(s) for s in calls), tuple(tuple(s) for s in heldout)
        if not 1 <= len(vis) <= self.num_sequences:
            raise ValueError(f"code_class: expected 1..{self.num_sequences} call sequences, got {len(vis)}")
        if any(not 1 <= len(s) <= self.calls_per_sequence for s in vis):
            raise ValueError(f"code_class: a call sequence must have 1..{self.calls_per_sequence} calls")
        if len(held) > MAX_HELDOUT or any(not 1 <= len(s) <= MAX_HELDOUT for s in held):
            raise ValueError(f"code_class: at most {MAX_HELDOUT} held-out sequences of 1..{MAX_HELDOUT} calls")
        for seq in (*vis, *held):
            for m, arg, _ in seq:
                if m not in meths:
                    raise ValueError(f"code_class: a call to {str(m)[:40]!r}, which is not one of the methods")
                if (arg is not None) != spec.methods[m]:
                    need = "takes one argument" if spec.methods[m] else "takes no argument"
                    raise ValueError(f"code_class: method {m!r} {need}")
        top = self.max_episode_steps
        b = top if budget is None else check_int(self.name, "budget", budget, 1, top)
        ref = None
        if solution is not None:
            ref = tuple(solution)
            if len(ref) != len(meths):
                raise ValueError(f"code_class: the solution must have {len(meths)} bodies, got {len(ref)}")
            size = sum(len(p) + 1 for p in ref)
            if size > b:
                raise ValueError(f"code_class: the solution takes {size} actions, the budget is {b}")
            bodies = dict(zip(meths, ref, strict=True))
            for k, seq in enumerate((*vis, *held)):
                if not _sequence_passes(bodies, spec.fields, seq):
                    raise ValueError(f"code_class: the solution fails call sequence {k}")
        instance = {"class_name": class_name, "methods": meths, "calls": vis, "heldout": held, "solution": ref}
        return self._make(None, (), Program(), (), budget=b, **instance)

    def generate(
        self, seed: int, level: int
    ) -> tuple[str, tuple[str, ...], tuple[Sequence_, ...], tuple[Sequence_, ...], tuple[Program, ...]]:
        """The instance drawn with ``seed`` at ``level``: ``(class, methods, calls, heldout, reference)``."""
        rng = np.random.default_rng(seed)
        choices = LEVELS[level - 1]
        class_name, methods = choices[int(rng.integers(len(choices)))]
        k, c = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        ref = _reference(class_name, methods, k, c)
        bodies = dict(zip(methods, ref, strict=True))
        decoys = [
            dict(zip(methods, _reference(class_name, methods, k2, c2), strict=True))
            for k2, c2 in [(k2, c) for k2 in range(1, 5) if k2 != k] + [(k, c2) for c2 in range(1, 6) if c2 != c]
        ]
        # and the last method cut short: a class ends by itself once it passes the visible sequences, so
        # they must reject every proper prefix of the reference's last body
        last = methods[-1]
        decoys += [{**bodies, last: Program(bodies[last].instrs[:n])} for n in range(1, len(bodies[last]))]
        decoys = [d for d in decoys if d != bodies]
        spec = CLASSES[class_name]
        weights = np.array([3.0 if spec.methods[m] or m == "inc" else 1.0 for m in methods])
        weights /= weights.sum()

        def sequence() -> Sequence_:
            fields, out = spec.fields, []
            for _ in range(self.calls_per_sequence):
                for attempt in range(12):
                    m = methods[0] if attempt == 11 else methods[int(rng.choice(len(methods), p=weights))]
                    arg = int(rng.integers(0, 10)) if spec.methods[m] else None
                    res = run(bodies[m], limits=LIMITS, arg=arg, fields=fields)
                    if res.ok:
                        break
                fields = res.fields
                out.append((m, arg, res.output if m in spec.returns else None))
            return tuple(out)

        for _ in range(100):
            vis = tuple(sequence() for _ in range(self.num_sequences))
            used = {m for seq in vis for m, _, _ in seq}
            if used == set(methods) and all(
                not all(_sequence_passes(d, spec.fields, q) for q in vis) for d in decoys
            ):
                break
        held = tuple(sequence() for _ in range(self.num_heldout))
        return class_name, methods, vis, held, ref

    def _initial_state(self, seed: int, difficulty: int) -> ClassState:
        class_name, methods, vis, held, ref = self.generate(seed, difficulty)
        budget = min(self.max_episode_steps, sum(len(p) + 1 for p in ref) + self.slack)
        return self.make_state(class_name, methods, vis, held, ref, budget)

    def _step(self, state: State, action: int) -> ClassState:
        if type(state) is not ClassState:
            raise ValueError(f"{self.name}: expected a ClassState, got {type(state).__name__}")
        if len(state.calls) > self.num_sequences or any(len(s) > self.calls_per_sequence for s in state.calls):
            raise ValueError(f"{self.name}: the state's instance does not fit this task's shapes")
        s = state
        if action == END:
            return self._make(s, (*s.done, s.current), Program(), ())
        ins = CLASS_INSTRUCTIONS[action]
        spec = CLASSES[s.class_name]
        types = type_step(s.types, ins, _type_of(spec.fields[0]), spec.methods[s.methods[len(s.done)]])
        assert types is not None  # guaranteed by the legal mask
        return self._make(s, s.done, Program((*s.current.instrs, ins)), types)

    # --------------------------------------------------------------------------------------- verdicts
    def outcome(self, state: State) -> str:
        """``success`` iff the interpreter passes every visible call sequence on the finished program."""
        if not state.terminal:
            return "timeout"
        if isinstance(state, ClassState):
            fields = CLASSES[state.class_name].fields
            return "success" if all(_sequence_passes(state.bodies, fields, q) for q in state.calls) else "failure"
        return super().outcome(state)

    def heldout_pass_rate(self, state: State) -> float | None:
        """The fraction of held-out call sequences the finished program passes (``None`` before the end / if
        there are none)."""
        if not isinstance(state, ClassState) or not state.terminal or not state.heldout:
            return None
        fields = CLASSES[state.class_name].fields
        return sum(_sequence_passes(state.bodies, fields, q) for q in state.heldout) / len(state.heldout)

    def score(self, state: State) -> float | None:
        """``path_score(success, reference actions, actions)``; ``None`` without a reference / before the end."""
        if not isinstance(state, ClassState) or not state.terminal or state.solution is None:
            return None
        return path_score(state.passed, sum(len(p) + 1 for p in state.solution), state.step_count)

    def answer(self, state: State) -> str | None:
        """On success the class as Python source; else ``None``."""
        if not isinstance(state, ClassState) or not state.terminal or not state.passed:
            return None
        spec = CLASSES[state.class_name]
        methods = [(m, body, spec.methods[m]) for m, body in state.bodies.items()]
        return class_to_python(state.class_name.capitalize(), methods, spec.fields)

    def action_to_text(self, state: State, action: int) -> str:
        """The instruction's text or ``"END"``."""
        a = int(action)
        return "END" if a == END else str(CLASS_INSTRUCTIONS[a])

    def encode(self, text: str) -> int:
        """The action of an instruction text (``"LOAD 0"``, ``"END"``)."""
        return instruction_action(self.name, text, CLASS_INSTRUCTIONS, ("END", END))

    # ------------------------------------------------------------------------------------------- text
    def instance_text(self, state: State) -> str:
        """The instance as the JSON :meth:`parse` reads."""
        if not isinstance(state, ClassState):
            raise ValueError(f"{self.name}: expected a ClassState, got {type(state).__name__}")

        def seq_json(seq: Sequence_) -> list[Any]:
            return [[[m] if a is None else [m, a], want] for m, a, want in seq]

        data: dict[str, Any] = {
            "kind": "class",
            "name": state.class_name,
            "methods": list(state.methods),
            "calls": [seq_json(q) for q in state.calls],
            "heldout": [seq_json(q) for q in state.heldout],
            "budget": state.budget,
        }
        if state.solution is not None:
            data["solution"] = [p.text() for p in state.solution]
        return json.dumps(data)

    def parse(self, text: str) -> ClassState:
        """The initial state of a JSON instance (format in the module docstring); anything malformed raises a
        one-line ``ValueError`` starting with ``code_class``."""
        required, optional = ("kind", "name", "methods", "calls"), ("heldout", "budget", "solution")
        data = read_json_instance(self.name, text, required, optional)
        check_kind(self.name, data, "class")
        name = data["name"]
        if not isinstance(name, str):
            raise ValueError(f"code_class: 'name' must be a class name, got {type(name).__name__}")
        methods = check_list(self.name, "'methods'", data["methods"], 1, MAX_METHODS)
        if not all(isinstance(m, str) for m in methods):
            raise ValueError("code_class: 'methods' must be method names")
        calls = [
            self._sequence(f"calls[{k}]", q, self.calls_per_sequence)
            for k, q in enumerate(check_list(self.name, "'calls'", data["calls"], 1, self.num_sequences))
        ]
        heldout = [
            self._sequence(f"heldout[{k}]", q, MAX_HELDOUT)
            for k, q in enumerate(check_list(self.name, "'heldout'", data.get("heldout", []), 0, MAX_HELDOUT))
        ]
        solution = None
        if "solution" in data:
            texts = check_list(self.name, "'solution'", data["solution"], 1, MAX_METHODS)
            try:
                solution = [parse_program(t, CLASS_INSTRUCTIONS) for t in texts]
            except ValueError as exc:
                raise ValueError(f"code_class: bad solution: {exc}") from None
        return self.make_state(name, methods, calls, heldout, solution, data.get("budget"))

    def _sequence(self, where: str, items: Any, most: int) -> Sequence_:
        out: list[Call] = []
        for c, item in enumerate(check_list(self.name, where, items, 1, most)):
            ok = isinstance(item, list) and len(item) == 2 and isinstance(item[0], list) and 1 <= len(item[0]) <= 2
            if not ok or not isinstance(item[0][0], str):
                raise ValueError(f"code_class: {where}[{c}] must be [[method, arg], expected] or [[method], expected]")
            arg = check_int(self.name, f"{where}[{c}] argument", item[0][1]) if len(item[0]) == 2 else None
            want = None if item[1] is None else check_int(self.name, f"{where}[{c}] expected value", item[1])
            out.append((item[0][0], arg, want))
        return tuple(out)

    def __repr__(self) -> str:
        return (
            f"CodeClass(num_sequences={self.num_sequences}, calls_per_sequence={self.calls_per_sequence}, "
            f"num_heldout={self.num_heldout}, slack={self.slack})"
        )
