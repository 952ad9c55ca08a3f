"""Contract tests run on every registered task (future tasks get them for free).

Tasks are built with their default parameters through ``make_task``; random playouts use a seeded
numpy RNG so every run checks the same trajectories.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from zeroforge.tasks import State, Task, available_tasks, make_task
from zeroforge.tasks.structured import check_structured

TASKS = available_tasks()
SEEDS = (0, 1, 2)
PLAYOUTS_PER_SEED = 4


def test_builtin_games_are_registered() -> None:
    assert {"tictactoe", "connect_four"} <= set(TASKS)


def test_unknown_task_names_the_closest() -> None:
    with pytest.raises(ValueError, match="did you mean 'tictactoe'"):
        make_task("tictactoo")


Snapshot = tuple[tuple[object, ...], tuple[np.ndarray, ...]]


def _snapshot(state: State) -> Snapshot:
    scalars = (state.key(), state.current_player, state.terminal, state.step_count, state.to_text())
    arrays = (state.legal_action_mask.copy(), state.rewards.copy(), state.observation.copy())
    return scalars, arrays


def _assert_same_snapshot(a: Snapshot, b: Snapshot) -> None:
    assert a[0] == b[0]
    for x, y in zip(a[1], b[1], strict=True):
        np.testing.assert_array_equal(x, y)


def _check_state(task: Task, state: State) -> None:
    mask, obs, rewards = state.legal_action_mask, state.observation, state.rewards
    assert isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.shape == (task.num_actions,)
    if task.structured:
        check_structured(task, state)  # typed tokens int64[N, 5], pointers of the legal actions in range
        assert obs.max() < task.vocab_size
    else:
        assert isinstance(obs, np.ndarray) and obs.dtype == np.int64 and obs.shape == (task.seq_len,)
        assert obs.min() >= 0 and obs.max() < task.vocab_size
        assert state.action_pointers() is None
    assert isinstance(rewards, np.ndarray) and rewards.dtype == np.float32
    assert rewards.shape == (task.num_players,)
    assert np.all(np.isfinite(rewards))
    assert 0 <= state.current_player < task.num_players
    assert isinstance(state.terminal, bool)
    if state.terminal:
        assert not mask.any(), "a terminal state must have no legal action"
    else:
        assert mask.any(), "a non-terminal state must have a legal action"
    for arr in (mask, obs, rewards):
        assert not arr.flags.writeable
    text = state.to_text()
    assert isinstance(text, str) and text.strip()
    assert hash(state) == hash(state.key())


def _playout(task: Task, seed: int, rng: np.random.Generator, difficulty: int | None = None) -> list[State]:
    state = task.initial_state(seed, difficulty)
    states = [state]
    while not state.terminal:
        assert state.step_count < task.max_episode_steps, "episode did not end within max_episode_steps"
        legal = np.flatnonzero(state.legal_action_mask)
        action = int(rng.choice(legal))
        assert isinstance(task.action_to_text(state, action), str)
        before = _snapshot(state)
        nxt = task.step(state, action)
        _assert_same_snapshot(before, _snapshot(state))  # step left its input untouched
        assert nxt.step_count == state.step_count + 1
        state = nxt
        states.append(state)
    assert state.step_count <= task.max_episode_steps
    outcome = task.outcome(state)
    assert outcome in ("success", "failure")
    score = task.score(state)
    assert score is None or (isinstance(score, float) and 0.0 <= score <= 1.0), score
    json.dumps(task.answer(state))  # answers are JSON-serialisable (or None)
    for s in states[:-1]:
        assert task.score(s) is None and task.outcome(s) == "timeout"
    return states


@pytest.mark.parametrize("name", TASKS)
def test_random_playouts_respect_the_contract(name: str) -> None:
    task = make_task(name)
    for attr in ("num_actions", "num_players", "seq_len", "vocab_size", "max_episode_steps"):
        assert isinstance(getattr(task, attr), int) and getattr(task, attr) >= 1
    for seed in SEEDS:
        rng = np.random.default_rng(1000 + seed)
        for _ in range(PLAYOUTS_PER_SEED):
            states = _playout(task, seed, rng)
            assert not states[0].rewards.any(), "the initial state has received no reward"
            assert states[0].step_count == 0
            for s in states:
                _check_state(task, s)


@pytest.mark.parametrize("name", TASKS)
def test_every_difficulty_level_respects_the_contract(name: str) -> None:
    task = make_task(name)
    levels = task.difficulty_levels
    assert isinstance(levels, int) and levels >= 1
    assert task.initial_state(3) == task.initial_state(3, levels), "the default is the top level"
    for level in sorted({1, (levels + 1) // 2, levels}):
        rng = np.random.default_rng(level)
        for seed in SEEDS:
            assert task.initial_state(seed, level) == task.initial_state(seed, level)
            for s in _playout(task, seed, rng, level):
                _check_state(task, s)
    for bad in (0, levels + 1, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="difficulty"):
            task.initial_state(0, bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", TASKS)
def test_parse_reads_what_to_text_writes(name: str) -> None:
    """Tasks with a text instance format read back their own initial states; the rest say so."""
    task = make_task(name)
    if type(task).parse is Task.parse:
        with pytest.raises(ValueError, match="does not read instances"):
            task.parse("anything")
        return
    for seed in SEEDS:
        state = task.initial_state(seed)
        parsed = task.parse(task.instance_text(state))
        assert parsed == state
        assert parsed.to_text() == state.to_text()
    with pytest.raises(ValueError):
        task.parse("")


@pytest.mark.parametrize("name", TASKS)
def test_same_seed_same_initial_state(name: str) -> None:
    a, b = make_task(name), make_task(name)
    for seed in SEEDS:
        s1, s2 = a.initial_state(seed), b.initial_state(seed)
        assert s1 == s2 and s1.key() == s2.key() and s1.state_id == s2.state_id
        np.testing.assert_array_equal(s1.observation, s2.observation)
        np.testing.assert_array_equal(s1.legal_action_mask, s2.legal_action_mask)
        assert s1.to_text() == s2.to_text()


@pytest.mark.parametrize("name", TASKS)
def test_states_are_immutable(name: str) -> None:
    task = make_task(name)
    state = task.initial_state(0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.current_player = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.terminal = True  # type: ignore[misc]
    for arr in (state.legal_action_mask, state.observation, state.rewards):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = arr[0]
    nxt = task.step(state, int(np.flatnonzero(state.legal_action_mask)[0]))
    for arr in (nxt.legal_action_mask, nxt.observation, nxt.rewards):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = arr[0]


@pytest.mark.parametrize("name", TASKS)
def test_copies_and_pickles_stay_equal_and_read_only(name: str) -> None:
    task = make_task(name)
    state = task.initial_state(0)
    state = task.step(state, int(np.flatnonzero(state.legal_action_mask)[-1]))
    for clone in (pickle.loads(pickle.dumps(state)), copy.deepcopy(state), copy.copy(state)):
        assert type(clone) is type(state) and clone == state and clone.state_id == state.state_id
        for arr in (clone.legal_action_mask, clone.observation, clone.rewards):
            assert not arr.flags.writeable


@pytest.mark.parametrize("name", TASKS)
def test_bad_actions_raise_value_errors_naming_the_problem(name: str) -> None:
    task = make_task(name)
    state = task.initial_state(0)
    with pytest.raises(ValueError, match="out of range"):
        task.step(state, task.num_actions)
    with pytest.raises(ValueError, match="out of range"):
        task.step(state, -1)
    with pytest.raises(ValueError, match="integer"):
        task.step(state, 0.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="integer"):
        task.step(state, "0")  # type: ignore[arg-type]
    # numpy integers are fine
    task.step(state, np.int64(np.flatnonzero(state.legal_action_mask)[0]))

    rng = np.random.default_rng(7)
    while not state.terminal:
        illegal = np.flatnonzero(~state.legal_action_mask)
        if illegal.size:  # (some tasks may never have an illegal action)
            with pytest.raises(ValueError, match="illegal"):
                task.step(state, int(illegal[0]))
        state = task.step(state, int(rng.choice(np.flatnonzero(state.legal_action_mask))))
    with pytest.raises(ValueError, match="terminal"):
        task.step(state, 0)


_STATE_ID_SCRIPT = """
import json, sys
import numpy as np
from zeroforge.tasks import available_tasks, make_task
out = {}
for name in available_tasks():
    task = make_task(name)
    state = task.initial_state(0)
    ids = [state.state_id]
    rng = np.random.default_rng(3)
    while not state.terminal:
        state = task.step(state, int(rng.choice(np.flatnonzero(state.legal_action_mask))))
        ids.append(state.state_id)
    out[name] = ids
