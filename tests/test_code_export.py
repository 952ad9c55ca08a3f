"""Exported Python agrees with the interpreter (run only in the sandbox); the sandbox contains misbehaviour."""

from __future__ import annotations

import sys

import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.code.classes import CLASSES, ClassState, CodeClass
from zeroforge.tasks.code.common import to_json
from zeroforge.tasks.code.dsl import parse_program
from zeroforge.tasks.code.export import class_to_python, network_to_python, run_exported, to_python
from zeroforge.tasks.code.function import CodeFunction, FunctionState
from zeroforge.tasks.code.interpreter import run, run_calls

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the sandbox needs POSIX resource limits")


def test_straight_line_export_is_readable() -> None:
    source = to_python(parse_program("PUSH 3; MUL; PUSH 2; ADD"))
    assert source == 'def f(x):\n    """PUSH 3; MUL; PUSH 2; ADD"""\n    t1 = x * 3\n    t2 = t1 + 2\n    return t2\n'
    assert "while" not in to_python(parse_program("DUP; MAXL; SWAP; MINL; SUB"))
    assert "raise RuntimeError" in to_python(parse_program("DROP; DROP"))  # underflow known at export time
    assert "pc" in to_python(parse_program("DUP; JZ +1; NEG"))


def test_generated_function_programs_agree_with_the_interpreter() -> None:
    task = make_task("code_function")
    assert isinstance(task, CodeFunction)
    for level in (1, 2, 3):
        for seed in range(4):
            state = task.initial_state(seed, level)
            assert isinstance(state, FunctionState) and state.solution is not None
            cases = [*state.examples, *state.heldout]
            result = run_exported(to_python(state.solution), "f", [[to_json(x)] for x, _ in cases])
            assert result.ok, (state.solution, result)
            assert list(result.outputs) == [to_json(y) for _, y in cases]


@pytest.mark.parametrize(
    ("text", "inputs"),
    [
        ("DUP; POP; SWAP; SHIFT; SWAP; DROP; ADD; SWAP; LEN; MUL", [[(4, 5, 6)], [(1, 2)]]),
        ("CSWAP 0 2; CSWAP 0 1; DUP; HEAD; APPEND; TAIL", [[(3, 1, 2)], [(9, 8, 7, 6)]]),
        ("NIL; OVER; OVER; DROP; DROP; DROP; PUSH -1; MAX2; PUSH 0; EQ", [[0], [5]]),
        ("FILTER_ODD; MAP_NEG; SORT; MAP_DEC; REVERSE; PUSH 2; TAKE", [[(5, 2, 7, -3)], [()]]),
        ("DUP; PUSH 3; MOD; SWAP; PUSH 4; DIV; LT", [[-7], [11]]),
    ],
)
def test_hand_written_programs_agree(text: str, inputs: list[list[object]]) -> None:
    program = parse_program(text)
    expected = [run(program, *case) for case in inputs]
    assert all(r.ok for r in expected)
    result = run_exported(to_python(program), "f", [[to_json(v) for v in case] for case in inputs])  # type: ignore[arg-type]
    assert result.ok and list(result.outputs) == [to_json(r.output) for r in expected]


def test_a_loop_program_agrees() -> None:
    # sum 1..x with a loop: [acc, x] -> [acc + x, x - 1] until x == 0, then drop x
    program = parse_program("PUSH 0; SWAP; DUP; JZ +6; SWAP; OVER; ADD; SWAP; DEC; JMP -7; DROP")
    assert program.has_jumps
    # (a simpler check first: count down)
    countdown = parse_program("DUP; JZ +4; PUSH 1; SUB; JMP -4; PUSH 7")
    inputs = [0, 3, 5]
    want = [run(countdown, x).output for x in inputs]
    source = to_python(countdown)
    assert "while pc < 6:" in source
    result = run_exported(source, "f", [[x] for x in inputs])
    assert result.ok and list(result.outputs) == want == [0, 0, 0]
    sums = [run(program, x) for x in inputs]
    result = run_exported(to_python(program), "f", [[x] for x in inputs])
    assert [r.output for r in sums] == [0, 6, 15]
    assert result.ok and list(result.outputs) == [0, 6, 15]


def test_class_exports_agree_with_run_calls() -> None:
    task = make_task("code_class")
    assert isinstance(task, CodeClass)
    for level in (1, 2, 3):
        for seed in range(3):
            state = task.initial_state(seed, level)
            assert isinstance(state, ClassState) and state.solution is not None
            spec = CLASSES[state.class_name]
            bodies = dict(zip(state.methods, state.solution, strict=True))
            methods = [(m, bodies[m], spec.methods[m]) for m in state.methods]
            source = class_to_python(state.class_name.capitalize(), methods, spec.fields)
            seqs = [*state.calls, *state.heldout]
            cases = [[[m] if a is None else [m, a] for m, a, _ in seq] for seq in seqs]
            result = run_exported(source, state.class_name.capitalize(), cases)
            assert result.ok, result
            for seq, out in zip(seqs, result.outputs, strict=True):
                want = [to_json(r.output) for r in run_calls(bodies, spec.fields, [(m, a) for m, a, _ in seq])]
                assert out == want


def test_network_export_sorts() -> None:
    source = network_to_python([(0, 1), (2, 3), (0, 2), (1, 3), (1, 2)])
    assert "if a[0] > a[1]: a[0], a[1] = a[1], a[0]" in source
    cases = [[[3, 1, 4, 2]], [[4, 3, 2, 1]], [[1, 0, 1, 0]]]
    result = run_exported(source, "sort", cases)
    assert result.ok and list(result.outputs) == [[1, 2, 3, 4], [1, 2, 3, 4], [0, 0, 1, 1]]


def test_an_exported_infinite_loop_times_out() -> None:
    program = parse_program("DUP; DROP; JMP -2")
    assert run(program, 1).status == "timeout"
    result = run_exported(to_python(program), "f", [[1]], timeout_s=1.0)
    assert result.status == "timeout" and not result.ok


def test_the_sandbox_contains_misbehaviour() -> None:
    memory = run_exported("x = bytearray(2 * 1024 ** 3)\ndef f():\n    return 1\n", "f", [[]], memory_mb=256)
    assert memory.status == "error" and "MemoryError" in memory.reason
    syntax = run_exported("def f(:\n", "f", [[]])
    assert syntax.status == "error" and "SyntaxError" in syntax.reason
    assert run_exported("def f():\n    return 1\n", "g", [[]]).status == "error"  # no such name
    assert run_exported("def f():\n    return 1\n", "f; import os", [[]]).status == "error"
    raised = run_exported("def f(x):\n    return 1 // x\n", "f", [[1], [0]])
    assert raised.status == "ok" and not raised.ok
    assert raised.outputs == (1, None) and raised.errors[0] is None and "ZeroDivisionError" in str(raised.errors[1])
    noisy = run_exported("import sys\ndef f():\n    print('noise'); sys.stderr.write('x')\n    return 2\n", "f", [[]])
    assert noisy.ok and noisy.outputs == (2,)
    exits = run_exported("import sys\nsys.exit(3)\n", "f", [[]])
    assert exits.status == "error"
    unserialisable = run_exported("def f():\n    return object()\n", "f", [[]])
    assert unserialisable.status == "ok" and not unserialisable.ok
