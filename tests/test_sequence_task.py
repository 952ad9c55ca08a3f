"""SequenceTask: flat single-agent tasks in the structured contract (known tokens, known pointers, same verdicts)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.base import State, Task
from zeroforge.tasks.math.vocab import PAD
from zeroforge.tasks.sequence import SequenceState, SequenceTask, known_pad
from zeroforge.tasks.structured import (
    POINTER_KIND_BASE,
    TOKEN_TYPE_BASE,
    TOKEN_VOCAB,
    check_episode,
    check_structured,
)

MATH = ("linear_equation", "arithmetic", "quadratic", "linear_system")


def _random_actions(task: Task, state: State, rng: np.random.Generator) -> list[int]:
    """The actions of one uniformly random episode from ``state``."""
    actions = []
    while not state.terminal:
        actions.append(int(rng.choice(np.flatnonzero(state.legal_action_mask))))
        state = task.step(state, actions[-1])
    return actions


def test_tokens_are_the_inner_non_pad_ids_in_order() -> None:
    inner = make_task("linear_equation")
    task = SequenceTask(inner, slot=3)
    s = task.initial_state(5)
    obs = s.inner.observation
    keep = np.flatnonzero(obs != PAD)
    assert 0 < len(keep) < len(obs)  # the empty slots' padding is dropped
    tokens = s.observation
    assert tokens.shape == (len(keep), 5) and tokens.dtype == np.int64 and not tokens.flags.writeable
    np.testing.assert_array_equal(tokens[:, 0], TOKEN_TYPE_BASE["sequence"] + 3)
    np.testing.assert_array_equal(tokens[:, 1], obs[keep])  # the ids, in order
    np.testing.assert_array_equal(tokens[:, 2], 0)
    np.testing.assert_array_equal(tokens[:, 3], 0)  # row 0: a sequence
    np.testing.assert_array_equal(tokens[:, 4], keep)  # col: the position in the inner sequence
    assert tokens[-1, 4] == inner.seq_len - 1  # the budget bucket closes every equation observation


def test_pointers_name_the_summary_token_with_one_kind_per_action() -> None:
    task = SequenceTask(make_task("linear_equation"), slot=2)
    s = task.initial_state(1)
    ptr = s.action_pointers()
    assert ptr.shape == (task.num_actions, 3) and not ptr.flags.writeable
    base = POINTER_KIND_BASE["sequence"] + 32 * 2
    for a in range(task.num_actions):
        expect = (base + a, 0, 0) if s.legal_action_mask[a] else (0, 0, 0)
        assert tuple(ptr[a]) == expect
    assert (~s.legal_action_mask).any()  # some rows are illegal, and zero


def test_a_known_solution_gives_the_inner_verdict() -> None:
    inner = make_task("linear_equation")
    task = SequenceTask(inner, slot=0)
    start_inner, start = inner.parse("2*x + 3 = 7"), task.parse("2*x + 3 = 7")
    assert start.inner == start_inner and start.key() == start_inner.key()
    k = inner.max_terms
    solution = [1, 2 * k + 1, 2 * k + 4]  # move 3 to the right, combine the right side, divide by 2
    a, b = start_inner, start
    for action in solution:
        assert task.action_to_text(b, action) == inner.action_to_text(a, action)
        a, b = inner.step(a, action), task.step(b, action)
        assert b.inner == a and b.terminal == a.terminal and b.step_count == a.step_count
        np.testing.assert_array_equal(b.rewards, a.rewards)
        np.testing.assert_array_equal(b.legal_action_mask, a.legal_action_mask)
    assert b.terminal and task.outcome(b) == inner.outcome(a) == "success"
    assert task.answer(b) == inner.answer(a) == "x = 2"
    assert task.score(b) == inner.score(a) == 1.0
    assert b.to_text() == a.to_text()


@pytest.mark.parametrize("name", [*MATH, "code_sort", "code_class"])
def test_every_state_of_random_episodes_keeps_the_structured_contract(name: str) -> None:
    task = SequenceTask(make_task(name), slot=1)
    rng = np.random.default_rng(0)
    for seed in range(3):
        for level in sorted({1, task.difficulty_levels}):
            start = task.initial_state(seed, level)
            end = check_episode(task, start, _random_actions(task, start, rng))
            assert end.terminal and task.outcome(end) in ("success", "failure")
            check_structured(task, end)
            assert start.observation.max() < TOKEN_VOCAB


@pytest.mark.parametrize("name", MATH)
def test_attributes_and_texts_are_the_inner_tasks(name: str) -> None:
    inner = make_task(name)
    task = SequenceTask(inner, slot=0)
    assert task.name == name and task.structured and task.num_players == 1 and task.vocab_size == TOKEN_VOCAB
    for attr in ("num_actions", "seq_len", "max_episode_steps", "difficulty_levels", "solvable", "bounds"):
        assert getattr(task, attr) == getattr(inner, attr), attr
    s = task.initial_state(4, 2)
    assert s.inner == inner.initial_state(4, 2)
    assert task.instance_text(s) == inner.instance_text(s.inner)
    assert task.parse(task.instance_text(s)) == s
    assert task.demonstration(s) == inner.demonstration(s.inner)  # the inner solver's (None: no solver)
    assert task.outcome(s) == "timeout" and task.score(s) is None
    copy = pickle.loads(pickle.dumps(s))
    assert type(copy) is SequenceState and copy == s and not copy.observation.flags.writeable


def test_known_pads() -> None:
    assert known_pad(make_task("linear_equation")) == PAD == 10
    assert known_pad(make_task("code_sort")) == 82
    assert SequenceTask(make_task("code_sort"), 0).pad == 82


def test_two_slots_share_no_token_type_and_no_pointer_kind() -> None:
    a = SequenceTask(make_task("linear_equation"), slot=0)
    b = SequenceTask(make_task("quadratic"), slot=1)
    sa, sb = a.initial_state(0), b.initial_state(0)
    assert set(sa.observation[:, 0]).isdisjoint(sb.observation[:, 0])
    ka = set(sa.action_pointers()[sa.legal_action_mask, 0])
    kb = set(sb.action_pointers()[sb.legal_action_mask, 0])
    assert ka.isdisjoint(kb)
    top = SequenceTask(make_task("linear_equation", max_terms=8), slot=15)
    s = top.initial_state(0)
    assert s.action_pointers()[:, 0].max() < 1024  # slot 15's kinds still fit NUM_POINTER_KINDS


class _Flat(Task):
    """A flat single-agent task of any width / vocabulary (never played)."""

    name = "flat"

    def __init__(self, num_actions: int = 4, vocab_size: int = 8, num_players: int = 1) -> None:
        self.num_actions, self.vocab_size, self.num_players = num_actions, vocab_size, num_players
        self.seq_len, self.max_episode_steps = 4, 4

    def _initial_state(self, seed: int, difficulty: int) -> State:
        raise NotImplementedError

    def _step(self, state: State, action: int) -> State:
        raise NotImplementedError


@pytest.mark.parametrize(
    ("inner", "slot", "message"),
    [
        (make_task("maze"), 0, "sequence: maze is already structured"),
        (make_task("tictactoe"), 0, "sequence: tictactoe has 2 players"),
        (_Flat(num_actions=33), 0, "sequence: flat has 33 actions, at most 32"),
        (_Flat(vocab_size=2000), 0, "sequence: flat has a vocabulary of 2000 tokens, at most 1024"),
        (_Flat(), 16, "sequence: slot must be an integer in 0..15, got 16"),
        (_Flat(), -1, "sequence: slot must be an integer in 0..15"),
        (_Flat(), True, "sequence: slot must be an integer in 0..15"),
        ("linear_equation", 0, "sequence: expected a Task to wrap, got str"),
    ],
)
def test_bad_inner_tasks_are_refused_in_one_line(inner: Task, slot: int, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        SequenceTask(inner, slot)
    assert "\n" not in str(info.value)


def test_a_state_of_another_task_is_refused() -> None:
    task = SequenceTask(make_task("linear_equation"), slot=0)
    with pytest.raises(ValueError, match="linear_equation: expected a SequenceState, got EquationState"):
        task.outcome(make_task("linear_equation").initial_state(0))
