"""Known-answer tests for the blocksworld planning task ("blocksworld")."""

from __future__ import annotations

import json
from collections import deque

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.reasoning.blocksworld import Blocksworld, BlocksworldState, optimal_plan_length

# The Sussman anomaly: C on A, A and B on the table; goal A on B on C.
SUSSMAN = json.dumps({"initial": [["A", "C"], ["B"]], "goal": [["C", "B", "A"]]})
SUSSMAN_PLAN = ["move C table", "move B C", "move A B"]


def _action(task: Blocksworld, text: str) -> int:
    _, x, y = text.split()
    n = task.num_blocks
    return task.blocks.index(x) * (n + 1) + (n if y == "table" else task.blocks.index(y))


def _play(task: Blocksworld, state: BlocksworldState, plan: list[str]) -> BlocksworldState:
    for text in plan:
        a = _action(task, text)
        assert task.action_to_text(state, a) == text
        nxt = task.step(state, a)
        assert isinstance(nxt, BlocksworldState)
        state = nxt
    return state


def _bfs(on: tuple[int, ...], goal: tuple[int, ...]) -> int:
    """Plain breadth-first search over configurations (the reference for the task's A*)."""
    n = len(on)
    dist = {on: 0}
    queue = deque([on])
    while queue:
        cur = queue.popleft()
        if cur == goal:
            return dist[cur]
        covered = {b for b in cur if b != n}
        for x in range(n):
            if x in covered:
                continue
            for y in range(n + 1):
                if y == x or y in covered or (y == n and cur[x] == n):
                    continue
                nxt = (*cur[:x], y, *cur[x + 1 :])
                if nxt not in dist:
                    dist[nxt] = dist[cur] + 1
                    queue.append(nxt)
    raise AssertionError("unreachable")


