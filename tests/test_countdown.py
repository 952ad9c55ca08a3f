"""Countdown / 24 game: known answers, exact verification, parsing, seeding."""

from __future__ import annotations

import pickle
from fractions import Fraction

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.search.countdown import Countdown, CountdownState, solve, verify_expression


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
    assert (t.num_actions, t.num_players, t.max_episode_steps, t.seq_len) == (48, 1, 3, 32)
    seen = set()
    for i in range(4):
        for j in range(4):
            if i != j:
                for op in "+-*/":
                    a = t.encode_action(i, j, op)
                    assert t.decode_action(a) == (i, j, "+-*/".index(op))
                    seen.add(a)
    assert seen == set(range(48))
    assert Countdown(num_numbers=6).num_actions == 6 * 5 * 4


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"num_numbers": 1}, "num_numbers"),
        ({"num_numbers": 7}, "num_numbers"),
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
    assert state.observation[4] == 13  # NEG status token


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
        ('{"numbers": [1], "target": 24}', "expected 2..4 numbers"),
        ('{"numbers": [], "target": 24}', "expected 2..4 numbers \\(num_numbers=4\\), got 0"),
        ('{"numbers": [1, 2, 3, 4, 5], "target": 24}', "num_numbers"),
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
    obs = state.observation.tolist()
    assert obs[:4] == [0, 0, 2, 4]  # target digits
    assert obs[4:11] == [12, 0, 0, 3, 0, 0, 1]  # POS 003/001
    state = _play(task, state, [(2, 1, "/")])
    obs = state.observation.tolist()
    assert obs[11:18] == [11] + [10] * 6  # slot 1 empty
    assert obs[18:25] == [12, 0, 0, 8, 0, 0, 3]  # 8/3
    big = task.parse('{"numbers": [999, 999, 2, 1], "target": 24}')
    big = _play(task, big, [(0, 1, "*")])
    assert big.observation[4] == 14  # POS_CLIPPED
    assert big.observation[5:8].tolist() == [9, 9, 9]


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
EMPTY_SLOT = [11] + [10] * 6


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
                assert s.observation.shape == (t.seq_len,) and s.legal_action_mask.shape == (t.num_actions,)
                assert s.values[level + 1 :] == (None,) * (4 - level)
                assert s.observation[4 + 7 * (level + 1) :].tolist() == EMPTY_SLOT * (4 - level)
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
    assert s.observation.tolist() == [0, 0, 2, 1, 12, 0, 1, 2, 0, 0, 1, 12, 0, 0, 9, 0, 0, 1, *EMPTY_SLOT * 2]
    # only the 2 filled slots combine: (0, 1) and (1, 0) with 4 operators each
    assert int(s.legal_action_mask.sum()) == 8
    end = _play(t, s, [(0, 1, "+")])
    assert end.terminal and end.step_count == 1 and t.outcome(end) == "success"
    assert t.answer(end) == "12+9" and end.rewards.tolist() == [1.0] and t.score(end) is None
    wrong = _play(t, s, [(1, 0, "-")])
    assert wrong.terminal and t.outcome(wrong) == "failure" and t.answer(wrong) is None


def test_two_number_instance_parses_and_plays(task: Countdown) -> None:
    s = task.parse('{"numbers": [4, 6], "target": 24}')
    assert s.numbers == (4, 6) and s.values == (4, 6, None, None) and s.exprs == ("4", "6", None, None)
    with pytest.raises(ValueError, match="illegal"):
        task.step(s, task.encode_action(0, 2, "*"))  # slot 2 does not exist in this instance
    end = _play(task, s, [(1, 0, "*")])
    assert end.terminal and task.outcome(end) == "success" and task.answer(end) == "6*4"
    assert task.instance_text(s) == '{"numbers": [4, 6], "target": 24}'
    three = _play(task, task.parse('{"numbers": [2, 3, 4], "target": 24}'), [(0, 1, "*"), (0, 2, "*")])
    assert three.terminal and three.step_count == 2 and task.outcome(three) == "success"
    assert task.answer(three) == "(2*3)*4" and verify_expression("(2*3)*4", [2, 3, 4], 24)
