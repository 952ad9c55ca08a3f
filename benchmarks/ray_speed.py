"""Self-play on Ray actors beside the local worker pool: connect four, a small MLP, 32 simulations per move, 1 and 2
workers / actors on this machine.

All four sources play the same seeds with the same chunks and random streams, so they play the same episodes
(checked). Each is started and warmed up (one round: imports, numba kernels, Ray's start) before its timed
``--rounds``; startup (that first round, with Ray's start and the actors' imports) is reported apart. The sources run
one after the other, each closed before the next starts: an actor holds one of Ray's CPUs while it lives.

Prints one JSON object per figure; ratios take the local pool with 1 worker as reference.

    python benchmarks/ray_speed.py [--episodes 256] [--simulations 32] [--batch 32] [--rounds 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from zeroforge.config import load_config
from zeroforge.distributed.ray_source import RaySource
from zeroforge.nets import build_net
from zeroforge.selfplay.source import SelfPlaySource, WorkerPoolSource
from zeroforge.tasks import make_task

try:
    from _common import emit
except ImportError:  # run as a module from the repository root
    from benchmarks._common import emit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=256)
    ap.add_argument("--simulations", type=int, default=32)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)
    base = ["task.name=connect_four", "net.kind=mlp", "net.hidden=128", f"mcts.num_simulations={args.simulations}",
            f"selfplay.parallel_batch_size={args.batch}", f"selfplay.chunk_size={args.batch}"]
    task = make_task("connect_four")
    torch.manual_seed(0)
    net = build_net(load_config(None, base).net, task)
    startup: dict[str, float] = {}
    wall: dict[str, float] = {}
    episodes: dict[str, int] = {}
    tables: dict[str, list[np.ndarray]] = {}
    for name, extra in (("pool_1", ["selfplay.num_workers=1"]), ("pool_2", ["selfplay.num_workers=2"]),
                        ("ray_1", ["selfplay.num_workers=1", "selfplay.backend=ray"]),
                        ("ray_2", ["selfplay.num_workers=2", "selfplay.backend=ray"])):
        cfg = load_config(None, [*base, *extra])
        source: SelfPlaySource = RaySource(task, cfg) if "ray" in name else WorkerPoolSource(task, cfg)
        try:
            t = time.perf_counter()
            source.play(net, 0, range(10**6, 10**6 + 2 * args.batch), None, None, np.random.default_rng(0))
            startup[name] = time.perf_counter() - t
            wall[name], episodes[name], tables[name] = 0.0, 0, []
            for r in range(args.rounds):
                t = time.perf_counter()
                played = source.play(net, 0, range(r * args.episodes, (r + 1) * args.episodes), None, None,
                                     np.random.default_rng(0))
                wall[name] += time.perf_counter() - t
                episodes[name] += len(played.table)
                tables[name].append(played.table.actions)
        finally:
            source.close()
    sources = list(wall)
    same = all(np.array_equal(a, b) for k in sources for a, b in zip(tables[k], tables["pool_1"], strict=True))
    ref = episodes["pool_1"] / wall["pool_1"]
    for name in sources:
        emit(f"selfplay_{name}_episodes_per_second", episodes[name] / wall[name], "episodes/s",
             None if name == "pool_1" else ref)
        emit(f"selfplay_{name}_startup_seconds", startup[name], "s")
    emit("ray_2_vs_ray_1_speedup", (episodes["ray_2"] / wall["ray_2"]) / (episodes["ray_1"] / wall["ray_1"]), "x")
    emit("same_episodes_on_every_source", float(same), "bool")


if __name__ == "__main__":
    main()