def test_registered_with_defaults() -> None:
    task = make_task("blocksworld")
    assert isinstance(task, Blocksworld)
    assert task.num_blocks == 4 and task.num_actions == 20 and task.seq_len == 9 and task.num_players == 1
    assert task.vocab_size == 4 + 1 + 8 + 1  # blocks, table, budget buckets, ABSENT
    assert task.difficulty_levels == 3
    assert task.max_episode_steps == 16


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"num_blocks": 1}, "num_blocks"),
        ({"num_blocks": 9}, "num_blocks"),
        ({"num_blocks": 3.0}, "num_blocks"),
        ({"num_blocks": True}, "num_blocks"),
        ({"step_budget_factor": 0.5}, "step_budget_factor"),
        ({"step_budget_factor": float("inf")}, "step_budget_factor"),
        ({"step_budget_factor": "x"}, "step_budget_factor"),
    ],
)
def test_bad_parameters(params: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        Blocksworld(**params)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_sussman_anomaly_optimal_plan() -> None:
    task = Blocksworld(num_blocks=3)
    state = task.parse(SUSSMAN)
    assert state.on == (3, 3, 0) and state.goal == (1, 2, 3)
    assert optimal_plan_length(state) == 3 == state.optimal_length == task.optimal_plan_length(state)
    assert _bfs(state.on, state.goal) == 3
    assert state.budget == 6 and state.step_count == 0 and not state.terminal
    assert state.to_text() == "state: [A C] [B] | goal: [C B A] | step 0/6"
    np.testing.assert_array_equal(state.observation, [3, 3, 0, 1, 2, 3, 3 + 1 + 7])
    legal = {task.action_to_text(state, int(a)) for a in np.flatnonzero(state.legal_action_mask)}
    assert legal == {"move C table", "move C B", "move B C"}

    end = _play(task, state, SUSSMAN_PLAN)
    assert end.terminal and end.step_count == 3
    np.testing.assert_array_equal(end.rewards, [1.0])
    assert task.outcome(end) == "success"
    assert not end.legal_action_mask.any()
    assert end.to_text() == "state: [C B A] | goal: [C B A] | step 3/6"


def test_intermediate_steps_have_no_reward() -> None:
    task = Blocksworld(num_blocks=3)
    state = _play(task, task.parse(SUSSMAN), SUSSMAN_PLAN[:2])
    assert not state.terminal and task.outcome(state) == "timeout"
    np.testing.assert_array_equal(state.rewards, [0.0])
    assert optimal_plan_length(state) == 1


def test_illegal_moves_raise() -> None:
    task = Blocksworld(num_blocks=3)
    state = task.parse(SUSSMAN)  # C on A; A, B on the table
    for text in ("move A B", "move A table", "move B A", "move C C", "move B table"):
        # covered block, covered block to the table, onto a covered block, onto itself, table to table
        with pytest.raises(ValueError, match="illegal"):
            task.step(state, _action(task, text))


def test_wasting_the_budget_fails() -> None:
    task = Blocksworld(num_blocks=3)
    state = task.parse(SUSSMAN)
    plan = ["move C B", "move C A"] * 3  # six moves, never the goal
    for i, text in enumerate(plan):
        assert not state.terminal
        state = task.step(state, _action(task, text))
        if i < len(plan) - 1:
            np.testing.assert_array_equal(state.rewards, [0.0])
    assert state.terminal and state.step_count == state.budget == 6
    np.testing.assert_array_equal(state.rewards, [-1.0])
    assert task.outcome(state) == "failure"
    assert not state.legal_action_mask.any()


def test_budget_bucket_token_counts_down() -> None:
    task = Blocksworld(num_blocks=3)
    state = task.parse(SUSSMAN)
    buckets = [int(state.observation[-1]) - 4]
    for text in ["move C B", "move C A"] * 2 + ["move C B"]:
        state = task.step(state, _action(task, text))
        buckets.append(int(state.observation[-1]) - 4)
    assert buckets == [min(7, 8 * r // 6) for r in range(6, 0, -1)]


def test_goal_reached_on_the_last_budget_step_is_success() -> None:
    task = Blocksworld(num_blocks=3, step_budget_factor=1.0)
    end = _play(task, task.parse(SUSSMAN), SUSSMAN_PLAN)
    assert end.budget == 3 and end.terminal
    np.testing.assert_array_equal(end.rewards, [1.0])
    assert task.outcome(end) == "success"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{", "malformed JSON"),
        ("not json", "malformed JSON"),
        ("[]", "JSON object"),
        ('{"initial": [["A","B","C"]]}', "missing the key 'goal'"),
        ('{"initial": [["A","B","C"]], "goal": [["C","B","A"]], "x": 1}', "unknown keys"),
        ('{"initial": "ABC", "goal": [["C","B","A"]]}', "list of stacks"),
        ('{"initial": [[]], "goal": [["C","B","A"]]}', "non-empty"),
        ('{"initial": [["A","B","D"]], "goal": [["C","B","A"]]}', "unknown block 'D'"),
        ('{"initial": [["A","B",3]], "goal": [["C","B","A"]]}', "unknown block 3"),
        ('{"initial": [["A","B"],["A","C"]], "goal": [["C","B","A"]]}', "'A' more than once"),
        ('{"initial": [["A","B"]], "goal": [["C","B","A"]]}', "missing block"),
        ('{"initial": [["A","B","C"]], "goal": [["C","A"]]}', "'goal' is missing block"),
        ('{"initial": [["A","B","C"]], "goal": [["A","B","C"]]}', "already equals the goal"),
        ('{"initial": [["A","C"]], "goal": [["C","A"]]}', "'initial' is missing block\\(s\\) B \\(the instance has 3"),
        ('{"initial": [["A"]], "goal": [["A"]]}', "at least 2 blocks, got 1"),
        ('{"initial": [], "goal": []}', "at least 2 blocks, got 0"),
    ],
)
def test_parse_errors_are_one_line(text: str, match: str) -> None:
    task = Blocksworld(num_blocks=3)
    with pytest.raises(ValueError, match=match) as info:
        task.parse(text)
    assert "\n" not in str(info.value)


def test_wrong_block_count_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown block 'C'"):
        Blocksworld(num_blocks=2).parse(SUSSMAN)
    # fewer blocks than the task has is an easier instance (as a lower difficulty level draws)
    state = Blocksworld(num_blocks=4).parse(SUSSMAN)
    assert state.num_blocks == 3 and state.optimal_length == 3


def test_to_json_round_trips() -> None:
    task = Blocksworld(num_blocks=5)
    for seed in range(5):
        state = task.initial_state(seed)
        again = task.parse(state.to_json())
        assert again == state and again.to_text() == state.to_text()


@pytest.mark.parametrize("num_blocks", [2, 3, 4, 5, 6])
def test_generated_instances(num_blocks: int) -> None:
    task = Blocksworld(num_blocks=num_blocks)
    for seed in range(10):
        state = task.initial_state(seed)
        assert state == task.initial_state(seed) and state.to_text() == task.initial_state(seed).to_text()
        assert state.on != state.goal and not state.terminal
        assert sorted(state.on).count(num_blocks) >= 1 and sorted(state.goal).count(num_blocks) >= 1
        optimum = _bfs(state.on, state.goal)
        assert 1 <= optimum == state.optimal_length <= 2 * num_blocks
        assert state.budget == int(np.ceil(2.0 * optimum)) <= task.max_episode_steps
    assert len({task.initial_state(s).key() for s in range(10)}) > 1


def test_large_instances_are_fast_and_bounded() -> None:
    task = Blocksworld(num_blocks=8)
    tower = json.dumps({"initial": [list("ABCDEFGH")], "goal": [list("HGFEDCBA")]})
    state = task.parse(tower)
    assert state.optimal_length == 8  # unstack H..A one by one, each straight onto the growing reversed tower
    for seed in range(5):
        s = task.initial_state(seed)
        assert 1 <= s.optimal_length <= 16 and s.budget <= task.max_episode_steps


# ------------------------------------------------------------------ difficulty levels and score

# Blocksworld().initial_state(0) recorded before difficulty levels existed: the top level must not change.
DEFAULT_SEED0_KEY = ((4, 4, 4, 1), (4, 3, 1, 0), 0, 6)
DEFAULT_SEED0_ID = "bbd06618550f311d"
DEFAULT_SEED0_TEXT = "state: [A] [B D] [C] | goal: [A D B C] | step 0/6"


def test_top_level_is_the_instance_as_before() -> None:
    task = Blocksworld()
    top = task.initial_state(0)
    assert top.key() == DEFAULT_SEED0_KEY and top.state_id == DEFAULT_SEED0_ID and top.to_text() == DEFAULT_SEED0_TEXT
    assert task.initial_state(0, 3) == top
    np.testing.assert_array_equal(top.observation, [4, 4, 4, 1, 4, 3, 1, 0, 12])  # no ABSENT token (13)


def test_level_one_is_a_two_block_instance() -> None:
    task = Blocksworld()  # 4 block slots: table token 4, ABSENT token 13
    state = task.initial_state(0, 1)
    assert state.num_blocks == 2 and state.on == (2, 2) and state.goal == (2, 0)
    assert state.to_text() == "state: [A] [B] | goal: [A B] | step 0/2"
    np.testing.assert_array_equal(state.observation, [4, 4, 13, 13, 4, 0, 13, 13, 12])
    legal = [task.action_to_text(state, int(a)) for a in np.flatnonzero(state.legal_action_mask)]
    assert legal == ["move A B", "move B A"]  # nothing names C or D, nor the table (both blocks are on it)
    assert state.optimal_length == 1 and state.budget == 2
    end = _play(task, state, ["move B A"])
    assert end.terminal and task.outcome(end) == "success" and task.score(end) == 1.0
    assert end.on == (2, 0) and end.observation[:4].tolist() == [4, 0, 13, 13]
    failed = _play(task, state, ["move A B", "move A table"])  # back where it started, budget spent
    assert failed.terminal and task.outcome(failed) == "failure" and task.score(failed) == 0.0
    assert task.parse(state.to_json()) == state


def test_two_block_instances_have_known_optima() -> None:
    task = Blocksworld(num_blocks=5)
    seen = {}
    for seed in range(40):
        s = task.initial_state(seed, 1)
        seen[s.to_json()] = s.optimal_length
    # every 2-block pair of differing configurations; only swapping a tower's order takes two moves
    assert seen == {
        '{"initial": [["A", "B"]], "goal": [["A"], ["B"]]}': 1,
        '{"initial": [["A", "B"]], "goal": [["B", "A"]]}': 2,
        '{"initial": [["A"], ["B"]], "goal": [["A", "B"]]}': 1,
        '{"initial": [["A"], ["B"]], "goal": [["B", "A"]]}': 1,
        '{"initial": [["B", "A"]], "goal": [["A", "B"]]}': 2,
        '{"initial": [["B", "A"]], "goal": [["A"], ["B"]]}': 1,
    }


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_levels_keep_the_shapes_and_pad_absent_blocks(level: int) -> None:
    task = Blocksworld(num_blocks=5)
    m = level + 1
    absent = 5 + 9
    for seed in range(6):
        s = task.initial_state(seed, level)
        assert s == task.initial_state(seed, level) and s.num_blocks == m and s.on != s.goal
        assert s.observation.shape == (task.seq_len,) and s.legal_action_mask.shape == (task.num_actions,)
        obs = s.observation.tolist()
        assert obs[m:5] == [absent] * (5 - m) and obs[5 + m : 10] == [absent] * (5 - m)
        assert max(obs[:m] + obs[5 : 5 + m]) <= 5  # blocks and the table only
        assert 1 <= _bfs(s.on, s.goal) == s.optimal_length <= 2 * m
        assert s.budget <= task.max_episode_steps
        moves = [divmod(int(a), 6) for a in np.flatnonzero(s.legal_action_mask)]
        assert all(x < m and (y < m or y == 5) for x, y in moves)
        assert task.parse(task.instance_text(s)) == s


def test_score_of_optimal_and_detour_plans() -> None:
    task = Blocksworld(num_blocks=3)
    state = task.parse(SUSSMAN)
    assert task.score(state) is None
    assert task.score(_play(task, state, SUSSMAN_PLAN)) == 1.0
    assert task.score(_play(task, state, SUSSMAN_PLAN[:2])) is None
    detour = _play(task, state, ["move C B", "move C table", "move B C", "move A B"])
    assert detour.terminal and task.outcome(detour) == "success"
    assert task.score(detour) == pytest.approx(3 / 4)
    wasted = _play(task, state, ["move C B", "move C A"] * 3)
    assert task.outcome(wasted) == "failure" and task.score(wasted) == 0.0


def test_a_smaller_parsed_instance_plays_in_a_bigger_task() -> None:
    task = Blocksworld(num_blocks=5)
    state = task.parse(SUSSMAN)
    assert state.on == (3, 3, 0) and state.observation[:5].tolist() == [5, 5, 0, 14, 14]
    end = _play(task, state, SUSSMAN_PLAN)
    assert end.terminal and task.outcome(end) == "success" and task.score(end) == 1.0
    assert end.observation[5:10].tolist() == [1, 2, 5, 14, 14]