json.dump(out, sys.stdout)
"""


def test_state_ids_are_stable_across_processes() -> None:
    """``state_id`` must not depend on the interpreter's hash seed (it names states in traces)."""
    results = []
    for hash_seed in ("1", "2"):
        proc = subprocess.run(
            [sys.executable, "-c", _STATE_ID_SCRIPT],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        results.append(json.loads(proc.stdout))
    assert results[0] == results[1]
    assert set(results[0]) == set(TASKS)
    for ids in results[0].values():
        assert all(isinstance(i, str) and len(i) == 16 for i in ids)


@pytest.mark.parametrize("name", available_tasks())
def test_symmetries_commute_with_step(name: str) -> None:
    """Each symmetry is a permutation (identity first) and commutes with ``step``: replaying a game with
    every action mapped gives, at every ply, the mapped observation, mask and rewards. Structured tasks have
    only the identity (their tokens carry positions; a net reads relations, not slots)."""
    task = make_task(name)
    obs_perms, act_perms = task.symmetries()
    if task.structured:
        assert len(obs_perms) == len(act_perms) == 1
        return
    assert obs_perms.shape[1:] == (task.seq_len,) and act_perms.shape[1:] == (task.num_actions,)
    assert len(obs_perms) == len(act_perms)
    np.testing.assert_array_equal(obs_perms[0], np.arange(task.seq_len))
    np.testing.assert_array_equal(act_perms[0], np.arange(task.num_actions))
    for perm in (*obs_perms, *act_perms):
        assert sorted(perm.tolist()) == list(range(len(perm)))
    rng = np.random.default_rng(0)
    for seed in range(3):
        s = task.initial_state(seed)
        game, actions = [s], []
        while not s.terminal:
            actions.append(int(rng.choice(np.flatnonzero(s.legal_action_mask))))
            s = task.step(s, actions[-1])
            game.append(s)
        for op, ap in zip(obs_perms, act_perms, strict=True):
            m = task.initial_state(seed)
            for t, a in enumerate(actions):
                np.testing.assert_array_equal(m.observation, game[t].observation[op])
                np.testing.assert_array_equal(m.legal_action_mask, game[t].legal_action_mask[ap])
                m = task.step(m, int(np.flatnonzero(ap == a)[0]))
                np.testing.assert_array_equal(m.rewards, game[t + 1].rewards)
            assert m.terminal



@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("maze", {"size": -3}, "maze: size must be an integer >= 2"),
        ("maze", {"step_budget_factor": 0.5}, "maze: step_budget_factor must be a finite number >= 1"),
        ("maze", {"sise": 4}, "unknown parameter 'sise' for task 'maze'; did you mean 'size'"),
        ("knapsack", {"num_items": 0}, "knapsack: num_items must be an integer in 1..50"),
        ("tsp", {"num_cities": 2}, "tsp: num_cities must be an integer in 3..12"),
        ("countdown", {"target": -5}, "countdown: target must be None or an integer in 1..9999"),
        ("blocksworld", {"step_budget_factor": 0.9}, "blocksworld: step_budget_factor must be a finite number >= 1"),
        ("logic", {"max_depth": 0}, "logic: max_depth must be an integer in 1..64"),
        ("sudoku", {"sizes": [5]}, "sudoku: sizes must be a non-empty list of sides from \\[4, 6, 8, 9\\]"),
        ("nim", {"piles": [-1]}, "nim: piles must be a non-empty list of positive integers"),
        ("connect_n", {"rows": 0}, "connect_n: rows must be >= 1"),
        ("tictactoe", {"size": 4}, "unknown parameter 'size' for task 'tictactoe' \\(valid: none\\)"),
        ("code_function", {"num_examples": 0}, "code_function: num_examples must be an integer in 1..8"),
        ("code_function", {"num_heldout": 99}, "code_function: num_heldout must be an integer in 0..32"),
        ("code_sort", {"length": 7}, "code_sort: length must be an integer in 2..6"),
        ("code_sort", {"slack": -1}, "code_sort: slack must be an integer in 0..8"),
        ("code_class", {"calls_per_sequence": 1}, "code_class: calls_per_sequence must be an integer in 2..8"),
        ("code_class", {"num_sequences": "2"}, "code_class: num_sequences must be an integer in 1..4"),
        ("arithmetic", {"max_operands": 1}, "arithmetic: max_operands must be an integer in 2..9"),
        ("arithmetic", {"max_value": 0}, "arithmetic: max_value must be an integer in 1..999"),
        ("linear_equation", {"max_terms": 2}, "linear_equation: max_terms must be an integer in 3..8"),
        ("linear_equation", {"step_budget_factor": 0.5}, "linear_equation: step_budget_factor must be a finite"),
        ("quadratic", {"max_terms": 9}, "quadratic: max_terms must be an integer in 3..8"),
        ("quadratic", {"step_budget_factor": float("nan")}, "quadratic: step_budget_factor must be a finite"),
        ("linear_system", {"max_vars": 4}, "linear_system: max_vars must be 2 or 3"),
        ("linear_system", {"step_budget_factor": 0.9}, "linear_system: step_budget_factor must be a finite"),
    ],
)
def test_bad_task_parameters_are_one_line_errors(name: str, params: dict[str, object], message: str) -> None:
    """Negative sizes, impossible budgets and unknown parameters fail at construction, naming the problem."""
    with pytest.raises(ValueError, match=message) as info:
        make_task(name, **params)
    assert "\n" not in str(info.value)
