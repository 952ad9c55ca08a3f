"""Training data: the four example kinds, policy/value arrays, the replay buffer and the torch dataset."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
import torch

from zeroforge.data import PolicyValueArrays, PolicyValueDataset, TrainingDataExtractor
from zeroforge.search import MCTSTrace
from zeroforge.selfplay import Action, SelfPlayEpisode
from zeroforge.tasks.base import State
from zeroforge.tasks.registry import make_task

TTT = make_task("tictactoe")
X_WINS = [0, 3, 1, 4, 2]  # x: top row
DRAW = [0, 1, 2, 4, 3, 5, 7, 6, 8]


def _trace(state: State, action: int, t: int) -> MCTSTrace:
    """Visits that differ from move to move: ``t + 1`` on the played cell, 1 on every other legal cell."""
    legal = state.legal_action_mask
    visits = legal.astype(np.int32)
    visits[action] = t + 1
    zeros = np.zeros(9, np.float32)
    return MCTSTrace(state.state_id, int(visits.sum()), visits, zeros, legal / legal.sum(), zeros, legal.copy(),
                     0.0, 0.0, action, 1, 0.0)


def episode(moves: Sequence[int], outcome: str = "success", task_id: str = "ep") -> SelfPlayEpisode:
    states = [TTT.initial_state(0)]
    for a in moves:
        states.append(TTT.step(states[-1], a))
    actions = [Action(a, TTT.action_to_text(s, a), s.current_player) for s, a in zip(states, moves, strict=False)]
    traces = [_trace(s, a, t) for t, (s, a) in enumerate(zip(states, moves, strict=False))]
    return SelfPlayEpisode.build(task_id, states, actions, traces, outcome, 2)


# -- TrainingDataExtractor -------------------------------------------------------------------------


def test_policy_and_value_targets_of_a_won_game() -> None:
    ep = episode(X_WINS)
    kinds = TrainingDataExtractor().extract([ep])
    assert len(kinds["policy"]) == len(kinds["value"]) == 5
    for t, ex in enumerate(kinds["policy"]):
        assert ex.step == t and ex.task_id == "ep"
        np.testing.assert_array_equal(ex.observation, ep.states[t].observation)
        np.testing.assert_array_equal(ex.legal_action_mask, ep.states[t].legal_action_mask)
        visits = ep.mcts_traces[t].visit_counts
        np.testing.assert_allclose(ex.policy_target, visits / visits.sum(), rtol=1e-3)  # the table's float16
        assert ex.policy_target.sum() == pytest.approx(1.0)
        assert np.all(ex.policy_target[~ep.states[t].legal_action_mask] == 0)
    # first move: 9 legal cells, the played one with 1 visit -> uniform 1/9
    np.testing.assert_allclose(kinds["policy"][0].policy_target, np.full(9, 1 / 9), rtol=1e-3)
    # second move: 8 legal cells, 2 visits on the played cell 3 -> 2/9 there
    assert kinds["policy"][1].policy_target[3] == pytest.approx(2 / 9, rel=1e-3)
    assert [ex.value_target for ex in kinds["value"]] == [1.0, -1.0, 1.0, -1.0, 1.0]


def test_negative_and_reasoning_examples_of_a_won_game() -> None:
    ep = episode(X_WINS)
    kinds = TrainingDataExtractor().extract([ep])
    neg = kinds["negative"]
    assert [ex.step for ex in neg] == [1, 3]  # only o's (the loser's) moves
    assert [ex.action for ex in neg] == [3, 4]
    np.testing.assert_array_equal(neg[0].observation, ep.states[1].observation)
    (reasoning,) = kinds["reasoning"]
    assert reasoning.query == TTT.initial_state(0).to_text()
    assert len(reasoning.reasoning_chain) == ep.episode_length == 5
    assert reasoning.reasoning_chain[0].startswith("step 1: player 0 plays x(0,0)")
    assert reasoning.reasoning_chain[-1].endswith(ep.states[-1].to_text())
    assert "xxx" in reasoning.reasoning_chain[-1]


def test_draw_has_no_negatives_and_zero_values() -> None:
    kinds = TrainingDataExtractor().extract([episode(DRAW)])
    assert len(kinds["policy"]) == len(kinds["value"]) == 9
    assert kinds["negative"] == []
    assert len(kinds["reasoning"]) == 1 and len(kinds["reasoning"][0].reasoning_chain) == 9
    assert {ex.value_target for ex in kinds["value"]} == {0.0}


def test_timeout_every_move_negative_no_reasoning() -> None:
    kinds = TrainingDataExtractor().extract([episode([0, 4, 8], outcome="timeout")])
    assert [ex.step for ex in kinds["negative"]] == [0, 1, 2]
    assert kinds["reasoning"] == []
    assert len(kinds["policy"]) == 3


def test_single_agent_episode_cut_by_the_move_limit_counts_as_failure() -> None:
    """A maze episode stopped by the generator's ``max_moves`` (``timeout``) gets -1 value targets (discounted
    back from the last move), the same as one that used up the task's own budget."""
    from zeroforge.config import MCTSConfig
    from zeroforge.search.evaluator import UniformEvaluator
    from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator

    maze = make_task("maze", size=4)
    gen = SelfPlayEpisodeGenerator(maze, UniformEvaluator(), MCTSConfig(num_simulations=2), max_moves=3)
    (ep,) = gen.generate([0], np.random.default_rng(0))
    assert ep.outcome == "timeout" and ep.episode_length == 3 and ep.rewards == (0.0, 0.0, 0.0)
    np.testing.assert_allclose(TrainingDataExtractor(discount=0.5).values(ep), [-0.25, -0.5, -1.0])
    # two-player timeouts stay draws (0): nobody lost
    assert TrainingDataExtractor().values(episode([0, 4, 8], outcome="timeout")).tolist() == [0.0, 0.0, 0.0]


