"""Search speed on connect four with one MLP (~100k parameters): zeroforge vs OpenSpiel's ``MCTSBot``.

Both searches use the same net, the same simulation count per move and PUCT. zeroforge searches ``--roots``
positions at once (its compiled path: one net call per simulation step for all trees); ``MCTSBot`` searches
one position at a time and evaluates one leaf per simulation (its evaluator runs the net once per leaf and
answers ``prior`` and ``evaluate`` from that one call). Also measured in the same run: the same search with its
kernels uncompiled (``mcts.backend: numpy``, what runs without numba; reported as ``numpy_path``) and the net
alone at the same batch size (the ceiling).

Prints one JSON object per figure (``name``, ``value``, ``unit``; ``reference`` and ``ratio`` = ours /
reference where a reference was measured in this run).

    python benchmarks/search_speed.py [--roots 1024] [--simulations 64] [--seconds 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import zeroforge
from zeroforge.config import MCTSConfig, NetConfig
from zeroforge.jit import set_threads
from zeroforge.nets import build_net
from zeroforge.search.evaluator import NetworkEvaluator, masked_softmax
from zeroforge.search.mcts import MCTS
from zeroforge.tasks.base import State, Task

try:
    from _common import emit
except ImportError:  # run as a module from the repository root
    from benchmarks._common import emit


def openings(task: Task, count: int, seed: int) -> list[State]:
    """``count`` non-terminal positions after 0-7 uniformly random moves."""
    rng = np.random.default_rng(seed)
    out: list[State] = []
    while len(out) < count:
        s = task.initial_state(0)
        for _ in range(int(rng.integers(0, 8))):
            s = task.step(s, int(rng.choice(np.flatnonzero(s.legal_action_mask))))
            if s.terminal:
                break
        if not s.terminal:
            out.append(s)
    return out


def zeroforge_rate(search: MCTS, roots: list[State], sims: int, seconds: float) -> tuple[float, float]:
    """Simulations per second of repeated batched searches over ``roots``; also the net's share of the time."""
    evaluator = search.evaluator
    assert isinstance(evaluator, NetworkEvaluator)
    search.search(roots[:2], np.random.default_rng(0), num_simulations=2)  # compile / warm up
    evaluator.seconds = 0.0
    done, start = 0, time.perf_counter()
    rng = np.random.default_rng(1)
    while time.perf_counter() - start < seconds:
        search.search(roots, rng, add_noise=True, num_simulations=sims)
        done += sims * len(roots)
    wall = time.perf_counter() - start
    return done / wall, evaluator.seconds / wall


def net_rate(net: torch.nn.Module, task: Task, batch: int, seconds: float) -> float:
    """Positions per second of the net alone (tokens in, priors and values out) at ``batch``."""
    evaluator = NetworkEvaluator(net)
    obs = np.random.default_rng(0).integers(0, task.vocab_size, (batch, task.seq_len))
    masks = np.ones((batch, task.num_actions), bool)
    evaluator.evaluate(obs, masks)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        evaluator.evaluate(obs, masks)
        done += batch
    return done / (time.perf_counter() - start)


def openspiel_rate(net: torch.nn.Module, sims: int, seconds: float) -> float | None:
    """Simulations per second of OpenSpiel's ``MCTSBot`` (PUCT, no solver) with ``net`` as its evaluator."""
    try:
        import pyspiel
        from open_spiel.python.algorithms import mcts
    except ImportError:
        return None
    game = pyspiel.load_game("connect_four")
    rows, cols = 6, 7

    class NetEvaluator(mcts.Evaluator):  # type: ignore[misc]
        """One forward pass per leaf (batch 1); ``prior`` reuses the pass ``evaluate`` made for that state."""

        def __init__(self) -> None:
            self.cache_key: str | None = None
            self.cache: tuple[np.ndarray, float] = (np.zeros(cols), 0.0)

        def _run(self, state: object) -> tuple[np.ndarray, float]:
            key = str(state)
            if key != self.cache_key:
                planes = np.asarray(state.observation_tensor(), np.float32).reshape(3, rows, cols)  # type: ignore[attr-defined]
                board = (planes[0] + 2 * planes[1])[::-1].reshape(-1)  # row 0 at the top, 1 = x, 2 = o
                me = state.current_player() + 1  # type: ignore[attr-defined]
                tokens = np.where(board == 0, 0, np.where(board == me, 1, 2)).astype(np.int64)
                with torch.inference_mode():
                    logits, value = net(torch.from_numpy(tokens[None]))
                mask = np.zeros((1, cols), bool)
                mask[0, state.legal_actions()] = True  # type: ignore[attr-defined]
                self.cache = (masked_softmax(logits.numpy(), mask)[0], float(value.reshape(-1)[0]))
                self.cache_key = key
            return self.cache

        def evaluate(self, state: object) -> np.ndarray:
            _, v = self._run(state)
            return np.array([v, -v]) if state.current_player() == 0 else np.array([-v, v])  # type: ignore[attr-defined]

        def prior(self, state: object) -> list[tuple[int, float]]:
            p, _ = self._run(state)
            return [(a, float(p[a])) for a in state.legal_actions()]  # type: ignore[attr-defined]

    bot = mcts.MCTSBot(game, 1.25, sims, NetEvaluator(), solve=False,
                       random_state=np.random.RandomState(0), child_selection_fn=mcts.SearchNode.puct_value)
    rng = np.random.default_rng(0)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        state = game.new_initial_state()
        for _ in range(int(rng.integers(0, 8))):
            state.apply_action(int(rng.choice(state.legal_actions())))
        if state.is_terminal():
            continue
        bot.mcts_search(state)
        done += sims
    return done / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--roots", type=int, default=1024)
    ap.add_argument("--simulations", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads (the machine's cores)")
    ap.add_argument("--search-threads", type=int, default=1,
                    help="numba threads of the compiled search (mcts.search_threads; 1 as in training)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    set_threads(args.search_threads)
    torch.manual_seed(0)
    task = zeroforge.make_task("connect_four")
    net = build_net(NetConfig(kind="mlp", embed_dim=16, hidden=128, num_layers=2), task).eval()
    params = sum(p.numel() for p in net.parameters())
    roots = openings(task, args.roots, seed=0)
    config = MCTSConfig(num_simulations=args.simulations)
    ours, share = zeroforge_rate(MCTS(task, NetworkEvaluator(net), config), roots, args.simulations, args.seconds)
    numpy_path, _ = zeroforge_rate(MCTS(task, NetworkEvaluator(net), config, compiled=False), roots,
                                   args.simulations, args.seconds)
    ceiling = net_rate(net, task, args.roots, args.seconds)
    spiel = openspiel_rate(net, args.simulations, args.seconds)
    emit("c4_mlp_parameters", params, "parameters")
    emit("c4_search_sims_per_s_compiled", ours, "simulations/s", spiel,
         note=f"{args.roots} roots x {args.simulations} simulations, {args.search_threads} search thread(s); "
              f"reference: OpenSpiel MCTSBot, same MLP")
    emit("c4_search_sims_per_s_numpy_path", numpy_path, "simulations/s", spiel,
         note="the same kernels uncompiled (mcts.backend: numpy; what runs without numba)")
    emit("c4_search_compiled_vs_numpy", ours, "simulations/s", numpy_path)
    emit("c4_search_net_time_share", share, "fraction of search wall time in the net")
    emit("c4_net_alone_positions_per_s", ceiling, "positions/s", note=f"batch {args.roots}: the ceiling")


if __name__ == "__main__":
    main()
