"""The compiled kernels (numba) and the same kernels run uncompiled give identical results for a fixed seed, on
both strategies (task states stepped in Python; the fully compiled array-kernel loop)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zeroforge.config import MCTSConfig, NetConfig
from zeroforge.jit import NUMBA_AVAILABLE
from zeroforge.nets import build_net
from zeroforge.search import make_mcts
from zeroforge.search.evaluator import (
    CachingEvaluator,
    Evaluator,
    NetworkEvaluator,
    RolloutEvaluator,
    UniformEvaluator,
)
from zeroforge.search.mcts import MCTS
from zeroforge.search.trace import MCTSTrace
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator
from zeroforge.tasks.base import State, Task
from zeroforge.tasks.registry import make_task

pytestmark = pytest.mark.skipif(not NUMBA_AVAILABLE, reason="numba is not installed")


def _positions(task: Task, n: int, seed: int) -> list[State]:
    rng = np.random.default_rng(seed)
    out: list[State] = []
    while len(out) < n:
        s = task.initial_state(len(out))
        for _ in range(int(rng.integers(0, 6))):
            nxt = task.step(s, int(rng.choice(np.flatnonzero(s.legal_action_mask))))
            if nxt.terminal:
                break
            s = nxt
        out.append(s)
    return out


def _net(task: Task) -> NetworkEvaluator:
    torch.manual_seed(0)
    return NetworkEvaluator(build_net(NetConfig(hidden=32), task))


def _assert_same(a: list[MCTSTrace], b: list[MCTSTrace]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.visit_counts, y.visit_counts)
        np.testing.assert_array_equal(x.q_values, y.q_values)
        np.testing.assert_array_equal(x.value_estimates, y.value_estimates)
        assert (x.selected_action, x.root_value, x.tree_depth) == (y.selected_action, y.root_value, y.tree_depth)


def _both(task: Task, evaluator: Evaluator, config: MCTSConfig, roots: list[State],
          reset: object = None) -> tuple[list[MCTSTrace], list[MCTSTrace]]:
    out = []
    for compiled in (False, True):
        if isinstance(evaluator, RolloutEvaluator):
            evaluator.rng = np.random.default_rng(11)
        out.append(MCTS(task, evaluator, config, compiled).search(roots, np.random.default_rng(5), add_noise=True,
                                                                  temperatures=1.0))
    return out[0], out[1]


@pytest.mark.parametrize("name", ["tictactoe", "connect_four"])
def test_array_path_equals_numpy_path_with_a_net_and_noise(name: str) -> None:
    task = make_task(name)
    search = MCTS(task, _net(task), MCTSConfig())
    assert search.array_kernels is not None  # the fully compiled path is the one under test
    ours, theirs = _both(task, _net(task), MCTSConfig(num_simulations=48), _positions(task, 24, 1))
    _assert_same(ours, theirs)


def test_array_path_with_uniform_priors_and_many_ties() -> None:
    task = make_task("connect_four")
    ours, theirs = _both(task, UniformEvaluator(), MCTSConfig(num_simulations=64, dirichlet_epsilon=0.0),
                         _positions(task, 8, 2))
    _assert_same(ours, theirs)


@pytest.mark.parametrize("name", ["maze", "countdown", "tictactoe"])
def test_generic_path_equals_numpy_path(name: str) -> None:
    """Tasks without array kernels (and any evaluator that needs states) use compiled select and backup."""
    task = make_task(name)
    evaluator = RolloutEvaluator(np.random.default_rng(11))
    assert MCTS(task, evaluator, MCTSConfig()).array_kernels is None
    ours, theirs = _both(task, evaluator, MCTSConfig(num_simulations=40, discount=0.97), _positions(task, 6, 3))
    _assert_same(ours, theirs)


@pytest.mark.parametrize("name", ["tictactoe", "connect_four"])
def test_gumbel_search_is_the_same_compiled_and_uncompiled(name: str) -> None:
    """Gumbel's numpy selection functions plug into the same descent loop and backup kernels, compiled or not
    (and a Gumbel search of a task with array kernels takes the task-state strategy)."""
    task = make_task(name)
    config = MCTSConfig(num_simulations=24, root_policy="gumbel", gumbel_num_considered=4)
    assert MCTS(task, _net(task), config).array_kernels is None
    ours, theirs = _both(task, _net(task), config, _positions(task, 8, 6))
    _assert_same(ours, theirs)
    for x, y in zip(ours, theirs, strict=True):
        assert x.policy_target is not None and y.policy_target is not None
        np.testing.assert_array_equal(x.policy_target, y.policy_target)


def test_cached_evaluator_on_the_array_path() -> None:
    task = make_task("tictactoe")
    cache = CachingEvaluator(_net(task))
    ours, theirs = _both(task, cache, MCTSConfig(num_simulations=64), _positions(task, 10, 4))
    _assert_same(ours, theirs)
    assert cache.hit_rate > 0.4  # the second search re-visits the first one's positions


def test_selfplay_episodes_are_the_same_on_both_backends() -> None:
    task = make_task("tictactoe")
    episodes = []
    for backend in ("numpy", "numba"):
        config = MCTSConfig(num_simulations=16, backend=backend)
        gen = SelfPlayEpisodeGenerator(task, _net(task), config, parallel_batch_size=8)
        episodes.append(gen.generate(range(12), np.random.default_rng(0)))
    for a, b in zip(*episodes, strict=True):
        assert [x.action_id for x in a.actions] == [x.action_id for x in b.actions]
        _assert_same(list(a.mcts_traces), list(b.mcts_traces))


def test_backend_choice() -> None:
    task = make_task("tictactoe")
    assert not make_mcts(task, UniformEvaluator(), MCTSConfig(backend="numpy")).kernels.compiled
    assert make_mcts(task, UniformEvaluator(), MCTSConfig(backend="auto")).kernels.compiled
    with pytest.raises(ValueError, match="backend"):
        MCTSConfig(backend="cuda")


def test_virtual_loss_keeps_known_answers_and_batches_leaves() -> None:
    """Several leaves per tree per net call: still optimal on solved tic-tac-toe positions, visits add up, and a
    single root's search makes ~sims / leaves_per_step evaluator calls."""
    from zeroforge.tasks.games.solver import NegamaxSolver

    task = make_task("tictactoe")
    solver = NegamaxSolver(task)
    positions = [s for s in _positions(task, 60, 7) if not s.terminal and s.step_count >= 3][:25]
    config = MCTSConfig(num_simulations=400, leaves_per_step=8)
    traces = make_mcts(task, UniformEvaluator(), config).search(positions, np.random.default_rng(0))
    for s, tr in zip(positions, traces, strict=True):
        assert tr.selected_action in solver.optimal_actions(s), s.to_text()
        assert tr.visit_counts.sum() == 400
    evaluator = _net(make_task("connect_four"))
    c4 = make_task("connect_four")
    make_mcts(c4, evaluator, MCTSConfig(num_simulations=64, leaves_per_step=8)).search(
        [c4.initial_state(0)], np.random.default_rng(0))
    assert evaluator.calls == 1 + 8  # the root, then 8 steps of 8 leaves


