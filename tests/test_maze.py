"""Known-answer tests for the grid-maze path-finding task ("maze")."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.search.maze import Maze, MazeState, bfs_distance

UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3

# A size-3 maze (7x7 grid), drawn by hand: one serpentine corridor, no branches.
# S at (1,1); the only path: right 4 -> (1,5), down 2 -> (3,5), left 4 -> (3,1), down 2 -> (5,1),
# right 4 -> (5,5) = G.  BFS distance = 4 + 2 + 4 + 2 + 4 = 16.
SERPENT = """\
#######
#S....#
#####.#
#.....#
#.#####
#....G#
#######"""
SERPENT_DISTANCE = 16
SERPENT_PATH = [RIGHT] * 4 + [DOWN] * 2 + [LEFT] * 4 + [DOWN] * 2 + [RIGHT] * 4


def _cell_graph(state: MazeState, size: int) -> tuple[int, list[list[int]]]:
    """Passages between adjacent cells of a generated maze, as (number of passages, adjacency lists)."""
    walls = state.walls
    adj: list[list[int]] = [[] for _ in range(size * size)]
    passages = 0
    for i in range(size):
        for j in range(size):
            for di, dj in ((1, 0), (0, 1)):
                ni, nj = i + di, j + dj
                if ni < size and nj < size and walls[2 * i + 1 + di, 2 * j + 1 + dj] == 0:
                    passages += 1
                    adj[i * size + j].append(ni * size + nj)
                    adj[ni * size + nj].append(i * size + j)
    return passages, adj


def _reachable(adj: list[list[int]]) -> int:
    seen, queue = {0}, deque([0])
    while queue:
        for q in adj[queue.popleft()]:
            if q not in seen:
                seen.add(q)
                queue.append(q)
    return len(seen)


def _play(task: Maze, state: MazeState, actions: list[int]) -> MazeState:
    for a in actions:
        nxt = task.step(state, a)
        assert isinstance(nxt, MazeState)
        state = nxt
    return state


# ------------------------------------------------------------------ hand-written maze


def test_hand_written_maze_shortest_path_succeeds() -> None:
    task = Maze(size=3)
    state = task.parse(SERPENT)
    assert state.to_text() == SERPENT
    assert bfs_distance(state) == SERPENT_DISTANCE == state.optimal_length
    assert state.budget == 2 * SERPENT_DISTANCE
    assert len(SERPENT_PATH) == SERPENT_DISTANCE
    for t, a in enumerate(SERPENT_PATH):
        assert not state.terminal
        assert state.legal_action_mask[a]
        state = task.step(state, a)
        assert state.step_count == t + 1
        if t + 1 < SERPENT_DISTANCE:
            assert bfs_distance(state) == SERPENT_DISTANCE - t - 1
            np.testing.assert_array_equal(state.rewards, [0.0])
    assert state.terminal and state.step_count == SERPENT_DISTANCE
    np.testing.assert_array_equal(state.rewards, np.array([1.0], np.float32))
    assert task.outcome(state) == "success"
    assert state.position == state.goal and bfs_distance(state) == 0


def test_reaching_the_goal_on_the_last_budget_step_is_success() -> None:
    task = Maze(size=3, step_budget_factor=1.0)
    state = _play(task, task.parse(SERPENT), SERPENT_PATH)
    assert state.budget == SERPENT_DISTANCE
    assert state.terminal and float(state.rewards[0]) == 1.0 and task.outcome(state) == "success"


def test_walking_into_a_wall_is_illegal() -> None:
    task = Maze(size=3)
    state = task.parse(SERPENT)
    np.testing.assert_array_equal(state.legal_action_mask, [False, False, False, True])
    for a in (UP, DOWN, LEFT):
        with pytest.raises(ValueError, match="illegal"):
            task.step(state, a)
    assert [task.action_to_text(state, a) for a in range(4)] == ["up", "down", "left", "right"]


