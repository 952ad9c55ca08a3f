"""The bounded interpreter of the code tasks' stack language (:mod:`zeroforge.tasks.code.dsl`).

:func:`run` executes a program on inputs pushed onto an empty stack (first input at the bottom) and
returns a :class:`RunResult`; it never raises on any program made of valid instructions and any inputs:
every failure is a result. Status:

- ``ok``: the program ran to its end (or jumped past it); ``output`` is the top of the stack (``None`` if
  the stack is empty);
- ``timeout``: more than ``limits.max_steps`` instructions would have executed (e.g. ``JMP -1`` forever);
- ``error``: a wrong type, too few stack items, an empty list where an element is needed, division by
  zero, a jump before the start, no call argument for ``ARG``, or a limit: more than ``limits.max_stack``
  stack items, a list longer than ``limits.max_list`` or an integer with ``|v| > limits.max_int``
  (inputs beyond the limits, or not values of the language, are errors too). ``reason`` says which, in
  one line, naming the instruction.

:func:`apply` executes one straight-line instruction on a stack (the tasks use it to run programs
incrementally, one action at a time); :func:`run_calls` runs a sequence of method calls of a class
program, fields carried from call to call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from zeroforge.tasks.code.dsl import Instr, Program, Value, is_valid, is_value

__all__ = ["DEFAULT_LIMITS", "Limits", "RunResult", "apply", "run", "run_calls"]


@dataclass(frozen=True)
class Limits:
    """Resource bounds of one run: executed instructions, stack items, list length, integer magnitude."""

    max_steps: int = 1000
    max_stack: int = 64
    max_list: int = 64
    max_int: int = 10**9


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class RunResult:
    """The result of a run: ``status`` in ``ok`` / ``timeout`` / ``error``; ``output`` the top of the final
    stack (``None`` if empty or not ``ok``); ``steps`` executed instructions; ``reason`` a one-line
    explanation (``""`` when ``ok``); ``stack`` and ``fields`` the final stack and fields."""

    status: str
    output: Value | None
    steps: int
    reason: str = ""
    stack: tuple[Value, ...] = ()
    fields: tuple[Value, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class _Fail(Exception):
    """A run-time error of the program (caught by the interpreter, never escapes)."""


class _Ctx:
    __slots__ = ("arg", "fields", "limits")

    def __init__(self, limits: Limits, arg: Value | None, fields: list[Value]) -> None:
        self.limits = limits
        self.arg = arg
        self.fields = fields


def _pop(stack: list[Value]) -> Value:
    if not stack:
        raise _Fail("empty stack")
    return stack.pop()


def _pop_int(stack: list[Value]) -> int:
    v = _pop(stack)
    if type(v) is not int:
        raise _Fail("expected an int, got a list")
    return v


def _pop_list(stack: list[Value]) -> tuple[int, ...]:
    v = _pop(stack)
    if type(v) is not tuple:
        raise _Fail("expected a list, got an int")
    return v


def _pop_nonempty(stack: list[Value]) -> tuple[int, ...]:
    v = _pop_list(stack)
    if not v:
        raise _Fail("empty list")
    return v


def _int(v: int, ctx: _Ctx) -> int:
    if abs(v) > ctx.limits.max_int:
        raise _Fail(f"integer overflow (|v| > {ctx.limits.max_int})")
    return v


def _lst(v: tuple[int, ...], ctx: _Ctx) -> tuple[int, ...]:
    if len(v) > ctx.limits.max_list:
        raise _Fail(f"list too long (> {ctx.limits.max_list})")
    m = ctx.limits.max_int
    for x in v:
        if abs(x) > m:
            raise _Fail(f"integer overflow (|v| > {m})")
    return v


def _binary(fn: Callable[[int, int], int]) -> Callable[[list[Value], Instr, _Ctx], None]:
    def op(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
        b = _pop_int(stack)
        a = _pop_int(stack)
        stack.append(_int(fn(a, b), ctx))

    return op


def _div(a: int, b: int) -> int:
    if b == 0:
        raise _Fail("division by zero")
    return a // b


def _mod(a: int, b: int) -> int:
    if b == 0:
        raise _Fail("modulo by zero")
    return a % b


def _unary(fn: Callable[[int], int]) -> Callable[[list[Value], Instr, _Ctx], None]:
    def op(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
        stack.append(_int(fn(_pop_int(stack)), ctx))

    return op


def _reduce(fn: Callable[[tuple[int, ...]], int], nonempty: bool) -> Callable[[list[Value], Instr, _Ctx], None]:
    def op(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
        v = _pop_nonempty(stack) if nonempty else _pop_list(stack)
        stack.append(_int(fn(v), ctx))

    return op


def _transform(fn: Callable[[tuple[int, ...]], tuple[int, ...]]) -> Callable[[list[Value], Instr, _Ctx], None]:
    def op(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
        stack.append(_lst(fn(_pop_list(stack)), ctx))

    return op


def _push(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
    stack.append(ins.a)


def _nil(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
    stack.append(())


def _dup(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
    if not stack:
        raise _Fail("empty stack")
    stack.append(stack[-1])


def _swap(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
    if len(stack) < 2:
        raise _Fail("needs two stack items")
    stack[-1], stack[-2] = stack[-2], stack[-1]


def _drop(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
    _pop(stack)


def _over(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
    if len(stack) < 2:
        raise _Fail("needs two stack items")
    stack.append(stack[-2])


def _tail(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
    stack.append(_pop_nonempty(stack)[1:])


def _take(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
    n = _pop_int(stack)
    v = _pop_list(stack)
    if n < 0:
        raise _Fail("TAKE of a negative count")
    stack.append(v[:n])


def _append(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
    x = _pop_int(stack)
    v = _pop_list(stack)
    stack.append(_lst((*v, x), ctx))


def _popl(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
    v = _pop_nonempty(stack)
    stack.append(v[:-1])
    stack.append(v[-1])


def _shift(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
    v = _pop_nonempty(stack)
    stack.append(v[1:])
    stack.append(v[0])


def _cswap(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
    v = _pop_list(stack)
    i, j = ins.a, ins.b
    if j >= len(v):
        raise _Fail(f"CSWAP position {j} outside a list of length {len(v)}")
    if v[i] > v[j]:
        w = list(v)
        w[i], w[j] = v[j], v[i]
        v = tuple(w)
    stack.append(v)


def _arg(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
    if ctx.arg is None:
        raise _Fail("no call argument")
    stack.append(ctx.arg)


def _load(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
    if ins.a >= len(ctx.fields):
        raise _Fail(f"no field {ins.a}")
    stack.append(ctx.fields[ins.a])


def _store(stack: list[Value], ins: Instr, ctx: _Ctx) -> None:
    if ins.a >= len(ctx.fields):
        raise _Fail(f"no field {ins.a}")
    ctx.fields[ins.a] = _pop(stack)


def _map(fn: Callable[[int], int]) -> Callable[[tuple[int, ...]], tuple[int, ...]]:
    return lambda v: tuple(fn(x) for x in v)


def _filter(pred: Callable[[int], bool]) -> Callable[[tuple[int, ...]], tuple[int, ...]]:
    return lambda v: tuple(x for x in v if pred(x))


_HANDLERS: dict[str, Callable[[list[Value], Instr, _Ctx], None]] = {
    "PUSH": _push,
    "NIL": _nil,
    "DUP": _dup,
    "SWAP": _swap,
    "DROP": _drop,
    "OVER": _over,
    "ADD": _binary(lambda a, b: a + b),
    "SUB": _binary(lambda a, b: a - b),
    "MUL": _binary(lambda a, b: a * b),
    "DIV": _binary(_div),
    "MOD": _binary(_mod),
    "MAX2": _binary(max),
    "MIN2": _binary(min),
    "LT": _binary(lambda a, b: int(a < b)),
    "EQ": _binary(lambda a, b: int(a == b)),
    "NEG": _unary(lambda a: -a),
    "INC": _unary(lambda a: a + 1),
    "DEC": _unary(lambda a: a - 1),
    "LEN": _reduce(len, False),
    "SUM": _reduce(sum, False),
    "MAXL": _reduce(max, True),
    "MINL": _reduce(min, True),
    "HEAD": _reduce(lambda v: v[0], True),
    "LAST": _reduce(lambda v: v[-1], True),
    "REVERSE": _transform(lambda v: v[::-1]),
    "SORT": _transform(lambda v: tuple(sorted(v))),
    "TAIL": _tail,
    "TAKE": _take,
    "APPEND": _append,
    "POP": _popl,
    "SHIFT": _shift,
    "MAP_INC": _transform(_map(lambda x: x + 1)),
    "MAP_DEC": _transform(_map(lambda x: x - 1)),
    "MAP_DOUBLE": _transform(_map(lambda x: 2 * x)),
    "MAP_NEG": _transform(_map(lambda x: -x)),
    "MAP_SQUARE": _transform(_map(lambda x: x * x)),
    "FILTER_POS": _transform(_filter(lambda x: x > 0)),
    "FILTER_NEG": _transform(_filter(lambda x: x < 0)),
    "FILTER_EVEN": _transform(_filter(lambda x: x % 2 == 0)),
    "FILTER_ODD": _transform(_filter(lambda x: x % 2 == 1)),
    "CSWAP": _cswap,
    "ARG": _arg,
    "LOAD": _load,
    "STORE": _store,
}


def _check_value(v: object, limits: Limits) -> str | None:
    """Why ``v`` cannot enter a run (``None`` if it can)."""
    if not is_value(v):
        return f"not a value of the language: {v!r}"[:120]
    if isinstance(v, tuple):
        if len(v) > limits.max_list:
            return f"input list too long (> {limits.max_list})"
        if any(abs(x) > limits.max_int for x in v):
            return f"input integer too large (|v| > {limits.max_int})"
    elif isinstance(v, int) and abs(v) > limits.max_int:
        return f"input integer too large (|v| > {limits.max_int})"
    return None


def apply(
    stack: tuple[Value, ...],
    ins: Instr,
    limits: Limits = DEFAULT_LIMITS,
    arg: Value | None = None,
    fields: tuple[Value, ...] = (),
) -> tuple[Value, ...] | str:
    """The stack after one straight-line instruction (no ``JZ`` / ``JMP`` / ``STORE``), or the error
    reason as a string. ``stack`` must hold values within ``limits`` (as every stack :func:`run` makes)."""
    if not is_valid(ins) or ins.op in ("JZ", "JMP", "STORE"):
        return f"{ins}: not a straight-line instruction"
    work = list(stack)
    try:
        _HANDLERS[ins.op](work, ins, _Ctx(limits, arg, list(fields)))
    except _Fail as exc:
        return f"{ins}: {exc}"
    if len(work) > limits.max_stack:
        return f"{ins}: stack overflow (> {limits.max_stack} items)"
    return tuple(work)


def run(
    program: Program | Sequence[Instr],
    *inputs: object,
    limits: Limits = DEFAULT_LIMITS,
    arg: object = None,
    fields: Sequence[object] = (),
) -> RunResult:
    """Run ``program`` with ``inputs`` pushed (first at the bottom), call argument ``arg`` (``None``: no
    argument) and fields ``fields``; never raises (see the module docstring)."""
    instrs = program.instrs if isinstance(program, Program) else tuple(program)
    for k, ins in enumerate(instrs):
        if not is_valid(ins):
            return RunResult("error", None, 0, f"instruction {k}: not a valid instruction: {ins!r}"[:200])
    for v in (*inputs, *fields, *(() if arg is None else (arg,))):
        why = _check_value(v, limits)
        if why is not None:
            return RunResult("error", None, 0, why)
    if len(inputs) > limits.max_stack:
        return RunResult("error", None, 0, f"stack overflow (> {limits.max_stack} items)")
    stack: list[Value] = list(inputs)  # type: ignore[arg-type]  # checked by _check_value
    ctx = _Ctx(limits, arg, list(fields))  # type: ignore[arg-type]
    n, pc, steps = len(instrs), 0, 0
    ins = Instr("NOP")
    try:
        while pc < n:
            if steps >= limits.max_steps:
                return RunResult(
                    "timeout", None, steps, f"step limit {limits.max_steps} reached", tuple(stack), tuple(ctx.fields)
                )
            ins = instrs[pc]
            steps += 1
            op = ins.op
            if op == "JZ":
                pc += 1 + ins.a if _pop_int(stack) == 0 else 1
                continue
            if op == "JMP":
                if pc - ins.a < 0:
                    raise _Fail("jump before the start")
                pc -= ins.a
                continue
            _HANDLERS[op](stack, ins, ctx)
            if len(stack) > limits.max_stack:
                raise _Fail(f"stack overflow (> {limits.max_stack} items)")
            pc += 1
    except _Fail as exc:
        return RunResult("error", None, steps, f"instruction {pc} ({ins}): {exc}", tuple(stack), tuple(ctx.fields))
    return RunResult("ok", stack[-1] if stack else None, steps, "", tuple(stack), tuple(ctx.fields))


@lru_cache(maxsize=1 << 16)
def _run_method(body: Program, arg: Value | None, fields: tuple[Value, ...], limits: Limits) -> RunResult:
    """``run`` of one method call, memoised: a search revisits the same bodies, arguments and fields many
    times (runs are pure and their results immutable)."""
    return run(body, limits=limits, arg=arg, fields=fields)


def run_calls(
    methods: dict[str, Program],
    fields: Sequence[Value],
    calls: Sequence[tuple[str, Value | None]],
    limits: Limits = DEFAULT_LIMITS,
) -> list[RunResult]:
    """Run a sequence of method calls ``(name, arg or None)`` on one object whose fields start as
    ``fields``: each call runs that method's body on an empty stack with the call's argument and the
    fields left by the previous call; its result's ``output`` is the return value. Stops after the first
    call that does not end ``ok`` (so the list may be shorter than ``calls``); an unknown method is an
    error."""
    results: list[RunResult] = []
    current = tuple(fields)
    for name, arg in calls:
        body = methods.get(name)
        if body is None:
            results.append(RunResult("error", None, 0, f"no method {name!r}", (), current))
            break
        try:
            res = _run_method(body, arg, current, limits)
        except TypeError:  # something unhashable (a list where a value should be): run uncached, it reports it
            res = run(body, limits=limits, arg=arg, fields=current)
        results.append(res)
        if not res.ok:
            break
        current = res.fields
    return results
