"""Playout-cap randomisation (KataGo): which moves get the full search, what the fast ones record, and
how they drop out of the policy loss while still training the value."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from zeroforge.config import ConfigError, MCTSConfig, load_config
from zeroforge.data import EpisodeBuffer, TrainingDataExtractor
from zeroforge.search import UniformEvaluator
from zeroforge.selfplay import SelfPlayEpisode, SelfPlayEpisodeGenerator
from zeroforge.tasks.registry import make_task
from zeroforge.train import alphazero_loss

TTT = make_task("tictactoe")


def generate(seeds: int = 5, rng_seed: int = 123, **cfg: object) -> list[SelfPlayEpisode]:
    """``seeds`` tic-tac-toe games, 3 in lockstep, uniform evaluator, 16 simulations unless overridden."""
    config = MCTSConfig(**{"num_simulations": 16, **cfg})  # type: ignore[arg-type]
    gen = SelfPlayEpisodeGenerator(TTT, UniformEvaluator(), config, parallel_batch_size=3)
    return gen.generate(list(range(seeds)), np.random.default_rng(rng_seed))


def traces(episodes: list[SelfPlayEpisode]) -> list:
    return [t for ep in episodes for t in ep.mcts_traces]


def test_fraction_one_is_the_generator_without_playout_caps() -> None:
    """Fraction 1.0 draws no coin: the same games, visit for visit, as a generator with caps switched off."""
    episodes = generate()
    config = MCTSConfig(num_simulations=16)
    plain = SelfPlayEpisodeGenerator(TTT, UniformEvaluator(), config, parallel_batch_size=3, playout_cap=False)
    reference = plain.generate(list(range(5)), np.random.default_rng(123))
    assert [a.action_id for ep in episodes for a in ep.actions] == [
        a.action_id for ep in reference for a in ep.actions]
    for t, r in zip(traces(episodes), traces(reference), strict=True):
        np.testing.assert_array_equal(t.visit_counts, r.visit_counts)
    assert all(t.full_search for t in traces(episodes))


def test_half_of_the_moves_get_the_full_search() -> None:
    all_traces = traces(generate(seeds=30, playout_cap_fraction=0.5, playout_cap_simulations=4))
    full = [t for t in all_traces if t.full_search]
    assert (len(full), len(all_traces)) == (104, 206)  # fixed seed: the exact count
    assert 0.4 < len(full) / len(all_traces) < 0.6


def test_evaluation_without_noise_searches_every_move_in_full() -> None:
    config = MCTSConfig(num_simulations=16, playout_cap_fraction=0.5)
    quiet = SelfPlayEpisodeGenerator(TTT, UniformEvaluator(), config, parallel_batch_size=3, add_noise=False)
    assert all(t.full_search and t.num_simulations == 16
               for t in traces(quiet.generate([0, 1, 2], np.random.default_rng(0))))
    forced = SelfPlayEpisodeGenerator(TTT, UniformEvaluator(), config, parallel_batch_size=3, add_noise=False,
                                      playout_cap=True)
    assert not all(t.full_search for t in traces(forced.generate([0, 1, 2], np.random.default_rng(0))))


def test_fast_and_full_traces_record_their_budgets() -> None:
    all_traces = traces(generate(seeds=8, playout_cap_fraction=0.5, playout_cap_simulations=4))
    fast = [t for t in all_traces if not t.full_search]
    full = [t for t in all_traces if t.full_search]
    assert fast and full
    for t in fast:
        assert t.num_simulations == 4 and t.visit_counts.sum() == 4
        # temperature 0: the most visited action
        assert t.visit_counts[t.selected_action] == t.visit_counts.max()
    for t in full:
        assert t.num_simulations == 16 and t.visit_counts.sum() == 16


def test_same_seed_same_games_with_playout_caps() -> None:
    a = generate(playout_cap_fraction=0.3)
    b = generate(playout_cap_fraction=0.3)
    assert [x.action_id for ep in a for x in ep.actions] == [x.action_id for ep in b for x in ep.actions]
    assert [t.full_search for t in traces(a)] == [t.full_search for t in traces(b)]


def test_fast_moves_have_no_policy_target_but_keep_their_value() -> None:
    episodes = generate(seeds=8, playout_cap_fraction=0.5, playout_cap_simulations=4)
    extractor = TrainingDataExtractor()
    arrays = extractor.policy_value_arrays(episodes)
    flags = np.array([t.full_search for t in traces(episodes)])
    assert len(arrays) == len(flags)  # every move stays for the value target
    np.testing.assert_array_equal(arrays.has_policy, flags)
    np.testing.assert_array_equal(arrays.policies[~flags], 0.0)
    np.testing.assert_allclose(arrays.policies[flags].sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(arrays.values, np.concatenate([extractor.values(ep) for ep in episodes]))
    examples = extractor.extract(episodes)
    assert len(examples["policy"]) == int(flags.sum())
    assert len(examples["value"]) == len(flags)


def test_zero_policy_rows_survive_the_replay_buffer_checkpoint() -> None:
    episodes = generate(seeds=4, playout_cap_fraction=0.5)
    arrays = TrainingDataExtractor().policy_value_arrays(episodes)
    assert not arrays.has_policy.all()
    buf = EpisodeBuffer(10**7)
    buf.add_episodes(episodes, TTT.vocab_size)
    again = EpisodeBuffer(10**7)
    again.load_state_arrays(buf.state_arrays())
    np.testing.assert_array_equal(again.policy_value_arrays().has_policy, arrays.has_policy)


def test_policy_loss_averages_over_rows_with_a_target_only() -> None:
    logits = torch.tensor([[0.0, 0.0, 0.0], [5.0, -1.0, 2.0], [1.0, 0.0, 0.0]])
    masks = torch.ones(3, 3, dtype=torch.bool)
    target = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.5, 0.5]])  # row 1: a fast move
    values, z = torch.tensor([0.5, 0.0, -0.5]), torch.tensor([1.0, 1.0, -1.0])
    terms = alphazero_loss(logits, values, masks, target, z, [])
    ce_row0 = math.log(3)
    ce_row2 = -math.log(1 / (math.e + 2))  # both targets share log_softmax of a 0 logit
    assert terms.policy == pytest.approx((ce_row0 + ce_row2) / 2, rel=1e-6)
    assert terms.value == pytest.approx((0.25 + 1.0 + 0.25) / 3, rel=1e-6)  # the value uses every row
    # a batch of fast moves only: no policy loss and no gradient through the logits
    leaf = logits.clone().requires_grad_()
    none = alphazero_loss(leaf, values, masks, torch.zeros(3, 3), z, [])
    none.total.backward()
    assert none.policy == 0.0 and leaf.grad is not None and torch.all(leaf.grad == 0)


def test_gumbel_with_playout_caps() -> None:
    episodes = generate(seeds=4, root_policy="gumbel", playout_cap_fraction=0.5, playout_cap_simulations=4)
    all_traces = traces(episodes)
    assert all(t.policy_target is not None for t in all_traces)
    arrays = TrainingDataExtractor().policy_value_arrays(episodes)
    np.testing.assert_array_equal(arrays.has_policy, [t.full_search for t in all_traces])


def test_playout_cap_config_keys_are_validated() -> None:
    cfg = load_config(None, ["mcts.playout_cap_fraction=0.25", "mcts.playout_cap_simulations=16"])
    assert (cfg.mcts.playout_cap_fraction, cfg.mcts.playout_cap_simulations) == (0.25, 16)
    # a cheap budget above the full one only matters when the cap is on
    assert load_config(None, ["mcts.num_simulations=4"]).mcts.playout_cap_simulations == 8
    for overrides, message in [
        (["mcts.playout_cap_fraction=0"], "'mcts.playout_cap_fraction' must be in (0, 1]"),
        (["mcts.playout_cap_fraction=1.5"], "'mcts.playout_cap_fraction' must be in (0, 1]"),
        (["mcts.playout_cap_simulations=0"], "'mcts.playout_cap_simulations' must be >= 1"),
        (["mcts.playout_cap_fraction=0.5", "mcts.num_simulations=4"],
         "'mcts.playout_cap_simulations' must be <= num_simulations (4)"),
    ]:
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")
                           .replace("[", r"\[").replace("]", r"\]")):
            load_config(None, overrides)
