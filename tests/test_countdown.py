"""Countdown / 24 game: known answers, exact verification, parsing, seeding."""

from __future__ import annotations

import json
import pickle
from fractions import Fraction

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.search.countdown import (
    LARGE,
    LARGE_NEGATIVE,
    NEGATIVE,
    NUMBER,
    STEPS,
    TARGET,
    TARGET_LARGE,
    Countdown,
    CountdownState,
    solve,
    verify_expression,
)
from zeroforge.tasks.structured import POINTER_KIND_BASE, TOKEN_TYPE_BASE, TOKEN_VOCAB, check_episode, check_structured


@pytest.fixture
def task() -> Countdown:
    t = make_task("countdown")
    assert isinstance(t, Countdown)
    return t


def _play(task: Countdown, state: CountdownState, moves: list[tuple[int, int, str]]) -> CountdownState:
    for i, j, op in moves:
        nxt = task.step(state, task.encode_action(i, j, op))
        assert isinstance(nxt, CountdownState)
        state = nxt
    return state


def test_sizes_and_action_numbering() -> None:
    t = Countdown()
    assert (t.num_actions, t.num_players, t.max_episode_steps, t.seq_len) == (168, 1, 6, 9)
    assert t.structured and t.bounds == {"numbers": 7} and t.vocab_size == TOKEN_VOCAB
    seen = set()
    for i in range(7):
        for j in range(7):
            if i != j:
                for op in "+-*/":
                    a = t.encode_action(i, j, op)
                    assert t.decode_action(a) == (i, j, "+-*/".index(op))
                    seen.add(a)
    assert seen == set(range(168))
    assert t.encode_action(1, 0, "-") == (1 * 6 + 0) * 4 + 1
    for n in (2, 6, 7):  # the action space is the bound's whatever the configured size
        assert Countdown(num_numbers=n).num_actions == 168 and Countdown(num_numbers=n).difficulty_levels == n - 1


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"num_numbers": 1}, "num_numbers"),
        ({"num_numbers": 8}, "num_numbers"),
        ({"max_number": 0}, "max_number"),
        ({"target": 0}, "target"),
        ({"target": -5}, "target"),
    ],
)
def test_bad_parameters_name_the_parameter(params: dict[str, int], name: str) -> None:
    with pytest.raises(ValueError, match=name) as info:
        Countdown(**params)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_solve_known_answers() -> None:
    expr = solve([4, 7, 8, 8], 24)
    assert expr is not None and verify_expression(expr, [4, 7, 8, 8], 24)
    assert solve([1, 1, 1, 1], 24) is None
    expr = solve([3, 3, 8, 8], 24)
    assert expr is not None and verify_expression(expr, [3, 3, 8, 8], 24)
    assert solve([1, 2], 3) == "1+2"


def test_fractional_solution_played_as_actions(task: Countdown) -> None:
    state = task.parse('{"numbers": [3, 3, 8, 8], "target": 24}')
    assert state.to_text() == "target 24: 3 3 8 8"
    assert task.action_to_text(state, task.encode_action(2, 1, "/")) == "8 / 3"
    state = _play(task, state, [(2, 1, "/")])
    assert state.values[2] == Fraction(8, 3) and state.values[1] is None
    assert state.to_text() == "target 24: 3 (8/3) 8"
    assert task.action_to_text(state, task.encode_action(0, 2, "-")) == "3 - (8/3)"
    state = _play(task, state, [(0, 2, "-"), (3, 0, "/")])
    assert state.terminal and state.step_count == 3
    assert state.rewards.tolist() == [1.0] and state.rewards.dtype == np.float32
    assert task.outcome(state) == "success"
    answer = task.answer(state)
    assert answer == "8/(3-(8/3))"
    assert verify_expression(answer, [3, 3, 8, 8], 24)
    assert not state.legal_action_mask.any()


def test_known_solution_4_7_8_8(task: Countdown) -> None:
    # (7 - 8/8) * 4
    state = task.parse('{"numbers": [4, 7, 8, 8], "target": 24}')
    state = _play(task, state, [(2, 3, "/"), (1, 2, "-"), (1, 0, "*")])
    assert task.outcome(state) == "success" and state.rewards[0] == 1.0
    answer = task.answer(state)
    assert answer is not None and verify_expression(answer, [4, 7, 8, 8], 24)


def test_wrong_sequence_fails(task: Countdown) -> None:
    state = task.parse('{"numbers": [4, 7, 8, 8], "target": 24}')
    state = _play(task, state, [(0, 1, "+"), (0, 2, "+"), (0, 3, "+")])  # 27
    assert state.terminal and state.rewards.tolist() == [-1.0]
    assert task.outcome(state) == "failure"
    assert task.answer(state) is None
    assert task.outcome(task.parse('{"numbers": [4, 7, 8, 8], "target": 24}')) == "timeout"


