"""``task: mix``: several families in one structured task (known frequencies, levels, paddings and texts)."""

from __future__ import annotations

import json
import math
import pickle
import re
from typing import Any

import numpy as np
import pytest

from zeroforge.tasks import MixedTask, make_task
from zeroforge.tasks.base import State, Task
from zeroforge.tasks.mix import MixedState
from zeroforge.tasks.sequence import SequenceTask
from zeroforge.tasks.structured import TOKEN_TYPE_BASE, TOKEN_VOCAB, check_episode, check_structured

FAMILIES = {"maze": {"size": 3}, "knapsack": {"num_items": 5}, "linear_equation": {}}
#: every single-agent family, default parameters
EVERY = ("maze", "knapsack", "tsp", "countdown", "blocksworld", "logic", "code_function", "linear_equation",
         "arithmetic", "quadratic", "linear_system", "code_sort", "code_class")


def _mix(**kwargs: Any) -> MixedTask:
    task = make_task("mix", **{"families": FAMILIES, **kwargs})
    assert isinstance(task, MixedTask)
    return task


def _seed_of(task: MixedTask, family: str) -> int:
    """The first seed whose instance is of ``family``."""
    return next(s for s in range(10_000) if task.family_for_seed(s) == family)


def _play(task: Task, state: State, actions: list[int]) -> State:
    for a in actions:
        state = task.step(state, a)
    return state


def test_shapes_are_the_largest_members() -> None:
    task = _mix()
    members = task.members
    assert task.families == ("maze", "knapsack", "linear_equation")
    assert task.name == "mix" and task.structured and task.num_players == 1 and task.vocab_size == TOKEN_VOCAB
    assert task.num_actions == max(m.num_actions for m in members.values()) == 15  # linear_equation's
    assert task.seq_len == max(m.seq_len for m in members.values()) == 31 * 31 + 1  # maze's bound
    assert task.max_episode_steps == members["maze"].max_episode_steps
    assert task.difficulty_levels == 5 and task.solvable is False  # knapsack of 5 items: 5 levels
    assert isinstance(members["linear_equation"], SequenceTask) and members["linear_equation"].slot == 0
    assert type(members["maze"]).__name__ == "Maze"  # structured families as they are


def test_families_appear_with_their_weights() -> None:
    weights = {"maze": 2.0, "knapsack": 1.0, "linear_equation": 1.0}
    task = _mix(weights=weights)
    n = 400
    drawn = [task.family_for_seed(s) for s in range(n)]
    for family, w in weights.items():
        p = w / sum(weights.values())
        sd = math.sqrt(n * p * (1 - p))
        assert abs(drawn.count(family) - n * p) <= 4 * sd, (family, drawn.count(family))
    for s in range(0, n, 10):  # the instances are of the drawn family, at every level
        assert task.family_of(task.initial_state(s, 1)) == drawn[s]
        assert task.family_index(task.initial_state(s, 1)) == task.families.index(drawn[s])
    off = _mix(weights={"maze": 0, "knapsack": 1, "linear_equation": 0})
    assert {off.family_for_seed(s) for s in range(100)} == {"knapsack"}


def test_the_same_seed_gives_the_same_instance() -> None:
    a, b = _mix(), _mix()
    for seed in range(6):
        s1, s2 = a.initial_state(seed), b.initial_state(seed)
        assert s1 == s2 and s1.state_id == s2.state_id
        family = a.family_of(s1)
        member = a.members[family]
        assert s1.member == member.initial_state(seed)  # the member's own instance of the seed, at its top
        np.testing.assert_array_equal(s1.observation, s1.member.observation)  # tokens unchanged


