"""Known-answer tests of the batched PUCT search."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from zeroforge.config import MCTSConfig
from zeroforge.jit import NUMBA_AVAILABLE
from zeroforge.search import (
    MCTS,
    CachingEvaluator,
    RolloutEvaluator,
    TokenEvaluator,
    Tree,
    UniformEvaluator,
    make_mcts,
    select_from_visits,
)
from zeroforge.tasks.base import State, Task, frozen_array
from zeroforge.tasks.games.solver import NegamaxSolver
from zeroforge.tasks.registry import make_task

TTT = make_task("tictactoe")


def play(task: Task, moves: list[int]) -> State:
    s = task.initial_state(0)
    for a in moves:
        s = task.step(s, a)
    return s


_NUMBA = pytest.mark.skipif(not NUMBA_AVAILABLE, reason="no numba")
#: every search path: numpy, compiled, and compiled behind an evaluation cache
BACKENDS = ["numpy", pytest.param("numba", marks=_NUMBA), pytest.param("numba+cache", marks=_NUMBA)]


def search(state: State | list[State], sims: int = 300, evaluator: object = None, backend: str = "numpy",
           **kw: object) -> list:
    states = state if isinstance(state, list) else [state]
    config = MCTSConfig(num_simulations=sims, backend=backend.split("+")[0])
    evaluator = evaluator or UniformEvaluator()
    if backend.endswith("+cache") and isinstance(evaluator, TokenEvaluator):
        evaluator = CachingEvaluator(evaluator)
    mcts = make_mcts(TTT, evaluator, config)  # type: ignore[arg-type]
    assert mcts.kernels.compiled == (backend != "numpy")
    return mcts.search(states, np.random.default_rng(0), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", BACKENDS)
def test_takes_immediate_win(backend: str) -> None:
    # x: 0, 1   o: 3, 4  -> x to move wins at 2 (o also threatens 5)
    trace = search(play(TTT, [0, 3, 1, 4]), backend=backend)[0]
    assert trace.selected_action == 2
    assert trace.q_values[2] == pytest.approx(1.0)
    assert trace.root_value > 0.5


@pytest.mark.parametrize("backend", BACKENDS)
def test_blocks_immediate_loss(backend: str) -> None:
    # x: 0, 1   o: 4  -> o to move must block at 2
    trace = search(play(TTT, [0, 4, 1]), backend=backend)[0]
    assert trace.selected_action == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_rollout_evaluator_also_wins_and_blocks(backend: str) -> None:
    ev = RolloutEvaluator(np.random.default_rng(1))
    assert search(play(TTT, [0, 3, 1, 4]), 100, ev, backend=backend)[0].selected_action == 2
    assert search(play(TTT, [0, 4, 1]), 200, ev, backend=backend)[0].selected_action == 2


def _random_positions(n: int, min_moves: int, seed: int) -> list[State]:
    rng = np.random.default_rng(seed)
    out: list[State] = []
    while len(out) < n:
        s = TTT.initial_state(0)
        for _ in range(int(rng.integers(min_moves, 8))):
            legal = np.flatnonzero(s.legal_action_mask)
            nxt = TTT.step(s, int(rng.choice(legal)))
            if nxt.terminal:
                break
            s = nxt
        if not s.terminal and s.step_count >= min_moves:
            out.append(s)
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_root_value_has_minimax_sign_on_solved_positions(backend: str) -> None:
    solver = NegamaxSolver(TTT)
    positions = _random_positions(40, 3, seed=7)
    traces = search(positions, sims=800, backend=backend)
    decisive = 0
    for s, tr in zip(positions, traces, strict=True):
        v = solver.value(s)
        assert tr.selected_action in solver.optimal_actions(s), s.to_text()
        if v != 0:
            decisive += 1
            assert np.sign(tr.root_value) == v, (s.to_text(), tr.root_value, v)
    assert decisive >= 10  # the sample really contains won and lost positions


@pytest.mark.parametrize("backend", BACKENDS)
def test_batched_search_equals_one_root_at_a_time(backend: str) -> None:
    positions = _random_positions(6, 1, seed=3)
    together = search(positions, sims=64, backend=backend)
    for s, tr in zip(positions, together, strict=True):
        alone = search(s, sims=64, backend=backend)[0]
        np.testing.assert_array_equal(alone.visit_counts, tr.visit_counts)
        np.testing.assert_allclose(alone.q_values, tr.q_values, rtol=1e-6)
        assert alone.selected_action == tr.selected_action


def test_trace_fields_and_visit_total() -> None:
    s = play(TTT, [4])
    tr = search(s, sims=50)[0]
    assert tr.num_simulations == 50
    assert tr.visit_counts.sum() == 50
    assert tr.visit_counts[4] == 0 and not tr.legal_action_mask[4]
    assert tr.prior_probs.sum() == pytest.approx(1.0)
    assert tr.prior_probs[4] == 0
    assert tr.root_state_id == s.state_id
    assert 1 <= tr.tree_depth <= 8
    assert tr.search_time > 0
    assert tr.policy.sum() == pytest.approx(1.0)
    d = tr.to_dict()
    assert set(d["visit_counts"]) == {str(a) for a in range(9) if a != 4}


def test_dirichlet_noise_changes_search_but_not_recorded_prior() -> None:
    s = TTT.initial_state(0)
    mcts = MCTS(TTT, UniformEvaluator(), MCTSConfig(num_simulations=30, dirichlet_epsilon=0.5))
    clean = mcts.search([s], np.random.default_rng(0), add_noise=False)[0]
    noisy = mcts.search([s], np.random.default_rng(0), add_noise=True)[0]
    np.testing.assert_allclose(noisy.prior_probs, clean.prior_probs)
    assert not np.array_equal(noisy.visit_counts, clean.visit_counts)


def test_terminal_root_is_refused() -> None:
    s = play(TTT, [0, 3, 1, 4, 2])
    assert s.terminal
    with pytest.raises(ValueError, match="terminal"):
        search(s)


def test_select_from_visits_temperature() -> None:
    visits = np.array([1, 10, 3, 0])
    q = np.zeros(4)
    rng = np.random.default_rng(0)
    assert select_from_visits(visits, q, 0.0, rng) == 1
    # ties at temperature 0 go to the higher Q
    assert select_from_visits(np.array([5, 5]), np.array([0.1, 0.4]), 0.0, rng) == 1
    picks = [select_from_visits(visits, q, 1.0, rng) for _ in range(2000)]
    share = np.bincount(picks, minlength=4) / 2000
    np.testing.assert_allclose(share, visits / visits.sum(), atol=0.03)
    assert share[3] == 0


# -- a single-player chain to check discounting ----------------------------------------------------


@dataclass(frozen=True, eq=False)
class _ChainState(State):
    pos: int = 0

    def key(self) -> object:
        return (self.pos, self.step_count)


class _Chain(Task):
    """Positions 0..4 on a line, start at 0; action 0 = left, 1 = right; reaching 4 pays +1."""

    name = "test_chain"
    num_actions = 2
    num_players = 1
    seq_len = 1
    vocab_size = 5
    max_episode_steps = 20

    def _make(self, pos: int, steps: int, reward: float) -> _ChainState:
        terminal = pos == 4 or steps >= self.max_episode_steps
        return _ChainState(0, frozen_array([pos > 0 and not terminal, not terminal], bool), terminal,
                           frozen_array([reward], np.float32), frozen_array([pos], np.int64), steps, pos)

    def _initial_state(self, seed: int, difficulty: int) -> State:
        return self._make(0, 0, 0.0)

    def _step(self, state: State, action: int) -> State:
        assert isinstance(state, _ChainState)
        pos = state.pos + (1 if action == 1 else -1)
        return self._make(pos, state.step_count + 1, 1.0 if pos == 4 else 0.0)


class _ExactChainValue(TokenEvaluator):
    """The optimal discounted value of the chain: the goal is ``3 - pos`` steps after the next one."""

    def evaluate(self, observations: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values = 0.9 ** (3 - observations[:, 0].astype(np.float64))
        return masks / masks.sum(axis=1, keepdims=True), values.astype(np.float32)


def test_single_player_values_are_discounted_returns() -> None:
    task = _Chain()
    cfg = MCTSConfig(num_simulations=200, discount=0.9)
    trace = MCTS(task, _ExactChainValue(), cfg).search([task._make(1, 0, 0.0)], np.random.default_rng(0))[0]
    assert trace.selected_action == 1
    # right: 0 + 0.9 * V(2) = 0.9 * 0.9 = 0.81; left: 0 + 0.9 * V(0) = 0.9 ** 4
    assert trace.value_estimates[1] == pytest.approx(0.81, abs=1e-5)
    assert trace.value_estimates[0] == pytest.approx(0.9**4, abs=1e-5)
    assert trace.root_prior_value == pytest.approx(0.9**2, abs=1e-5)
    # the optimal line is worth exactly 0.81 and every other line less
    assert 0.7 < trace.q_values[1] <= 0.81 + 1e-5
    assert trace.q_values[0] < trace.q_values[1]


def test_goal_one_step_away_is_worth_the_reward() -> None:
    task = _Chain()
    trace = MCTS(task, UniformEvaluator(), MCTSConfig(num_simulations=20, discount=0.9)).search(
        [task._make(3, 0, 0.0)], np.random.default_rng(0))[0]
    assert trace.selected_action == 1
    assert trace.q_values[1] == pytest.approx(1.0)


def test_network_evaluator_and_learner_flush_denormals_only_inside_their_calls() -> None:
    """Denormal weights (weight decay drives dead weights there) slow CPU matmuls ~40x, so the evaluator's
    and the learner's torch work runs with flush-to-zero; around their calls the mode stays what it was, so
    that unrelated code (Python floats, numpy, the code tasks' interpreter) sees subnormals whatever ran
    before it. The mode is read here with a torch operation on a denormal (the implementation uses numpy)."""
    import torch

    from zeroforge.config import TrainConfig
    from zeroforge.data import PolicyValueArrays
    from zeroforge.search import NetworkEvaluator
    from zeroforge.train import Learner

    def flushing() -> bool:
        return float(torch.tensor([1e-40]) * 1.0) == 0.0

    class Probe(torch.nn.Module):
        """A net that records whether denormals flush while it runs (and can be told to fail)."""

        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(TTT.seq_len, TTT.num_actions + 1)
            self.seen: list[bool] = []
            self.fail = False

        def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            self.seen.append(flushing())
            if self.fail:
                raise RuntimeError("probe failure")
            out = self.linear(tokens.float())
            return out[:, :-1], torch.tanh(out[:, -1])

    states = [play(TTT, moves) for moves in ([], [4], [4, 0], [0, 1, 2])]
    obs = np.stack([s.observation for s in states])
    masks = np.stack([s.legal_action_mask for s in states])
    buffer = PolicyValueArrays(obs, masks, masks / masks.sum(1, keepdims=True).astype(np.float32),
                               np.zeros(len(states), np.float32))
    initial = flushing()
    try:
        for before in (False, True):
            torch.set_flush_denormal(before)
            assert flushing() == before
            probe = Probe()
            evaluator = NetworkEvaluator(probe)
            learner = Learner(probe, TrainConfig(batch_size=4), seed=0)
            assert flushing() == before  # building them changes nothing
            evaluator.evaluate(obs, masks)
            assert probe.seen == [True] and flushing() == before
            learner.train(buffer, steps=2)
            assert probe.seen == [True, True, True] and flushing() == before
            probe.fail = True
            with pytest.raises(RuntimeError, match="probe failure"):
                evaluator.evaluate(obs, masks)
            with pytest.raises(RuntimeError, match="probe failure"):
                learner.train(buffer, steps=1)
            assert probe.seen == [True] * 5 and flushing() == before  # restored on the way out of an error
    finally:
        torch.set_flush_denormal(initial)


@pytest.mark.parametrize("compiled", [False, pytest.param(True, marks=_NUMBA)])
def test_puct_rule_hand_example(compiled: bool) -> None:
    """``Q + c * P * sqrt(N) / (1 + N_a)`` worked by hand, c = 1.25, P = (.5, .3, .2), N_a = (10, 1, 0),
    Q = (.1, .6, -), N = 12: scores .297, 1.250, .866 -> action 1. Two pending (virtual) descents through action 1
    make its Q (.6 - 2) / 3 and N = 14: scores .313, -.116, .935 -> action 2, or 0 when 2 is illegal."""
    from zeroforge.search import kernels as kern

    tree = Tree.empty(1, 1, 3, with_states=False)
    tree.children_prior[0, 0] = [0.5, 0.3, 0.2]
    tree.children_visits[0, 0] = [10, 1, 0]
    tree.children_values[0, 0] = [0.1, 0.6, 0.0]
    tree.node_visits[0, 0] = 12
    tree.legal[0, 0] = True
    k = kern.kernels(compiled)
    trees = np.zeros(1, np.int64)
    assert k.puct_actions(tree.children_prior, tree.children_visits, tree.children_values, tree.legal,
                          tree.node_visits, 1.25, trees, trees).tolist() == [1]
    puct = kern._puct_action if compiled else getattr(kern._puct_action, "py_func", kern._puct_action)
    row = (tree.children_prior[0, 0], tree.children_visits[0, 0], tree.children_values[0, 0])
    virtual = np.array([0, 2, 0], np.int32)
    assert puct(*row, tree.legal[0, 0], 12, np.float32(1.25), virtual, 2) == 2
    assert puct(*row, np.array([True, True, False]), 12, np.float32(1.25), virtual, 2) == 0