def test_illegal_actions_raise(task: Countdown) -> None:
    state = task.parse('{"numbers": [4, 4, 8, 8], "target": 24}')
    after = _play(task, state, [(0, 1, "-")])  # slot 0 = 0, slot 1 empty
    with pytest.raises(ValueError, match="illegal"):
        task.step(after, task.encode_action(2, 1, "+"))  # empty slot as operand
    with pytest.raises(ValueError, match="illegal"):
        task.step(after, task.encode_action(1, 2, "+"))  # empty slot as target
    with pytest.raises(ValueError, match="illegal"):
        task.step(after, task.encode_action(2, 0, "/"))  # divide by zero
    ok = task.step(after, task.encode_action(0, 2, "/"))  # 0 / 8 is fine
    assert isinstance(ok, CountdownState) and ok.values[0] == 0


def test_negative_intermediates_allowed(task: Countdown) -> None:
    state = task.parse('{"numbers": [1, 5, 6, 1], "target": 24}')
    state = _play(task, state, [(0, 1, "-")])  # -4
    assert state.values[0] == -4
    assert state.observation[2].tolist() == [NEGATIVE, 4, 1, 0, 0]


@pytest.mark.parametrize(
    ("expr", "ok"),
    [
        ("8/(3-8/3)", True),
        ("8 / (3 - (8/3))", True),
        ("8 ÷ (3 − 8 ÷ 3)", True),
        ("8/(3-8/3) ", True),
        ("8/(3-8/8)", False),  # 8 used twice, a 3 missing
        ("8/(3-8)", False),  # a number missing
        ("8/(3-8/3)*3", False),  # a number used too often
        ("8*(3-8/3)", False),  # wrong result
        ("8/(3-8/3", False),  # unbalanced
        ("8/(3-8/3))", False),  # unbalanced
        ("8/(3-8**3)", False),  # forbidden token sequence
        ("8/(3-8/3)^1", False),  # forbidden character
        ("__import__('os')", False),
        ("", False),
        ("8/(3-3/3)/0+8", False),  # division by zero
        ("-8/(3-8/3)", False),  # no unary minus
    ],
)
def test_verify_expression(expr: str, ok: bool) -> None:
    assert verify_expression(expr, [3, 3, 8, 8], 24) is ok


def test_verify_expression_is_exact_and_bounded() -> None:
    assert verify_expression("(7 - 8/8) * 4", [4, 7, 8, 8], 24)
    assert verify_expression("1/3+1/3+1/3", [1, 1, 1, 3, 3, 3], 1)
    assert not verify_expression("(" * 1000 + "1" + ")" * 1000, [1], 1)
    assert verify_expression("((1))", [1], 1)


def test_parse_good_and_bad(task: Countdown) -> None:
    state = task.parse('{"numbers": [1, 2, 3, 4], "target": 10}')
    assert state.numbers == (1, 2, 3, 4) and state.target == 10 and state.step_count == 0
    assert not state.rewards.any() and not state.terminal
    bad = [
        ("{not json", "malformed JSON"),
        ("[1, 2, 3, 4]", "JSON object"),
        ('{"numbers": [1, 2, 3, 4]}', "missing the key 'target'"),
        ('{"target": 24}', "missing the key 'numbers'"),
        ('{"numbers": [1], "target": 24}', "expected 2..7 numbers, got 1"),
        ('{"numbers": [], "target": 24}', "expected 2..7 numbers, got 0"),
        ('{"numbers": [1, 2, 3, 4, 5, 6, 7, 8], "target": 24}', "an instance of 8 numbers is beyond the bound of 7"),
        ('{"numbers": "1234", "target": 24}', "must be a list"),
        ('{"numbers": [1, 2, 3, 0], "target": 24}', "positive integers"),
        ('{"numbers": [1, 2, 3, 4.5], "target": 24}', "positive integers"),
        ('{"numbers": [1, 2, true, 4], "target": 24}', "positive integers"),
        ('{"numbers": [1, 2, 3, 4], "target": "24"}', "target"),
        ('{"numbers": [1, 2, 3, 4], "target": 0}', "target"),
        ('{"numbers": [1, 2, 3, 4], "target": 24, "x": 1}', "unknown keys"),
    ]
    for text, match in bad:
        with pytest.raises(ValueError, match=match) as info:
            task.parse(text)
        assert "\n" not in str(info.value), text