def test_wasting_the_budget_fails() -> None:
    task = Maze(size=3)
    state = task.parse(SERPENT)
    for _ in range(state.budget // 2 - 1):
        state = _play(task, state, [RIGHT, LEFT])
        assert not state.terminal and float(state.rewards[0]) == 0.0
    assert state.remaining == 2
    state = _play(task, state, [RIGHT, LEFT])
    assert state.terminal and state.step_count == 2 * SERPENT_DISTANCE
    np.testing.assert_array_equal(state.rewards, np.array([-1.0], np.float32))
    assert task.outcome(state) == "failure"
    assert not state.legal_action_mask.any()
    assert task.outcome(task.parse(SERPENT)) == "timeout"  # not over yet


def test_observation_tokens() -> None:
    task = Maze(size=3)
    state = task.parse(SERPENT)
    obs = state.observation
    assert obs.shape == (task.seq_len,) == (50,)
    grid = obs[:-1].reshape(7, 7)
    assert grid[1, 1] == 2 and grid[5, 5] == 3 and grid[0, 0] == 1 and grid[1, 2] == 0
    assert obs[-1] == task.vocab_size - 1  # full budget: top bucket
    later = _play(task, state, [RIGHT, LEFT] * 12)  # 24 of 32 steps used: 8 left -> bucket 2
    assert later.observation[-1] == 4 + 2
    assert later.observation[:-1].reshape(7, 7)[1, 1] == 2


def test_key_tracks_position_and_steps() -> None:
    task = Maze(size=3)
    s0 = task.parse(SERPENT)
    s2 = _play(task, s0, [RIGHT, LEFT])
    assert s2.position == s0.position and s2 != s0  # same square, more steps used
    assert _play(task, s0, [RIGHT, LEFT]) == s2


# ------------------------------------------------------------------ generated mazes


def test_same_seed_same_maze_and_different_seeds_differ() -> None:
    task = Maze(size=5)
    assert task.initial_state(3) == task.initial_state(3)
    assert task.initial_state(3).to_text() == Maze(size=5).initial_state(3).to_text()
    texts = {task.initial_state(seed).to_text() for seed in range(20)}
    assert len(texts) == 20


@pytest.mark.parametrize("size", [2, 3, 5, 8])
def test_perfect_mazes_are_trees_with_a_unique_path(size: int) -> None:
    task = Maze(size=size)
    for seed in range(10):
        state = task.initial_state(seed)
        passages, adj = _cell_graph(state, size)
        assert passages == size * size - 1
        assert _reachable(adj) == size * size  # connected with cells - 1 edges: a tree (unique paths)
        # only cells and the passages between them are free
        walls = state.walls
        assert walls[0].all() and walls[-1].all() and walls[:, 0].all() and walls[:, -1].all()
        assert (walls[0::2, 0::2] == 1).all()  # wall-corner squares
        assert (walls[1::2, 1::2] == 0).all()  # every cell is free
        assert state.position == task.width + 1 and state.row_col == (1, 1)
        assert divmod(state.goal, task.width) == (2 * size - 1, 2 * size - 1)


def test_imperfect_mazes_have_loops() -> None:
    size = 6
    interior = 2 * size * (size - 1)  # all walls between adjacent cells
    extra = interior - (size * size - 1)
    for seed in range(5):
        passages, _ = _cell_graph(Maze(size=size, imperfect=0.5).initial_state(seed), size)
        assert passages == size * size - 1 + round(0.5 * extra)
        passages, _ = _cell_graph(Maze(size=size, imperfect=1.0).initial_state(seed), size)
        assert passages == interior
    # loops can only shorten the way: the optimum never grows
    for seed in range(5):
        perfect = Maze(size=size).initial_state(seed)
        loopy = Maze(size=size, imperfect=1.0).initial_state(seed)
        assert loopy.optimal_length == 4 * (size - 1) <= perfect.optimal_length


def test_goal_reachable_and_round_trip_for_many_seeds() -> None:
    for task in (Maze(size=4), Maze(size=7, imperfect=0.25)):
        for seed in range(50):
            state = task.initial_state(seed)
            d = bfs_distance(state)
            assert d is not None and d == state.optimal_length >= 4 * (task.size - 1)  # at least the Manhattan distance
            assert state.budget == int(np.ceil(task.step_budget_factor * d)) <= task.max_episode_steps
            back = task.parse(state.to_text())
            assert back.to_text() == state.to_text()
            assert back == state and back.optimal_length == state.optimal_length


def test_mid_episode_text_parses_to_a_fresh_instance_from_there() -> None:
    task = Maze(size=3)
    state = _play(task, task.parse(SERPENT), SERPENT_PATH[:6])
    back = task.parse(state.to_text())
    assert back.to_text() == state.to_text()
    assert back.step_count == 0 and back.optimal_length == SERPENT_DISTANCE - 6


def test_make_task_builds_the_maze() -> None:
    task = make_task("maze", size=4, imperfect=0.1)
    assert isinstance(task, Maze) and task.num_players == 1 and task.num_actions == 4
    assert task.seq_len == 9 * 9 + 1 and task.vocab_size == 12
    assert repr(task) == "Maze(size=4, imperfect=0.1, step_budget_factor=2.0)"


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"size": 1}, "size"),
        ({"size": 2.5}, "size"),
        ({"imperfect": -0.1}, "imperfect"),
        ({"imperfect": 1.5}, "imperfect"),
        ({"step_budget_factor": 0.5}, "step_budget_factor"),
        ({"step_budget_factor": float("inf")}, "step_budget_factor"),
    ],
)
def test_bad_params_are_one_line_value_errors(params: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name) as info:
        Maze(**params)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (SERPENT.replace("S", "."), "exactly one 'S', found 0"),
        (SERPENT.replace("#....G#", "#G...G#"), "exactly one 'G', found 2"),
        (SERPENT.replace("#.....#", "#....#"), "row 4 has 6 characters, expected 7"),
        (SERPENT.replace("#####.#", "####x.#"), "row 3 column 5 has unknown character 'x'"),
        (SERPENT.replace("#####.#", "#######"), "'G' is not reachable from 'S'"),
        ("\n".join(SERPENT.splitlines()[:5]), "grid is 5x7, but this task \\(size=3\\) needs 7x7"),
        ("", "empty"),
    ],
)
def test_malformed_texts_are_one_line_value_errors(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        Maze(size=3).parse(text)
    assert "\n" not in str(info.value)


def test_parse_requires_the_task_size() -> None:
    with pytest.raises(ValueError, match="needs 11x11"):
        Maze(size=5).parse(SERPENT)


# ------------------------------------------------------------------ difficulty levels and score

# Maze(size=3).initial_state(0) recorded before difficulty levels existed: the top level must not change.
SIZE3_SEED0 = """\
#######
#S....#
#####.#
#.#...#
#.#.###
#....G#
#######"""
SIZE3_SEED0_ID = "95d9d21fe4c418e8"
DEFAULT_SEED0_ID = "317909c18e835797"  # Maze().initial_state(0).state_id, likewise recorded


def test_top_level_is_the_maze_as_before() -> None:
    task = Maze(size=3)
    assert task.difficulty_levels == 2
    top = task.initial_state(0)
    assert top.to_text() == SIZE3_SEED0 and top.state_id == SIZE3_SEED0_ID
    assert task.initial_state(0, 2) == top and task.initial_state(0, 2).to_text() == SIZE3_SEED0
    assert Maze().initial_state(0).state_id == DEFAULT_SEED0_ID
    assert Maze().difficulty_levels == 4
    with pytest.raises(ValueError, match="difficulty"):
        task.initial_state(0, 3)


def test_level_one_is_a_walled_in_two_by_two_maze() -> None:
    task = Maze(size=5)
    for seed in range(10):
        state = task.initial_state(seed, 1)
        walls = state.walls
        assert (walls[1:4:2, 1:4:2] == 0).all()  # the four cells
        assert walls.sum() == task.width**2 - 4 - 3  # only the cells and the 3 passages of a tree are free
        assert state.position == task.width + 1 and divmod(state.goal, task.width) == (3, 3)
        # a 2x2-cell spanning tree always keeps one of the two L-shaped routes: 2 cells = 4 grid moves
        assert state.optimal_length == bfs_distance(state) == 4 and state.budget == 8
        assert task.parse(state.to_text()) == state


@pytest.mark.parametrize("level", [1, 2, 3])
def test_each_level_is_a_walled_in_perfect_sub_maze(level: int) -> None:
    task = Maze(size=4)
    m = level + 1
    for seed in range(5):
        state = task.initial_state(seed, level)
        assert state == task.initial_state(seed, level)
        assert state.observation.shape == (task.seq_len,) and state.legal_action_mask.shape == (4,)
        walls = state.walls
        assert walls[2 * m :].all() and walls[:, 2 * m :].all()  # nothing free outside the sub-maze
        passages, adj = _cell_graph(state, m)
        assert passages == m * m - 1 and _reachable(adj) == m * m  # a spanning tree of the m x m cells
        assert divmod(state.goal, task.width) == (2 * m - 1, 2 * m - 1)
        assert state.optimal_length >= 4 * (m - 1) and state.budget <= task.max_episode_steps


def test_imperfect_sub_mazes_open_only_their_own_walls() -> None:
    task = Maze(size=5, imperfect=1.0)
    state = task.initial_state(4, 2)  # a 3x3-cell maze with every interior wall removed
    passages, _ = _cell_graph(state, 3)
    assert passages == 2 * 3 * 2
    assert state.walls[6:].all() and state.walls[:, 6:].all()
    assert state.optimal_length == 8


def test_score_of_shortest_detour_and_failed_paths() -> None:
    task = Maze(size=3)
    state = task.parse(SERPENT)
    assert task.score(state) is None
    assert task.score(_play(task, state, SERPENT_PATH)) == 1.0
    detour = _play(task, state, [RIGHT, LEFT, *SERPENT_PATH])  # two wasted moves
    assert detour.terminal and task.outcome(detour) == "success"
    assert task.score(detour) == pytest.approx(16 / 18)
    assert task.score(_play(task, state, SERPENT_PATH[:5])) is None  # not over yet
    failed = _play(task, state, [RIGHT, LEFT] * SERPENT_DISTANCE)
    assert task.outcome(failed) == "failure" and task.score(failed) == 0.0


def test_score_on_a_level_one_maze() -> None:
    task = Maze(size=4)
    state = task.initial_state(0, 1)
    across_first = state.walls[1, 2] == 0 and state.walls[2, 3] == 0  # the route via the top-right cell is open
    path = [RIGHT, RIGHT, DOWN, DOWN] if across_first else [DOWN, DOWN, RIGHT, RIGHT]
    end = _play(task, state, path)
    assert end.terminal and task.outcome(end) == "success" and task.score(end) == 1.0
