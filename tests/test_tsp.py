"""Euclidean TSP: known optima, Held–Karp against brute force, structured tokens and pointers, bounds,
demonstrations, difficulty, parsing."""

from __future__ import annotations

import itertools
import json
import math
import pickle

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.search.tsp import TSP, TSPState, optimal_tour, shortest_path_through, tour_length
from zeroforge.tasks.structured import TOKEN_VOCAB, check_structured

SQUARE = '{"coords": [[0, 0], [0, 1], [1, 1], [1, 0]]}'
START, CURRENT, UNVISITED, VISITED, GLOBAL = 48, 49, 50, 51, 52  # TOKEN_TYPE_BASE["tsp"] + 0..4
KIND_GO = 128  # POINTER_KIND_BASE["tsp"]


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
    assert isinstance(t, TSP) and t.structured and t.bounds == {"cities": 20}
    # sized by the bound (20 cities + the global token), not by num_cities = 6
    assert (t.num_actions, t.num_players, t.seq_len, t.vocab_size) == (20, 1, 21, TOKEN_VOCAB)
    assert (t.max_episode_steps, t.difficulty_levels, t.coord_buckets) == (19, 4, 64)
    big = TSP(num_cities=12, coord_buckets=1024)
    assert (big.num_actions, big.seq_len, big.difficulty_levels) == (20, 21, 10)
    assert repr(big) == "TSP(num_cities=12, coord_buckets=1024)"


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


def test_tokens_and_pointers() -> None:
    task = TSP(num_cities=5, coord_buckets=11)  # grid steps of 1 over the 10 x 10 box: a, b = round(x), round(y)
    s = task.parse('{"coords": [[0, 10], [10, 10], [5, 0], [9.5, 10]]}')
    assert s.coords == ((0, 10), (10, 10), (5, 0), (9.5, 10))
    # rows: rings of an eighth of the diagonal 10 * sqrt(2) = 14.14 from city 0: 10 -> 5.66, sqrt(125) -> 6.32,
    # 9.5 -> 5.37; the global token: length 0, 3 cities left
    assert s.observation.tolist() == [
        [CURRENT, 0, 10, 0, 0],
        [UNVISITED, 10, 10, 5, 0],
        [UNVISITED, 5, 0, 6, 0],
        [UNVISITED, 10, 10, 5, 0],  # 9.5 rounds up to 10
        [GLOBAL, 0, 3, 0, 0],
    ]
    assert s.legal_action_mask.tolist() == [False, True, True, True] + [False] * 16
    assert s.action_pointers().tolist()[:5] == [[0, 0, 0], [KIND_GO, 1, 2], [KIND_GO, 1, 3], [KIND_GO, 1, 4],
                                                 [0, 0, 0]]
    s1 = task.step(s, 2)
    assert isinstance(s1, TSPState)
    # from (5, 0): sqrt(125) = 11.18, sqrt(125), 0, sqrt(120.25) = 10.97 -> rings 6, 6, 0, 6; travelled 11.18 =
    # 25.3 32nds of the diagonal
    assert s1.observation.tolist() == [
        [START, 0, 10, 6, 0],
        [UNVISITED, 10, 10, 6, 0],
        [CURRENT, 5, 0, 0, 0],
        [UNVISITED, 10, 10, 6, 0],
        [GLOBAL, 25, 2, 0, 0],
    ]
    assert s1.legal_action_mask.tolist() == [False, True, False, True] + [False] * 16
    pointers = s1.action_pointers()
    assert pointers[3].tolist() == [KIND_GO, 3, 4]  # from city 2 (token 2) to city 3 (token 3)
    assert pointers[1].tolist() == [KIND_GO, 3, 2] and not pointers[[0, 2, *range(4, 20)]].any()
    assert task.action_to_text(s1, 3) == "go to city 3 (9.5, 10)"
    end = _play(task, s1, [3, 1])
    # closed: 11.18 + 10.97 + 0.5 + 10 = 32.65 = 73.9 32nds of the diagonal; rings from city 0 again
    assert end.observation.tolist() == [
        [CURRENT, 0, 10, 0, 0],
        [VISITED, 10, 10, 5, 0],
        [VISITED, 5, 0, 6, 0],
        [VISITED, 10, 10, 5, 0],
        [GLOBAL, 74, 0, 0, 0],
    ]
    assert not end.action_pointers().any()
    for state in (s, s1, end):
        check_structured(task, state)
        assert not state.observation.flags.writeable and not state.action_pointers().flags.writeable
    # the shape of the box is kept: a zero-width x range, y over 8 units on the default 64-step grid
    flat = TSP(num_cities=3).make_state([(7, 1), (7, 5), (7, 9)])
    assert flat.observation[:3, 1].tolist() == [0, 0, 0]
    assert flat.observation[:3, 2].tolist() == [0, 32, 63]  # 63 * 4 / 8 = 31.5 rounds up