def test_the_level_mapping_of_a_hand_computed_case() -> None:
    task = _mix()  # maze 2 levels, knapsack 5, linear_equation 4; K = 5
    assert [task.member_level("maze", k) for k in range(1, 6)] == [1, 1, 2, 2, 2]  # ceil(2k/5)
    assert [task.member_level("knapsack", k) for k in range(1, 6)] == [1, 2, 3, 4, 5]
    assert [task.member_level("linear_equation", k) for k in range(1, 6)] == [1, 2, 3, 4, 4]  # ceil(4k/5)
    assert task.member_level("maze") == 2  # the top level: every family at its top
    seed = _seed_of(task, "knapsack")
    s = task.initial_state(seed, 3)
    assert len(s.member.weights) == 3 and s.member == task.members["knapsack"].initial_state(seed, 3)
    seed = _seed_of(task, "maze")
    assert task.initial_state(seed, 2).member == task.members["maze"].initial_state(seed, 1)
    with pytest.raises(ValueError, match=re.escape("difficulty 6 is out of range 1..5")):
        task.initial_state(0, 6)


def test_masks_and_pointers_are_padded() -> None:
    task = _mix()
    for family, width in (("maze", 4), ("knapsack", 2)):
        s = task.initial_state(_seed_of(task, family))
        assert task.members[family].num_actions == width
        mask, ptr = s.legal_action_mask, s.action_pointers()
        assert mask.shape == (15,) and ptr.shape == (15, 3)
        assert not mask.flags.writeable and not ptr.flags.writeable
        np.testing.assert_array_equal(mask[:width], s.member.legal_action_mask)
        assert not mask[width:].any()
        np.testing.assert_array_equal(ptr[:width], s.member.action_pointers())
        assert not ptr[width:].any()  # zero rows, as illegal rows are
        check_structured(task, s)


def test_an_action_beyond_a_members_width_is_illegal() -> None:
    task = _mix()
    s = task.initial_state(_seed_of(task, "maze"))
    legal = np.flatnonzero(s.legal_action_mask).tolist()
    with pytest.raises(ValueError, match=re.escape(f"mix: action 7 is illegal here; legal actions are {legal}")):
        task.step(s, 7)
    with pytest.raises(ValueError, match=re.escape("mix: action 15 is out of range 0..14")):
        task.step(s, 15)
    nxt = task.step(s, legal[0])
    assert isinstance(nxt, MixedState) and nxt.family == "maze" and nxt.step_count == 1
    assert nxt.member == task.members["maze"].step(s.member, legal[0])


@pytest.mark.parametrize("family", ["maze", "knapsack"])
def test_a_demonstration_plays_to_success(family: str) -> None:
    task = _mix()
    for seed in [s for s in range(60) if task.family_for_seed(s) == family][:3]:
        s = task.initial_state(seed)
        plan = task.demonstration(s)
        assert plan is not None and plan == task.members[family].demonstration(s.member)
        end = check_episode(task, s, plan)
        assert end.terminal and task.outcome(end) == "success" and task.score(end) == 1.0


def test_a_wrapped_math_family_demonstrates_its_shortest_solution() -> None:
    task = _mix()
    s = task.parse(json.dumps({"family": "linear_equation", "instance": "2*x + 3 = 7"}))
    k = 4
    assert task.demonstration(s) == [1, 2 * k + 1, 2 * k + 4]  # move 3, combine right, divide


def test_verdicts_and_texts_are_the_members() -> None:
    task = _mix()
    s = task.parse(json.dumps({"family": "linear_equation", "instance": "2*x + 3 = 7"}))
    assert task.family_of(s) == "linear_equation" and s.to_text() == s.member.to_text()
    k = 4
    assert task.action_to_text(s, 1) == "move 3 to the right"
    end = _play(task, s, [1, 2 * k + 1, 2 * k + 4])
    assert task.outcome(end) == "success" and task.answer(end) == "x = 2" and task.score(end) == 1.0
    assert task.heldout_pass_rate(end) is None


@pytest.mark.parametrize("family", EVERY)
def test_parse_reads_what_instance_text_writes_for_every_family(family: str) -> None:
    task = make_task("mix", families={f: {} for f in EVERY})
    s = task.initial_state(_seed_of(task, family))
    text = task.instance_text(s)
    assert json.loads(text) == {"family": family, "instance": task.members[family].instance_text(s.member)}
    parsed = task.parse(text)
    assert parsed == s and parsed.to_text() == s.to_text() and task.family_of(parsed) == family
    check_structured(task, parsed)


