"""0/1 knapsack: known answers, exact DP against brute force, observation, parsing, seeding."""

from __future__ import annotations

import itertools
import json
import pickle

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.search.knapsack import Knapsack, KnapsackState, optimum

HAND = '{"capacity": 10, "weights": [5, 4, 6, 3], "values": [10, 40, 30, 50]}'
SKIP, TAKE = 0, 1


@pytest.fixture
def task4() -> Knapsack:
    return Knapsack(num_items=4, max_value=50)


def _play(task: Knapsack, state: KnapsackState, actions: list[int]) -> KnapsackState:
    for a in actions:
        nxt = task.step(state, a)
        assert isinstance(nxt, KnapsackState)
        state = nxt
    return state


def test_registered_with_sizes() -> None:
    t = make_task("knapsack")
    assert isinstance(t, Knapsack)
    # 8 items x 3 tokens + 2 capacity digits (8 * 10 = 80); 13 + 10 weights + 10 values + ABSENT
    assert (t.num_actions, t.num_players, t.max_episode_steps, t.seq_len, t.vocab_size) == (2, 1, 8, 26, 34)
    assert t.difficulty_levels == 8


def test_hand_instance_optimal_play_succeeds(task4: Knapsack) -> None:
    s0 = task4.parse(HAND)
    assert s0.best_value == 90 and s0.capacity == 10
    assert optimum(s0.weights, s0.values, s0.capacity) == (90, [1, 3])
    assert task4.outcome(s0) == "timeout" and task4.answer(s0) is None
    mid = _play(task4, s0, [SKIP, TAKE])
    assert not mid.terminal and mid.remaining == 6 and mid.packed_value == 40
    assert not mid.rewards.any() and task4.answer(mid) is None
    end = _play(task4, mid, [SKIP, TAKE])
    assert end.terminal and end.step_count == 4
    assert end.rewards.tolist() == [1.0]
    assert task4.outcome(end) == "success"
    assert task4.answer(end) == [1, 3]
    assert end.packed_value == 90 and end.remaining == 3
    assert not end.legal_action_mask.any()


def test_hand_instance_suboptimal_play_fails(task4: Knapsack) -> None:
    s0 = task4.parse(HAND)
    end = _play(task4, s0, [TAKE, TAKE, SKIP, SKIP])  # 10 + 40 = 50 < 90
    assert end.terminal and end.rewards.tolist() == [-1.0]
    assert task4.outcome(end) == "failure"
    assert task4.answer(end) == [0, 1]


def test_taking_an_item_that_does_not_fit_is_illegal(task4: Knapsack) -> None:
    s = _play(task4, task4.parse(HAND), [TAKE, TAKE])  # remaining capacity 1; item 2 weighs 6
    assert s.legal_action_mask.tolist() == [True, False]
    with pytest.raises(ValueError, match="illegal"):
        task4.step(s, TAKE)
    s = task4.step(s, SKIP)
    assert s.legal_action_mask.tolist() == [True, False]  # item 3 weighs 3 > 1


def test_observation_tokens(task4: Knapsack) -> None:
    s0 = task4.parse(HAND)
    # seq_len = 4 * 3 + 2 digits (4 * 10 = 40); weight w -> 12 + w, value v -> 22 + v, flags 10/11/12
    assert task4.seq_len == 14 and task4.vocab_size == 13 + 10 + 50 + 1
    assert s0.observation.tolist() == [17, 32, 10, 16, 62, 10, 18, 52, 10, 15, 72, 10, 1, 0]
    s2 = _play(task4, s0, [SKIP, TAKE])
    assert s2.observation.tolist() == [17, 32, 12, 16, 62, 11, 18, 52, 10, 15, 72, 10, 0, 6]
    # values above max_value are clipped in the observation only
    small = Knapsack(num_items=4, max_value=10)
    obs = small.parse(HAND).observation.tolist()
    assert obs[1::3][:4] == [23 + 9, 23 + 9, 23 + 9, 23 + 9]
    assert small.parse(HAND).best_value == 90


def _brute(weights: list[int], values: list[int], capacity: int) -> int:
    best = 0
    for r in range(len(weights) + 1):
        for combo in itertools.combinations(range(len(weights)), r):
            if sum(weights[i] for i in combo) <= capacity:
                best = max(best, sum(values[i] for i in combo))
    return best


