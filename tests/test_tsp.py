"""Euclidean TSP: known optima, Held–Karp against brute force, observation, difficulty, parsing."""

from __future__ import annotations

import itertools
import json
import math
import pickle

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.search.tsp import TSP, TSPState, optimal_tour, tour_length

SQUARE = '{"coords": [[0, 0], [0, 1], [1, 1], [1, 0]]}'


def _play(task: TSP, state: TSPState, cities: list[int]) -> TSPState:
    for c in cities:
        nxt = task.step(state, c)
        assert isinstance(nxt, TSPState)
        state = nxt
    return state


def _brute_force(coords: list[tuple[int, int]]) -> float:
    n = len(coords)
    return min(tour_length(coords, [0, *perm]) for perm in itertools.permutations(range(1, n)))


def test_registered_with_sizes() -> None:
    t = make_task("tsp")
    assert isinstance(t, TSP)
    assert (t.num_actions, t.num_players, t.seq_len, t.vocab_size) == (6, 1, 25, 68)
    assert (t.max_episode_steps, t.difficulty_levels) == (5, 4)
    big = TSP(num_cities=12, coord_buckets=64)
    assert (big.num_actions, big.seq_len, big.vocab_size, big.difficulty_levels) == (12, 49, 260, 10)
    assert repr(big) == "TSP(num_cities=12, coord_buckets=64)"


def test_square_optimal_and_crossing_tours() -> None:
    task = TSP(num_cities=4)
    s = task.parse(SQUARE)
    assert s.optimal_length == 4.0 and s.tour == (0,)
    assert task.score(s) is None and task.answer(s) is None and task.outcome(s) == "timeout"

    best = _play(task, s, [1, 2, 3])
    assert best.terminal and best.length == 4.0 and best.rewards.tolist() == [1.0]
    assert task.outcome(best) == "success" and task.score(best) == 1.0 and task.answer(best) == [0, 1, 2, 3]
    assert not best.legal_action_mask.any()
    reverse = _play(task, s, [3, 2, 1])
    assert task.outcome(reverse) == "success" and task.score(reverse) == 1.0

    crossing = _play(task, s, [2, 1, 3])  # 0 -> (1,1) -> (0,1) -> (1,0) -> 0: both diagonals
    assert crossing.length == pytest.approx(2 + 2 * math.sqrt(2))
    assert crossing.rewards.tolist() == [-1.0] and task.outcome(crossing) == "failure"
    assert task.score(crossing) == pytest.approx(4.0 / (2 + 2 * math.sqrt(2)))
    assert task.answer(crossing) == [0, 2, 1, 3]
    assert json.dumps(task.answer(crossing)) == "[0, 2, 1, 3]"


@pytest.mark.parametrize(
    ("coords", "optimum"),
    [
        ([(0, 0), (4, 0), (1, 0), (3, 0), (2, 0)], 8.0),  # collinear: out and back
        ([(0, 0), (3, 0), (3, 4), (0, 4), (0, 2)], 14.0),  # 3 x 4 rectangle, one point on an edge
        ([(0, 0), (3, 0), (0, 4)], 12.0),  # 3-4-5 triangle
        ([(0, 0), (2, 0), (2, 2), (0, 2), (1, 1)], 6 + 2 * math.sqrt(2)),  # 2 x 2 square + centre: one side detours
    ],
)
def test_hand_computed_optima(coords: list[tuple[int, int]], optimum: float) -> None:
    length, tour = optimal_tour(coords)
    assert length == pytest.approx(optimum, rel=1e-12)
    assert tour[0] == 0 and sorted(tour) == list(range(len(coords)))
    assert tour_length(coords, tour) == pytest.approx(length, rel=1e-12)
    task = TSP(num_cities=len(coords))
    s = task.make_state(coords)
    assert s.optimal_length == pytest.approx(optimum, rel=1e-12)
    end = _play(task, s, tour[1:])
    assert task.outcome(end) == "success" and task.score(end) == 1.0 and task.answer(end) == tour


