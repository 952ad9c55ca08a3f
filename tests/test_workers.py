"""Parallel self-play workers: same episodes whatever the worker count, exact recovery from killed workers and
a killed inference server, weights versions, the server's batching, clean shutdown."""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import signal
from collections.abc import Iterator, Sequence

import numpy as np
import pytest
import torch

from zeroforge.config import MCTSConfig, NetConfig
from zeroforge.data.table import EpisodeTable
from zeroforge.nets import build_net
from zeroforge.search.evaluator import NetworkEvaluator
from zeroforge.selfplay import SelfPlayEpisode, SelfPlayEpisodeGenerator
from zeroforge.selfplay.workers import _EXIT_INJECTED, SelfPlayWorkerPool, WorkerError, WorkerSpec, chunk_rng
from zeroforge.tasks import available_tasks, make_task
from zeroforge.tasks.base import random_legal_action

TTT = make_task("tictactoe")
SPEC = WorkerSpec("tictactoe", NetConfig(kind="mlp", hidden=32, embed_dim=8), MCTSConfig(num_simulations=8),
                  parallel_batch_size=4)
SEEDS = range(16)  # 4 chunks of 4
POOL_SEED, KEY = 5, 2


def make_net(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_net(SPEC.net, TTT)


NET_A, NET_B = make_net(0), make_net(1)


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """The workers run torch on one thread; the in-process references do too (same kernels, same floats)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def reference(net: torch.nn.Module, seeds: Sequence[int], chunk: int = 4, key: int = KEY) -> list[SelfPlayEpisode]:
    """What the pool must return: each chunk played in this process with its own RNG."""
    gen = SelfPlayEpisodeGenerator(TTT, NetworkEvaluator(net), SPEC.mcts, SPEC.parallel_batch_size)
    seeds = list(seeds)
    out: list[SelfPlayEpisode] = []
    for c, start in enumerate(range(0, len(seeds), chunk)):
        out += gen.generate(seeds[start:start + chunk], chunk_rng(POOL_SEED, key, c))
    return out


def as_table(episodes: EpisodeTable | Sequence[SelfPlayEpisode]) -> EpisodeTable:
    return episodes if isinstance(episodes, EpisodeTable) else EpisodeTable.from_episodes(episodes, TTT.vocab_size)


def actions(episodes: EpisodeTable | Sequence[SelfPlayEpisode]) -> list[list[int]]:
    t = as_table(episodes)
    return [[a.action_id for a in t.actions_of(i)] for i in range(len(t))]


def priors(episodes: EpisodeTable | Sequence[SelfPlayEpisode]) -> np.ndarray:
    """The root priors over the legal actions of every move (float16, as the table keeps them)."""
    return as_table(episodes).prior_probs.astype(np.float32)


def assert_same(got: EpisodeTable, want: EpisodeTable | Sequence[SelfPlayEpisode], atol: float = 0.0) -> None:
    """The pool's table holds exactly the reference episodes (all but the search times), priors within ``atol``."""
    ref = as_table(want)
    assert got.seeds.tolist() == ref.seeds.tolist()
    assert actions(got) == actions(ref)
    np.testing.assert_allclose(priors(got), priors(ref), rtol=0, atol=atol)
    for name in EpisodeTable.array_names():
        if name not in ("search_times", "prior_probs") and not (atol and name in ("q_values", "value_estimates",
                                                                                  "root_values", "root_prior_values")):
            assert np.array_equal(getattr(got, name), getattr(ref, name)), name


def pool(num_workers: int = 2, **kw: object) -> SelfPlayWorkerPool:
    return SelfPlayWorkerPool(SPEC, NET_A.state_dict(), num_workers, chunk_size=4, seed=POOL_SEED, **kw)  # type: ignore[arg-type]


# -- arguments --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_num_workers_must_be_a_positive_integer(n: object) -> None:
    with pytest.raises(ValueError, match="num_workers must be an integer >= 1"):
        SelfPlayWorkerPool(SPEC, NET_A.state_dict(), n)  # type: ignore[arg-type]


def test_bad_arguments_fail_before_any_process_starts() -> None:
    before = {c.pid for c in mp.active_children()}
    with pytest.raises(ValueError, match="inference must be one of"):
        SelfPlayWorkerPool(SPEC, NET_A.state_dict(), 1, inference="gpu")
    with pytest.raises(ValueError, match="chunk_size must be >= 1"):
        SelfPlayWorkerPool(SPEC, NET_A.state_dict(), 1, chunk_size=0)
    other = build_net(NetConfig(kind="mlp", hidden=16), TTT)
    with pytest.raises(ValueError, match="weights do not fit the net"):
        SelfPlayWorkerPool(SPEC, other.state_dict(), 1)
    with pytest.raises(ValueError, match="unknown task"):
        SelfPlayWorkerPool(WorkerSpec("no_such_task", SPEC.net, SPEC.mcts), NET_A.state_dict(), 1)
    assert {c.pid for c in mp.active_children()} <= before


# -- pickling ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", available_tasks())
def test_states_of_every_task_pickle(name: str) -> None:
    """Episodes travel back from the workers pickled: every task's states must survive it, read-only arrays
    included."""
    task = make_task(name)
    rng = np.random.default_rng(0)
    state = task.initial_state(1)
    for _ in range(4):
        copy = pickle.loads(pickle.dumps(state))
        assert type(copy) is type(state) and copy == state
        assert np.array_equal(copy.observation, state.observation)
        assert not copy.observation.flags.writeable and not copy.legal_action_mask.flags.writeable
        if state.terminal:
            break
        state = task.step(state, random_legal_action(state, rng))


# -- determinism ------------------------------------------------------------------------------------------


def test_same_episodes_with_one_or_two_workers_and_as_in_process() -> None:
    want = reference(NET_A, SEEDS)
    with pool(1) as one:
        got_one = one.generate(SEEDS, key=KEY)
    chunks: list[int] = []
    with pool(2) as two:
        got_two = two.generate(SEEDS, key=KEY, on_chunk=lambda eps: chunks.append(len(eps)))
        stats = two.last_stats
    assert_same(got_one, want)
    assert_same(got_two, want)
    assert sorted(chunks) == [4, 4, 4, 4]
    assert stats is not None and stats.episodes == 16 and stats.chunks == 4 and stats.restarts == 0
    assert stats.net_positions > 0 and stats.server_batches == 0


def test_key_selects_fresh_streams_and_difficulties_are_checked() -> None:
    with pool(2) as p:
        a = p.generate(range(8), key=0)
        b = p.generate(range(8), key=1)
        with pytest.raises(ValueError, match="difficulty 2 is out of range"):
            p.generate(range(2), difficulties=[1, 2])
        with pytest.raises(ValueError, match="got 1 difficulties for 2 seeds"):
            p.generate(range(2), difficulties=[1])
    assert actions(a) != actions(b)  # tic-tac-toe starts from one position: only the RNG tells them apart


def test_weights_update_takes_effect_and_versions_count() -> None:
    with pool(2) as p:
        first = p.generate(SEEDS, key=KEY)
        assert p.version == 1
        assert p.update_weights(NET_B.state_dict()) == 2
        second = p.generate(SEEDS, key=KEY)
        back = p.generate(SEEDS, key=KEY, weights=NET_A.state_dict())
        assert p.version == 3
    assert not np.allclose(priors(first)[:1], priors(second)[:1])  # the very first root: same state, new net
    assert_same(second, reference(NET_B, SEEDS))
    assert_same(back, first)


# -- fault tolerance --------------------------------------------------------------------------------------


def test_worker_dying_mid_chunk_is_replaced_and_its_chunk_replayed() -> None:
    with pool(2, fault_injection=(0,)) as p:
        first_pid = p.worker_pids[0]
        got = p.generate(SEEDS, key=KEY)
        assert p.last_stats is not None and p.last_stats.restarts == 1
        assert p.worker_pids[0] != first_pid
        again = p.generate(SEEDS, key=KEY)  # the replacement works on
    want = reference(NET_A, SEEDS)
    assert_same(got, want)
    assert_same(again, want)
    assert len(set(got.seeds.tolist())) == len(SEEDS)


def test_workers_killed_from_outside_mid_run() -> None:
    killed: list[int] = []

    def kill_all(_: Sequence[SelfPlayEpisode]) -> None:
        if not killed:
            for pid in p.worker_pids:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

    with pool(2) as p:
        got = p.generate(range(24), key=KEY, on_chunk=kill_all)
        assert p.last_stats is not None and p.last_stats.restarts >= 1
        assert not set(killed) & set(p.worker_pids)
    assert_same(got, reference(NET_A, range(24)))


class _EveryProcess(set[int]):
    """The fault-injection slots, armed for every process: each replacement dies during its first chunk too."""

    def __contains__(self, item: object) -> bool:
        return True

    def discard(self, item: int) -> None:
        pass


def test_a_chunk_that_keeps_killing_its_workers_gives_up_after_max_restarts() -> None:
    """A chunk whose worker dies is replayed up to ``max_restarts`` times; the next death is one clear
    WorkerError naming the chunk, its seeds and the exit code, not an endless cycle of restarts, and
    the pool still closes every process it started."""
    with pool(2, max_restarts=2, fault_injection=(0, 1)) as p:
        p._faults = _EveryProcess()
        with pytest.raises(WorkerError, match=rf"^chunk [01] \(seeds \d+\.\.\d+\) killed its worker 3 times "
                                              rf"\(last exit code {_EXIT_INJECTED}\); giving up$"):
            p.generate(SEEDS, key=KEY)
    assert not [c for c in mp.active_children() if c.name.startswith("zeroforge-selfplay")]


def test_an_exception_in_a_worker_is_reported_and_the_pool_goes_on() -> None:
    spec = WorkerSpec("maze", NetConfig(kind="pointer", hidden=8, embed_dim=4, num_layers=1),
                      MCTSConfig(num_simulations=2), parallel_batch_size=2)
    maze = make_task("maze")
    with SelfPlayWorkerPool(spec, build_net(spec.net, maze).state_dict(), 1) as p:
        with pytest.raises(WorkerError, match="failed on chunk 0: ValueError: expected non-negative") as info:
            p.generate([-1])  # the maze draws its instance with numpy, which refuses a negative seed
        assert "Traceback" in info.value.remote_traceback
        assert p.generate([3, 4]).seeds.tolist() == [3, 4]


# -- inference server -------------------------------------------------------------------------------------


def test_server_mode_matches_local_and_batches_across_workers() -> None:
    """The server merges requests of both workers into one forward pass. Torch picks a different matmul
    kernel for batches of fewer than 4 rows, so a request evaluated alone or merged may differ in the last
    bits (~1e-7 on the priors); the searches and the played actions come out identical here."""
    with pool(2, inference="server", server_window_s=0.005) as p:
        got = p.generate(SEEDS, key=KEY)
        stats = p.last_stats
        assert p.server is not None and p.server.is_alive()
    assert_same(got, reference(NET_A, SEEDS), atol=1e-6)
    assert stats is not None and stats.server_positions == stats.net_positions
    assert stats.server_requests == stats.net_calls
    assert stats.server_batches < stats.server_requests  # some forward passes served both workers


def test_server_weights_update_and_server_death() -> None:
    killed: list[int] = []

    def kill_server(_: Sequence[SelfPlayEpisode]) -> None:
        if not killed and p.server is not None and p.server.pid is not None:
            killed.append(p.server.pid)
            os.kill(p.server.pid, signal.SIGKILL)

    with pool(2, inference="server") as p:
        got = p.generate(range(24), key=KEY, weights=NET_B.state_dict(), on_chunk=kill_server)
        assert p.last_stats is not None and p.last_stats.restarts >= 1
        assert p.server is not None and p.server.pid not in killed
    assert_same(got, reference(NET_B, range(24)), atol=1e-6)


# -- shutdown ---------------------------------------------------------------------------------------------


def test_close_leaves_no_child_processes() -> None:
    p = pool(2, inference="server")
    assert p.server is not None and p.server.pid is not None
    pids = {*p.worker_pids, p.server.pid}
    assert len(pids) == 3 and pids <= {c.pid for c in mp.active_children()}
    p.generate(range(4))
    p.close()
    assert not pids & {c.pid for c in mp.active_children()}
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(RuntimeError, match="closed"):
        p.generate(range(4))