def test_difficulty_levels_draw_smaller_instances_with_padding() -> None:
    task = TSP(num_cities=7)
    assert task.difficulty_levels == 5
    for level in range(1, 6):
        for seed in range(3):
            s = task.initial_state(seed, level)
            n = level + 2
            assert len(s.coords) == n and len(set(s.coords)) == n
            assert all(isinstance(v, int) and 0 <= v <= 99 for p in s.coords for v in p)
            assert s.observation.shape == (n + 1, 5) and s.legal_action_mask.shape == (20,)
            steps = 0
            rng = np.random.default_rng(seed)
            while not s.terminal:
                check_structured(task, s)
                assert not s.legal_action_mask[n:].any()
                s = task.step(s, int(rng.choice(np.flatnonzero(s.legal_action_mask))))
                steps += 1
            assert steps == n - 1 and len(task.answer(s) or []) == n
            with pytest.raises(ValueError, match="illegal"):
                task.step(task.initial_state(seed, level), n)
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
        ('{"coords": [[0, 0], [1, 1]]}', r"expected 3\.\.20 cities, got 2"),
        (json.dumps({"coords": [[i, 0] for i in range(21)]}), r"^tsp: an instance of 21 cities is beyond the bound 20"),
        (json.dumps({"coords": [[i, 0] for i in range(20)] + ["x"]}), "beyond the bound 20 cities"),  # counted first
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
        ({"coord_buckets": 1}, r"coord_buckets must be an integer in 2\.\.1024"),
        ({"coord_buckets": 1025}, r"coord_buckets must be an integer in 2\.\.1024"),
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


# ------------------------------------------------------------------ size-free play, bounds and demonstrations


def _check_episode(task: TSP, state: TSPState, cities: list[int]) -> TSPState:
    """Play ``cities``, checking the structured contract and the pointer of every move."""
    for c in cities:
        check_structured(task, state)
        here = state.tour[-1]
        assert state.observation[here, 0] == CURRENT and (state.observation[:, 0] == CURRENT).sum() == 1
        assert state.action_pointers()[c].tolist() == [KIND_GO, here + 1, c + 1]
        state = _play(task, state, [c])
    check_structured(task, state)
    return state


def _circle(n: int, order: list[int]) -> list[tuple[float, float]]:
    """``n`` points on a circle of radius 50, city ``i`` at angle ``2 pi order[i] / n``."""
    return [(50 * math.cos(2 * math.pi * k / n), 50 * math.sin(2 * math.pi * k / n)) for k in order]


def test_demonstration_of_a_thin_rectangle() -> None:
    task = TSP()  # default parameters play any size within the bound
    s = task.parse('{"coords": [[0, 0], [4, 1], [4, 0], [0, 1]]}')  # 4 x 1: around the rectangle, 10
    assert s.optimal_length == 10.0
    demo = task.demonstration(s)
    assert demo in ([2, 1, 3], [3, 1, 2])  # (0, 0) -> (4, 0) -> (4, 1) -> (0, 1) or back
    end = _check_episode(task, s, demo)
    assert task.outcome(end) == "success" and task.score(end) == 1.0 and task.demonstration(end) == []


