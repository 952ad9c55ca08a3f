"""0/1 knapsack: known answers, exact DP against brute force, structured tokens and pointers, bounds, demonstrations,
parsing, seeding."""

from __future__ import annotations

import itertools
import json
import pickle

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.search.knapsack import Knapsack, KnapsackState, optimum
from zeroforge.tasks.structured import TOKEN_VOCAB, check_structured

HAND = '{"capacity": 10, "weights": [5, 4, 6, 3], "values": [10, 40, 30, 50]}'
SKIP, TAKE = 0, 1
UNDECIDED, CURRENT, TAKEN, SKIPPED, GLOBAL = 32, 33, 34, 35, 36  # TOKEN_TYPE_BASE["knapsack"] + 0..4
KIND_SKIP, KIND_TAKE = 64, 65  # POINTER_KIND_BASE["knapsack"] + 0..1


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
    assert isinstance(t, Knapsack) and t.structured and t.bounds == {"items": 50}
    # sized by the bound (50 items + the global token), not by num_items = 8
    assert (t.num_actions, t.num_players, t.max_episode_steps, t.seq_len, t.vocab_size) == (2, 1, 50, 51, TOKEN_VOCAB)
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


def test_tokens_and_pointers(task4: Knapsack) -> None:
    s0 = task4.parse(HAND)
    # a = weight / capacity * 1000, b = value / largest value (50) * 1000; the global token: remaining capacity
    # (same scale) and packed value / total value (130) * 1000; every token at (0, 0)
    assert s0.observation.tolist() == [
        [CURRENT, 500, 200, 0, 0],
        [UNDECIDED, 400, 800, 0, 0],
        [UNDECIDED, 600, 600, 0, 0],
        [UNDECIDED, 300, 1000, 0, 0],
        [GLOBAL, 1000, 0, 0, 0],
    ]
    assert s0.action_pointers().tolist() == [[KIND_SKIP, 1, 1], [KIND_TAKE, 1, 1]]
    s2 = _play(task4, s0, [SKIP, TAKE])
    assert s2.observation[:, 0].tolist() == [SKIPPED, TAKEN, CURRENT, UNDECIDED, GLOBAL]
    assert s2.observation[-1].tolist() == [GLOBAL, 600, 308, 0, 0]  # 40 / 130 = 0.3077
    assert s2.action_pointers().tolist() == [[KIND_SKIP, 3, 3], [KIND_TAKE, 3, 3]]  # item 2 is token 2
    full = _play(task4, s0, [TAKE, TAKE])  # remaining 1: item 2 (weight 6) does not fit, take's row is zero
    assert full.action_pointers().tolist() == [[KIND_SKIP, 3, 3], [0, 0, 0]]
    end = _play(task4, s2, [SKIP, TAKE])
    assert end.observation[:, 0].tolist() == [SKIPPED, TAKEN, SKIPPED, TAKEN, GLOBAL]
    assert end.observation[-1].tolist() == [GLOBAL, 300, 692, 0, 0]  # 90 / 130
    assert not end.action_pointers().any()
    for state in (s0, s2, full, end):
        check_structured(task4, state)
        assert not state.observation.flags.writeable and not state.action_pointers().flags.writeable
    # an item heavier than the capacity is clipped to 1023; exact numbers stay in the state
    heavy = task4.parse('{"capacity": 1, "weights": [1000, 1], "values": [1000000000, 1]}')
    assert heavy.observation.tolist() == [[CURRENT, 1023, 1000, 0, 0], [UNDECIDED, 1000, 0, 0, 0],
                                          [GLOBAL, 1000, 0, 0, 0]]
    assert heavy.weights == (1000, 1) and heavy.best_value == 1


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
        (json.dumps({"capacity": 10, "weights": [1] * 51, "values": [1] * 51}),
         "^knapsack: an instance of 51 items is beyond the bound 50 items$"),
        ('{"capacity": 10, "weights": [], "values": []}', "expected 1..50 weights, got 0"),
        ('{"capacity": 10, "weights": [5], "values": []}', "expected 1..50 values, got 0"),
        (json.dumps({"capacity": 10, "weights": [5, 4, 6, 3], "values": [1] * 51}), "51 items is beyond the bound 50"),
        ('{"capacity": 10, "weights": [5, 4, 6, 3, 1], "values": [1, 1, 1, 1]}', "same length, got 5 and 4"),
        ('{"capacity": 1000000001, "weights": [5], "values": [1]}', "capacity must be an integer in 1..1000000000"),
        ('{"capacity": 10, "weights": [1001], "values": [1]}', "weights must be positive integers at most 1000"),
        ('{"capacity": 10, "weights": [1], "values": [1000000001]}', "values must be positive integers at most 10"),
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
        ({"num_items": 51}, r"num_items must be an integer in 1\.\.50"),
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
    assert top.observation.shape == (9, 5)  # 8 items and the global token


