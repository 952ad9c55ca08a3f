"""The three code-synthesis tasks: hand-written solutions, held-out generalisation, generation, parsing, fuzzing."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zeroforge.tasks import Task, make_task
from zeroforge.tasks.code.classes import CLASS_INSTRUCTIONS, END, ClassState, CodeClass
from zeroforge.tasks.code.common import NONE, int_token
from zeroforge.tasks.code.function import (
    BUDGET,
    EXAMPLE,
    FUNCTION_INSTRUCTIONS,
    IN,
    INSTR,
    LEVEL_BUDGETS,
    OUT,
    RETURN,
    STACK,
    CodeFunction,
    FunctionState,
)
from zeroforge.tasks.code.sorting import OPTIMAL_SIZE, CodeSort, SortState, unsorted_binary_vectors
from zeroforge.tasks.structured import POINTER_KIND_BASE, TOKEN_VOCAB, check_episode

# ------------------------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def fn() -> CodeFunction:
    t = make_task("code_function")
    assert isinstance(t, CodeFunction)
    return t


@pytest.fixture(scope="module")
def srt() -> CodeSort:
    t = make_task("code_sort")
    assert isinstance(t, CodeSort)
    return t


@pytest.fixture(scope="module")
def cls() -> CodeClass:
    t = make_task("code_class")
    assert isinstance(t, CodeClass)
    return t


def _write(task: CodeFunction, state: FunctionState, program: str, finish: bool = True) -> FunctionState:
    for part in program.split(";"):
        nxt = task.step(state, task.encode(part))
        assert isinstance(nxt, FunctionState)
        state = nxt
    if finish and not state.terminal:
        nxt = task.step(state, RETURN)
        assert isinstance(nxt, FunctionState)
        state = nxt
    return state


def _examples(f: Any, inputs: list[Any]) -> list[dict[str, Any]]:
    return [{"input": x, "output": f(x)} for x in inputs]


def _write_class(task: CodeClass, state: ClassState, bodies: list[str]) -> ClassState:
    for body in bodies:
        for part in filter(None, (p.strip() for p in body.split(";"))):
            if state.terminal:  # the last method already makes every visible sequence pass
                return state
            nxt = task.step(state, task.encode(part))
            assert isinstance(nxt, ClassState)
            state = nxt
        if not state.terminal:
            nxt = task.step(state, END)
            assert isinstance(nxt, ClassState)
            state = nxt
    return state


# ---------------------------------------------------------------------------------------- functions


# value tokens: role + (INT, LIST, ELEM); an int feature is v + 512
INT, LIST, ELEM = 0, 1, 2


def test_function_sizes(fn: CodeFunction) -> None:
    assert (fn.num_actions, fn.max_episode_steps, fn.difficulty_levels) == (45, 8, 3)
    assert fn.structured and (fn.seq_len, fn.vocab_size) == (1 + 8 + 8 * (1 + 10 * 7), TOKEN_VOCAB) == (577, 1024)
    assert fn.bounds == {"examples": 8, "budget": 8, "list_length": 6}
    assert len(set(FUNCTION_INSTRUCTIONS)) == 44
    assert CodeFunction(num_examples=8).seq_len == CodeFunction(num_examples=1).seq_len == 577


def test_affine_function_solved_by_hand(fn: CodeFunction) -> None:
    text = json.dumps(
        {
            "kind": "function",
            "examples": _examples(lambda x: 3 * x + 2, [0, 1, 4, -2, 7]),
            "heldout": _examples(lambda x: 3 * x + 2, [10, -5, 3]),
            "solution": "PUSH 3; MUL; PUSH 2; ADD",
        }
    )
    state = fn.parse(text)
    first = "code_function: find f with f(0) = 2; f(1) = 5; f(4) = 14; f(-2) = -4; f(7) = 23"
    assert state.to_text().splitlines()[0] == first
    assert not state.legal_action_mask[RETURN]  # nothing to return yet
    assert not state.legal_action_mask[fn.encode("SUM")]  # a type error on every input
    # observation: the budget token, then example 0 on row 1: f(0) = 2, stack [0]
    obs = state.observation.tolist()
    assert obs[:5] == [
        [BUDGET, 8, 8, 0, 0],
        [EXAMPLE, 1, 0, 1, 0],  # stack depth 1, top is not the output
        [IN + INT, 512, 0, 1, 1],
        [OUT + INT, 514, 0, 1, 8],
        [STACK + INT, 512, 0, 1, 15],
    ]
    assert len(obs) == 1 + 5 * 4 and [t[3] for t in obs[5:9]] == [2] * 4  # example 1 on row 2
    mid = _write(fn, state, "PUSH 3; MUL", finish=False)
    assert "top of stack: f(0) -> 0; f(1) -> 3; f(4) -> 12" in mid.to_text()
    obs = mid.observation.tolist()
    assert obs[1:3] == [[INSTR, fn.encode("PUSH 3"), 0, 0, 1], [INSTR, fn.encode("MUL"), 0, 0, 2]]
    assert obs[0] == [BUDGET, 6, 8, 0, 0] and obs[6] == [STACK + INT, 512, 0, 1, 15]
    assert obs[7:11] == [[EXAMPLE, 1, 0, 2, 0], [IN + INT, 513, 0, 2, 1], [OUT + INT, 517, 0, 2, 8],
                         [STACK + INT, 515, 0, 2, 15]]
    two = _write(fn, mid, "PUSH 2", finish=False)  # stack [3x, 2]: the top first, then the item below
    assert two.observation[4:9].tolist() == [
        [EXAMPLE, 2, 1, 1, 0],  # f(0): depth 2, and the top 2 is the output already
        [IN + INT, 512, 0, 1, 1], [OUT + INT, 514, 0, 1, 8], [STACK + INT, 514, 0, 1, 15], [STACK + INT, 512, 1, 1, 22]
    ]
    done = _write(fn, mid, "PUSH 2; ADD")
    assert done.terminal and done.rewards.tolist() == [1.0] and fn.outcome(done) == "success"
    assert fn.score(done) == 1.0 and fn.heldout_pass_rate(done) == 1.0
    assert done.step_count == 4 and not done.returned  # it ended by itself once the outputs matched
    answer = fn.answer(done)
    assert isinstance(answer, str) and answer.startswith("def f(x):") and "t1 = x * 3" in answer
    # a longer correct program scores less
    longer = _write(fn, state, "DUP; PUSH 2; MUL; ADD; PUSH 2; ADD")
    assert fn.outcome(longer) == "success" and fn.score(longer) == pytest.approx(4 / 6)


def test_max_and_reverse_of_a_list(fn: CodeFunction) -> None:
    lists = [[3, 1, 2], [-4, 0], [5], [1, 9, 9, 2], [2, 2, 8, -1, 0]]
    mx = fn.parse(json.dumps({"kind": "function", "examples": _examples(max, lists)}))
    done = _write(fn, mx, "MAXL")
    assert fn.outcome(done) == "success" and fn.score(done) is None  # no reference: no score
    assert fn.heldout_pass_rate(done) is None  # no held-out examples
    assert fn.outcome(_write(fn, mx, "HEAD")) == "failure"
    rev = fn.parse(json.dumps({"kind": "function", "examples": _examples(lambda v: v[::-1], lists)}))
    assert rev.observation[2:6].tolist() == [[IN + LIST, 3, 0, 1, 1], [IN + ELEM, 515, 0, 1, 2],
                                             [IN + ELEM, 513, 0, 1, 3], [IN + ELEM, 514, 0, 1, 4]]
    done = _write(fn, rev, "REVERSE")
    assert done.rewards.tolist() == [1.0]
    assert fn.answer(done) == 'def f(x):\n    """REVERSE"""\n    t1 = x[::-1]\n    return t1\n'


def test_wrong_programs_fail_and_memorising_programs_fail_held_out(fn: CodeFunction) -> None:
    # visible: the maximum is always the last element; held-out: not
    text = json.dumps(
        {
            "kind": "function",
            "examples": _examples(max, [[1, 2, 3], [0, 5], [-3, -1], [4, 4, 7]]),
            "heldout": _examples(max, [[3, 2, 1], [9, 0], [1, 5, 2], [2, 3]]),
            "solution": "MAXL",
        }
    )
    state = fn.parse(text)
    wrong = _write(fn, state, "HEAD")
    assert wrong.terminal and wrong.rewards.tolist() == [-1.0] and fn.outcome(wrong) == "failure"
    assert fn.score(wrong) == 0.0 and fn.answer(wrong) is None
    memorised = _write(fn, state, "LAST")
    assert memorised.rewards.tolist() == [1.0] and fn.heldout_pass_rate(memorised) == 0.25
    right = _write(fn, state, "MAXL")
    assert fn.heldout_pass_rate(right) == 1.0
    assert fn.heldout_pass_rate(state) is None  # not finished


def test_function_budget_ends_the_episode(fn: CodeFunction) -> None:
    state = fn.parse(json.dumps({"kind": "function", "examples": _examples(lambda x: x + 2, [1, 2]), "budget": 2}))
    one = _write(fn, state, "INC", finish=False)
    assert not one.terminal
    two = _write(fn, one, "INC", finish=False)
    assert two.terminal and two.step_count == 2 and fn.outcome(two) == "success"
    assert not two.legal_action_mask.any()
    three = _write(fn, _write(fn, state, "NEG", finish=False), "NEG", finish=False)
    assert three.terminal and three.rewards.tolist() == [-1.0]


@pytest.mark.parametrize("level", [1, 2, 3])
def test_every_generated_function_is_solvable_by_its_reference(fn: CodeFunction, level: int) -> None:
    lo, hi = ((1, 1), (2, 3), (4, 6))[level - 1]
    names = set()
    for seed in range(25):
        state = fn.initial_state(seed, level)
        assert isinstance(state, FunctionState) and state.solution is not None
        assert lo <= len(state.solution) <= hi and len(state.solution) <= state.budget == LEVEL_BUDGETS[level - 1]
        assert len(state.examples) == 5 and len(state.heldout) == 10
        assert len({y for _, y in state.examples}) > 1
        s = state
        for ins in state.solution.instrs:
            if s.terminal:  # a prefix of the reference already gives every visible output
                break
            a = FUNCTION_INSTRUCTIONS.index(ins)
            assert s.legal_action_mask[a], (state.solution, ins)
            nxt = fn.step(s, a)
            assert isinstance(nxt, FunctionState)
            s = nxt
        if not s.terminal:
            s = fn.step(s, RETURN)  # type: ignore[assignment]
        assert s.rewards.tolist() == [1.0] and fn.score(s) == 1.0 and fn.heldout_pass_rate(s) == 1.0
        names.add(state.solution.text().split(";")[0])
    assert len(names) >= 3  # templates vary


def test_function_levels_get_harder(fn: CodeFunction) -> None:
    mean_len = [np.mean([len(fn.initial_state(s, lv).solution or ()) for s in range(20)]) for lv in (1, 2, 3)]
    assert mean_len[0] == 1 < mean_len[1] < mean_len[2]


def _fn_instance(f: Any, inputs: list[Any], **extra: Any) -> str:
    return json.dumps({"kind": "function", "examples": _examples(f, inputs), **extra})


def _play_checked(task: CodeFunction, state: FunctionState, actions: list[int]) -> FunctionState:
    end = check_episode(task, state, actions)
    assert isinstance(end, FunctionState)
    return end


def test_function_pointers_are_global(fn: CodeFunction) -> None:
    kind = POINTER_KIND_BASE["code_function"]
    state = fn.parse(_fn_instance(lambda v: sorted(v), [[3, 1], [2, 5, 0]]))
    ptr = state.action_pointers()
    assert ptr.shape == (45, 3) and ptr.dtype == np.int64 and not ptr.flags.writeable
    assert ptr[fn.encode("SORT")].tolist() == [kind + fn.encode("SORT"), 0, 0]  # reads the summary token
    assert state.legal_action_mask[fn.encode("SUM")] and ptr[fn.encode("SUM")].tolist() == [kind + 26, 0, 0]
    assert not ptr[RETURN].any() and not ptr[fn.encode("ADD")].any()  # illegal: zero rows
    legal = np.flatnonzero(state.legal_action_mask)
    assert (ptr[legal, 0] == kind + legal).all() and not ptr[legal, 1:].any()
    nxt = _play_checked(fn, state, [fn.encode("REVERSE")])
    assert nxt.action_pointers()[RETURN].tolist() == [kind + 44, 0, 0]
    done = _play_checked(fn, state, [fn.encode("SORT")])
    assert done.terminal and not done.action_pointers().any()


def test_one_function_task_reads_every_size_within_the_bounds(fn: CodeFunction) -> None:
    assert fn.num_examples == 5
    eight = fn.parse(_fn_instance(lambda x: x * x, [-3, -2, -1, 0, 1, 2, 3, 4], budget=2))  # 8 examples: the bound
    assert len(eight.examples) == 8 and eight.observation.shape == (1 + 8 * 4, 5)
    assert eight.observation[:, 3].max() == 8  # example 7 on row 8
    done = _play_checked(fn, eight, [fn.encode("DUP"), fn.encode("MUL")])
    assert done.terminal and fn.outcome(done) == "success"
    one = fn.parse(_fn_instance(lambda v: v[::-1], [[1, 2, 3, 4, 5, 6]], budget=1))  # a 6-element list, budget 1
    assert one.observation.shape == (1 + 1 + 3 * 7, 5) and one.observation[:, 4].max() == 15 + 6
    done = _play_checked(fn, one, [fn.encode("REVERSE")])
    assert fn.outcome(done) == "success" and fn.parse(fn.instance_text(one)) == one
    over = _play_checked(fn, one, [fn.encode("DUP")])
    assert over.terminal and fn.outcome(over) == "failure"  # the budget of 1 is spent
    rng = np.random.default_rng(0)
    for level in (1, 2, 3):  # random play checks the contract at the generator's sizes too
        state = fn.initial_state(4, level)
        assert isinstance(state, FunctionState)
        while not state.terminal:
            state = _play_checked(fn, state, [int(rng.choice(np.flatnonzero(state.legal_action_mask)))])


def test_function_instances_beyond_the_bounds_are_one_line_errors(fn: CodeFunction) -> None:
    cases = [
        (_fn_instance(lambda x: x, list(range(9))), "code_function: an instance of 9 examples is beyond the bound of"),
        (_fn_instance(lambda x: x, [1], budget=9), "code_function: a budget of 9 is beyond the bound 8"),
        (_fn_instance(lambda x: 1, [[1] * 7]), "code_function: examples\\[0\\] input: a list of 7 items is beyond the"),
        (_fn_instance(lambda x: [0] * 7, [1]), "examples\\[0\\] output: a list of 7 items is beyond the bound of 6"),
        (json.dumps({"kind": "function", "examples": _examples(lambda x: x, [1]),
                     "heldout": _examples(lambda x: x, [[1] * 9])}), "heldout\\[0\\] input: a list of 9 items"),
    ]
    for text, message in cases:
        with pytest.raises(ValueError, match=message) as info:
            fn.parse(text)
        assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="beyond the bound of 8 examples"):
        CodeFunction(num_examples=1).make_state([(k, k) for k in range(9)])


def test_function_demonstration_known_answers(fn: CodeFunction) -> None:
    affine = fn.parse(_fn_instance(lambda x: 3 * x + 2, [0, 1, 4, -2, 7], solution="PUSH 3; MUL; PUSH 2; ADD",
                                   heldout=_examples(lambda x: 3 * x + 2, [10, -5])))
    demo = fn.demonstration(affine)
    assert demo == [fn.encode(t) for t in ("PUSH 3", "MUL", "PUSH 2", "ADD")]  # the reference
    done = _play_checked(fn, affine, demo)
    assert fn.outcome(done) == "success" and fn.score(done) == 1.0 and fn.heldout_pass_rate(done) == 1.0
    mid = _play_checked(fn, affine, demo[:2])
    assert fn.demonstration(mid) == demo[2:]
    # no reference: breadth-first search, the first shortest program in action order
    plus_two = fn.parse(_fn_instance(lambda x: x + 2, [1, 2, 5]))
    assert fn.demonstration(plus_two) == [fn.encode("PUSH 2"), fn.encode("ADD")]
    lists = [[3, 1, 2], [-4, 0], [5]]
    assert fn.demonstration(fn.parse(_fn_instance(max, lists))) == [fn.encode("MAXL")]
    # one example: PUSH 8 (action 9) comes before INC (a memorising program is shortest too)
    assert fn.demonstration(fn.parse(_fn_instance(lambda x: x + 1, [7], budget=1))) == [fn.encode("PUSH 8")]
    # a program that went astray from the reference: search from there (INC after INC for x + 2)
    with_ref = fn.parse(_fn_instance(lambda x: x + 2, [1, 2, 5], solution="PUSH 2; ADD"))
    astray = _play_checked(fn, with_ref, [fn.encode("INC")])
    assert fn.demonstration(astray) == [fn.encode("INC")]
    done_astray = _play_checked(fn, astray, [fn.encode("INC")])
    assert fn.outcome(done_astray) == "success" and fn.score(done_astray) == 1.0
    # nothing of 2 instructions maps 1 to 999999: every one of them was tried
    assert fn.demonstration(fn.parse(_fn_instance(lambda x: 999_999, [1], budget=2))) is None
    assert fn.demonstration(done) == [] and fn.demonstration(_write(fn, affine, "NEG")) is None  # failed: None


@pytest.mark.parametrize("level", [1, 2, 3])
def test_function_demonstration_of_generated_instances(fn: CodeFunction, level: int) -> None:
    for seed in range(8):
        state = fn.initial_state(seed, level)
        assert isinstance(state, FunctionState) and state.solution is not None
        demo = fn.demonstration(state)
        assert demo is not None and len(demo) <= len(state.solution)
        done = _play_checked(fn, state, demo)
        assert fn.outcome(done) == "success" and fn.score(done) == 1.0 and fn.heldout_pass_rate(done) == 1.0


# ------------------------------------------------------------------------------------------ sorting

KNOWN_NETWORKS = {
    2: [(0, 1)],
    3: [(0, 1), (0, 2), (1, 2)],
    4: [(0, 1), (2, 3), (0, 2), (1, 3), (1, 2)],
    5: [(0, 1), (3, 4), (2, 4), (2, 3), (0, 3), (0, 2), (1, 4), (1, 3), (1, 2)],
    6: [(1, 2), (4, 5), (0, 2), (3, 5), (0, 1), (3, 4), (2, 5), (0, 3), (1, 4), (2, 4), (1, 3), (2, 3)],
}


def _play_network(task: CodeSort, state: SortState, pairs: list[tuple[int, int]]) -> SortState:
    for i, j in pairs:
        assert not state.terminal
        nxt = task.step(state, task.encode_action(i, j))
        assert isinstance(nxt, SortState)
        state = nxt
    return state


def test_known_networks_are_optimal_sorting_networks() -> None:
    for n, pairs in KNOWN_NETWORKS.items():
        assert len(pairs) == OPTIMAL_SIZE[n]
        for v in unsorted_binary_vectors(n):
            w = list(v)
            for i, j in pairs:
                if w[i] > w[j]:
                    w[i], w[j] = w[j], w[i]
            assert w == sorted(w), (n, v)
    assert len(unsorted_binary_vectors(4)) == 2**4 - 4 - 1


def test_sort_sizes(srt: CodeSort) -> None:
    assert (srt.num_actions, srt.max_episode_steps, srt.difficulty_levels, srt.seq_len) == (6, 7, 3, 42)
    assert CodeSort(length=6).num_actions == 15 and CodeSort(length=6).max_episode_steps == 14


def test_optimal_networks_for_three_and_four_score_one(srt: CodeSort) -> None:
    three = srt.initial_state(0, 2)
    assert three.m == 3 and not three.legal_action_mask[srt.encode_action(0, 3)]
    done = _play_network(srt, three, KNOWN_NETWORKS[3])
    assert done.terminal and done.rewards.tolist() == [1.0] and srt.score(done) == 1.0
    four = _play_network(srt, srt.initial_state(0), KNOWN_NETWORKS[4])
    assert four.terminal and four.step_count == 5 and srt.outcome(four) == "success"
    assert srt.score(four) == 1.0 and srt.heldout_pass_rate(four) == 1.0
    answer = srt.answer(four)
    assert isinstance(answer, str) and answer.count("if a[") == 5
    assert "if a[1] > a[2]: a[1], a[2] = a[2], a[1]" in answer


def test_a_network_sorting_only_the_visible_arrays_fails_held_out(srt: CodeSort) -> None:
    state = srt.parse('{"kind": "algorithm", "name": "sort", "length": 3, "examples": [[1, 0, 0]]}')
    assert state.heldout == ((0, 1, 0), (1, 0, 1), (1, 1, 0))  # every other unsorted 0-1 vector
    done = _play_network(srt, state, [(0, 2)])
    assert done.terminal and done.rewards.tolist() == [1.0]
    rate = srt.heldout_pass_rate(done)
    assert rate is not None and rate < 1.0
    assert rate == pytest.approx(1 / 3)  # CSWAP 0 2 sorts 110 but neither 010 nor 101


def test_sort_fails_at_the_budget(srt: CodeSort) -> None:
    state = srt.initial_state(1)
    s = _play_network(srt, state, [(0, 1)] * state.budget)
    assert s.terminal and s.step_count == OPTIMAL_SIZE[4] + 2 and s.rewards.tolist() == [-1.0]
    assert srt.score(s) == 0.0 and srt.answer(s) is None


@pytest.mark.parametrize("length", [2, 3, 4, 5, 6])
def test_every_sort_level_is_solvable_by_an_optimal_network(length: int) -> None:
    task = CodeSort(length=6)
    for seed in range(4):
        state = task.initial_state(seed, length - 1)
        assert state.m == length and state.budget == OPTIMAL_SIZE[length] + 2
        assert set(state.examples).isdisjoint(state.heldout)
        assert len(state.examples) + len(state.heldout) == 2**length - length - 1
        done = _play_network(task, state, KNOWN_NETWORKS[length])
        assert task.outcome(done) == "success" and task.score(done) == 1.0
        assert task.heldout_pass_rate(done) in (None, 1.0)


# ------------------------------------------------------------------------------------------ classes


def _counter_text(calls: list[Any], heldout: list[Any] | None = None) -> str:
    data: dict[str, Any] = {"kind": "class", "name": "counter", "methods": ["inc", "get"], "calls": calls}
    if heldout is not None:
        data["heldout"] = heldout
    return json.dumps(data)


def test_class_sizes(cls: CodeClass) -> None:
    assert (cls.num_actions, cls.max_episode_steps, cls.difficulty_levels) == (20, 15, 3)
    assert (cls.seq_len, cls.vocab_size) == (14 + 7 * 2 * 6, 125)
    assert len(CLASS_INSTRUCTIONS) == END == 19


def test_a_counter_solved_by_hand(cls: CodeClass) -> None:
    calls = [[[["inc"], None], [["inc"], None], [["get"], 2], [["inc"], None], [["get"], 3]]]
    state = cls.parse(_counter_text(calls))
    assert state.legal_action_mask[END] and not state.legal_action_mask[cls.encode("ARG")]  # inc takes no argument
    assert not state.legal_action_mask[cls.encode("APPEND")]
    inc = _write_class(cls, state, ["LOAD 0; PUSH 1; ADD; STORE 0"])
    # before get is written the observation already shows inc's effect: the field after each call
    calls_obs = inc.observation[14:].reshape(-1, 7)[:5]
    assert calls_obs[:, 4].tolist() == [int_token(v) for v in (1, 2, 2, 3, 3)]
    assert calls_obs[:, 3].tolist() == [NONE, NONE, NONE, NONE, NONE]  # get (still empty) returns nothing
    done = _write_class(cls, state, ["LOAD 0; PUSH 1; ADD; STORE 0", "LOAD 0"])
    assert done.terminal and done.rewards.tolist() == [1.0] and cls.outcome(done) == "success"
    assert done.step_count == 6  # the last END is implied once every visible sequence passes
    answer = cls.answer(done)
    assert isinstance(answer, str) and answer.startswith("class Counter:") and "def get(self, arg=None):" in answer
    text = done.to_text()
    assert "inc: LOAD 0; PUSH 1; ADD; STORE 0" in text and "get() = 3 (now 3)" in text


def test_a_stack_solved_by_hand(cls: CodeClass) -> None:
    calls = [
        [[["push", 3], None], [["push", 5], None], [["pop"], 5], [["size"], 1], [["pop"], 3], [["size"], 0]],
        [[["push", 7], None], [["size"], 1], [["push", 1], None], [["pop"], 1]],
    ]
    text = json.dumps(
        {
            "kind": "class",
            "name": "stack",
            "methods": ["push", "pop", "size"],
            "calls": calls,
            "heldout": [[[["push", 2], None], [["push", 4], None], [["pop"], 4], [["pop"], 2]]],
            "solution": ["LOAD 0; ARG; APPEND; STORE 0", "LOAD 0; POP; SWAP; STORE 0", "LOAD 0; LEN"],
        }
    )
    state = cls.parse(text)
    assert state.budget == cls.max_episode_steps
    half = _write_class(cls, state, ["LOAD 0; ARG; APPEND; STORE 0"])
    assert not half.legal_action_mask[cls.encode("ARG")]  # pop takes no argument
    mid = _write_class(cls, half, ["LOAD 0; POP"])  # pop not finished yet: it returns the element already
    assert "pop() = 5 (now 5)" in mid.to_text()
    done = _write_class(cls, state, ["LOAD 0; ARG; APPEND; STORE 0", "LOAD 0; POP; SWAP; STORE 0", "LOAD 0; LEN"])
    assert done.rewards.tolist() == [1.0] and cls.score(done) == 1.0 and cls.heldout_pass_rate(done) == 1.0
    # pop without storing the shorter list back: the second pop returns 5 again
    wrong = _write_class(cls, state, ["LOAD 0; ARG; APPEND; STORE 0", "LOAD 0; LAST", "LOAD 0; LEN"])
    assert wrong.rewards.tolist() == [-1.0] and cls.outcome(wrong) == "failure" and cls.score(wrong) == 0.0


def test_a_memorising_counter_fails_held_out(cls: CodeClass) -> None:
    calls = [[[["inc"], None], [["inc"], None], [["get"], 2]], [[["inc"], None], [["inc"], None], [["get"], 2]]]
    heldout = [[[["inc"], None], [["get"], 1]], [[["inc"], None], [["inc"], None], [["get"], 2]]]
    state = cls.parse(_counter_text(calls, heldout))
    memorised = _write_class(cls, state, ["", "PUSH 2"])
    assert memorised.rewards.tolist() == [1.0] and cls.heldout_pass_rate(memorised) == 0.5
    right = _write_class(cls, state, ["LOAD 0; PUSH 1; ADD; STORE 0", "LOAD 0"])
    assert cls.heldout_pass_rate(right) == 1.0


def test_the_budget_ends_a_class_episode(cls: CodeClass) -> None:
    state = cls.parse(_counter_text([[[["inc"], None], [["get"], 1]]]).replace('"calls"', '"budget": 3, "calls"'))
    s = _write_class(cls, state, ["LOAD 0; PUSH 1; ADD"])
    assert s.terminal and s.step_count == 3 and s.rewards.tolist() == [-1.0]


@pytest.mark.parametrize("level", [1, 2, 3])
def test_every_generated_class_is_solvable_by_its_reference(cls: CodeClass, level: int) -> None:
    seen = set()
    for seed in range(15):
        state = cls.initial_state(seed, level)
        assert isinstance(state, ClassState) and state.solution is not None
        size = sum(len(p) + 1 for p in state.solution)
        assert size <= state.budget <= cls.max_episode_steps
        assert len(state.calls) == 2 and len(state.heldout) == 4
        assert {m for q in state.calls for m, _, _ in q} == set(state.methods)
        done = _write_class(cls, state, [p.text() for p in state.solution])
        assert done.rewards.tolist() == [1.0] and cls.score(done) == 1.0 and cls.heldout_pass_rate(done) == 1.0
        seen.add((state.class_name, state.methods))
    assert len(seen) >= 2


# ------------------------------------------------------------------------------------------- parsing

_F1 = '{"kind": "function", "examples": [{"input": 1, "output": 2}]'
_STACK = '{"kind": "class", "name": "stack", '
BAD_INSTANCES = [
    ("code_function", "", "malformed JSON"),
    ("code_function", "[1]", "must be a JSON object"),
    ("code_function", '{"kind": "function"}', "missing the key 'examples'"),
    ("code_function", '{"kind": "class", "examples": [{"input": 1, "output": 2}]}', "kind must be 'function'"),
    ("code_function", '{"kind": "function", "examples": []}', "1..8 items"),
    ("code_function", '{"kind": "function", "examples": [{"input": 1.5, "output": 2}]}', "integer"),
    ("code_function", '{"kind": "function", "examples": [{"input": 1, "output": 10000000}]}', "-1000000..1000000"),
    ("code_function", '{"kind": "function", "examples": [{"input": [1,2,3,4,5,6,7], "output": 1}]}', "bound of 6"),
    ("code_function", '{"kind": "function", "examples": [{"input": true, "output": 1}]}', "integer"),
    ("code_function", '{"kind": "function", "examples": [{"in": 1, "output": 1}]}', "exactly 'input'"),
    ("code_function", '{"kind": "function", "examples": [{"input": 1, "output": 1}], "x": 1}', "unknown keys"),
    ("code_function", '{"kind": "function", "examples": [{"input": 1, "output": 1}], "budget": 9}', "budget"),
    ("code_function", _F1 + ', "solution": "NEG"}', "fails"),
    ("code_function", _F1 + ', "solution": "FOO"}', "bad solution"),
    ("code_function", _F1 + ', "solution": 3}', "program text"),
    ("code_sort", '{"kind": "algorithm", "name": "sort"}', "missing the key 'length'"),
    ("code_sort", '{"kind": "algorithm", "name": "max", "length": 3}', "must be 'sort'"),
    ("code_sort", '{"kind": "algorithm", "name": "sort", "length": 7}', "length must be an integer in 2..4"),
    ("code_sort", '{"kind": "algorithm", "name": "sort", "length": 3, "examples": [[0, 1, 1]]}', "unsorted"),
    ("code_sort", '{"kind": "algorithm", "name": "sort", "length": 3, "examples": [[0, 1]]}', "3 digits"),
    ("code_sort", '{"kind": "algorithm", "name": "sort", "length": 3, "examples": [[0, 1, 10]]}', "0..9"),
    ("code_sort", '{"kind": "function", "name": "sort", "length": 3}', "kind must be 'algorithm'"),
    ("code_class", '{"kind": "class", "name": "heap", "methods": ["push"], "calls": [[[["push", 1], null]]]}', "class"),
    ("code_class", _STACK + '"methods": ["inc"], "calls": [[[["inc"], null]]]}', "no method"),
    ("code_class", _STACK + '"methods": ["push"], "calls": [[[["push"], null]]]}', "one argument"),
    ("code_class", _STACK + '"methods": ["push"], "calls": [[[["pop"], 1]]]}', "not one of"),
    ("code_class", _STACK + '"methods": ["push"], "calls": [[["push", 1]]]}', "must be"),
    ("code_class", _STACK + '"methods": ["push", "push"], "calls": [[[["push", 1], null]]]}', "distinct"),
    ("code_class", _STACK + '"methods": ["size"], "calls": []}', "1..2 items"),
    ("code_class", _STACK + '"methods": ["size"], "calls": [[[["size"], 1]]], "solution": ["LOAD 0; LEN"]}', "fails"),
    ("code_class", _STACK + '"methods": ["size"], "calls": [[[["size"], 0]]], "solution": ["JMP -1"]}', "bad solution"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "message"), BAD_INSTANCES)
def test_malformed_instances_are_one_line_errors(name: str, text: str, message: str) -> None:
    task = make_task(name)
    with pytest.raises(ValueError, match=message) as info:
        task.parse(text)
    assert str(info.value).startswith(f"{name}: ") and "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["code_function", "code_sort", "code_class"])
def test_instances_round_trip_at_every_level(name: str) -> None:
    task = make_task(name)
    for level in range(1, task.difficulty_levels + 1):
        for seed in range(3):
            state = task.initial_state(seed, level)
            again = task.parse(task.instance_text(state))
            assert again == state and again.to_text() == state.to_text()
            np.testing.assert_array_equal(again.observation, state.observation)


def test_parse_defaults(srt: CodeSort, fn: CodeFunction) -> None:
    state = srt.parse('{"kind": "algorithm", "name": "sort", "length": 4}')
    assert len(state.examples) == 8 and len(state.heldout) == 3 and state.examples[0] == (0, 0, 1, 0)
    f = fn.parse('{"kind": "function", "examples": [{"input": 1, "output": 2}]}')
    assert f.budget == 8 and f.heldout == () and f.solution is None


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(-(10**7), 10**7),
        st.floats(allow_nan=False),  # subnormals too: the nets flush denormals only inside their own calls
        st.text(max_size=8),
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=12,
    )


def _garbled(task: Task) -> st.SearchStrategy[str]:
    valid = [json.loads(task.instance_text(task.initial_state(s))) for s in range(3)]

    def mutate(args: tuple[int, str, Any, int, int, str]) -> str:
        k, key, value, cut, pos, junk = args
        data = dict(valid[k % len(valid)])
        keys = sorted(data)
        choice = cut % 4
        if choice == 0:
            data[keys[pos % len(keys)]] = value
        elif choice == 1:
            del data[keys[pos % len(keys)]]
        elif choice == 2:
            data[key] = value
        text = json.dumps(data)
        if choice == 3:
            text = text[: pos % (len(text) + 1)] + junk + text[pos % (len(text) + 1) + 1 :]
        return text

    return st.one_of(
        st.text(max_size=40),
        st.builds(json.dumps, _json_values()),
        st.tuples(st.integers(0, 2), st.text(max_size=6), _json_values(), st.integers(0, 9), st.integers(0, 999),
                  st.text(max_size=3)).map(mutate),
    )  # fmt: skip


@pytest.mark.parametrize("name", ["code_function", "code_sort", "code_class"])
def test_fuzzed_json_gives_a_state_or_a_one_line_error(name: str) -> None:
    task = make_task(name)

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(_garbled(task))
    def check(text: str) -> None:
        try:
            state = task.parse(text)
        except ValueError as exc:
            msg = str(exc)
            assert msg.startswith(f"{name}: ") and "\n" not in msg, msg
            return
        assert state.step_count == 0 and not state.terminal
        assert task.parse(task.instance_text(state)) == state

    check()


def test_deep_json_nesting_is_a_one_line_error(fn: CodeFunction) -> None:
    with pytest.raises(ValueError, match="code_function: malformed JSON"):
        fn.parse("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="code_function: malformed JSON"):
        fn.parse('{"kind": "function", "examples": ' + "1" * 5000 + "}")
