"""Known-answer tests for the grid-maze path-finding task ("maze"): dynamics, generation, structured tokens and
pointers, parsing any grid within the bounds, and the BFS demonstration."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.search.maze import Maze, MazeState, bfs_distance
from zeroforge.tasks.structured import POINTER_KIND_BASE, TOKEN_TYPE_BASE, TOKEN_VOCAB, check_structured

UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3
FREE_T, AGENT_T, GOAL_T, BUDGET_T = (TOKEN_TYPE_BASE["maze"] + k for k in range(4))
STEP = POINTER_KIND_BASE["maze"]

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
        state = _play(task, state, [a])
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
    free = [(r, c) for r, line in enumerate(SERPENT.splitlines()) for c, ch in enumerate(line) if ch != "#"]
    assert obs.shape == (len(free) + 1, 5) == (18, 5) and obs.dtype == np.int64 and not obs.flags.writeable
    np.testing.assert_array_equal(obs[:-1, 3:], free)  # one token per free square, row-major; walls have none
    assert (obs[:-1, 1:3] == 0).all()
    types = obs[:-1, 0].tolist()
    assert types[0] == AGENT_T and types[-1] == GOAL_T and types[1:-1] == [FREE_T] * 15
    assert obs[-1].tolist() == [BUDGET_T, 7, 0, 1, 1]  # full budget: top bucket, on the agent's square
    later = _play(task, state, [RIGHT, LEFT] * 12 + [RIGHT])  # 25 of 32 steps used: 7 left -> bucket 1
    assert later.observation[-1].tolist() == [BUDGET_T, 1, 0, 1, 2]
    assert later.observation[1, 0] == AGENT_T and later.observation[0, 0] == FREE_T
    check_structured(task, later)


def test_pointers_name_the_agent_and_target_tokens() -> None:
    task = Maze(size=3)
    state = task.parse(SERPENT)
    np.testing.assert_array_equal(state.action_pointers(), [[0, 0, 0], [0, 0, 0], [0, 0, 0], [STEP + RIGHT, 1, 2]])
    mid = _play(task, state, [RIGHT] * 4)  # (1, 5): token 4; (2, 5) below it is token 5; (1, 4) token 3
    np.testing.assert_array_equal(mid.action_pointers(),
                                  [[0, 0, 0], [STEP + DOWN, 5, 6], [STEP + LEFT, 5, 4], [0, 0, 0]])
    assert not mid.action_pointers().flags.writeable


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
    assert isinstance(task, Maze) and task.num_players == 1 and task.num_actions == 4 and task.structured
    assert task.seq_len == 31 * 31 + 1 and task.vocab_size == TOKEN_VOCAB
    assert task.bounds == {"width": 31, "height": 31} and task.max_episode_steps == 2 * 31 * 31
    assert repr(task) == "Maze(size=4, imperfect=0.1, step_budget_factor=2.0)"


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"size": 1}, "size"),
        ({"size": 16}, "size must be an integer >= 2 and <= 15"),
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
        ("\n".join(SERPENT.splitlines()[:5]), "exactly one 'G', found 0"),
        ("\n".join(SERPENT.splitlines()[:2]), r"a grid of 7 x 2 squares \(width x height\) is below the minimum 3 x 3"),
        ("", "empty"),
    ],
)
def test_malformed_texts_are_one_line_value_errors(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        Maze(size=3).parse(text)
    assert "\n" not in str(info.value)


def test_parse_reads_any_size_whatever_the_task_size() -> None:
    for task in (Maze(size=2), Maze(size=5), Maze(size=15)):
        state = task.parse(SERPENT)
        assert state.optimal_length == SERPENT_DISTANCE and state.to_text() == SERPENT


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


def test_level_one_is_a_two_by_two_maze_on_its_own_grid() -> None:
    task = Maze(size=5)
    for seed in range(10):
        state = task.initial_state(seed, 1)
        walls = state.walls
        assert walls.shape == (5, 5) and (walls[1:4:2, 1:4:2] == 0).all()  # the four cells
        assert walls.sum() == 25 - 4 - 3  # only the cells and the 3 passages of a tree are free
        assert state.position == 6 and state.goal == 18  # squares (1, 1) and (3, 3) of the 5 x 5 grid
        # a 2x2-cell spanning tree always keeps one of the two L-shaped routes: 2 cells = 4 grid moves
        assert state.optimal_length == bfs_distance(state) == 4 and state.budget == 8
        assert len(state.observation) == 7 + 1
        assert task.parse(state.to_text()) == state


@pytest.mark.parametrize("level", [1, 2, 3])
def test_each_level_is_a_perfect_maze_on_its_own_grid(level: int) -> None:
    task = Maze(size=4)
    m = level + 1
    for seed in range(5):
        state = task.initial_state(seed, level)
        assert state == task.initial_state(seed, level)
        assert state.width == state.height == 2 * m + 1 and state.legal_action_mask.shape == (4,)
        check_structured(task, state)
        passages, adj = _cell_graph(state, m)
        assert passages == m * m - 1 and _reachable(adj) == m * m  # a spanning tree of the m x m cells
        assert divmod(state.goal, state.width) == (2 * m - 1, 2 * m - 1)
        assert state.optimal_length >= 4 * (m - 1) and state.budget <= task.max_episode_steps
        # the same random draws as a task whose top level has m cells
        assert state == Maze(size=m).initial_state(seed)


def test_imperfect_levels_open_only_their_own_walls() -> None:
    task = Maze(size=5, imperfect=1.0)
    state = task.initial_state(4, 2)  # a 3x3-cell maze with every interior wall removed
    passages, _ = _cell_graph(state, 3)
    assert passages == 2 * 3 * 2 and state.walls.shape == (7, 7)
    assert state.walls[0].all() and state.walls[-1].all() and state.walls[:, 0].all() and state.walls[:, -1].all()
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


# ------------------------------------------------------------------ any size within the bounds (hand-made)

# 5 wide x 9 high, S inside the right column, G at the bottom left: one corridor.
# S (3,3): up 2 -> (1,3), left 2 -> (1,1), down 4 -> (5,1), right 2 -> (5,3), down 2 -> (7,3), left 2 -> G (7,1)
TALL = """\
#####
#...#
#.#.#
#.#S#
#.###
#...#
###.#
#G..#
#####"""
TALL_PATH = [UP] * 2 + [LEFT] * 2 + [DOWN] * 4 + [RIGHT] * 2 + [DOWN] * 2 + [LEFT] * 2

