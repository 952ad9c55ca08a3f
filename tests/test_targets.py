"""One data path: the targets of in-memory episodes, of the replay buffer's minibatches and of Parquet files
agree; the buffer's checkpoint state restores it exactly; the learner trains from the buffer as from the same
positions held as arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from zeroforge.config import MCTSConfig, NetConfig, TrainConfig
from zeroforge.data.buffer import EpisodeBuffer
from zeroforge.data.extractor import TrainingDataExtractor
from zeroforge.data.parquet import load_parquet, save_parquet
from zeroforge.data.table import EpisodeTable
from zeroforge.data.targets import PolicyValueArrays, TargetRule, targets
from zeroforge.nets import build_net
from zeroforge.search.evaluator import UniformEvaluator
from zeroforge.selfplay.episode import SelfPlayEpisode
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator
from zeroforge.tasks import make_task
from zeroforge.train.learner import Learner


def played(task_name: str, n: int, seed: int = 0, **mcts: object) -> list[SelfPlayEpisode]:
    task = make_task(task_name)
    gen = SelfPlayEpisodeGenerator(task, UniformEvaluator(), MCTSConfig(num_simulations=12, **mcts),  # type: ignore[arg-type]
                                   parallel_batch_size=8)
    levels = [1] * n if task.num_players == 1 else None  # the easiest level: successes and failures both
    return gen.generate(range(seed, seed + n), np.random.default_rng(seed), difficulties=levels)


def assert_same(a: PolicyValueArrays, b: PolicyValueArrays) -> None:
    for name in ("observations", "masks", "policies", "values"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.parametrize("task_name, rule", [("tictactoe", TargetRule()), ("maze", TargetRule(0.97, 0.5))])
def test_in_memory_buffer_and_parquet_targets_agree(tmp_path: Path, task_name: str, rule: TargetRule) -> None:
    """The extractor (in-memory episodes), the buffer's minibatches (any rows, any chunking) and a Parquet file
    read back give the same targets, bit for bit: one function computes them all."""
    eps = played(task_name, 20)
    vocab = make_task(task_name).vocab_size
    in_memory = TrainingDataExtractor(rule.discount, rule.self_imitation).policy_value_arrays(eps)
    buf = EpisodeBuffer(10**8, rule=rule)
    buf.CHUNK_EPISODES = 3
    for lo in range(0, 20, 7):
        buf.add(EpisodeTable.from_episodes(eps[lo:lo + 7], vocab))
    assert buf.num_positions == len(in_memory) and len(buf.chunks) > 3
    rows = np.random.default_rng(1).integers(0, buf.num_positions, 300)
    assert_same(buf.take(rows), in_memory.take(rows))
    assert_same(buf.policy_value_arrays(), in_memory)
    save_parquet(buf, tmp_path / "e.parquet")
    assert_same(targets(load_parquet(tmp_path / "e.parquet", 10**8).table(), rule), in_memory)


def test_self_imitation_moves_the_played_action_only_in_successful_single_agent_episodes() -> None:
    eps = played("maze", 16)
    assert {e.outcome for e in eps} >= {"success", "failure"} or {e.outcome for e in eps} >= {"success", "timeout"}
    table = EpisodeTable.from_episodes(eps)
    plain, full = targets(table, TargetRule(0.97)), targets(table, TargetRule(0.97, 1.0))
    row = 0
    for ep in eps:
        for t, a in enumerate(ep.actions):
            if ep.outcome == "success" and ep.mcts_traces[t].full_search:
                assert full.policies[row, a.action_id] == 1.0 and full.policies[row].sum() == 1.0
            else:
                np.testing.assert_array_equal(full.policies[row], plain.policies[row])
            row += 1
    np.testing.assert_array_equal(full.values, plain.values)


def test_buffer_is_bounded_by_positions_and_evicts_whole_episodes() -> None:
    eps = played("tictactoe", 30)
    table = EpisodeTable.from_episodes(eps, 3)
    buf = EpisodeBuffer(10**8, max_positions=50)
    for lo in range(0, 30, 4):
        buf.add(table.select(lo, min(lo + 4, 30)))
        assert buf.num_positions <= 50
    kept = buf.table()
    lengths = table.episode_lengths
    assert kept.num_moves == buf.num_positions and kept.num_moves + int(lengths[30 - len(kept) - 1]) > 50
    np.testing.assert_array_equal(kept.seeds, table.seeds[30 - len(kept):])  # the newest, in order


def test_buffer_checkpoint_state_restores_the_same_chunks_and_evictions() -> None:
    eps = played("tictactoe", 40)
    table = EpisodeTable.from_episodes(eps, 3)
    bound = int(table.select(0, 15).nbytes)
    a = EpisodeBuffer(bound, rule=TargetRule(0.9))
    a.CHUNK_EPISODES = 4
    for lo in range(0, 24, 5):
        a.add(table.select(lo, lo + 5))
    state = {k: v.copy() for k, v in a.state_arrays().items()}
    b = EpisodeBuffer(bound, rule=TargetRule(0.9))
    b.CHUNK_EPISODES = 4
    b.add(table.select(30, 33))  # replaced by the restore
    b.load_state_arrays(state)
    assert [len(c) for c in b.chunks] == [len(c) for c in a.chunks] and b.nbytes == a.nbytes
    assert (b.total_added, b.total_evicted, b.num_positions) == (a.total_added, a.total_evicted, a.num_positions)
    for lo in range(25, 40, 5):  # both go on identically
        a.add(table.select(lo, lo + 5))
        b.add(table.select(lo, lo + 5))
        assert b.nbytes == a.nbytes and len(b) == len(a)
    assert_same(a.policy_value_arrays(), b.policy_value_arrays())
    empty = EpisodeBuffer(bound)
    empty.load_state_arrays(EpisodeBuffer(bound).state_arrays())
    assert len(empty) == 0 and empty.num_positions == 0


def test_learner_trains_from_the_buffer_as_from_its_positions_as_arrays() -> None:
    """Sampling the buffer chunk by chunk (no copy) draws exactly the minibatches of the same positions held
    in one array: same seed, same weights after training."""
    eps = played("tictactoe", 24)
    buf = EpisodeBuffer(10**8)
    buf.CHUNK_EPISODES = 5
    buf.add_episodes(eps, 3)
    task = make_task("tictactoe")
    cfg = TrainConfig(batch_size=32, steps_per_iteration=5)
    nets = []
    for data in (buf, buf.policy_value_arrays()):
        torch.manual_seed(0)
        learner = Learner(build_net(NetConfig(kind="mlp", hidden=32, num_layers=1), task), cfg, seed=3)
        learner.train(data)
        nets.append(learner.net.state_dict())
    for k in nets[0]:
        assert torch.equal(nets[0][k], nets[1][k]), k


def test_take_rejects_positions_out_of_range() -> None:
    buf = EpisodeBuffer(10**8)
    buf.add_episodes(played("tictactoe", 2), 3)
    with pytest.raises(IndexError, match="positions must be in"):
        buf.take(np.array([buf.num_positions]))