def test_held_karp_matches_brute_force() -> None:
    rng = np.random.default_rng(2024)
    for n in (3, 4, 5, 6, 7, 7):
        cells = rng.choice(100 * 100, size=n, replace=False)
        coords = [(int(c) // 100, int(c) % 100) for c in cells]
        length, tour = optimal_tour(coords)
        assert length == pytest.approx(_brute_force(coords), rel=1e-12)
        assert tour[0] == 0 and sorted(tour) == list(range(n))
        assert tour_length(coords, tour) == pytest.approx(length, rel=1e-12)
    assert optimal_tour([(5, 5)]) == (0.0, [0])
    assert optimal_tour([(0, 0), (3, 4)]) == (10.0, [0, 1])


def test_every_playout_is_scored_against_the_optimum() -> None:
    task = TSP(num_cities=5)
    for seed in range(6):
        s = task.initial_state(seed)
        for perm in itertools.permutations(range(1, 5)):
            end = _play(task, s, list(perm))
            optimal = end.length <= s.optimal_length * (1 + 1e-9)
            assert task.outcome(end) == ("success" if optimal else "failure")
            score = task.score(end)
            assert score is not None and 0.0 < score <= 1.0 and (score == 1.0) == optimal
        _, tour = optimal_tour(s.coords)
        assert task.outcome(_play(task, s, tour[1:])) == "success"


def test_observation_tokens_and_statuses() -> None:
    task = TSP(num_cities=5, coord_buckets=4)
    b = 4
    unvisited, visited, current, absent = b, b + 1, b + 2, b + 3
    s = task.parse('{"coords": [[0, 10], [10, 10], [5, 0], [9.5, 10]]}')
    assert s.coords == ((0, 10), (10, 10), (5, 0), (9.5, 10))
    # x range 0..10, y range 0..10, 4 buckets: 0 -> 0, 5 -> 2, 9.5 -> 3, 10 -> 3 (clipped)
    # distance buckets from city 0 over the diagonal 10*sqrt(2): 0 -> 0, 10 -> 2, sqrt(125) -> 3, 9.5 -> 2
    d = b + 4
    assert s.observation.tolist() == [0, 3, current, d + 0, 3, 3, unvisited, d + 2, 2, 0, unvisited, d + 3,
                                      3, 3, unvisited, d + 2] + [absent] * 4 + [2 * b + 4]
    assert s.legal_action_mask.tolist() == [False, True, True, True, False]
    s1 = task.step(s, 2)
    assert s1.observation[2::4].tolist() == [visited, unvisited, current, unvisited, absent]
    # from city 2 at (5, 0): sqrt(125), sqrt(125), 0, sqrt(120.25) -> buckets 3, 3, 0, 3
    assert s1.observation[3:-1:4].tolist() == [d + 3, d + 3, d + 0, d + 3, absent]
    # travelled sqrt(125) = 3.16 quarters of the diagonal: length bucket 3
    assert s1.observation[-1] == 2 * b + 4 + 3
    assert s1.legal_action_mask.tolist() == [False, True, False, True, False]
    assert task.action_to_text(s1, 3) == "go to city 3 (9.5, 10)"
    end = _play(task, s1, [3, 1])
    assert end.observation[2::4].tolist() == [current, visited, visited, visited, absent]
    assert end.observation.max() < task.vocab_size
    # a zero-width range goes to bucket 0
    flat = TSP(num_cities=3).make_state([(7, 1), (7, 5), (7, 9)])
    assert flat.observation[0:-1:4].tolist() == [0, 0, 0]
    assert flat.observation[1:-1:4].tolist() == [0, 8, 15]


def test_difficulty_levels_draw_smaller_instances_with_padding() -> None:
    task = TSP(num_cities=7)
    assert task.difficulty_levels == 5
    absent = task.coord_buckets + 3
    for level in range(1, 6):
        for seed in range(3):
            s = task.initial_state(seed, level)
            n = level + 2
            assert len(s.coords) == n and len(set(s.coords)) == n
            assert all(isinstance(v, int) and 0 <= v <= 99 for p in s.coords for v in p)
            assert s.observation.shape == (task.seq_len,) and s.legal_action_mask.shape == (7,)
            assert s.observation[4 * n : -1].tolist() == [absent] * (4 * (7 - n))
            steps = 0
            rng = np.random.default_rng(seed)
            while not s.terminal:
                assert not s.legal_action_mask[n:].any()
                s = task.step(s, int(rng.choice(np.flatnonzero(s.legal_action_mask))))
                steps += 1
            assert steps == n - 1 and len(task.answer(s) or []) == n
            if n < 7:
                with pytest.raises(ValueError, match="illegal"):
                    task.step(task.initial_state(seed, level), 6)
    assert task.initial_state(4) == task.initial_state(4, 5)


def test_to_text_round_trips_and_pickles() -> None:
    task = TSP(num_cities=6)
    s = _play(task, task.parse(SQUARE), [3])
    lines = s.to_text().splitlines()
    assert lines[0] == SQUARE and lines[1] == "tour 0 -> 3 (2/4 cities), length so far 1.0000"
    assert task.parse(lines[0]) == task.parse(SQUARE) and task.instance_text(s) == SQUARE
    assert task.action_to_text(s, 2) == "go to city 2 (1, 1)" and task.action_to_text(s, 5) == "go to city 5"
    end = _play(task, s, [2, 1])
    assert end.to_text().splitlines()[1] == "tour 0 -> 3 -> 2 -> 1 -> 0 (closed), length 4.0000, optimum 4.0000"
    clone = pickle.loads(pickle.dumps(end))
    assert clone == end and clone.state_id == end.state_id and task.score(clone) == 1.0
    for seed in range(4):
        init = task.initial_state(seed)
        text = task.instance_text(init)
        assert all(isinstance(v, int) for p in json.loads(text)["coords"] for v in p)
        assert task.parse(text) == init and task.parse(text).to_text() == init.to_text()
    # integral floats read as ints: one canonical form, one state id
    a, b = task.parse('{"coords": [[0.0, 0], [0, 1.0], [1, 1], [1, 0]]}'), task.parse(SQUARE)
    assert a == b and a.state_id == b.state_id and a.to_text() == b.to_text()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "malformed JSON"),
        ("{not json", "malformed JSON"),
        ("[[0, 0], [1, 1], [2, 0]]", "JSON object"),
        ('{"cities": [[0, 0], [1, 1], [2, 0]]}', "missing the key 'coords'"),
        ('{"coords": [[0, 0], [1, 1], [2, 0]], "n": 3}', "unknown keys"),
        ('{"coords": "0,0 1,1 2,0"}', "'coords' must be a list"),
        ('{"coords": [[0, 0], [1, 1]]}', r"expected 3\.\.6 cities .*got 2"),
        ('{"coords": [[0, 0], [1, 1], [2, 0], [3, 1], [4, 0], [5, 1], [6, 0]]}', r"expected 3\.\.6 cities .*got 7"),
        ('{"coords": [[0, 0], [1, 1], [2]]}', "city 2 must be an \\[x, y\\] pair"),
        ('{"coords": [[0, 0], [1, 1], [2, 0, 1]]}', "city 2 must be an \\[x, y\\] pair"),
        ('{"coords": [[0, 0], 5, [2, 0]]}', "city 1 must be an \\[x, y\\] pair"),
        ('{"coords": [[0, 0], [1, "1"], [2, 0]]}', "city 1 coordinates must be numbers"),
        ('{"coords": [[0, 0], [1, true], [2, 0]]}', "city 1 coordinates must be numbers"),
        ('{"coords": [[0, 0], [1, null], [2, 0]]}', "city 1 coordinates must be numbers"),
        ('{"coords": [[0, 0], [1, NaN], [2, 0]]}', "city 1 coordinates must be finite"),
        ('{"coords": [[0, 0], [Infinity, 1], [2, 0]]}', "city 1 coordinates must be finite"),
        ('{"coords": [[0, 0], [1, 1], [2, 1e7]]}', "absolute value at most"),
        ('{"coords": [[0, 0], [1, 1], [0, 0]]}', r"cities 0 and 2 are the same point \[0, 0\]"),
        ('{"coords": [[0, 0], [1, 1], [1.0, 1]]}', "cities 1 and 2 are the same point"),
    ],
)
def test_parse_errors_are_one_line(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        TSP().parse(text)
    assert str(info.value).startswith("tsp:") and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"num_cities": 2}, r"num_cities must be an integer in 3\.\.12"),
        ({"num_cities": 13}, r"num_cities must be an integer in 3\.\.12"),
        ({"num_cities": 6.0}, "num_cities"),
        ({"num_cities": True}, "num_cities"),
        ({"coord_buckets": 1}, r"coord_buckets must be an integer in 2\.\.64"),
        ({"coord_buckets": 65}, "coord_buckets"),
        ({"coord_buckets": 16.0}, "coord_buckets"),
    ],
)
def test_bad_parameters(params: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        TSP(**params)  # type: ignore[arg-type]
    assert str(info.value).startswith("tsp:") and "\n" not in str(info.value)


def test_same_seed_same_instance_and_distinct_seeds_differ() -> None:
    a, b = TSP(), TSP()
    for seed in range(5):
        s1, s2 = a.initial_state(seed), b.initial_state(seed)
        assert s1 == s2 and s1.state_id == s2.state_id and s1.optimal_length == s2.optimal_length
    assert len({a.initial_state(k).coords for k in range(5)}) == 5


def test_twelve_cities_is_fast_enough() -> None:
    task = TSP(num_cities=12)
    s = task.initial_state(0)
    length, tour = optimal_tour(s.coords)
    assert length == s.optimal_length and len(tour) == 12
    end = _play(task, s, tour[1:])
    assert task.outcome(end) == "success" and task.score(end) == 1.0
