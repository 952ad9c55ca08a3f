"""Self-play speed: 1000 tic-tac-toe episodes at 64 simulations per move, batched in lockstep.

Prints one JSON object per figure (``name``, ``value``, ``unit``; ``reference`` and ``ratio`` where a
reference was measured in the same run). The reference is the same generator with
``parallel_batch_size=1`` (one net call per leaf, no batching across episodes) on fewer episodes.

    python benchmarks/selfplay_speed.py [--episodes 1000] [--simulations 64] [--batch 256]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

import zeroforge
from zeroforge.config import MCTSConfig, NetConfig
from zeroforge.nets import build_net
from zeroforge.search.evaluator import NetworkEvaluator
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator


def measure(task: zeroforge.Task, net: torch.nn.Module, episodes: int, sims: int,
            batch: int) -> dict[str, float]:
    evaluator = NetworkEvaluator(net)
    gen = SelfPlayEpisodeGenerator(task, evaluator, MCTSConfig(num_simulations=sims), parallel_batch_size=batch)
    start = time.perf_counter()
    eps = gen.generate(range(episodes), np.random.default_rng(0))
    wall = time.perf_counter() - start
    sims_done = sum(t.num_simulations for e in eps for t in e.mcts_traces)
    return {"wall": wall, "sims_per_s": sims_done / wall, "episodes_per_s": episodes / wall,
            "net_share": evaluator.seconds / wall, "net_batch": evaluator.positions / max(1, evaluator.calls)}


def emit(name: str, value: float, unit: str, reference: float | None = None, higher_is_better: bool = True) -> None:
    row: dict[str, object] = {"name": name, "value": round(value, 4), "unit": unit}
    if reference is not None:
        row["reference"] = round(reference, 4)
        row["ratio"] = round(value / reference if higher_is_better else reference / value, 3)
    print(json.dumps(row), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=1000)
    ap.add_argument("--simulations", type=int, default=64)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--reference-episodes", type=int, default=40)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    task = zeroforge.make_task("tictactoe")
    net = build_net(NetConfig(), task)
    ours = measure(task, net, args.episodes, args.simulations, args.batch)
    ref = measure(task, net, args.reference_episodes, args.simulations, 1)
    emit("ttt_selfplay_wall_time", ours["wall"], f"s per {args.episodes} episodes",
         ref["wall"] * args.episodes / args.reference_episodes, higher_is_better=False)
    emit("ttt_selfplay_simulations_per_second", ours["sims_per_s"], "simulations/s", ref["sims_per_s"])
    emit("ttt_selfplay_episodes_per_second", ours["episodes_per_s"], "episodes/s", ref["episodes_per_s"])
    emit("ttt_selfplay_net_time_share", ours["net_share"], "fraction of wall time in the net")
    emit("ttt_selfplay_mean_net_batch", ours["net_batch"], "positions per net call")


if __name__ == "__main__":
    main()