# 8 wide x 6 high (even sides), no border walls, S and G on edge squares: one corridor of 6 + 2 + 5 + 2 + 6 moves.
EVEN = """\
S......#
######.#
#......#
#.######
#......G
########"""
EVEN_PATH = [RIGHT] * 6 + [DOWN] * 2 + [LEFT] * 5 + [DOWN] * 2 + [RIGHT] * 6

# 3 x 3 open room: every shortest path has 2 downs and 2 rights; ties go to the lower action (down before right).
ROOM = "S..\n...\n..G"


def _open_room(side: int) -> str:
    """A ``side x side`` grid with no walls, S top-left, G bottom-right."""
    rows = [["."] * side for _ in range(side)]
    rows[0][0], rows[-1][-1] = "S", "G"
    return "\n".join("".join(r) for r in rows)


def _serpentine_31() -> tuple[str, list[int]]:
    """A 31 x 31 single corridor: even rows open, odd rows walled but for one end (alternately right and left);
    S top-left, G bottom-left; the path runs every even row (16 x 30 moves) and every gap (15 x 2 moves)."""
    rows = []
    for r in range(31):
        if r % 2 == 0:
            rows.append(["."] * 31)
        else:
            line = ["#"] * 31
            line[30 if r % 4 == 1 else 0] = "."
            rows.append(line)
    rows[0][0], rows[30][0] = "S", "G"
    path: list[int] = []
    for k in range(16):
        path += [RIGHT if k % 2 == 0 else LEFT] * 30
        if k < 15:
            path += [DOWN] * 2
    return "\n".join("".join(r) for r in rows), path