def test_level_one_has_one_item_and_one_item_token() -> None:
    task = Knapsack()
    for seed in range(10):
        s = task.initial_state(seed, 1)
        assert len(s.weights) == len(s.values) == 1 and s.capacity == max(1, s.weights[0] // 2)
        assert s.observation[:, 0].tolist() == [CURRENT, GLOBAL]
        # capacity max(1, w // 2) holds the lone item only when it weighs 1
        assert s.best_value == (s.values[0] if s.weights[0] == 1 else 0)
        end = task.step(s, 0)
        assert end.terminal and end.step_count == 1 and not end.legal_action_mask.any()
        assert end.observation[:, 0].tolist() == [SKIPPED, GLOBAL]


def test_level_one_known_answer() -> None:
    task = Knapsack(num_items=4, capacity_ratio=1.0)
    s = task.initial_state(0, 1)
    assert s.capacity == s.weights[0] and s.best_value == s.values[0]  # the lone item always fits
    assert s.legal_action_mask.tolist() == [True, True]
    take, skip = task.step(s, 1), task.step(s, 0)
    assert task.outcome(take) == "success" and task.score(take) == 1.0 and task.answer(take) == [0]
    assert task.outcome(skip) == "failure" and task.score(skip) == 0.0 and task.answer(skip) == []


def test_levels_draw_prefix_sized_instances() -> None:
    task = Knapsack(num_items=6, max_weight=20, max_value=30)
    for level in range(1, 7):
        for seed in range(3):
            s = task.initial_state(seed, level)
            assert s == task.initial_state(seed, level)
            assert len(s.weights) == level and s.observation.shape == (level + 1, 5)
            assert s.capacity == max(1, sum(s.weights) // 2)
            assert s.observation.max() < task.vocab_size
            end = s
            while not end.terminal:
                check_structured(task, end)
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
    assert s.observation.tolist() == [[CURRENT, 1000, 250, 0, 0], [UNDECIDED, 800, 1000, 0, 0],
                                      [GLOBAL, 1000, 0, 0, 0]]
    end = _play(task4, s, [SKIP, TAKE])
    assert end.terminal and task4.outcome(end) == "success" and task4.score(end) == 1.0
    assert end.observation.tolist() == [[SKIPPED, 1000, 250, 0, 0], [TAKEN, 800, 1000, 0, 0],
                                        [GLOBAL, 200, 800, 0, 0]]


# ------------------------------------------------------------------ size-free play, bounds and demonstrations

# density trap, 5 items: greedy by value / weight takes #0 (6, 30) and then only #3 fits: 31. No triple fits (the
# lightest, #3 + #1 + #2, weighs 11); the pairs that fit 10: {1, 2} = 48 (weight 10), {3, 4} = 41, {0, 3} = 31,
# {1, 3} = {2, 3} = 25. The optimum is {1, 2} = 48, unique.
TRAP = '{"capacity": 10, "weights": [6, 5, 5, 1, 9], "values": [30, 24, 24, 1, 40]}'
# at the bound, 50 items: 49 of weight 2 and value 3 and a last one of weight 30 and value 44; capacity 30 holds
# 15 small ones (45) or the big one alone (44): the optimum is 45, the first 15 small ones (ties go to the
# earliest items: an item is kept only where it strictly improves on those before it)
BOUND = json.dumps({"capacity": 30, "weights": [2] * 49 + [30], "values": [3] * 49 + [44]})
# 12 items (more than num_items = 8 of the default task): weights 1..6 twice, each value = weight + 1, so a set is
# worth its weight plus its size; capacity 7: at most weight 7, and at most 4 items (the 5 lightest weigh
# 1 + 1 + 2 + 2 + 3 = 9); 1 + 1 + 2 + 3 = 7 in 4 items: 11. Ties go to the earliest items: #0, #1, #2, #6.
TWELVE = json.dumps({"capacity": 7, "weights": [1, 2, 3, 4, 5, 6] * 2, "values": [2, 3, 4, 5, 6, 7] * 2})


def _check_episode(task: Knapsack, state: KnapsackState, actions: list[int]) -> KnapsackState:
    """Play ``actions``, checking the structured contract and the current item's pointers at every state."""
    for a in actions:
        check_structured(task, state)
        t = state.step_count
        assert state.observation[t, 0] == CURRENT and (state.observation[:, 0] == CURRENT).sum() == 1
        assert state.action_pointers()[a].tolist() == [KIND_SKIP + a, t + 1, t + 1]
        state = _play(task, state, [a])
    check_structured(task, state)
    return state


@pytest.mark.parametrize(("text", "value", "demo"), [
    (TRAP, 48, [SKIP, TAKE, TAKE, SKIP, SKIP]),
    (BOUND, 45, [TAKE] * 15 + [SKIP] * 35),
    (TWELVE, 11, [TAKE, TAKE, TAKE, SKIP, SKIP, SKIP, TAKE, SKIP, SKIP, SKIP, SKIP, SKIP]),
    ('{"capacity": 3, "weights": [5, 4], "values": [1, 2]}', 0, [SKIP, SKIP]),  # nothing fits
])
def test_demonstration_is_the_hand_worked_optimum(text: str, value: int, demo: list[int]) -> None:
    task = Knapsack()  # default parameters (num_items = 8) play every size up to the bound
    s0 = task.parse(text)
    assert s0.best_value == value and s0.observation.shape == (len(s0.weights) + 1, 5)
    assert task.demonstration(s0) == demo
    end = _check_episode(task, s0, demo)
    assert end.terminal and end.packed_value == value
    assert task.outcome(end) == "success" and task.score(end) == 1.0
    assert task.demonstration(end) == []


def test_demonstration_from_a_later_state_is_the_best_completion() -> None:
    task = Knapsack()
    s = task.parse(TRAP)
    taken = _play(task, s, [TAKE])  # #0 in: 4 left, only #3 still fits
    assert task.demonstration(taken) == [SKIP, SKIP, TAKE, SKIP]
    end = _check_episode(task, taken, task.demonstration(taken))
    assert end.packed_value == 31 and task.outcome(end) == "failure"
    on_track = _play(task, s, [SKIP, TAKE])
    assert task.demonstration(on_track) == [TAKE, SKIP, SKIP]


def test_demonstrations_of_drawn_instances_reach_the_optimum() -> None:
    task = Knapsack(num_items=20, max_weight=50, max_value=50)
    for seed in range(20):
        s = task.initial_state(seed, 1 + seed % 20)
        assert isinstance(s, KnapsackState)
        end = _play(task, s, task.demonstration(s))
        assert task.outcome(end) == "success" and task.score(end) == 1.0


def test_one_task_plays_every_size_up_to_the_bound() -> None:
    task = Knapsack(num_items=3)
    rng = np.random.default_rng(5)
    for n in (1, 2, 7, 9, 23, 50):
        weights = [int(x) for x in rng.integers(1, 1001, size=n)]
        values = [int(x) for x in rng.integers(1, 10**9, size=n)]
        s = task.make_state(int(rng.integers(1, sum(weights) + 1)), weights, values)
        assert len(s.observation) == n + 1
        actions = [int(rng.choice(np.flatnonzero(s.legal_action_mask)))]
        state = _check_episode(task, s, actions)
        while not state.terminal:
            state = _check_episode(task, state, [int(rng.choice(np.flatnonzero(state.legal_action_mask)))])
        assert state.step_count == n <= task.max_episode_steps
        assert task.parse(task.instance_text(s)) == s
    with pytest.raises(ValueError, match=r"^knapsack: an instance of 51 items is beyond the bound 50 items$"):
        task.make_state(10, [1] * 51, [1] * 51)
