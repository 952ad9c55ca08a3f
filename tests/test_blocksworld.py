"""Known-answer tests for the blocksworld planning task ("blocksworld"): plans, tokens, pointers, bounds."""

from __future__ import annotations

import json
import time
from collections import deque

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.reasoning.blocksworld import (
    BLOCK_GOAL,
    BLOCK_NOW,
    GLOBAL,
    MOVE_ONTO,
    MOVE_TO_TABLE,
    TABLE,
    Blocksworld,
    BlocksworldState,
    block_labels,
    optimal_plan,
    optimal_plan_length,
)
from zeroforge.tasks.structured import TOKEN_VOCAB, check_episode, check_structured

# The Sussman anomaly: C on A, A and B on the table; goal A on B on C.
SUSSMAN = json.dumps({"initial": [["A", "C"], ["B"]], "goal": [["C", "B", "A"]]})
SUSSMAN_PLAN = ["move C table", "move B C", "move A B"]
# (type, block, 1 + block below or 0 = table, 16 * (1 + stack), 1 + height); goal stacks from row 16 * 9.
# Written with block indices (A = 0): the observation carries each block's label instead (_relabel).
SUSSMAN_TOKENS = [
    (BLOCK_NOW, 0, 0, 16, 1),  # A on the table, stack [A C]
    (BLOCK_NOW, 1, 0, 32, 1),  # B on the table, stack [B]
    (BLOCK_NOW, 2, 1, 16, 2),  # C on A
    (BLOCK_GOAL, 0, 2, 144, 3),  # A on B, on top of the goal tower [C B A]
    (BLOCK_GOAL, 1, 3, 144, 2),  # B on C
    (BLOCK_GOAL, 2, 0, 144, 1),  # C on the table
    (TABLE, 2, 1, 0, 0),  # two stacks now, one in the goal
    (GLOBAL, 7, 6, 0, 0),  # budget bucket 7, 6 steps left
]


def _relabel(state: BlocksworldState, rows: list[tuple[int, int, int, int, int]]) -> list[list[int]]:
    """``rows`` written with block indices (``a`` = block, ``b`` = 1 + block below or 0) as the observation writes
    them: through the instance's labels (``a = labels[block]``, ``b = 1 + labels[below]``)."""
    labels = state.labels
    out = []
    for kind, a, b, row, col in rows:
        if kind in (BLOCK_NOW, BLOCK_GOAL):
            a, b = labels[a], 0 if b == 0 else 1 + labels[b - 1]
        out.append([kind, a, b, row, col])
    return out


def _action(task: Blocksworld, text: str) -> int:
    """Action ``move X Y`` is ``X * 9 + Y``, ``Y = 8`` the table (sized by the bound of 8 blocks)."""
    _, x, y = text.split()
    return task.blocks.index(x) * 9 + (8 if y == "table" else task.blocks.index(y))