def test_error_episodes_are_skipped_and_counts_add_up() -> None:
    eps = [episode(X_WINS, task_id="a"), episode([0, 1], outcome="error", task_id="bad"), episode(DRAW, task_id="b")]
    kinds = TrainingDataExtractor().extract(eps)
    assert len(kinds["policy"]) == 5 + 9
    assert {ex.task_id for k in kinds.values() for ex in k} == {"a", "b"}
    assert len(kinds["negative"]) == 2
    assert len(kinds["reasoning"]) == 2
    arrays = TrainingDataExtractor().policy_value_arrays(eps)
    assert len(arrays) == 14


def test_policy_value_arrays_shapes_dtypes_and_contents() -> None:
    won, draw = episode(X_WINS), episode(DRAW)
    arrays = TrainingDataExtractor().policy_value_arrays([won, draw])
    assert isinstance(arrays, PolicyValueArrays)
    assert arrays.observations.shape == (14, 9) and arrays.observations.dtype == np.int64
    assert arrays.masks.shape == (14, 9) and arrays.masks.dtype == np.bool_
    assert arrays.policies.shape == (14, 9) and arrays.policies.dtype == np.float32
    assert arrays.values.shape == (14,) and arrays.values.dtype == np.float32
    np.testing.assert_array_equal(arrays.values, [1, -1, 1, -1, 1] + [0] * 9)
    np.testing.assert_array_equal(arrays.observations[5], draw.states[0].observation)
    np.testing.assert_array_equal(arrays.masks[4], won.states[4].legal_action_mask)
    np.testing.assert_allclose(arrays.policies.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(arrays.policies[3], won.mcts_traces[3].policy)


def test_discounted_values() -> None:
    arrays = TrainingDataExtractor(discount=0.5).policy_value_arrays([episode(X_WINS)])
    np.testing.assert_allclose(arrays.values, [0.0625, -0.125, 0.25, -0.5, 1.0])
    with pytest.raises(ValueError, match="discount"):
        TrainingDataExtractor(discount=0.0)


def test_all_error_input_raises() -> None:
    with pytest.raises(ValueError, match="no training positions"):
        TrainingDataExtractor().policy_value_arrays([episode([0, 1], outcome="error")])
    with pytest.raises(ValueError):
        TrainingDataExtractor().policy_value_arrays([])


def rows(start: int, n: int, seq_len: int = 3, num_actions: int = 4) -> PolicyValueArrays:
    """``n`` rows whose every field encodes the row number ``start + i``."""
    ids = np.arange(start, start + n)
    return PolicyValueArrays(
        observations=np.repeat(ids[:, None], seq_len, axis=1).astype(np.int64),
        masks=(ids[:, None] + np.arange(num_actions)) % 2 == 0,
        policies=np.repeat(ids[:, None] / 100.0, num_actions, axis=1).astype(np.float32),
        values=(ids / 1000.0).astype(np.float32),
    )



# -- PolicyValueDataset ----------------------------------------------------------------------------


def test_dataset_len_getitem_and_batch() -> None:
    data = rows(0, 6)
    ds = PolicyValueDataset(data)
    assert len(ds) == 6
    tokens, mask, policy, value = ds[4]
    assert tokens.dtype == torch.int64 and tokens.shape == (3,)
    assert mask.dtype == torch.bool and mask.shape == (4,)
    assert policy.dtype == torch.float32 and policy.shape == (4,)
    assert value.shape == () and value.item() == pytest.approx(0.004)
    assert tokens.tolist() == [4, 4, 4]
    assert mask.tolist() == data.masks[4].tolist()
    t, m, p, v = ds.batch(torch.tensor([5, 0, 5]))
    assert t.shape == (3, 3) and m.shape == (3, 4) and p.shape == (3, 4) and v.shape == (3,)
    assert t[:, 0].tolist() == [5, 0, 5]
    np.testing.assert_allclose(v.numpy(), [0.005, 0.0, 0.005])


def test_dataset_from_extracted_episodes_works_with_a_dataloader() -> None:
    arrays = TrainingDataExtractor().policy_value_arrays([episode(X_WINS), episode(DRAW)])
    ds = PolicyValueDataset(arrays)
    loader = torch.utils.data.DataLoader(ds, batch_size=8, shuffle=False)
    batches = list(loader)
    assert [len(b[0]) for b in batches] == [8, 6]
    assert torch.equal(batches[0][3][:5], torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0]))