def test_optimum_matches_brute_force() -> None:
    rng = np.random.default_rng(123)
    for _ in range(25):
        n = int(rng.integers(1, 11))
        weights = [int(x) for x in rng.integers(1, 16, size=n)]
        values = [int(x) for x in rng.integers(1, 30, size=n)]
        capacity = int(rng.integers(1, sum(weights) + 5))
        value, chosen = optimum(weights, values, capacity)
        assert value == _brute(weights, values, capacity)
        assert chosen == sorted(set(chosen))
        assert sum(weights[i] for i in chosen) <= capacity
        assert sum(values[i] for i in chosen) == value


def test_optimum_edge_cases() -> None:
    assert optimum([5], [7], 4) == (0, [])
    assert optimum([5], [7], 5) == (7, [0])
    assert optimum([], [], 3) == (0, [])
    assert optimum([1, 2, 3], [1, 1, 1], 100) == (3, [0, 1, 2])


def test_playing_the_dp_answer_always_succeeds() -> None:
    task = Knapsack()
    for seed in range(20):
        s = task.initial_state(seed)
        value, chosen = optimum(s.weights, s.values, s.capacity)
        end = _play(task, s, [TAKE if i in chosen else SKIP for i in range(task.num_items)])
        assert task.outcome(end) == "success" and end.packed_value == value == s.best_value
        assert task.answer(end) == chosen
        assert task.outcome(_play(task, s, [SKIP] * task.num_items)) == "failure"