def _play_checked(task: Maze, state: MazeState, actions: list[int]) -> MazeState:
    """Play ``actions`` checking the structured contract on every state."""
    check_structured(task, state)
    for a in actions:
        state = _play(task, state, [a])
        check_structured(task, state)
    return state


@pytest.mark.parametrize(
    ("text", "shape", "optimum"),
    [
        (TALL, (5, 9), 14),
        (EVEN, (8, 6), 21),
        (ROOM, (3, 3), 4),
        (_open_room(15), (15, 15), 28),
        (_serpentine_31()[0], (31, 31), 16 * 30 + 15 * 2),
    ],
    ids=["5x9", "8x6", "3x3", "15x15", "31x31"],
)
def test_one_default_task_plays_every_size_within_the_bounds(text: str, shape: tuple[int, int], optimum: int) -> None:
    task = Maze()  # size 5: generates 11 x 11 grids, reads any size within the bounds
    state = task.parse(text)
    assert (state.width, state.height) == shape and state.to_text() == text
    assert state.optimal_length == bfs_distance(state) == optimum and state.budget == 2 * optimum
    assert len(state.observation) == text.count(".") + 3  # free squares incl. S and G, plus the budget token
    plan = task.demonstration(state)
    assert plan is not None and len(plan) == optimum
    end = _play_checked(task, state, plan)
    assert end.terminal and task.outcome(end) == "success" and task.score(end) == 1.0
    assert task.demonstration(end) == []
    assert task.parse(task.instance_text(state)) == state


def test_demonstrations_are_the_hand_worked_shortest_paths() -> None:
    task = Maze()
    assert task.demonstration(task.parse(TALL)) == TALL_PATH
    assert task.demonstration(task.parse(EVEN)) == EVEN_PATH
    assert task.demonstration(task.parse(SERPENT)) == SERPENT_PATH
    assert task.demonstration(task.parse(ROOM)) == [DOWN, DOWN, RIGHT, RIGHT]  # ties: down (1) before right (3)
    assert task.demonstration(task.parse(_open_room(15))) == [DOWN] * 14 + [RIGHT] * 14
    text, path = _serpentine_31()
    assert task.demonstration(task.parse(text)) == path
    mid = _play(task, task.parse(EVEN), [RIGHT, RIGHT, LEFT])  # one square along, 3 steps used
    assert task.demonstration(mid) == EVEN_PATH[1:]


def test_demonstration_is_none_when_the_budget_cannot_reach_the_goal() -> None:
    task = Maze(step_budget_factor=1.0)
    state = _play(task, task.parse(TALL), [UP, DOWN])  # back on S with 12 of 14 steps left
    assert not state.terminal and task.demonstration(state) is None
    failed = _play(task, task.parse(ROOM), [RIGHT, LEFT, RIGHT, LEFT])
    assert task.outcome(failed) == "failure" and task.demonstration(failed) is None


def test_demonstrations_of_generated_mazes_are_optimal() -> None:
    for task in (Maze(size=5, imperfect=0.1), Maze(size=7, imperfect=0.5)):
        for seed in range(20):
            for level in (1, task.difficulty_levels):
                state = task.initial_state(seed, level)
                plan = task.demonstration(state)
                assert plan is not None and len(plan) == state.optimal_length
                end = _play(task, state, plan)
                assert task.outcome(end) == "success" and task.score(end) == 1.0