def test_same_seed_same_instance() -> None:
    a, b = Countdown(), Countdown()
    for seed in range(5):
        s1, s2 = a.initial_state(seed), b.initial_state(seed)
        assert s1.numbers == s2.numbers and s1.target == s2.target == 24
        assert all(1 <= x <= 13 for x in s1.numbers) and len(s1.numbers) == 4
    assert len({a.initial_state(seed).numbers for seed in range(10)}) > 1


def test_random_targets_are_reachable() -> None:
    for n in (2, 4, 5):
        t = Countdown(num_numbers=n, target=None)
        for seed in range(4):
            s = t.initial_state(seed)
            assert s == Countdown(num_numbers=n, target=None).initial_state(seed)
            expr = solve(s.numbers, s.target)
            assert expr is not None and verify_expression(expr, s.numbers, s.target), s.to_text()


def test_observation_encoding(task: Countdown) -> None:
    state = task.parse('{"numbers": [3, 3, 8, 8], "target": 24}')
    assert state.observation.tolist() == [
        [TARGET, 24, 1, 0, 0],
        [STEPS, 3, 0, 0, 0],  # 3 steps left, none taken
        *[[NUMBER, v, 1, 0, 0] for v in (3, 3, 8, 8)],  # a set: no positions
    ]
    state = _play(task, state, [(2, 1, "/")])
    assert state.observation.tolist() == [
        [TARGET, 24, 1, 0, 0], [STEPS, 2, 1, 0, 0], [NUMBER, 3, 1, 0, 0], [NUMBER, 8, 3, 0, 0], [NUMBER, 8, 1, 0, 0]
    ]
    big = task.parse('{"numbers": [999, 999, 2, 1], "target": 1200}')
    assert big.observation[0].tolist() == [TARGET_LARGE, 1200 % 1024, 1, 0, 0]
    big = _play(task, big, [(0, 1, "*")])  # 998001 = 974 * 1024 + 625
    assert big.observation[2].tolist() == [LARGE, 625, 974, 0, 0]
    big = _play(task, big, [(2, 0, "-")])  # 2 - 998001
    assert big.observation[2].tolist() == [LARGE_NEGATIVE, 998_001 - 2 - 974 * 1024, 974, 0, 0]
    frac = _play(task, task.parse('{"numbers": [998, 3, 999], "target": 1}'), [(0, 1, "/")])  # 998/3 fits
    assert frac.observation[2].tolist() == [NUMBER, 998, 3, 0, 0]
    frac = _play(task, frac, [(0, 2, "/")])  # 998/2997: denominator beyond 1023, whole part 0
    assert frac.observation[2].tolist() == [LARGE, 0, 0, 0, 0]
    assert {int(t) for t in state.observation[:, 0]} <= set(range(TOKEN_TYPE_BASE["countdown"], 112))


def test_state_identity_ignores_expression_text(task: Countdown) -> None:
    s = task.parse('{"numbers": [2, 2, 5, 5], "target": 24}')
    a = _play(task, s, [(0, 1, "+")])  # 4
    b = _play(task, s, [(0, 1, "*")])  # 4
    assert a == b and a.state_id == b.state_id and a.to_text() != b.to_text()
    clone = pickle.loads(pickle.dumps(a))
    assert clone == a and clone.exprs == a.exprs


# ------------------------------------------------------------------ difficulty levels

# Countdown().initial_state(0) recorded before difficulty levels existed: the top level must not change.
DEFAULT_SEED0_KEY = (24, ((12, 1), (9, 1), (7, 1), (4, 1)))
DEFAULT_SEED0_ID = "c2a57ff4848b4d2f"


def test_top_level_is_the_instance_as_before(task: Countdown) -> None:
    assert task.difficulty_levels == 3
    top = task.initial_state(0)
    assert top.key() == DEFAULT_SEED0_KEY and top.state_id == DEFAULT_SEED0_ID
    assert task.initial_state(0, 3) == top and top.to_text() == "target 24: 12 9 7 4"


def test_levels_use_fewer_numbers_in_the_same_shapes() -> None:
    for target in (24, None):
        t = Countdown(num_numbers=5, target=target)
        assert t.difficulty_levels == 4
        for level in range(1, 5):
            for seed in range(3):
                s = t.initial_state(seed, level)
                assert s == t.initial_state(seed, level) and len(s.numbers) == level + 1
                assert s.observation.shape == (level + 3, 5) and s.legal_action_mask.shape == (t.num_actions,)
                assert s.values[level + 1 :] == (None,) * (6 - level)
                check_structured(t, s)
                assert t.parse(t.instance_text(s)) == s
                if target is None:  # drawn targets stay reachable at every level
                    expr = solve(s.numbers, s.target)
                    assert expr is not None and verify_expression(expr, s.numbers, s.target)
                else:
                    assert s.target == 24
                end = s
                while not end.terminal:
                    end = t.step(end, int(np.flatnonzero(end.legal_action_mask)[0]))
                assert end.step_count == level and t.outcome(end) in ("success", "failure")
                assert t.score(end) is None


