"""The stack language and its bounded interpreter: every instruction on known answers, limits, errors, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zeroforge.tasks.code.dsl import ALL_INSTRUCTIONS, Instr, Program, instr, parse_program, value_text
from zeroforge.tasks.code.interpreter import Limits, RunResult, apply, run, run_calls


def _run(text: str, *inputs: object, **kw: object) -> RunResult:
    return run(parse_program(text), *inputs, **kw)  # type: ignore[arg-type]


# (program, inputs, final stack) - one row per opcode at least
KNOWN_STACKS: list[tuple[str, tuple[object, ...], tuple[object, ...]]] = [
    ("PUSH 3", (), (3,)),
    ("PUSH -1", (), (-1,)),
    ("PUSH 9", (), (9,)),
    ("NIL", (), ((),)),
    ("DUP", (4,), (4, 4)),
    ("SWAP", (1, 2), (2, 1)),
    ("DROP", (1, 2), (1,)),
    ("OVER", (1, 2), (1, 2, 1)),
    ("ADD", (7, 5), (12,)),
    ("SUB", (7, 5), (2,)),
    ("MUL", (7, -5), (-35,)),
    ("DIV", (7, 2), (3,)),
    ("DIV", (-7, 2), (-4,)),  # floor division
    ("MOD", (-7, 3), (2,)),  # Python's modulo
    ("MAX2", (3, 8), (8,)),
    ("MIN2", (3, 8), (3,)),
    ("LT", (3, 8), (1,)),
    ("LT", (8, 3), (0,)),
    ("EQ", (4, 4), (1,)),
    ("EQ", (4, 5), (0,)),
    ("NEG", (4,), (-4,)),
    ("INC", (4,), (5,)),
    ("DEC", (4,), (3,)),
    ("LEN", ((3, 1, 2),), (3,)),
    ("SUM", ((3, 1, 2),), (6,)),
    ("SUM", ((),), (0,)),
    ("MAXL", ((3, 1, 2),), (3,)),
    ("MINL", ((3, 1, 2),), (1,)),
    ("HEAD", ((3, 1, 2),), (3,)),
    ("LAST", ((3, 1, 2),), (2,)),
    ("REVERSE", ((3, 1, 2),), ((2, 1, 3),)),
    ("SORT", ((3, 1, 2),), ((1, 2, 3),)),
    ("TAIL", ((3, 1, 2),), ((1, 2),)),
    ("TAKE", ((3, 1, 2), 2), ((3, 1),)),
    ("TAKE", ((3, 1, 2), 5), ((3, 1, 2),)),
    ("APPEND", ((3, 1), 7), ((3, 1, 7),)),
    ("POP", ((3, 1, 2),), ((3, 1), 2)),
    ("SHIFT", ((3, 1, 2),), ((1, 2), 3)),
    ("MAP_INC", ((3, -1),), ((4, 0),)),
    ("MAP_DEC", ((3, -1),), ((2, -2),)),
    ("MAP_DOUBLE", ((3, -1),), ((6, -2),)),
    ("MAP_NEG", ((3, -1),), ((-3, 1),)),
    ("MAP_SQUARE", ((3, -1),), ((9, 1),)),
    ("FILTER_POS", ((3, -1, 0, 2),), ((3, 2),)),
    ("FILTER_NEG", ((3, -1, 0, 2),), ((-1,),)),
    ("FILTER_EVEN", ((3, -1, 0, 2),), ((0, 2),)),
    ("FILTER_ODD", ((3, -1, 0, 2),), ((3, -1),)),
    ("CSWAP 0 2", ((3, 1, 2),), ((2, 1, 3),)),
    ("CSWAP 1 2", ((3, 1, 2),), ((3, 1, 2),)),  # already in order
    ("JZ +1; PUSH 5", (0,), ()),  # zero: skip PUSH 5
    ("JZ +1; PUSH 5", (7,), (5,)),  # not zero: fall through
    ("JZ +8", (0,), ()),  # a jump past the end ends the run
    ("DUP; JZ +4; PUSH 1; SUB; JMP -4", (3,), (0,)),  # count down to zero
    ("ARG; ARG; ADD", (), (14,)),
    ("LOAD 1", (), ((5, 6),)),
    ("PUSH 4; STORE 0; LOAD 0; LOAD 0; MUL", (), (16,)),
]


@pytest.mark.parametrize(("text", "inputs", "stack"), KNOWN_STACKS)
def test_every_instruction_on_known_answers(text: str, inputs: tuple[object, ...], stack: tuple[object, ...]) -> None:
    res = _run(text, *inputs, arg=7, fields=(1, (5, 6)))
    assert res.status == "ok", res.reason
    assert res.stack == stack
    assert res.output == (stack[-1] if stack else None)


def test_the_table_covers_every_opcode() -> None:
    covered = {ins.op for text, _, _ in KNOWN_STACKS for ins in parse_program(text).instrs}
    assert covered == {ins.op for ins in ALL_INSTRUCTIONS}


def test_fields_carry_results_and_steps_are_counted() -> None:
    res = _run("LOAD 0; PUSH 2; ADD; STORE 0", fields=(5,))
    assert res.ok and res.fields == (7,) and res.output is None and res.steps == 4
    assert _run("DUP; JZ +4; PUSH 1; SUB; JMP -4", 2).steps == 5 * 2 + 2  # two rounds, then DUP and JZ


def test_text_form_round_trips() -> None:
    program = parse_program("PUSH 3; MUL\nPUSH -1;; CSWAP 0 2; JZ +2; JMP -3; LOAD 0; MAP_SQUARE")
    assert program.text() == "PUSH 3; MUL; PUSH -1; CSWAP 0 2; JZ +2; JMP -3; LOAD 0; MAP_SQUARE"
    assert parse_program(program.text()) == program
    assert all(instr(str(i)) == i for i in ALL_INSTRUCTIONS)
    assert len(set(map(str, ALL_INSTRUCTIONS))) == len(ALL_INSTRUCTIONS)
    for bad in ("PUSH 10", "PUSH", "CSWAP 2 1", "JZ 2", "JMP +1", "FOO", "LOAD 4"):
        with pytest.raises(ValueError, match="unknown instruction"):
            parse_program(bad)
    assert value_text((1, 2)) == "[1, 2]" and value_text(None) == "-"


def test_step_limit_ends_an_infinite_loop_as_timeout() -> None:
    res = _run("DUP; DROP; JMP -2", 1)
    assert res.status == "timeout" and res.steps == 1000 and "step limit" in res.reason
    assert _run("JMP -1").status == "error"  # at pc 0 it jumps before the start
    # the step limit comes first when the stack limit is far away
    assert _run("PUSH 0; JMP -1", limits=Limits(max_steps=10, max_stack=100)).status == "timeout"


def test_stack_overflow_and_list_growth_are_errors() -> None:
    res = _run("PUSH 1; JMP -1")
    assert res.status == "error" and "stack overflow" in res.reason
    res = _run("NIL; PUSH 1; APPEND; JMP -2")
    assert res.status == "error" and "list too long" in res.reason
    assert _run("PUSH 1; APPEND", tuple(range(64))).status == "error"
    assert _run("PUSH 1", *range(64)).status == "error"  # the 65th item


def test_exploding_integers_are_errors() -> None:
    res = _run("PUSH 9; DUP; MUL; JMP -2")
    assert res.status == "error" and "overflow" in res.reason
    assert _run("MAP_SQUARE", (10**5, 1)).status == "error"
    assert _run("SUM", (10**9, 10**9)).status == "error"
    assert _run("INC", 10**9).status == "error"
    assert _run("DUP", 10**9 + 1).status == "error"  # inputs beyond the limit
    assert _run("DUP", 10**5, limits=Limits(max_int=10**4)).status == "error"


@pytest.mark.parametrize(
    ("text", "inputs", "reason"),
    [
        ("ADD", (1, (2,)), "expected an int"),
        ("SUM", (3,), "expected a list"),
        ("ADD", (1,), "empty stack"),
        ("SWAP", (1,), "two stack items"),
        ("DROP", (), "empty stack"),
        ("DIV", (1, 0), "division by zero"),
        ("MOD", (1, 0), "modulo by zero"),
        ("MAXL", ((),), "empty list"),
        ("HEAD", ((),), "empty list"),
        ("TAIL", ((),), "empty list"),
        ("POP", ((),), "empty list"),
        ("TAKE", ((1,), -1), "negative"),
        ("CSWAP 0 3", ((1, 2),), "outside a list"),
        ("JZ +1", ((1,),), "expected an int"),
        ("ARG", (), "no call argument"),
        ("LOAD 2", (), "no field"),
        ("STORE 3", (1,), "no field"),
    ],
)
def test_type_and_runtime_errors(text: str, inputs: tuple[object, ...], reason: str) -> None:
    res = _run(text, *inputs)
    assert res.status == "error" and reason in res.reason and "\n" not in res.reason
    assert res.output is None


def test_bad_inputs_and_instructions_are_errors_not_exceptions() -> None:
    assert _run("DUP", True).status == "error"
    assert _run("DUP", 1.5).status == "error"
    assert _run("DUP", [1, 2]).status == "error"  # lists are tuples in the language
    assert run([Instr("PUSH", 99)]).status == "error"
    assert run([Instr("FROB")]).status == "error"
    assert run(["PUSH 1"]).status == "error"  # type: ignore[list-item]
    assert _run("ARG", arg=1.5).status == "error"


def test_apply_matches_run_on_straight_line_code() -> None:
    program = parse_program("DUP; MAXL; SWAP; MINL; SUB")
    stack: tuple[object, ...] | str = ((3, 9, 4),)
    for ins in program.instrs:
        assert isinstance(stack, tuple)
        stack = apply(stack, ins)  # type: ignore[arg-type]
    assert stack == run(program, (3, 9, 4)).stack == (6,)
    assert isinstance(apply((1,), instr("SUM")), str)
    assert isinstance(apply((1,), instr("JZ +1")), str)
    assert isinstance(apply((1,) * 8, instr("DUP"), Limits(max_stack=8)), str)


def test_run_calls_carries_fields_and_stops_at_the_first_error() -> None:
    methods = {
        "push": parse_program("LOAD 0; ARG; APPEND; STORE 0"),
        "pop": parse_program("LOAD 0; POP; SWAP; STORE 0"),
    }
    results = run_calls(methods, ((),), [("push", 3), ("push", 4), ("pop", None), ("pop", None), ("pop", None)])
    assert [r.output for r in results[:4]] == [None, None, 4, 3]
    assert len(results) == 5 and results[4].status == "error" and "empty list" in results[4].reason
    assert run_calls(methods, ((),), [("peek", None)])[0].status == "error"


_VALUES = st.one_of(
    st.integers(-(10**12), 10**12),
    st.tuples(*[st.integers(-(10**10), 10**10)] * 3),
    st.lists(st.integers(-9, 9), max_size=70).map(tuple),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True),  # subnormals too: the nets flush denormals only inside their own calls
    st.text(max_size=3),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(st.sampled_from(ALL_INSTRUCTIONS), max_size=24),
    st.lists(_VALUES, max_size=4),
    _VALUES,
    st.lists(_VALUES, max_size=3),
    st.integers(1, 300),
)
def test_fuzz_never_raises(
    instrs: list[Instr], inputs: list[object], arg: object, fields: list[object], max_steps: int
) -> None:
    limits = Limits(max_steps=max_steps, max_stack=16, max_list=16, max_int=10**6)
    res = run(Program(tuple(instrs)), *inputs, limits=limits, arg=arg, fields=fields)
    assert isinstance(res, RunResult) and res.status in ("ok", "timeout", "error")
    assert res.steps <= max_steps
    assert "\n" not in res.reason
    if res.ok:
        assert len(res.stack) <= 16 and all(abs(v) <= 10**6 for v in res.stack if isinstance(v, int))
