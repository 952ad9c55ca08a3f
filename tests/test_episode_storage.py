"""Compact episode storage: ``EpisodeTable`` columns, trace and training round trips, the byte-bounded
``EpisodeBuffer``, Parquet files and their errors, Gumbel policy targets and playout-cap moves."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from zeroforge.config import MCTSConfig
from zeroforge.data.buffer import EpisodeBuffer
from zeroforge.data.extractor import TrainingDataExtractor
from zeroforge.data.parquet import COLUMNS, from_arrow, load_parquet, save_parquet, to_arrow
from zeroforge.data.table import NO_WINNER, EpisodeTable
from zeroforge.data.targets import PolicyValueArrays, TargetRule, targets, value_targets
from zeroforge.search.evaluator import UniformEvaluator
from zeroforge.search.trace import MCTSTrace
from zeroforge.selfplay.episode import Action, SelfPlayEpisode, returns_to_go
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator
from zeroforge.tasks import make_task

TTT = make_task("tictactoe")


def assert_f16_close(actual: np.ndarray, desired: np.ndarray) -> None:
    """Equal within float16 precision (about 3 significant digits)."""
    np.testing.assert_allclose(actual, desired, rtol=1e-3, atol=1e-3)


@cache
def episodes(task_name: str = "tictactoe", sims: int = 8, count: int = 24, max_moves: int | None = None,
             ) -> tuple[SelfPlayEpisode, ...]:
    task = make_task(task_name)
    gen = SelfPlayEpisodeGenerator(task, UniformEvaluator(), MCTSConfig(num_simulations=sims), max_moves=max_moves)
    return tuple(gen.generate(range(count), np.random.default_rng(0)))


def table(task_name: str = "tictactoe", **kw: int) -> EpisodeTable:
    return EpisodeTable.from_episodes(episodes(task_name, **kw), make_task(task_name).vocab_size)


def assert_tables_equal(a: EpisodeTable, b: EpisodeTable) -> None:
    assert (a.num_actions, a.vocab_size) == (b.num_actions, b.vocab_size)
    for name in EpisodeTable.array_names():
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name


def hand_episode() -> SelfPlayEpisode:
    """x takes the top row (cells 0, 1, 2) while o plays 3, 4; every legal cell gets 1 visit, the played one 3."""
    moves = [0, 3, 1, 4, 2]
    states = [TTT.initial_state(7)]
    for a in moves:
        states.append(TTT.step(states[-1], a))
    traces = []
    for t, (s, a) in enumerate(zip(states, moves, strict=False)):
        visits = s.legal_action_mask.astype(np.int32)
        visits[a] = 3
        q = np.where(s.legal_action_mask, 0.25 * t - 0.5, 0).astype(np.float32)
        prior = s.legal_action_mask / s.legal_action_mask.sum()
        traces.append(MCTSTrace(s.state_id, int(visits.sum()), visits, q, prior, q / 2, s.legal_action_mask.copy(),
                                0.1 * t, -0.1 * t, a, t + 1, 0.5))
    actions = [Action(a, TTT.action_to_text(s, a), s.current_player) for s, a in zip(states, moves, strict=False)]
    return SelfPlayEpisode.build("tictactoe-7", states, actions, traces, "success", 2, {"seed": 7, "difficulty": 1,
                                                                                       "note": "hand"})


# -- EpisodeTable: known answers -----------------------------------------------------------------------


def test_known_answer_columns_of_a_hand_built_episode() -> None:
    t = EpisodeTable.from_episodes([hand_episode()], TTT.vocab_size)
    assert len(t) == 1 and t.num_moves == 5 and t.seq_len == 9 and t.num_players == 2
    assert t.episode_offsets.tolist() == [0, 5]
    assert t.episode_index.tolist() == [0] * 5 and t.steps.tolist() == [0, 1, 2, 3, 4]
    assert t.players.tolist() == [0, 1, 0, 1, 0] and t.actions.tolist() == [0, 3, 1, 4, 2]
    assert t.legal_offsets.tolist() == [0, 9, 17, 24, 30, 35]
    assert t.legal_actions[9:17].tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    assert t.visit_totals.tolist() == [11, 10, 9, 8, 7]
    assert t.visit_probs[:9].tolist() == pytest.approx([3 / 11] + [1 / 11] * 8, rel=1e-3)
    assert t.q_values[9:17].tolist() == [-0.25] * 8 and t.tree_depths.tolist() == [1, 2, 3, 4, 5]
    assert t.observations.dtype == np.uint8 and t.actions.dtype == np.uint8 and t.visit_probs.dtype == np.float16
    assert t.rewards.tolist() == [0, 0, 0, 0, 1]
    assert t.seeds.tolist() == [7] and t.winners.tolist() == [0] and t.returns.tolist() == [[1.0, -1.0]]
    assert t.task_id(0) == "tictactoe-7" and t.outcome(0) == "success"
    assert t.action_texts(0) == hand_episode().solution_path
    assert t.metadata(0) == {"seed": 7, "difficulty": 1, "note": "hand", "returns": [1.0, -1.0], "winner": 0}


def test_token_dtype_is_the_smallest_that_holds_the_vocabulary() -> None:
    eps = episodes()
    assert EpisodeTable.from_episodes(eps, 3).observations.dtype == np.uint8
    assert EpisodeTable.from_episodes(eps, 300).observations.dtype == np.uint16
    assert EpisodeTable.from_episodes(eps, 70_000).observations.dtype == np.uint32
    with pytest.raises(ValueError, match=r"observation tokens must be in 0\.\.1"):
        EpisodeTable.from_episodes(eps, 2)
    with pytest.raises(ValueError, match="at least one episode"):
        EpisodeTable.from_episodes([], 3)


def test_arrays_are_read_only_and_nbytes_is_the_sum_of_episode_shares() -> None:
    t = table()
    assert not t.visit_probs.flags.writeable
    assert t.nbytes == sum(getattr(t, n).nbytes for n in EpisodeTable.array_names())
    assert t.nbytes == int(t.episode_nbytes().sum()) + 8 * 6  # one leading offset entry per offsets array
    assert t.num_moves == sum(len(ep.actions) for ep in episodes())


# -- round trips -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("task_name, sims", [("tictactoe", 8), ("tictactoe", 24), ("connect_four", 8)])
def test_traces_round_trip(task_name: str, sims: int) -> None:
    eps = episodes(task_name, sims=sims)
    t = EpisodeTable.from_episodes(eps, make_task(task_name).vocab_size)
    for i, ep in enumerate(eps):
        got = t.traces(i)
        assert len(got) == len(ep.mcts_traces)
        for a, b in zip(ep.mcts_traces, got, strict=True):
            for name in ("root_state_id", "num_simulations", "selected_action", "tree_depth"):
                assert getattr(a, name) == getattr(b, name), name
            assert np.array_equal(a.visit_counts, b.visit_counts)
            assert np.array_equal(a.legal_action_mask, b.legal_action_mask)
            for name in ("q_values", "prior_probs", "value_estimates"):
                assert_f16_close(getattr(b, name), getattr(a, name))
            assert b.root_value == pytest.approx(a.root_value, rel=1e-6)
            assert b.search_time == pytest.approx(a.search_time, rel=1e-6)
            assert b.full_search and b.policy_target is None  # PUCT, every move searched in full
        assert t.actions_of(i) == ep.actions
        assert t.metadata(i) == ep.metadata and t.task_id(i) == ep.task_id and t.outcome(i) == ep.outcome
        assert t.action_texts(i) == ep.solution_path
        assert float(t.total_rewards[i]) == ep.total_reward
        assert float(t.search_efficiency[i]) == pytest.approx(ep.search_efficiency, rel=1e-6)


def reference_targets(eps: Sequence[SelfPlayEpisode], discount: float = 1.0, self_imitation: float = 0.0,
                      ) -> PolicyValueArrays:
    """An independent oracle for ``targets``, written from the rule in float32 straight from the episodes'
    traces: every move of every episode not ended in error; policy = the trace's policy (all zeros without a
    full search; self-imitation on successful single-agent episodes); value = the mover's discounted return,
    a single-agent timeout charged -1 on its last move."""
    obs, masks, pis, zs = [], [], [], []
    for ep in eps:
        if ep.outcome == "error" or not ep.actions:
            continue
        rewards = [float(r) for r in ep.rewards]
        players = [a.player for a in ep.actions]
        single = len(ep.initial_state.rewards) == 1
        if ep.outcome == "timeout" and single:
            rewards[-1] = -1.0
        z = returns_to_go(rewards, players, discount)
        for t, trace in enumerate(ep.mcts_traces):
            pi = trace.policy.astype(np.float32) if trace.full_search else np.zeros_like(trace.policy, np.float32)
            if trace.full_search and self_imitation and ep.outcome == "success" and single:
                pi = (1 - self_imitation) * pi
                pi[ep.actions[t].action_id] += self_imitation
            obs.append(ep.states[t].observation)
            masks.append(ep.states[t].legal_action_mask)
            pis.append(pi)
            zs.append(z[t])
    return PolicyValueArrays(np.stack(obs).astype(np.int64), np.stack(masks), np.stack(pis).astype(np.float32),
                             np.asarray(zs, np.float32))



@pytest.mark.parametrize("task_name, sims, max_moves", [("tictactoe", 8, None), ("tictactoe", 24, None),
                                                        ("connect_four", 8, None), ("maze", 8, 3)])
def test_targets_match_the_reference_rule(task_name: str, sims: int, max_moves: int | None) -> None:
    eps = episodes(task_name, sims=sims, max_moves=max_moves)
    ref = reference_targets(eps)
    got = targets(EpisodeTable.from_episodes(eps, make_task(task_name).vocab_size))
    assert got.observations.dtype == np.int64 and got.policies.dtype == np.float32
    assert np.array_equal(got.observations, ref.observations)
    assert np.array_equal(got.masks, ref.masks)
    assert_f16_close(got.policies, ref.policies)
    np.testing.assert_allclose(got.policies.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(got.values, ref.values)  # maze: timeouts charged -1 as the rule says


def test_targets_skip_error_episodes_and_pad_actions() -> None:
    eps = list(episodes()[:4])
    eps[1] = dataclasses.replace(eps[1], outcome="error")
    ref = reference_targets(eps, 0.9)
    got = targets(EpisodeTable.from_episodes(eps, 3), TargetRule(0.9), num_actions=12)
    assert got.masks.shape == (len(ref), 12) and not got.masks[:, 9:].any()
    assert_f16_close(got.policies[:, :9], ref.policies)
    np.testing.assert_allclose(got.values, ref.values, rtol=1e-6)
    with pytest.raises(ValueError, match="num_actions must be >= the table's 9"):
        targets(EpisodeTable.from_episodes(eps, 3), num_actions=8)


def test_to_episode_replays_states_and_gives_the_same_training_examples() -> None:
    eps = episodes()
    t = table()
    again = [t.to_episode(i, TTT) for i in range(len(t))]
    assert all(a.states == b.states for a, b in zip(again, eps, strict=True))
    ref, got = TrainingDataExtractor().extract(eps), TrainingDataExtractor().extract(again)
    assert [e.reasoning_chain for e in got["reasoning"]] == [e.reasoning_chain for e in ref["reasoning"]]
    assert [e.action for e in got["negative"]] == [e.action for e in ref["negative"]]
    with pytest.raises(ValueError, match="diverges at step 0"):
        t.to_episode(0, make_task("connect_four"))


def test_select_and_concat_round_trip() -> None:
    t = table()
    assert_tables_equal(EpisodeTable.concat([t.select(0, 5), t.select(5, 5), t.select(5, len(t))]), t)
    part = t.select(3, 7)
    assert part.traces(0)[2].root_state_id == t.traces(3)[2].root_state_id
    with pytest.raises(ValueError, match="different shapes"):
        EpisodeTable.concat([t, table("connect_four")])


def test_metadata_that_is_not_a_plain_integer_stays_in_json() -> None:
    ep = episodes()[0]
    odd = dataclasses.replace(ep, metadata={"seed": "s-1", "returns": [0.0, 0.0], "winner": None, "x": [1, 2]})
    t = EpisodeTable.from_episodes([odd, ep], 3)
    assert t.seeds.tolist() == [-1, 0] and t.metadata(0) == odd.metadata
    bare = dataclasses.replace(ep, metadata={"returns": [0.0, 0.0]})
    assert EpisodeTable.from_episodes([bare], 3).winners.tolist() == [NO_WINNER]
    with pytest.raises(ValueError, match="has no seed"):
        EpisodeTable.from_episodes([bare], 3).to_episode(0, TTT)


# -- EpisodeBuffer -------------------------------------------------------------------------------------


def test_buffer_rejects_bad_bounds_and_incompatible_tables() -> None:
    for bad in (0, -5, True, 1.5, "10"):
        with pytest.raises(ValueError, match="max_bytes must be an integer >= 1"):
            EpisodeBuffer(bad)  # type: ignore[arg-type]
    buf = EpisodeBuffer(10**7)
    buf.add(table())
    with pytest.raises(ValueError, match="different shapes"):
        buf.add(table("connect_four"))


def test_eviction_drops_the_oldest_whole_episodes_and_the_bound_holds() -> None:
    t = table()
    singles = [t.select(i, i + 1) for i in range(len(t))]
    bound = int(sum(s.nbytes for s in singles[:5]))
    buf = EpisodeBuffer(bound)
    buf.CHUNK_EPISODES = 3
    added: list[str] = []
    for k in range(120):  # many adds, cycling the episodes
        piece = singles[k % len(singles)]
        buf.add(piece)
        added.append(piece.task_id(0))
        assert buf.nbytes <= bound
        # the chunks' arrays plus each trainable move's row index and value target (int32 + float32)
        assert buf.nbytes == sum(c.nbytes for c in buf.chunks) + 8 * buf.num_positions
        assert buf.num_positions == sum(c.num_moves for c in buf.chunks)  # no error episodes here
        held = [c.task_id(j) for c in buf.chunks for j in range(len(c))]
        assert held == added[len(added) - len(held):]  # the newest episodes, oldest first
        assert len(buf) == len(held) and all(len(c) <= 3 for c in buf.chunks)
    assert buf.total_added == 120 and buf.total_evicted == 120 - len(buf) and 2 <= len(buf) <= 5


def test_a_large_table_is_split_and_partly_evicted() -> None:
    t = table()
    buf = EpisodeBuffer(int(t.select(10, 24).nbytes) + 8 * int(t.select(10, 24).num_moves) + 64)
    buf.CHUNK_EPISODES = 4
    buf.add(t)
    assert buf.nbytes <= buf.max_bytes and buf.total_added == 24
    kept = buf.table()
    assert_tables_equal(kept, t.select(24 - len(kept), 24))
    assert len(kept) >= 13
    np.testing.assert_array_equal(buf.traces(0)[0].visit_counts, t.traces(24 - len(kept))[0].visit_counts)
    tiny = EpisodeBuffer(1)
    tiny.add(t)
    assert len(tiny) == 0 and tiny.nbytes == 0 and tiny.total_evicted == 24


def test_buffer_policy_value_arrays_concatenate_its_chunks() -> None:
    buf = EpisodeBuffer(10**7)
    buf.CHUNK_EPISODES = 5
    buf.add_episodes(episodes(), 3)
    assert len(buf.chunks) == 5
    ref = reference_targets(episodes())
    got = buf.policy_value_arrays()
    assert np.array_equal(got.masks, ref.masks)
    assert_f16_close(got.policies, ref.policies)
    with pytest.raises(ValueError, match="no training positions"):
        EpisodeBuffer(10).policy_value_arrays()


# -- Parquet -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("task_name", ["tictactoe", "connect_four"])
def test_parquet_round_trip(tmp_path: Path, task_name: str) -> None:
    t = table(task_name)
    buf = EpisodeBuffer(10**7)
    buf.CHUNK_EPISODES = 10
    buf.add(t)
    path = tmp_path / "episodes.parquet"
    save_parquet(buf, path)
    assert sorted(os.listdir(tmp_path)) == ["episodes.parquet"]  # no temporary file left behind
    back = load_parquet(path, 10**7)
    assert len(back) == len(t) and back.total_added == 24
    assert_tables_equal(back.table(), t)
    assert back.nbytes == sum(c.nbytes for c in back.chunks) + 8 * t.num_moves == t.nbytes + 8 * t.num_moves
    # (one chunk again on load; 8 bytes a move for the training view)
    newest = t.select(20, 24)
    small = load_parquet(path, int(newest.nbytes) + 8 * newest.num_moves + 64)  # the oldest do not fit
    assert_tables_equal(small.table(), t.select(24 - len(small), 24))

    class FiveAChunk(EpisodeBuffer):
        CHUNK_EPISODES = 5

    sliced = load_parquet(path, 10**7, buffer_class=FiveAChunk)  # row groups read in slices of 5 episodes
    assert [len(c) for c in sliced.chunks] == [5, 5, 5, 5, 4]
    assert_tables_equal(sliced.table(), t)


def test_parquet_is_readable_by_other_tools(tmp_path: Path) -> None:
    buf = EpisodeBuffer(10**7)
    buf.add(table())
    path = tmp_path / "e.parquet"
    save_parquet(buf, path)
    read = pq.read_table(path)
    assert read.column_names == list(COLUMNS) and read.num_rows == 24
    row = read.slice(0, 1).to_pylist()[0]
    ep = episodes()[0]
    assert row["task_id"] == ep.task_id and row["action_text"] == list(ep.solution_path)
    assert row["legal_actions"][0] == list(range(9)) and len(row["visit_probs"]) == len(ep.actions)
    assert row["visit_probs"][0] == pytest.approx(ep.mcts_traces[0].policy.tolist(), rel=1e-3)
    pd = pytest.importorskip("pandas")
    df = read.to_pandas()
    assert isinstance(df, pd.DataFrame) and list(df.columns) == list(COLUMNS) and len(df) == 24
    assert list(df["legal_actions"][0][1]) == np.flatnonzero(ep.states[1].legal_action_mask).tolist()
    assert df["outcome"][0] == ep.outcome


def test_an_empty_buffer_saves_and_loads(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    save_parquet(EpisodeBuffer(100), path)
    assert pq.read_table(path).column_names == list(COLUMNS)
    back = load_parquet(path, 100)
    assert len(back) == 0 and back.nbytes == 0


def _saved(tmp_path: Path) -> Path:
    buf = EpisodeBuffer(10**7)
    buf.add(table())
    path = tmp_path / "good.parquet"
    save_parquet(buf, path)
    return path


def _load_error(path: Path) -> str:
    with pytest.raises(ValueError) as info:
        load_parquet(path, 10**7)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    return message


def test_corrupt_and_foreign_files_raise_one_line_errors(tmp_path: Path) -> None:
    good = _saved(tmp_path)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"this is not parquet" * 10)
    assert "magic" in _load_error(garbage).lower()
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    _load_error(truncated)
    foreign = tmp_path / "foreign.parquet"
    pq.write_table(pa.table({"a": [1, 2], "b": ["x", "y"]}), foreign)
    assert "missing columns ['task_id'" in _load_error(foreign)
    data = pq.read_table(good)

    def altered(name: str, values: pa.Array) -> Path:
        path = tmp_path / f"altered_{name}.parquet"
        pq.write_table(data.set_column(data.column_names.index(name), name, values), path)
        return path

    assert "column 'seed' of type string cannot be read as int64" in _load_error(altered("seed", pa.array(["x"] * 24)))
    assert "column 'winner' has nulls" in _load_error(altered("winner", pa.array([None] * 24, pa.int8())))
    short = pa.array([row[1:] for row in data.column("q_values").to_pylist()], data.schema.field("q_values").type)
    assert "column 'q_values' has a different number of moves" in _load_error(altered("q_values", short))
    assert "column 'outcome' has values ['won']" in _load_error(altered("outcome", pa.array(["won"] * 24)))
    big = pa.array([[[0, 1, 9]] * n for n in data.column("episode_length").to_pylist()], pa.list_(pa.list_(pa.uint8())))
    assert "'observation' has tokens outside 0..2" in _load_error(altered("observation", big))
    with pytest.raises(FileNotFoundError, match="no such episode file"):
        load_parquet(tmp_path / "absent.parquet", 10)


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _saved(tmp_path)
    before = path.read_bytes()
    buf = EpisodeBuffer(10**7)
    buf.add(table("connect_four"))

    def boom(*args: object, **kw: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save_parquet(buf, path)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["good.parquet"]


# -- Gumbel policy targets and playout-cap moves ---------------------------------------------------------

SEARCHES = {
    "gumbel": MCTSConfig(root_policy="gumbel", num_simulations=16),
    "playout_cap": MCTSConfig(playout_cap_fraction=0.5, playout_cap_simulations=4, num_simulations=16),
}


def searched(search: str, task_name: str = "tictactoe") -> tuple[SelfPlayEpisode, ...]:
    return _searched(search, task_name)


@cache
def _searched(search: str, task_name: str) -> tuple[SelfPlayEpisode, ...]:
    task = make_task(task_name)
    gen = SelfPlayEpisodeGenerator(task, UniformEvaluator(), SEARCHES[search], parallel_batch_size=8)
    return tuple(gen.generate(range(12), np.random.default_rng(0)))


def searched_table(search: str, task_name: str = "tictactoe") -> EpisodeTable:
    return EpisodeTable.from_episodes(searched(search, task_name), make_task(task_name).vocab_size)


@pytest.mark.parametrize("search", sorted(SEARCHES))
@pytest.mark.parametrize("task_name", ["tictactoe", "connect_four"])
def test_policy_targets_and_full_search_round_trip(search: str, task_name: str) -> None:
    eps = searched(search, task_name)
    t = searched_table(search, task_name)
    originals = [tr for ep in eps for tr in ep.mcts_traces]
    assert t.full_searches.tolist() == [tr.full_search for tr in originals]
    assert t.has_policy_targets.tolist() == [tr.policy_target is not None for tr in originals]
    if search == "gumbel":
        assert t.has_policy_targets.all() and t.full_searches.all()
    else:  # about half the moves are fast ones, none has a policy target of its own
        assert 0 < t.full_searches.sum() < t.num_moves and not t.has_policy_targets.any()
        assert not t.policy_targets.any()
    for i, ep in enumerate(eps):
        for a, b in zip(ep.mcts_traces, t.traces(i), strict=True):
            assert b.full_search == a.full_search
            assert np.array_equal(b.visit_counts, a.visit_counts)
            if a.policy_target is None:
                assert b.policy_target is None
            else:
                assert b.policy_target is not None and b.policy_target.dtype == np.float32
                assert_f16_close(b.policy_target, a.policy_target)
                assert_f16_close(b.policy, a.policy)


@pytest.mark.parametrize("search", sorted(SEARCHES))
@pytest.mark.parametrize("task_name", ["tictactoe", "connect_four"])
def test_policy_value_arrays_use_policy_targets_and_skip_fast_moves(search: str, task_name: str) -> None:
    eps = searched(search, task_name)
    ref = reference_targets(eps, 0.9)
    got = targets(searched_table(search, task_name), TargetRule(0.9))
    assert np.array_equal(got.observations, ref.observations) and np.array_equal(got.masks, ref.masks)
    assert np.array_equal(got.has_policy, ref.has_policy)
    assert_f16_close(got.policies, ref.policies)
    np.testing.assert_allclose(got.policies[got.has_policy].sum(axis=1), 1.0, atol=1e-6)
    assert not got.policies[~got.has_policy].any()  # fast moves: an all-zero row, no policy target
    np.testing.assert_allclose(got.values, ref.values, rtol=1e-6)
    if search == "gumbel":  # the improved policy, not the visit distribution
        visits = np.stack([tr.visit_counts / tr.visit_counts.sum() for ep in eps for tr in ep.mcts_traces])
        assert np.abs(got.policies - visits).max() > 0.01
    else:
        assert 0 < got.has_policy.sum() < len(got)


def test_mixed_searches_concat_select_and_buffer() -> None:
    mixed = (*searched("gumbel"), *episodes()[:6], *searched("playout_cap"))
    puct = EpisodeTable.from_episodes(episodes()[:6], TTT.vocab_size)
    t = EpisodeTable.concat([searched_table("gumbel"), puct, searched_table("playout_cap")])
    assert_tables_equal(t, EpisodeTable.from_episodes(mixed, TTT.vocab_size))
    assert_tables_equal(EpisodeTable.concat([t.select(0, 10), t.select(10, len(t))]), t)
    ref = reference_targets(mixed)
    buf = EpisodeBuffer(10**7)
    buf.CHUNK_EPISODES = 7
    buf.add(t)
    got = buf.policy_value_arrays()
    assert_f16_close(got.policies, ref.policies)
    assert np.array_equal(got.has_policy, ref.has_policy)
    assert t.nbytes == int(t.episode_nbytes().sum()) + 8 * 6


@pytest.mark.parametrize("search", sorted(SEARCHES))
def test_parquet_round_trip_of_policy_targets_and_full_search(tmp_path: Path, search: str) -> None:
    t = searched_table(search)
    buf = EpisodeBuffer(10**7)
    buf.add(t)
    path = tmp_path / f"{search}.parquet"
    save_parquet(buf, path)
    assert_tables_equal(load_parquet(path, 10**7).table(), t)
    row = pq.read_table(path).slice(0, 1).to_pylist()[0]
    first = searched(search)[0].mcts_traces
    assert row["full_search"] == [tr.full_search for tr in first]
    assert row["has_policy_target"] == [tr.policy_target is not None for tr in first]
    assert len(row["policy_targets"][0]) == len(row["legal_actions"][0])
    assert_tables_equal(from_arrow(to_arrow(t)), t)


def test_files_without_the_new_columns_load_as_full_searches_without_policy_targets(tmp_path: Path) -> None:
    for search in sorted(SEARCHES):
        t = searched_table(search)
        old = to_arrow(t).drop_columns(["full_search", "has_policy_target", "policy_targets"])
        path = tmp_path / f"old_{search}.parquet"
        pq.write_table(old, path)
        back = load_parquet(path, 10**7).table()
        assert back.full_searches.all() and not back.has_policy_targets.any()
        assert back.policy_targets.dtype == np.float16 and len(back.policy_targets) == len(t.legal_actions)
        assert not back.policy_targets.any()
        for name in EpisodeTable.array_names():
            if name not in ("full_searches", "has_policy_targets", "policy_targets"):
                assert np.array_equal(getattr(back, name), getattr(t, name)), name
        trace = back.traces(0)[0]
        assert trace.full_search and trace.policy_target is None
        got = targets(back)  # as a PUCT search's episodes: every move's visit distribution
        assert got.has_policy.all()
        visits = np.stack([tr.visit_counts / tr.visit_counts.sum() for ep in searched(search) for tr in ep.mcts_traces])
        assert_f16_close(got.policies, visits)
    half = to_arrow(searched_table("gumbel")).drop_columns(["policy_targets"])
    with pytest.raises(ValueError, match="column 'has_policy_target' needs column 'policy_targets'"):
        from_arrow(half)
    pq.write_table(half, tmp_path / "half.parquet")
    assert "needs column 'policy_targets'" in _load_error(tmp_path / "half.parquet")


def test_policy_targets_of_moves_without_one_must_be_zero(tmp_path: Path) -> None:
    data = to_arrow(searched_table("playout_cap"))
    col = data.column_names.index("policy_targets")
    ones = pa.array([[[1.0] * len(legal) for legal in ep] for ep in data.column("legal_actions").to_pylist()],
                    data.schema.field("policy_targets").type)
    path = tmp_path / "nonzero.parquet"
    pq.write_table(data.set_column(col, "policy_targets", ones), path)
    assert "'policy_targets' must be all zeros where 'has_policy_target' is false" in _load_error(path)


def test_a_policy_target_on_an_illegal_action_is_rejected() -> None:
    ep = hand_episode()
    bad = np.zeros(9, np.float32)
    bad[[0, 3]] = 0.5  # cell 0 is taken at step 1
    traces = list(ep.mcts_traces)
    traces[1] = dataclasses.replace(traces[1], policy_target=bad)
    with pytest.raises(ValueError, match="policy_target is not 0 on an illegal action"):
        EpisodeTable.from_episodes([dataclasses.replace(ep, mcts_traces=tuple(traces))], TTT.vocab_size)
    good = traces[1].legal_action_mask / traces[1].legal_action_mask.sum()
    traces[1] = dataclasses.replace(traces[1], policy_target=good.astype(np.float32), full_search=False)
    t = EpisodeTable.from_episodes([dataclasses.replace(ep, mcts_traces=tuple(traces))], TTT.vocab_size)
    assert t.has_policy_targets.tolist() == [False, True, False, False, False]
    assert t.full_searches.tolist() == [True, False, True, True, True]
    assert t.policy_targets[9:17].tolist() == [0.125] * 8 and not t.policy_targets[:9].any()
    assert not targets(t).policies[1].any()  # a fast move: no policy target, whatever it carries


def test_value_targets_known_answers() -> None:
    """Two-player: zero-sum returns to go; single-agent timeout: the last move charged -1."""
    np.testing.assert_array_equal(value_targets([0.0, 0.0, 1.0], [0, 1, 0], "success", 2, 1.0), [1.0, -1.0, 1.0])
    np.testing.assert_allclose(value_targets([0.0, 0.0], [0, 0], "timeout", 1, 0.5), [-0.5, -1.0])
    np.testing.assert_array_equal(value_targets([0.0, 0.0], [0, 0], "failure", 1, 1.0), [0.0, 0.0])
    np.testing.assert_array_equal(value_targets([0.0, 0.0], [0, 1], "timeout", 2, 1.0), [0.0, 0.0])
    assert value_targets([], [], "timeout", 1, 1.0).dtype == np.float32