def test_virtual_loss_with_fewer_legal_moves_than_leaves() -> None:
    """Two legal moves, 8 descents per step: leaves repeat within a step and are backed up once each."""
    task = make_task("tictactoe")
    s = task.initial_state(0)
    for a in (0, 1, 2, 4, 3, 5, 7):  # x o x / x o o / . x .  -> o to move, cells 6 and 8 free
        s = task.step(s, a)
    assert int(s.legal_action_mask.sum()) == 2
    tr = make_mcts(task, UniformEvaluator(), MCTSConfig(num_simulations=20, leaves_per_step=8)).search(
        [s], np.random.default_rng(0))[0]
    assert tr.visit_counts.sum() == 20
    assert set(np.flatnonzero(tr.visit_counts)) == {6, 8}


def test_virtual_loss_short_last_step_evaluates_the_right_leaves() -> None:
    """6 simulations in steps of 4: the last step takes 2 leaves per tree. Every expanded root child's one-shot
    value estimate must be the net's value of that child's own position (seen from the root's player)."""
    task = make_task("connect_four")
    evaluator = _net(task)
    roots = [s for s in _positions(task, 12, 5) if not s.terminal][:6]
    traces = make_mcts(task, evaluator, MCTSConfig(num_simulations=6, leaves_per_step=4)).search(
        roots, np.random.default_rng(0))
    checked = 0
    for root, tr in zip(roots, traces, strict=True):
        for a in np.flatnonzero(tr.visit_counts):
            child = task.step(root, int(a))
            if child.terminal:
                continue
            _, value = evaluator.evaluate(child.observation[None].copy(), child.legal_action_mask[None])
            assert tr.value_estimates[a] == pytest.approx(-float(value[0]), abs=1e-5), (a, root.to_text())
            checked += 1
    assert checked >= 12