def test_demonstration_on_a_3_by_5_grid() -> None:
    """15 points of a 3 x 5 unit grid (more than the generator's 12): every edge is at least 1, and a tour of 15
    unit edges would be an odd cycle of the bipartite grid graph, so one edge is at least sqrt(2): the optimum
    is 14 + sqrt(2), which a snake closed by one diagonal reaches."""
    task = TSP()
    coords = [[x, y] for y in range(3) for x in range(5)]
    s = task.parse(json.dumps({"coords": coords}))
    assert s.optimal_length == pytest.approx(14 + math.sqrt(2), rel=1e-12)
    demo = task.demonstration(s)
    assert sorted(demo) == list(range(1, 15))
    assert tour_length(coords, [0, *demo]) == pytest.approx(14 + math.sqrt(2), rel=1e-12)
    end = _check_episode(task, s, demo)
    assert task.outcome(end) == "success" and task.score(end) == 1.0


def test_demonstration_at_the_bound_follows_the_circle() -> None:
    """20 points on a circle, shuffled: points in convex position are toured optimally in angular order (a
    crossing could be uncrossed shorter), so the optimum is 20 chords of 2 * 50 * sin(pi / 20)."""
    order = [0, 7, 13, 2, 19, 5, 11, 16, 3, 9, 14, 1, 18, 6, 10, 15, 4, 12, 17, 8]
    coords = _circle(20, order)
    task = TSP(num_cities=3)
    s = task.make_state(coords)
    assert s.optimal_length == pytest.approx(20 * 100 * math.sin(math.pi / 20), rel=1e-12)
    by_angle = [order.index(k) for k in range(20)]  # city at angle 0, 1, 2, ...
    demo = task.demonstration(s)
    assert demo in (by_angle[1:], by_angle[:0:-1])
    end = _check_episode(task, s, demo)
    assert end.step_count == 19 == task.max_episode_steps
    assert task.outcome(end) == "success" and task.score(end) == 1.0
    # off the optimal tour (0 -> the city at angle 2), the demonstration is the best completion; two tie at 16
    # unit chords, one double chord and two more units: 2 -> 3 -> ... -> 19 -> 1 -> 0 and 2 -> 1 -> 3 -> ... -> 19 -> 0
    detour = _play(task, s, [by_angle[2]])
    rest = task.demonstration(detour)
    assert rest in ([*by_angle[3:], by_angle[1]], [by_angle[1], *by_angle[3:]])
    unit, double = 100 * math.sin(math.pi / 20), 100 * math.sin(2 * math.pi / 20)
    assert _play(task, detour, rest).length == pytest.approx(18 * unit + 2 * double, rel=1e-12)


def test_shortest_path_through_known_answers() -> None:
    dist = np.array([[math.dist(p, q) for q in [(0, 0), (3, 0), (3, 4), (0, 4)]] for p in [(0, 0), (3, 0), (3, 4),
                                                                                            (0, 4)]])
    assert shortest_path_through(dist, 1, [], 2) == (4.0, [])
    assert shortest_path_through(dist, 0, [1, 2], 3) == (10.0, [1, 2])  # 3 + 4 + 3
    length, order = shortest_path_through(dist, 0, [2, 1, 3], 0)  # around the rectangle, either way
    assert length == 14.0 and order in ([1, 2, 3], [3, 2, 1])


def test_one_task_plays_every_size_up_to_the_bound() -> None:
    task = TSP()  # num_cities = 6
    rng = np.random.default_rng(11)
    for n in (3, 5, 9, 13, 16):
        cells = rng.choice(1000 * 1000, size=n, replace=False)
        s = task.make_state([(int(c) // 1000, int(c) % 1000) for c in cells])
        assert len(s.observation) == n + 1 and s.legal_action_mask[:n].sum() == n - 1
        cities = []
        state = s
        while not state.terminal:
            cities.append(int(rng.choice(np.flatnonzero(state.legal_action_mask))))
            state = _play(task, state, cities[-1:])
        end = _check_episode(task, s, cities)
        assert end.step_count == n - 1 and task.outcome(end) in ("success", "failure")
        assert task.parse(task.instance_text(s)) == s
    with pytest.raises(ValueError, match=r"^tsp: an instance of 21 cities is beyond the bound 20 cities$"):
        task.make_state([(i, i * i) for i in range(21)])
