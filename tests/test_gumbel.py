"""Known-answer tests of the Gumbel MuZero search: sequential halving, completed Q, the improved policy,
and the batched search with ``root_policy="gumbel"`` on solved tic-tac-toe positions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zeroforge.config import ConfigError, MCTSConfig, load_config
from zeroforge.search import MCTS, RolloutEvaluator, UniformEvaluator
from zeroforge.search import gumbel as gz
from zeroforge.search.trace import MCTSTrace
from zeroforge.tasks.base import State
from zeroforge.tasks.games.solver import NegamaxSolver
from zeroforge.tasks.registry import make_task

TTT = make_task("tictactoe")


def play(moves: list[int]) -> State:
    s = TTT.initial_state(0)
    for a in moves:
        s = TTT.step(s, a)
    return s


def gumbel_search(states: list[State], sims: int, evaluator: object = None, seed: int = 0, noise: bool = False,
                  **cfg: object) -> list[MCTSTrace]:
    """A Gumbel search of ``states`` (uniform evaluator unless given; Gumbel noise only with ``noise``)."""
    config = MCTSConfig(**{"num_simulations": sims, "root_policy": "gumbel", **cfg})  # type: ignore[arg-type]
    mcts = MCTS(TTT, evaluator or UniformEvaluator(), config)  # type: ignore[arg-type]
    return mcts.search(states, np.random.default_rng(seed), add_noise=noise)


# -- sequential halving ----------------------------------------------------------------------------


@pytest.mark.parametrize(("m", "n", "expected"), [
    # m = 8, n = m * log2(m) = 24: 8 actions once, 4 actions twice, 2 actions four times
    (8, 24, [0] * 8 + [1] * 4 + [2] * 4 + [3, 3, 4, 4, 5, 5, 6, 6]),
    # more simulations than m * log2(m): the later phases get more rounds, the last one is cut off
    (8, 47, [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [v for k in range(4, 17) for v in (k, k)] + [17]),
    # fewer simulations than m * log2(m)
    (8, 13, [0] * 8 + [1] * 4 + [2]),
    (8, 2, [0, 0]),
    # m not a power of 2: 7 -> 3 -> 2
    (7, 24, [0] * 7 + [1, 1, 1, 2, 2, 2] + [3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8]),
    # the default m = 16 with 32 simulations: 16 x1, 8 x1, 4 x2
    (16, 32, [0] * 16 + [1] * 8 + [2] * 4 + [3] * 4),
    (4, 10, [0, 0, 0, 0, 1, 1, 2, 2, 3, 3]),
    (2, 7, [0, 0, 1, 1, 2, 2, 3]),
    (1, 5, [0, 1, 2, 3, 4]),
    (0, 3, [0, 1, 2]),
])
def test_sequential_halving_schedule(m: int, n: int, expected: list[int]) -> None:
    assert gz.considered_visit_sequence(m, n) == tuple(expected)


def test_considered_visit_table_rows_are_the_sequences() -> None:
    table = gz.considered_visit_table(4, 10)
    assert table.shape == (5, 10) and table.dtype == np.int32
    for m in range(5):
        assert tuple(table[m]) == gz.considered_visit_sequence(m, 10)


# -- completed Q, sigma, improved policy -----------------------------------------------------------


def _hand_node() -> tuple[np.ndarray, ...]:
    """One node, 4 actions (the last illegal): N = [2, 1, 0, 0], Q = [0.6, -0.2, -, -], prior
    [0.5, 0.3, 0.2, 0], net value 0.1."""
    q = np.array([[0.6, -0.2, 0.0, 0.0]])
    visits = np.array([[2, 1, 0, 0]])
    priors = np.array([[0.5, 0.3, 0.2, 0.0]])
    legal = np.array([[True, True, True, False]])
    return q, visits, priors, legal, np.array([0.1])


def test_mixed_value_and_completed_q_hand_example() -> None:
    q, visits, priors, _, raw = _hand_node()
    # weighted Q over visited actions: (0.5 * 0.6 + 0.3 * -0.2) / 0.8 = 0.3; v_mix = (0.1 + 3 * 0.3) / 4
    v_mix = gz.mixed_value(raw, q, visits, priors)
    assert v_mix == pytest.approx([0.25])
    np.testing.assert_allclose(gz.completed_q(q, visits, v_mix), [[0.6, -0.2, 0.25, 0.25]])
    # nothing visited: the mixed value is the net's value
    assert gz.mixed_value(raw, q, np.zeros_like(visits), priors) == pytest.approx([0.1])


def test_sigma_of_rescaled_completed_q_hand_example() -> None:
    q, visits, priors, legal, raw = _hand_node()
    # rescaled over legal actions: (q_hat + 0.2) / 0.8 = [1, 0, 0.5625]; sigma scale (50 + max N 2) * 0.1
    np.testing.assert_allclose(gz.rescale_q(np.array([[0.6, -0.2, 0.25, 9.0]]), legal), [[1.0, 0.0, 0.5625, 0.0]])
    expected = [[5.2, 0.0, 5.2 * 0.5625, 0.0]]
    np.testing.assert_allclose(gz.transformed_q(q, visits, raw, priors, legal, 50.0, 0.1), expected)
    np.testing.assert_allclose(gz.sigma(np.array([[1.0, 0.5]]), np.array([[3, 7]]), 10.0, 0.5), [[8.5, 4.25]])


def test_improved_policy_hand_example() -> None:
    q, visits, priors, legal, raw = _hand_node()
    sigma_q = gz.transformed_q(q, visits, raw, priors, legal, 50.0, 0.1)
    pi = gz.improved_policy(gz.prior_logits(priors), sigma_q, legal)
    # softmax(log p + sigma) is proportional to p * exp(sigma)
    w = np.array([0.5 * math.exp(5.2), 0.3, 0.2 * math.exp(2.925), 0.0])
    np.testing.assert_allclose(pi[0], w / w.sum(), rtol=1e-6)
    assert pi.dtype == np.float32 and pi[0, 3] == 0.0


def test_interior_rule_visits_follow_the_improved_policy() -> None:
    # with sigma = 0 the improved policy is the prior [0.5, 0.25, 0.25]: the rule visits 0, 1, 2, 0, ...
    logits, legal = np.log(np.array([[0.5, 0.25, 0.25]])), np.ones((1, 3), bool)
    visits = np.zeros((1, 3), np.int64)
    picks = []
    for _ in range(8):
        a = int(np.argmax(gz.interior_scores(logits, np.zeros((1, 3)), visits, legal)))
        picks.append(a)
        visits[0, a] += 1
    assert picks[:4] == [0, 1, 2, 0]
    np.testing.assert_array_equal(visits, [[4, 2, 2]])


def test_root_scores_only_allow_the_considered_visit_count() -> None:
    visits = np.array([[1, 2, 1, 0]])
    legal = np.array([[True, True, True, False]])
    scores = gz.root_scores(np.array([1]), np.zeros((1, 4)), np.array([[0.0, 9.0, 1.0, 9.0]]), np.zeros((1, 4)),
                            visits, legal)
    np.testing.assert_array_equal(np.isfinite(scores), [[True, False, True, False]])
    assert int(np.argmax(scores)) == 2
    # the final choice is made among the most visited actions only
    assert gz.final_actions(np.zeros((1, 4)), np.array([[5.0, 0.0, 5.0, 0.0]]), np.zeros((1, 4)), visits,
                            legal).tolist() == [1]


# -- the batched Gumbel search ----------------------------------------------------------------------

WIN = [0, 3, 1, 4]  # x: 0, 1   o: 3, 4  -> x to move wins at 2
BLOCK = [0, 4, 1]  # x: 0, 1   o: 4  -> o to move must block at 2


@pytest.mark.parametrize("noise", [False, True])
def test_gumbel_takes_immediate_win(noise: bool) -> None:
    for sims in (8, 32):
        trace = gumbel_search([play(WIN)], sims, seed=3, noise=noise)[0]
        assert trace.selected_action == 2
        assert trace.q_values[2] == pytest.approx(1.0)
        assert int(np.argmax(trace.policy)) == 2 and trace.policy[2] > 0.9


def test_gumbel_wins_and_blocks_with_rollouts() -> None:
    win, block = gumbel_search([play(WIN), play(BLOCK)], 32, RolloutEvaluator(np.random.default_rng(1)))
    assert win.selected_action == 2
    assert block.selected_action == 2


def test_gumbel_picks_optimal_moves_on_solved_positions() -> None:
    solver = NegamaxSolver(TTT)
    positions = [play(m) for m in (WIN, BLOCK, [4, 0, 8], [0, 4, 8, 2], [4, 0, 1, 7, 2], [0, 1, 4])]
    traces = gumbel_search(positions, 64)
    for s, tr in zip(positions, traces, strict=True):
        assert tr.selected_action in solver.optimal_actions(s), s.to_text()


def test_gumbel_without_noise_is_deterministic_and_ignores_the_rng() -> None:
    positions = [TTT.initial_state(0), play(BLOCK), play([4, 0, 8])]
    rng = np.random.default_rng(5)
    before = rng.bit_generator.state
    mcts = MCTS(TTT, UniformEvaluator(), MCTSConfig(num_simulations=24, root_policy="gumbel"))
    a = mcts.search(positions, rng, add_noise=False, temperatures=1.0)
    assert rng.bit_generator.state == before  # no noise, no temperature: nothing drawn
    b = mcts.search(positions, np.random.default_rng(99), add_noise=False)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.visit_counts, y.visit_counts)
        np.testing.assert_array_equal(x.policy, y.policy)
        assert x.selected_action == y.selected_action


def test_gumbel_batch_equals_separate_searches() -> None:
    positions = [TTT.initial_state(0), play(WIN), play(BLOCK), play([4, 0, 8, 2])]
    together = gumbel_search(positions, 20)
    for s, tr in zip(positions, together, strict=True):
        alone = gumbel_search([s], 20)[0]
        np.testing.assert_array_equal(tr.visit_counts, alone.visit_counts)
        np.testing.assert_allclose(tr.policy, alone.policy)
        assert tr.selected_action == alone.selected_action


def test_improved_policy_is_a_distribution_over_legal_actions() -> None:
    s = play([4])  # centre taken: 8 legal actions
    for tr in (gumbel_search([s], 16)[0], gumbel_search([s], 16, seed=2, noise=True)[0]):
        assert tr.policy_target is not None
        np.testing.assert_array_equal(tr.policy, tr.policy_target)
        assert tr.policy.dtype == np.float32
        assert tr.policy.sum() == pytest.approx(1.0, abs=1e-6)
        assert np.all(tr.policy[~tr.legal_action_mask] == 0) and np.all(tr.policy[tr.legal_action_mask] > 0)
        assert tr.visit_counts.sum() == 16 and tr.visit_counts[4] == 0
        assert tr.to_dict()["policy_target"].keys() == {str(a) for a in range(9) if a != 4}


def test_two_considered_actions_split_visits_per_schedule() -> None:
    s = TTT.initial_state(0)
    for sims, split in ((10, [5, 5]), (7, [4, 3])):
        # no noise and uniform priors: the two considered actions are the first two by id
        tr = gumbel_search([s], sims, gumbel_num_considered=2)[0]
        assert sorted(tr.visit_counts[:2].tolist(), reverse=True) == split
        assert tr.visit_counts[2:].sum() == 0
    # with noise: the two actions with the largest Gumbel draws (the rng's first draws)
    g = np.random.default_rng(4).gumbel(size=(1, 9))[0]
    tr = gumbel_search([s], 10, seed=4, noise=True, gumbel_num_considered=2)[0]
    np.testing.assert_array_equal(np.flatnonzero(tr.visit_counts), np.sort(np.argsort(-g)[:2]))
    assert sorted(tr.visit_counts[tr.visit_counts > 0].tolist()) == [5, 5]


def test_four_considered_actions_halve_to_two() -> None:
    # schedule (4, 10) = 0 0 0 0 1 1 2 2 3 3: four actions once, then the best two four more times each
    tr = gumbel_search([TTT.initial_state(0)], 10, gumbel_num_considered=4)[0]
    assert sorted(tr.visit_counts[tr.visit_counts > 0].tolist()) == [1, 1, 4, 4]
    assert tr.visit_counts[tr.selected_action] == 4


def test_fewer_legal_actions_than_considered() -> None:
    s = play([0, 1, 2, 4, 3, 5, 7])  # o to move, two legal cells: 6 and 8
    assert np.flatnonzero(s.legal_action_mask).tolist() == [6, 8]
    tr = gumbel_search([s], 9)[0]
    assert tr.visit_counts.sum() == 9 and sorted(tr.visit_counts[[6, 8]].tolist()) == [4, 5]


def test_puct_traces_keep_the_visit_distribution() -> None:
    tr = MCTS(TTT, UniformEvaluator(), MCTSConfig(num_simulations=10)).search(
        [TTT.initial_state(0)], np.random.default_rng(0))[0]
    assert tr.policy_target is None and tr.full_search
    np.testing.assert_allclose(tr.policy, tr.visit_counts / 10)


def test_gumbel_config_keys_are_validated() -> None:
    cfg = load_config(None, ["mcts.root_policy=gumbel", "mcts.gumbel_num_considered=4"])
    assert (cfg.mcts.root_policy, cfg.mcts.gumbel_num_considered) == ("gumbel", 4)
    assert (cfg.mcts.gumbel_c_visit, cfg.mcts.gumbel_c_scale) == (50.0, 0.1)
    for override, message in [
        ("mcts.root_policy=uct", "'mcts.root_policy' must be one of ['gumbel', 'puct']"),
        ("mcts.gumbel_num_considered=0", "'mcts.gumbel_num_considered' must be >= 1"),
        ("mcts.gumbel_c_visit=-1", "'mcts.gumbel_c_visit' must be >= 0"),
        ("mcts.gumbel_c_scale=0", "'mcts.gumbel_c_scale' must be > 0"),
    ]:
        with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
            load_config(None, [override])