def test_level_one_draws_two_numbers() -> None:
    t = Countdown(target=None)
    s = t.initial_state(0, 1)
    assert s.numbers == (12, 9) and s.target == 21 and s.to_text() == "target 21: 12 9"
    assert s.observation.tolist() == [[TARGET, 21, 1, 0, 0], [STEPS, 1, 0, 0, 0], [NUMBER, 12, 1, 0, 0],
                                      [NUMBER, 9, 1, 0, 0]]
    # only the 2 filled slots combine: (0, 1) and (1, 0) with 4 operators each
    assert int(s.legal_action_mask.sum()) == 8
    end = _play(t, s, [(0, 1, "+")])
    assert end.terminal and end.step_count == 1 and t.outcome(end) == "success"
    assert t.answer(end) == "12+9" and end.rewards.tolist() == [1.0] and t.score(end) is None
    wrong = _play(t, s, [(1, 0, "-")])
    assert wrong.terminal and t.outcome(wrong) == "failure" and t.answer(wrong) is None


def test_two_number_instance_parses_and_plays(task: Countdown) -> None:
    s = task.parse('{"numbers": [4, 6], "target": 24}')
    assert s.numbers == (4, 6) and s.values == (4, 6, *[None] * 5) and s.exprs == ("4", "6", *[None] * 5)
    with pytest.raises(ValueError, match="illegal"):
        task.step(s, task.encode_action(0, 2, "*"))  # slot 2 does not exist in this instance
    end = _play(task, s, [(1, 0, "*")])
    assert end.terminal and task.outcome(end) == "success" and task.answer(end) == "6*4"
    assert task.instance_text(s) == '{"numbers": [4, 6], "target": 24}'
    three = _play(task, task.parse('{"numbers": [2, 3, 4], "target": 24}'), [(0, 1, "*"), (0, 2, "*")])
    assert three.terminal and three.step_count == 2 and task.outcome(three) == "success"
    assert task.answer(three) == "(2*3)*4" and verify_expression("(2*3)*4", [2, 3, 4], 24)


# ------------------------------------------------------------------ structured: tokens, pointers, bounds, solver

KIND = POINTER_KIND_BASE["countdown"]


def _play_out(task: Countdown, state: CountdownState, actions: list[int]) -> CountdownState:
    end = check_episode(task, state, actions)
    assert isinstance(end, CountdownState)
    return end


def test_pointers_name_the_operand_tokens(task: Countdown) -> None:
    state = task.parse('{"numbers": [3, 3, 8, 8], "target": 24}')
    ptr = state.action_pointers()
    assert ptr.shape == (168, 3) and ptr.dtype == np.int64 and not ptr.flags.writeable
    # slot k is token 2 + k: pointer 3 + k; "8 / 3" = slot 2 / slot 1
    assert ptr[task.encode_action(2, 1, "/")].tolist() == [KIND + 3, 5, 4]
    assert ptr[task.encode_action(0, 3, "+")].tolist() == [KIND + 0, 3, 6]
    assert not ptr[~state.legal_action_mask].any()  # slots 4..6 are empty: their actions have zero rows
    state = _play(task, state, [(2, 1, "/")])  # slot 1 empties: slots 0, 2, 3 are tokens 2, 3, 4
    ptr = state.action_pointers()
    assert ptr[task.encode_action(3, 0, "-")].tolist() == [KIND + 1, 5, 3]
    assert ptr[task.encode_action(2, 3, "*")].tolist() == [KIND + 2, 4, 5]
    assert not ptr[task.encode_action(1, 0, "+")].any() and not state.legal_action_mask[task.encode_action(1, 0, "+")]
    zero = _play(task, task.parse('{"numbers": [4, 4, 8], "target": 24}'), [(0, 1, "-")])  # slot 0 = 0
    assert not zero.action_pointers()[task.encode_action(2, 0, "/")].any()  # division by zero: illegal, zero row
    assert zero.action_pointers()[task.encode_action(0, 2, "/")].tolist() == [KIND + 3, 3, 4]
    end = _play(task, zero, [(0, 2, "+")])
    assert end.terminal and not end.action_pointers().any() and end.observation.shape == (3, 5)