def test_random_episodes_of_every_family_keep_the_contract() -> None:
    task = make_task("mix", families={f: {} for f in EVERY})
    assert len({t.token_type for t in task.members.values() if isinstance(t, SequenceTask)}) == 6
    rng = np.random.default_rng(0)
    for family in EVERY:
        s = task.initial_state(_seed_of(task, family), 1)
        actions = []
        state = s
        while not state.terminal:
            actions.append(int(rng.choice(np.flatnonzero(state.legal_action_mask))))
            state = task.step(state, actions[-1])
        end = check_episode(task, s, actions)
        assert task.outcome(end) in ("success", "failure") and task.family_of(end) == family
        copy = pickle.loads(pickle.dumps(end))
        assert type(copy) is MixedState and copy == end and not copy.legal_action_mask.flags.writeable


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "mix: malformed JSON instance: the text is empty"),
        ("[1]", "mix: instance must be a JSON object, got list"),
        ('{"family": "maze"}', "mix: instance is missing the key 'instance'"),
        ('{"family": "tsp", "instance": "{}"}', "mix: unknown family 'tsp' \\(families: maze, knapsack, linear"),
        ('{"family": "maze", "instance": 3}', "mix: 'instance' must be the maze instance as a string, got int"),
        ('{"family": "maze", "instance": ""}', "mix: maze: empty text"),
        ('{"family": "knapsack", "instance": "{\\"capacity\\": 1}"}', "mix: knapsack: instance is missing the key"),
        ('{"family": "linear_equation", "instance": "x = 2"}', "mix: linear_equation: the equation is already solved"),
    ],
)
def test_bad_instances_are_one_line_errors_naming_the_family(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        _mix().parse(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"families": {}}, "mix: families is empty"),
        ({"families": ["maze"]}, "mix: families must map task names to their parameters, got list"),
        ({"families": {"mase": {}}}, "mix: family 'mase': unknown task 'mase'; did you mean 'maze'"),
        ({"families": {"maze": {"sise": 3}}}, "mix: family 'maze': unknown parameter 'sise' for task 'maze'"),
        ({"families": {"maze": {}, "tictactoe": {}}}, "mix: family 'tictactoe' is a 2-player game"),
        ({"families": {"maze": {}, "mix": {}}}, "mix: a mix cannot hold 'mix' as a family"),
        ({"families": {"maze": 3}}, "mix: the parameters of family 'maze' must be a mapping, got int"),
        ({"weights": {"maze": 1, "knapsack": 1, "linear_equation": 1, "tsp": 1}},
         "mix: weights name 'tsp', which is not among the families \\(maze, knapsack, linear_equation\\)"),
        ({"weights": {"maze": 1, "knapsack": -1, "linear_equation": 1}},
         "mix: the weight of 'knapsack' must be a finite number >= 0, got -1"),
        ({"weights": {"maze": 1, "knapsack": float("nan"), "linear_equation": 1}},
         "mix: the weight of 'knapsack' must be a finite number >= 0, got nan"),
        ({"weights": {"maze": 0, "knapsack": 0, "linear_equation": 0.0}}, "mix: the weights are all zero"),
        ({"weights": {"maze": 1}}, "mix: weights give no weight to knapsack, linear_equation"),
    ],
)
def test_bad_constructors_are_one_line_errors(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        make_task("mix", **{"families": FAMILIES, **params})
    assert "\n" not in str(info.value)


def test_the_default_mix_and_flat_slots() -> None:
    task = make_task("mix")
    assert isinstance(task, MixedTask) and task.families == ("maze", "knapsack", "linear_equation")
    assert task.members["maze"].difficulty_levels == 2 and task.members["knapsack"].difficulty_levels == 6
    two = make_task("mix", families={"arithmetic": {}, "maze": {}, "quadratic": {}})
    assert isinstance(two, MixedTask)
    slots = {f: m.slot for f, m in two.members.items() if isinstance(m, SequenceTask)}
    assert slots == {"arithmetic": 0, "quadratic": 1}  # slots in order among the flat families
    s = two.initial_state(_seed_of(two, "quadratic"))
    assert set(s.observation[:, 0]) == {TOKEN_TYPE_BASE["sequence"] + 1}