def test_same_seed_same_instance() -> None:
    a, b = Knapsack(), Knapsack()
    for seed in range(5):
        s1, s2 = a.initial_state(seed), b.initial_state(seed)
        assert (s1.capacity, s1.weights, s1.values) == (s2.capacity, s2.weights, s2.values)
        assert s1 == s2 and s1.state_id == s2.state_id
        assert all(1 <= w <= 10 for w in s1.weights) and all(1 <= v <= 10 for v in s1.values)
        assert s1.capacity == max(1, sum(s1.weights) // 2)
    assert any(a.initial_state(0).key() != a.initial_state(k).key() for k in range(1, 5))


def test_to_text_first_line_round_trips(task4: Knapsack) -> None:
    s = _play(task4, task4.parse(HAND), [SKIP, TAKE])
    text = s.to_text()
    assert "skip #0" in text and "take #1" in text and "remaining capacity 6" in text
    assert task4.parse(text.splitlines()[0]) == task4.parse(HAND)
    assert json.loads(text.splitlines()[0]) == json.loads(HAND)
    assert task4.action_to_text(s, TAKE) == "take #2 (w6 v30)"
    clone = pickle.loads(pickle.dumps(s))
    assert clone == s and clone.best_value == 90


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "JSON object"),
        ('{"weights": [5, 4, 6, 3], "values": [10, 40, 30, 50]}', "missing the key 'capacity'"),
        ('{"capacity": 10, "values": [10, 40, 30, 50]}', "missing the key 'weights'"),
        ('{"capacity": 10, "weights": [5, 4, 6, 3], "values": [1, 1, 1, 1], "x": 1}', "unknown keys"),
        ('{"capacity": 10, "weights": [5, 4, 6], "values": [10, 40, 30, 50]}', "same length, got 3 and 4"),
        ('{"capacity": 10, "weights": [5, 4, 6, 3], "values": [10, 40, 30]}', "same length, got 4 and 3"),
        ('{"capacity": 10, "weights": [5, 4, 6, 3, 1], "values": [1, 1, 1, 1, 1]}', "expected 1..4 weights"),
        ('{"capacity": 10, "weights": [], "values": []}', "expected 1..4 weights \\(num_items=4\\), got 0"),
        ('{"capacity": 10, "weights": [5, 4, 6, 3], "values": [10, 40, 30, 50, 1]}', "expected 1..4 values"),
        ('{"capacity": 0, "weights": [5, 4, 6, 3], "values": [10, 40, 30, 50]}', "capacity"),
        ('{"capacity": 2.5, "weights": [5, 4, 6, 3], "values": [10, 40, 30, 50]}', "capacity"),
        ('{"capacity": 10, "weights": [5, 0, 6, 3], "values": [10, 40, 30, 50]}', "weights must be positive"),
        ('{"capacity": 10, "weights": [5, 4, 6, 3], "values": [10, true, 30, 50]}', "values must be positive"),
        ('{"capacity": 10, "weights": "5463", "values": [10, 40, 30, 50]}', "'weights' must be a list"),
    ],
)
def test_parse_errors_are_one_line(task4: Knapsack, text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        task4.parse(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"num_items": 0}, "num_items"),
        ({"num_items": 2.0}, "num_items"),
        ({"max_weight": 0}, "max_weight"),
        ({"max_value": True}, "max_value"),
        ({"capacity_ratio": 0.0}, "capacity_ratio"),
        ({"capacity_ratio": 1.5}, "capacity_ratio"),
        ({"capacity_ratio": float("nan")}, "capacity_ratio"),
    ],
)
def test_bad_parameters(params: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        Knapsack(**params)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


# ------------------------------------------------------------------ difficulty levels and score

# Knapsack().initial_state(0) recorded before difficulty levels existed: the top level must not change.
DEFAULT_SEED0_KEY = (16, (9, 7, 6, 3, 4, 1, 1, 1), (2, 9, 7, 10, 6, 7, 10, 8), ())
DEFAULT_SEED0_ID = "a8d54937c2f54763"


def test_top_level_is_the_instance_as_before() -> None:
    task = Knapsack()
    top = task.initial_state(0)
    assert top.key() == DEFAULT_SEED0_KEY and top.state_id == DEFAULT_SEED0_ID
    assert task.initial_state(0, 8) == top
    assert 33 not in top.observation.tolist()  # no ABSENT padding at the top level


def test_level_one_has_one_item_and_absent_padding() -> None:
    task = Knapsack()  # absent token 13 + 10 + 10 = 33
    for seed in range(10):
        s = task.initial_state(seed, 1)
        assert len(s.weights) == len(s.values) == 1 and s.capacity == max(1, s.weights[0] // 2)
        obs = s.observation.tolist()
        assert len(obs) == task.seq_len and obs[2] == 10 and obs[3:24] == [33] * 21
        assert obs[24:] == [int(c) for c in str(s.capacity).zfill(2)]
        # capacity max(1, w // 2) holds the lone item only when it weighs 1
        assert s.best_value == (s.values[0] if s.weights[0] == 1 else 0)
        end = task.step(s, 0)
        assert end.terminal and end.step_count == 1 and not end.legal_action_mask.any()
        assert end.observation.tolist()[3:24] == [33] * 21 and end.observation[2] == 12


def test_level_one_known_answer() -> None:
    task = Knapsack(num_items=4, capacity_ratio=1.0)
    s = task.initial_state(0, 1)
    assert s.capacity == s.weights[0] and s.best_value == s.values[0]  # the lone item always fits
    assert s.legal_action_mask.tolist() == [True, True]
    take, skip = task.step(s, 1), task.step(s, 0)
    assert task.outcome(take) == "success" and task.score(take) == 1.0 and task.answer(take) == [0]
    assert task.outcome(skip) == "failure" and task.score(skip) == 0.0 and task.answer(skip) == []


def test_levels_draw_prefix_sized_instances_with_the_same_shapes() -> None:
    task = Knapsack(num_items=6, max_weight=20, max_value=30)
    for level in range(1, 7):
        for seed in range(3):
            s = task.initial_state(seed, level)
            assert s == task.initial_state(seed, level)
            assert len(s.weights) == level and s.observation.shape == (task.seq_len,)
            assert s.capacity == max(1, sum(s.weights) // 2)
            assert s.observation.max() < task.vocab_size
            end = s
            while not end.terminal:
                end = task.step(end, 0)
            assert end.step_count == level <= task.max_episode_steps
            assert task.parse(task.instance_text(s)) == s


def test_score_is_packed_over_best_value(task4: Knapsack) -> None:
    s0 = task4.parse(HAND)
    assert task4.score(s0) is None
    assert task4.score(_play(task4, s0, [SKIP, TAKE, SKIP])) is None
    assert task4.score(_play(task4, s0, [SKIP, TAKE, SKIP, TAKE])) == 1.0  # 90 / 90
    assert task4.score(_play(task4, s0, [TAKE, TAKE, SKIP, SKIP])) == pytest.approx(50 / 90)
    assert task4.score(_play(task4, s0, [SKIP] * 4)) == 0.0


def test_parse_accepts_fewer_items(task4: Knapsack) -> None:
    s = task4.parse('{"capacity": 5, "weights": [5, 4], "values": [10, 40]}')
    assert s.weights == (5, 4) and s.best_value == 40
    absent = 13 + 10 + 50
    assert s.observation.tolist() == [17, 32, 10, 16, 62, 10, *[absent] * 6, 0, 5]
    end = _play(task4, s, [SKIP, TAKE])
    assert end.terminal and task4.outcome(end) == "success" and task4.score(end) == 1.0
    assert end.observation.tolist() == [17, 32, 12, 16, 62, 11, *[absent] * 6, 0, 1]