def test_tokens_and_pointers_of_a_tall_grid() -> None:
    task = Maze()
    state = task.parse(TALL)
    obs = state.observation
    # free squares, row-major: (1,1) (1,2) (1,3) | (2,1) (2,3) | (3,1) (3,3)=S | (4,1) | (5,1) (5,2) (5,3) | (6,3) |
    # (7,1)=G (7,2) (7,3): 15 tokens, then the budget token
    assert obs.shape == (16, 5)
    assert obs[6].tolist() == [AGENT_T, 0, 0, 3, 3] and obs[12].tolist() == [GOAL_T, 0, 0, 7, 1]
    assert obs[4].tolist() == [FREE_T, 0, 0, 2, 3] and obs[15].tolist() == [BUDGET_T, 7, 0, 3, 3]
    assert (obs[:, 0] == AGENT_T).sum() == 1 and (obs[:, 0] == GOAL_T).sum() == 1
    # the only move from S is up, onto (2,3): token 4, pointer dst 5; src is S's token 6 + 1
    np.testing.assert_array_equal(state.legal_action_mask, [True, False, False, False])
    np.testing.assert_array_equal(state.action_pointers(), [[STEP + UP, 7, 5], [0, 0, 0], [0, 0, 0], [0, 0, 0]])
    corner = _play(task, state, [UP, UP, LEFT, LEFT])  # on (1,1): token 0; right -> (1,2) token 1, down -> (2,1) 3
    np.testing.assert_array_equal(corner.action_pointers(),
                                  [[0, 0, 0], [STEP + DOWN, 1, 4], [0, 0, 0], [STEP + RIGHT, 1, 2]])
    assert corner.observation[0, 0] == AGENT_T and corner.observation[6, 0] == FREE_T


def test_the_agent_on_the_goal_is_an_agent_token() -> None:
    task = Maze()
    end = _play(task, task.parse(ROOM), [DOWN, DOWN, RIGHT, RIGHT])
    assert end.terminal and end.observation[8, 0] == AGENT_T and GOAL_T not in end.observation[:, 0]
    assert not end.action_pointers().any()


def test_non_square_grids_of_the_same_squares_are_different_states() -> None:
    task = Maze()
    flat = "S" + "." * 16 + "G"  # 18 open squares, as 6 x 3 and as 3 x 6
    wide = task.parse("\n".join(flat[i : i + 6] for i in range(0, 18, 6)))
    tall = task.parse("\n".join(flat[i : i + 3] for i in range(0, 18, 3)))
    assert wide.grid == tall.grid and wide.position == tall.position and wide.goal == tall.goal
    assert (wide.width, wide.height, tall.width, tall.height) == (6, 3, 3, 6)
    assert wide != tall and wide.state_id != tall.state_id
    assert wide.optimal_length == tall.optimal_length == 7
    assert task.demonstration(wide) == [DOWN, DOWN] + [RIGHT] * 5
    assert task.demonstration(tall) == [DOWN] * 5 + [RIGHT, RIGHT]
    assert wide.observation[-2].tolist() == [GOAL_T, 0, 0, 2, 5]
    assert tall.observation[-2].tolist() == [GOAL_T, 0, 0, 5, 2]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("S" + "." * 30 + "G\n" + ("#" * 32 + "\n") * 4, r"a grid of 32 x 5 squares \(width x height\) is beyond the "
                                                         r"bound 31 x 31"),
        ("\n".join(["S.#", "..#"] + ["..."] * 29 + ["..G"]), r"a grid of 3 x 32 squares \(width x height\) is beyond "
                                                             r"the bound 31 x 31"),
        ("SG\n..", r"a grid of 2 x 2 squares \(width x height\) is below the minimum 3 x 3"),
        (EVEN.replace("S", "."), "exactly one 'S', found 0"),
        (EVEN.replace("#......#", "#G.....#", 1), "exactly one 'G', found 2"),
        (EVEN.replace("#.######", "########"), "'G' is not reachable from 'S'"),
        (EVEN.replace("#.######", "#.#####"), "row 4 has 7 characters, expected 8"),
        ("." * 6000, "text has 6000 characters, at most 5116"),
    ],
)
def test_instances_beyond_the_bounds_or_malformed_are_one_line_errors(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        Maze().parse(text)
    assert str(info.value).startswith("maze: ") and "\n" not in str(info.value)