def test_one_task_plays_every_size_up_to_the_bound(task: Countdown) -> None:
    assert task.num_numbers == 4
    for numbers, target, op in [([5, 7], 35, "*"), ([2, 3, 4], 24, "*"), ([1, 2, 3, 4, 5], 15, "+"),
                                ([1, 2, 3, 4, 5, 6], 720, "*"), ([1, 1, 1, 1, 1, 1, 1], 7, "+")]:
        s = task.parse(json.dumps({"numbers": numbers, "target": target}))
        assert s.observation.shape == (2 + len(numbers), 5) and task.parse(task.instance_text(s)) == s
        end = _play_out(task, s, [task.encode_action(0, k, op) for k in range(1, len(numbers))])
        assert end.terminal and end.step_count == len(numbers) - 1 and task.outcome(end) == "success"
        assert verify_expression(task.answer(end) or "", numbers, target)


def test_instances_beyond_the_bound_are_one_line_errors(task: Countdown) -> None:
    for count in (8, 999):
        text = json.dumps({"numbers": [1] * count, "target": 5})
        message = f"countdown: an instance of {count} numbers is beyond the bound of 7"
        with pytest.raises(ValueError, match=message) as info:
            task.parse(text)
        assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="beyond the bound"):
        Countdown(num_numbers=2).make_state([1] * 8, 8)


def test_demonstration_known_answers(task: Countdown) -> None:
    # 5 - 2 is the only way to 3: slot 1 minus slot 0
    assert task.demonstration(task.parse('{"numbers": [2, 5], "target": 3}')) == [task.encode_action(1, 0, "-")]
    # 8 / (3 - 8/3) is the only way to 24 from 3 3 8 8 (up to the order of equal numbers)
    s = task.parse('{"numbers": [3, 3, 8, 8], "target": 24}')
    demo = task.demonstration(s)
    assert demo is not None and len(demo) == 3
    end = _play_out(task, s, demo)
    assert task.outcome(end) == "success" and verify_expression(task.answer(end) or "", [3, 3, 8, 8], 24)
    assert task.answer(end) == "8/(3-(8/3))"
    # from the middle of an episode: 3 (8/3) 8 still solves (3 - 8/3, then 8 / that); 6 8 8 (3 + 3) does not
    mid = _play(task, s, [(2, 1, "/")])
    demo = task.demonstration(mid)
    assert demo == [task.encode_action(0, 2, "-"), task.encode_action(3, 0, "/")]
    assert task.outcome(_play_out(task, mid, demo)) == "success"
    assert task.demonstration(_play(task, s, [(0, 1, "+")])) is None
    assert task.demonstration(task.parse('{"numbers": [1, 1, 1, 1], "target": 24}')) is None
    assert task.demonstration(_play(task, task.parse('{"numbers": [4, 6], "target": 24}'), [(0, 1, "*")])) == []
    assert task.demonstration(_play(task, task.parse('{"numbers": [4, 6], "target": 24}'), [(0, 1, "+")])) is None


def test_demonstration_at_sizes_the_generator_never_makes(task: Countdown) -> None:
    # seven 1s reach 12 at most: (1+1+1)*(1+1+1+1); nothing reaches 13
    ones = task.parse('{"numbers": [1, 1, 1, 1, 1, 1, 1], "target": 12}')
    demo = task.demonstration(ones)
    assert demo is not None and len(demo) == 6
    assert task.outcome(_play_out(task, ones, demo)) == "success"
    assert task.demonstration(task.parse('{"numbers": [1, 1, 1, 1, 1, 1, 1], "target": 13}')) is None
    six = task.parse('{"numbers": [1, 2, 3, 4, 5, 6], "target": 720}')  # 1*2*3*4*5*6
    demo = task.demonstration(six)
    assert demo is not None and len(demo) == 5 and task.outcome(_play_out(task, six, demo)) == "success"
    big = task.parse('{"numbers": [999, 998, 997, 3, 2], "target": 9999}')
    demo = task.demonstration(big)
    assert demo is None or task.outcome(_play_out(task, big, demo)) == "success"
    assert solve([1, 1, 1, 1, 1, 1, 1], 13) is None and solve([1, 2, 3, 4, 5, 6], 720) is not None


def test_demonstration_matches_the_exhaustive_solver_on_drawn_instances() -> None:
    t = Countdown(num_numbers=5)
    for level in (1, 2, 3, 4):
        for seed in range(6):
            s = t.initial_state(seed, level)
            assert isinstance(s, CountdownState)
            demo = t.demonstration(s)
            assert (demo is None) == (solve(s.numbers, s.target) is None)
            if demo is not None:
                end = _play_out(t, s, demo)
                assert t.outcome(end) == "success" and len(demo) == level