def _instance(initial: list[str], goal: list[str]) -> str:
    """A JSON instance from stacks written as strings, bottom to top (``"AC"`` = C on A)."""
    return json.dumps({"initial": [list(st) for st in initial], "goal": [list(st) for st in goal]})


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
    assert task.num_blocks == 4 and task.num_players == 1
    assert task.structured and task.bounds == {"blocks": 8}
    assert task.num_actions == 8 * 9 and task.seq_len == 2 * 8 + 2  # sized by the bound, not by num_blocks
    assert task.vocab_size == TOKEN_VOCAB
    assert task.difficulty_levels == 3
    assert task.max_episode_steps == 32  # 2 * 2 * 8: the longest plan of 8 blocks, times the budget factor


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
    np.testing.assert_array_equal(state.observation, _relabel(state, SUSSMAN_TOKENS))
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
    globals_ = [tuple(state.observation[-1])]
    for text in ["move C B", "move C A"] * 2 + ["move C B"]:
        state = task.step(state, _action(task, text))
        globals_.append(tuple(state.observation[-1]))
    assert globals_ == [(GLOBAL, min(7, 8 * r // 6), r, 0, 0) for r in range(6, 0, -1)]


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
        ('{"initial": [["A","B","D"]], "goal": [["C","B","A"]]}', "'initial' is missing block\\(s\\) C"),
        ('{"initial": [["A","B","Z"]], "goal": [["C","B","A"]]}', "'initial' block 'Z' is beyond the bound of 8"),
        ('{"initial": [["A","B","a"]], "goal": [["C","B","A"]]}', "unknown block 'a'"),
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


def test_any_block_count_within_the_bound_is_read() -> None:
    # more blocks than the task draws is fine up to the bound; fewer is an easier instance
    assert Blocksworld(num_blocks=2).parse(SUSSMAN).optimal_length == 3
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
    # [A] [B D] [C] -> [A D B C]
    np.testing.assert_array_equal(
        top.observation,
        _relabel(top, [
            (BLOCK_NOW, 0, 0, 16, 1), (BLOCK_NOW, 1, 0, 32, 1), (BLOCK_NOW, 2, 0, 48, 1), (BLOCK_NOW, 3, 2, 32, 2),
            (BLOCK_GOAL, 0, 0, 144, 1), (BLOCK_GOAL, 1, 4, 144, 3), (BLOCK_GOAL, 2, 2, 144, 4),
            (BLOCK_GOAL, 3, 1, 144, 2), (TABLE, 3, 1, 0, 0), (GLOBAL, 7, 6, 0, 0),
        ]),
    )


def test_level_one_is_a_two_block_instance() -> None:
    task = Blocksworld()
    state = task.initial_state(0, 1)
    assert state.num_blocks == 2 and state.on == (2, 2) and state.goal == (2, 0)
    assert state.to_text() == "state: [A] [B] | goal: [A B] | step 0/2"
    np.testing.assert_array_equal(
        state.observation,
        _relabel(state, [
            (BLOCK_NOW, 0, 0, 16, 1), (BLOCK_NOW, 1, 0, 32, 1), (BLOCK_GOAL, 0, 0, 144, 1), (BLOCK_GOAL, 1, 1, 144, 2),
            (TABLE, 2, 1, 0, 0), (GLOBAL, 7, 2, 0, 0),
        ]),
    )
    legal = [task.action_to_text(state, int(a)) for a in np.flatnonzero(state.legal_action_mask)]
    assert legal == ["move A B", "move B A"]  # nothing names C or D, nor the table (both blocks are on it)
    assert state.optimal_length == 1 and state.budget == 2
    end = _play(task, state, ["move B A"])
    assert end.terminal and task.outcome(end) == "success" and task.score(end) == 1.0
    assert end.labels == state.labels  # the labels belong to the instance, not to the state
    assert end.on == (2, 0) and end.observation[:2].tolist() == _relabel(
        end, [(BLOCK_NOW, 0, 0, 16, 1), (BLOCK_NOW, 1, 1, 16, 2)]
    )
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
def test_levels_keep_the_action_width_and_name_only_their_blocks(level: int) -> None:
    task = Blocksworld(num_blocks=5)
    m = level + 1
    for seed in range(6):
        s = task.initial_state(seed, level)
        assert s == task.initial_state(seed, level) and s.num_blocks == m and s.on != s.goal
        assert s.observation.shape == (2 * m + 2, 5) and s.legal_action_mask.shape == (task.num_actions,)
        assert s.observation[:, 0].tolist() == [BLOCK_NOW] * m + [BLOCK_GOAL] * m + [TABLE, GLOBAL]
        # token x is block x now and m + x in the goal, both carrying block x's label; labels are distinct
        assert s.observation[:m, 1].tolist() == s.observation[m : 2 * m, 1].tolist() == list(s.labels)
        assert len(set(s.labels)) == m and set(s.labels) <= set(range(8))
        assert 1 <= _bfs(s.on, s.goal) == s.optimal_length <= 2 * m
        assert s.budget <= task.max_episode_steps
        moves = [divmod(int(a), 9) for a in np.flatnonzero(s.legal_action_mask)]
        assert all(x < m and (y < m or y == 8) for x, y in moves)
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
    assert state.on == (3, 3, 0)
    np.testing.assert_array_equal(state.observation, Blocksworld(num_blocks=3).parse(SUSSMAN).observation)
    np.testing.assert_array_equal(state.observation, _relabel(state, SUSSMAN_TOKENS))  # as in a 3-block task
    end = _play(task, state, SUSSMAN_PLAN)
    assert end.terminal and task.outcome(end) == "success" and task.score(end) == 1.0
    # now one tower [C B A]: the current blocks sit like the goal's, in the first stack's rows
    assert end.observation[:3].tolist() == _relabel(
        end, [(BLOCK_NOW, 0, 2, 16, 3), (BLOCK_NOW, 1, 3, 16, 2), (BLOCK_NOW, 2, 0, 16, 1)]
    )
    assert end.observation[:3, 1:3].tolist() == end.observation[3:6, 1:3].tolist()  # same labels, same blocks below


# ------------------------------------------------------------------ size-free: tokens, pointers, bounds, demonstrations

TOWER_8 = _instance(["ABCDEFGH"], ["HGFEDCBA"])
TOWER_8_PLAN = ["move H table", "move G H", "move F G", "move E F", "move D E", "move C D", "move B C", "move A B"]
TOWER_7_FLAT = _instance(["ABCDEFG"], ["A", "B", "C", "D", "E", "F", "G"])
SWAP_2 = _instance(["BA"], ["AB"])  # A on B -> B on A


def _check_episode(task: Blocksworld, state: BlocksworldState, actions: list[int]) -> BlocksworldState:
    """Play ``actions`` checking the structured contract on every state."""
    end = check_episode(task, state, actions)
    assert isinstance(end, BlocksworldState)
    return end


def test_pointers_name_the_moved_block_and_its_target() -> None:
    task = Blocksworld(num_blocks=3)
    state = task.parse(SUSSMAN)  # tokens: A 0, B 1, C 2 now; A 3, B 4, C 5 in the goal; table 6, global 7
    pointers = state.action_pointers()
    assert pointers.shape == (72, 3) and not pointers.flags.writeable
    assert pointers[_action(task, "move C table")].tolist() == [MOVE_TO_TABLE, 3, 7]  # C's token, the table's
    assert pointers[_action(task, "move C B")].tolist() == [MOVE_ONTO, 3, 2]
    assert pointers[_action(task, "move B C")].tolist() == [MOVE_ONTO, 2, 3]
    assert not pointers[~state.legal_action_mask].any()  # rows of illegal moves are zero
    assert state.action_pointers() is pointers  # computed once with the state


def test_eight_block_tower_tokens_and_pointers() -> None:
    task = Blocksworld()  # draws 4 blocks, reads up to 8
    state = task.parse(TOWER_8)
    obs = state.observation
    assert obs.shape == (18, 5) == (task.seq_len, 5)
    # block x is at height x in the only stack now, at height 7 - x in the goal tower
    assert sorted(state.labels) == list(range(8))  # all 8 blocks: the labels are a permutation of 0..7
    assert obs[:8].tolist() == _relabel(state, [(BLOCK_NOW, x, x, 16, 1 + x) for x in range(8)])
    assert obs[8:16].tolist() == _relabel(
        state, [(BLOCK_GOAL, x, 0 if x == 7 else x + 2, 144, 8 - x) for x in range(8)]
    )
    assert obs[16].tolist() == [TABLE, 1, 1, 0, 0]
    assert np.flatnonzero(state.legal_action_mask).tolist() == [_action(task, "move H table")]
    assert state.action_pointers()[_action(task, "move H table")].tolist() == [MOVE_TO_TABLE, 8, 17]


def test_one_task_plays_instances_of_several_sizes() -> None:
    task = Blocksworld()  # num_blocks=4
    for text, optimum in ((SWAP_2, 2), (SUSSMAN, 3), (TOWER_7_FLAT, 6), (TOWER_8, 8)):
        state = task.parse(text)
        assert state.optimal_length == optimum and state.observation.shape == (2 * state.num_blocks + 2, 5)
        plan = task.demonstration(state)
        assert plan is not None and len(plan) == optimum
        end = _check_episode(task, state, plan)
        assert end.terminal and task.outcome(end) == "success" and task.score(end) == 1.0
        assert task.parse(task.instance_text(state)) == state


@pytest.mark.parametrize(
    ("text", "plan"),
    [
        (SWAP_2, ["move A table", "move B A"]),  # A must leave B first, then B goes onto A
        (SUSSMAN, SUSSMAN_PLAN),
        (TOWER_7_FLAT, ["move G table", "move F table", "move E table", "move D table", "move C table",
                        "move B table"]),  # only the top block is ever clear
        (TOWER_8, TOWER_8_PLAN),  # each block moves once: H to the table, then each onto the one above it before
    ],
)
def test_demonstration_is_the_unique_optimal_plan(text: str, plan: list[str]) -> None:
    task = Blocksworld()
    state = task.parse(text)
    demo = task.demonstration(state)
    assert demo == [_action(task, t) for t in plan] == optimal_plan(state)
    end = _play(task, state, plan)
    assert task.outcome(end) == "success" and task.score(end) == 1.0


def test_demonstration_on_two_six_block_stacks_matches_bfs() -> None:
    # [A B C] [D E F] -> [A] [B E] [C F] [D]: B, C, E, F are out of place (4 moves at least) and
    # "C table, F C, B table, E B" does it in 4
    task = Blocksworld()
    state = task.parse(_instance(["ABC", "DEF"], ["A", "BE", "CF", "D"]))
    assert _bfs(state.on, state.goal) == 4 == state.optimal_length
    demo = task.demonstration(state)
    assert demo is not None and len(demo) == 4
    end = _check_episode(task, state, demo)
    assert task.outcome(end) == "success" and task.score(end) == 1.0


def test_demonstration_from_the_middle_of_an_episode() -> None:
    task = Blocksworld(num_blocks=3)
    detour = _play(task, task.parse(SUSSMAN), ["move C B"])  # [A] [B C]: C must go to the table, then as before
    assert task.demonstration(detour) == [_action(task, t) for t in SUSSMAN_PLAN]
    tight = Blocksworld(num_blocks=3, step_budget_factor=1.0)
    late = _play(tight, tight.parse(SUSSMAN), ["move C B"])  # 2 steps left, 3 needed
    assert late.remaining == 2 and tight.demonstration(late) is None
    end = _play(task, task.parse(SUSSMAN), SUSSMAN_PLAN)
    assert task.demonstration(end) == []


def test_random_play_keeps_the_structured_contract_at_every_size() -> None:
    task = Blocksworld()
    rng = np.random.default_rng(0)
    for text in (SWAP_2, TOWER_7_FLAT, TOWER_8, _instance(["AC", "B", "DFE"], ["EDCBA", "F"])):
        state = task.parse(text)
        check_structured(task, state)
        while not state.terminal:
            nxt = task.step(state, int(rng.choice(np.flatnonzero(state.legal_action_mask))))
            assert isinstance(nxt, BlocksworldState)
            check_structured(task, nxt)
            state = nxt
            n = state.num_blocks
            heights = state.observation[:n, 4]
            assert sorted(heights.tolist()).count(1) == sum(b == n for b in state.on)  # one bottom per stack


@pytest.mark.parametrize(
    ("initial", "goal", "match"),
    [
        (["ABCDEFGHI"], ["IHGFEDCBA"], "blocksworld: 'initial' block 'I' is beyond the bound of 8 blocks \\(A..H\\)"),
        (["ABC"], ["CBA", "Z"], "blocksworld: 'goal' block 'Z' is beyond the bound of 8 blocks"),
    ],
)
def test_instances_beyond_the_bound_are_one_line_errors(initial: list[str], goal: list[str], match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        Blocksworld(num_blocks=8).parse(_instance(initial, goal))
    assert "\n" not in str(info.value)


def test_demonstrations_are_fast_at_the_trained_sizes() -> None:
    for n in (5, 6, 8):
        task = Blocksworld(num_blocks=n)
        states = [s for s in map(task.initial_state, range(20)) if isinstance(s, BlocksworldState)]
        assert len(states) == 20
        start = time.perf_counter()
        plans = [task.demonstration(s) for s in states]
        assert time.perf_counter() - start < 2.0, n  # ~1 ms each; generous for a loaded machine
        assert [len(p or []) for p in plans] == [s.optimal_length for s in states]


# ------------------------------------------------------------------ block labels: a per-instance permutation


def test_labels_relate_tokens_of_the_same_block() -> None:
    task = Blocksworld()
    for text in (SUSSMAN, TOWER_8, _instance(["AC", "B", "DFE"], ["EDCBA", "F"])):
        state = task.parse(text)
        m, obs = state.num_blocks, state.observation
        assert state.labels == block_labels(state.goal)
        now, goal = obs[:m], obs[m : 2 * m]
        assert now[:, 1].tolist() == goal[:, 1].tolist()  # a block's current and goal tokens share its label
        assert len(set(now[:, 1].tolist())) == m  # different blocks, different labels
        for tokens, config in ((now, state.on), (goal, state.goal)):
            # b names the label of the block below (1 + its label), 0 the table
            assert tokens[:, 2].tolist() == [0 if y == m else 1 + state.labels[y] for y in config]


def test_every_label_occurs_on_small_instances() -> None:
    task = Blocksworld(num_blocks=5)
    seen: set[int] = set()
    for seed in range(200):
        state = task.initial_state(seed)
        labels = state.observation[:10, 1].tolist()
        assert len(set(labels[:5])) == 5 and labels[:5] == labels[5:]
        seen.update(labels)
    assert seen == set(range(8))  # 6- to 8-block instances meet no label that 5-block training never showed


def test_observation_is_a_function_of_the_instance() -> None:
    task, other = Blocksworld(num_blocks=5), Blocksworld(num_blocks=5)
    for seed in range(20):
        state, again = task.initial_state(seed), other.initial_state(seed)  # drawn twice
        assert isinstance(state, BlocksworldState) and isinstance(again, BlocksworldState)
        parsed = task.parse(state.to_json())  # parsed
        reparsed = other.parse(state.to_json())  # and parsed again
        twins: tuple[BlocksworldState, ...] = (again, parsed, reparsed)
        for twin in twins:
            assert twin == state and twin.labels == state.labels
            np.testing.assert_array_equal(twin.observation, state.observation)
    first, second = task.parse(SUSSMAN), task.parse(SUSSMAN)
    np.testing.assert_array_equal(first.observation, second.observation)
    for n in range(1, len(SUSSMAN_PLAN) + 1):  # states reached by the same moves match too
        one, two = _play(task, first, SUSSMAN_PLAN[:n]), _play(task, second, SUSSMAN_PLAN[:n])
        np.testing.assert_array_equal(one.observation, two.observation)


def test_labels_stay_fixed_through_an_episode_and_keep_the_contract() -> None:
    task = Blocksworld(num_blocks=5)
    rng = np.random.default_rng(1)
    for seed in range(40):
        state = task.initial_state(seed)
        assert isinstance(state, BlocksworldState)
        labels = state.labels
        check_structured(task, state)
        while not state.terminal:
            nxt = task.step(state, int(rng.choice(np.flatnonzero(state.legal_action_mask))))
            assert isinstance(nxt, BlocksworldState)
            check_structured(task, nxt)
            assert nxt.labels == labels and nxt.observation[:10, 1].tolist() == [*labels, *labels]
            state = nxt
