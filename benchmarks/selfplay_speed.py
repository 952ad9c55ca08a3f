"""Self-play speed: 1000 tic-tac-toe episodes at 64 simulations per move, batched in lockstep.

Prints one JSON object per figure (``name``, ``value``, ``unit``; ``reference`` and ``ratio`` where a
reference was measured in the same run). The reference is the same generator with
``parallel_batch_size=1`` (one net call per leaf, no batching across episodes) and the numpy search on fewer
episodes. Also the share of self-play wall time spent in the net (``--task connect_four`` for the issue's
connect-four figure).

    python benchmarks/selfplay_speed.py [--task tictactoe] [--episodes 1000] [--simulations 64] [--batch 256]
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
from zeroforge.search.evaluator import NetworkEvaluator
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator

try:
    from _common import emit
except ImportError:  # run as a module from the repository root
    from benchmarks._common import emit


def measure(task: zeroforge.Task, net: torch.nn.Module, episodes: int, sims: int, batch: int,
            backend: str = "auto") -> dict[str, float]:
    evaluator = NetworkEvaluator(net)
    config = MCTSConfig(num_simulations=sims, backend=backend)
    gen = SelfPlayEpisodeGenerator(task, evaluator, config, parallel_batch_size=batch)
    gen.generate(range(2), np.random.default_rng(0))  # compile / warm up
    evaluator.seconds = 0.0
    start = time.perf_counter()
    eps = gen.generate(range(episodes), np.random.default_rng(0))
    wall = time.perf_counter() - start
    sims_done = sum(t.num_simulations for e in eps for t in e.mcts_traces)
    return {"wall": wall, "sims_per_s": sims_done / wall, "episodes_per_s": episodes / wall,
            "net_share": evaluator.seconds / wall, "net_batch": evaluator.positions / max(1, evaluator.calls)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="tictactoe")
    ap.add_argument("--episodes", type=int, default=1000)
    ap.add_argument("--simulations", type=int, default=64)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--reference-episodes", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--search-threads", type=int, default=1,
                    help="numba threads of the compiled search (mcts.search_threads; 1 as in training)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    set_threads(args.search_threads)
    torch.manual_seed(0)
    task = zeroforge.make_task(args.task)
    net = build_net(NetConfig(), task)
    ours = measure(task, net, args.episodes, args.simulations, args.batch)
    ref = measure(task, net, args.reference_episodes, args.simulations, 1, backend="numpy")
    tag = {"tictactoe": "ttt", "connect_four": "c4"}.get(args.task, args.task)
    emit(f"{tag}_selfplay_wall_time", ours["wall"], f"s per {args.episodes} episodes at {args.simulations} sims",
         ref["wall"] * args.episodes / args.reference_episodes, higher_is_better=False,
         note="reference: one episode at a time, numpy search, scaled from --reference-episodes")
    emit(f"{tag}_selfplay_simulations_per_second", ours["sims_per_s"], "simulations/s", ref["sims_per_s"])
    emit(f"{tag}_selfplay_episodes_per_second", ours["episodes_per_s"], "episodes/s", ref["episodes_per_s"])
    emit(f"{tag}_selfplay_net_time_share", ours["net_share"], "fraction of wall time in the net")
    emit(f"{tag}_selfplay_mean_net_batch", ours["net_batch"], "positions per net call")


if __name__ == "__main__":
    main()