def test_self_imitation_targets_the_played_moves_of_successful_single_agent_episodes() -> None:
    import numpy as np

    from zeroforge.config import MCTSConfig
    from zeroforge.search import UniformEvaluator
    from zeroforge.selfplay import SelfPlayEpisodeGenerator
    from zeroforge.tasks import make_task

    task = make_task("maze")
    gen = SelfPlayEpisodeGenerator(task, UniformEvaluator(), MCTSConfig(num_simulations=16), parallel_batch_size=8)
    episodes = gen.generate(range(12), np.random.default_rng(0), difficulties=[1] * 12)
    outcomes = {e.outcome for e in episodes}
    assert "success" in outcomes and outcomes - {"success"}  # both kinds are in the sample
    plain = TrainingDataExtractor(0.97).policy_value_arrays(episodes)
    full = TrainingDataExtractor(0.97, self_imitation=1.0).policy_value_arrays(episodes)
    half = TrainingDataExtractor(0.97, self_imitation=0.5).policy_value_arrays(episodes)
    row = 0
    for ep in episodes:
        for a in ep.actions:
            if ep.outcome == "success":
                want = np.zeros(task.num_actions, np.float32)
                want[a.action_id] = 1.0
                np.testing.assert_array_equal(full.policies[row], want)
                np.testing.assert_allclose(half.policies[row], 0.5 * plain.policies[row] + 0.5 * want, atol=1e-6)
            else:
                np.testing.assert_array_equal(full.policies[row], plain.policies[row])
            row += 1
    np.testing.assert_array_equal(full.values, plain.values)
    with pytest.raises(ValueError, match="self_imitation"):
        TrainingDataExtractor(1.0, self_imitation=1.5)


def test_tree_negatives_with_their_reasons_and_provenance() -> None:
    """x to move with x: 0, 1 and o: 3, 4; the search played the win at 2. Its searched siblings: 5 (blocks,
    Q far below) and 8 (Q only a little below). With the task, a sibling whose move loses at once would be a
    verified failure; in tic-tac-toe no single move loses at once, so the tree gives exactly one q_gap negative."""
    states = [TTT.initial_state(0)]
    for a in (0, 3, 1, 4):
        states.append(TTT.step(states[-1], a))
    s = states[-1]
    visits = np.zeros(9, np.int32)
    q = np.zeros(9, np.float32)
    visits[[2, 5, 8]], q[[2, 5, 8]] = (20, 3, 2), (1.0, 0.2, 0.9)
    prior = s.legal_action_mask / s.legal_action_mask.sum()
    trace = MCTSTrace(s.state_id, 25, visits, q, prior, np.zeros(9, np.float32), s.legal_action_mask.copy(), 0.9, 0.0,
                      2, 1, 0.0)
    after = TTT.step(s, 2)
    ep = SelfPlayEpisode.build("ep", [s, after], [Action(2, TTT.action_to_text(s, 2), 0)], [trace], "success", 2,
                               {"seed": 7, "difficulty": 1})
    kinds = TrainingDataExtractor(negative_margin=0.3).extract([ep], task=TTT, iteration=4)
    assert [(n.action, n.reason) for n in kinds["negative"]] == [(5, "q_gap")]
    n = kinds["negative"][0]
    assert (n.family, n.difficulty, n.seed, n.iteration) == ("tictactoe", 1, 7, 4)
    (r,) = kinds["reasoning"]
    assert r.verified is True and r.iteration == 4
    assert TrainingDataExtractor(negative_margin=0.05).extract([ep])["negative"][1].action == 8  # 1.0 - 0.9 >= 0.05


def test_a_sibling_that_fails_at_once_is_a_verified_failure() -> None:
    """Logic: concluding too early ends the episode as a verified failure; with the task the extractor says so."""
    logic = make_task("logic")
    start = logic.initial_state(3)
    proof = logic.demonstration(start)
    assert proof and len(proof) >= 2
    conclude = logic.conclude_action
    assert start.legal_action_mask[conclude] and proof[0] != conclude
    early = logic.step(start, conclude)
    assert early.terminal and logic.outcome(early) == "failure"
    visits = np.zeros(logic.num_actions, np.int32)
    visits[[proof[0], conclude]] = (5, 1)
    q = np.zeros(logic.num_actions, np.float32)
    trace = MCTSTrace(start.state_id, 6, visits, q, start.legal_action_mask / start.legal_action_mask.sum(), q,
                      start.legal_action_mask.copy(), 0.0, 0.0, proof[0], 1, 0.0)
    nxt = logic.step(start, proof[0])
    ep = SelfPlayEpisode.build("lg", [start, nxt], [Action(proof[0], "", 0)], [trace], "timeout", 1, {"seed": 3})
    negs = TrainingDataExtractor().extract([ep], task=logic)["negative"]
    assert ("verified_failure", conclude) in [(n.reason, n.action) for n in negs]
    assert ("failed_episode", proof[0]) in [(n.reason, n.action) for n in negs]
