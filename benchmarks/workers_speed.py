"""Parallel self-play speed: connect four, a ~100k-parameter MLP, 32 simulations per move, 1 vs 2 workers.

Both pools play the same seeds with the same chunking and RNG key, so they play exactly the same episodes
(checked); only the number of worker processes differs. Both pools are started and warmed up (one chunk per
worker: imports, numba kernels) before any timing, then the episodes are played in ``--rounds`` rounds that
alternate 1 worker / 2 workers, so that a change in the machine's load during the run hits both alike.

Other processes may share the cores: the workers' CPU share and their run-queue waits (Linux ``schedstat``)
are reported, and ``..._speedup_without_cpu_wait`` estimates the 2-worker ratio had the workers not waited
for a CPU held by another process (wall time minus the workers' mean run-queue wait).

Prints one JSON object per figure (``name``, ``value``, ``unit``; ``reference`` and ``ratio`` where a
reference was measured in the same run; the 2-worker figures take the 1-worker ones as reference).

    python benchmarks/workers_speed.py [--episodes 1024] [--simulations 32] [--batch 32] [--rounds 2] [--server]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from zeroforge.config import MCTSConfig, NetConfig
from zeroforge.nets import build_net
from zeroforge.selfplay.workers import SelfPlayWorkerPool, WorkerSpec
from zeroforge.tasks import make_task


def emit(name: str, value: float, unit: str, reference: float | None = None) -> None:
    row: dict[str, object] = {"name": name, "value": round(value, 4), "unit": unit}
    if reference is not None:
        row["reference"] = round(reference, 4)
        row["ratio"] = round(value / reference, 3)
    print(json.dumps(row), flush=True)


def cpu_wait_seconds(pid: int) -> float:
    """Seconds the threads of ``pid`` spent runnable but waiting for a CPU (0 where schedstat is missing)."""
    total = 0
    for f in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(f.read_text().split()[1])
    return total / 1e9


@dataclass
class Totals:
    """Sums over the timed ``generate`` calls of one pool."""

    workers: int
    episodes: int = 0
    moves: int = 0
    wall: float = 0.0
    worker_cpu: float = 0.0
    worker_busy: float = 0.0
    cpu_wait: float = 0.0  # mean over the workers
    server_batches: int = 0
    server_positions: int = 0
    net_calls: int = 0
    net_positions: int = 0
    actions: list[list[int]] = field(default_factory=list)

    def play(self, pool: SelfPlayWorkerPool, seeds: range) -> None:
        before = [cpu_wait_seconds(pid) for pid in pool.worker_pids]
        table = pool.generate(seeds, key=0)
        after = [cpu_wait_seconds(pid) for pid in pool.worker_pids]
        s = pool.last_stats
        assert s is not None
        self.episodes += s.episodes
        self.moves += table.num_moves
        self.wall += s.wall_seconds
        self.worker_cpu += s.worker_cpu_seconds
        self.worker_busy += s.worker_seconds
        self.cpu_wait += sum(b - a for a, b in zip(before, after, strict=True)) / self.workers
        self.server_batches += s.server_batches
        self.server_positions += s.server_positions
        self.net_calls += s.net_calls
        self.net_positions += s.net_positions
        offsets = table.episode_offsets.tolist()
        self.actions += [table.actions[lo:hi].tolist() for lo, hi in itertools.pairwise(offsets)]

    @property
    def eps(self) -> float:
        return self.episodes / self.wall


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--episodes", type=int, default=1024)
    ap.add_argument("--simulations", type=int, default=32)
    ap.add_argument("--batch", type=int, default=32, help="episodes in lockstep per worker (= seeds per chunk)")
    ap.add_argument("--rounds", type=int, default=2, help="alternations of 1 and 2 workers")
    ap.add_argument("--server", action="store_true", help="also measure 2 workers with an inference server")
    args = ap.parse_args()
    torch.manual_seed(0)
    task = make_task("connect_four")
    net_cfg = NetConfig(kind="mlp", hidden=112, embed_dim=16, num_layers=2)
    net = build_net(net_cfg, task)
    spec = WorkerSpec("connect_four", net_cfg, MCTSConfig(num_simulations=args.simulations),
                      parallel_batch_size=args.batch)
    weights = net.state_dict()
    emit("c4_mlp_parameters", sum(p.numel() for p in net.parameters()), "parameters")
    start = time.perf_counter()
    setups = [(1, "local"), (2, "local")] + ([(2, "server")] if args.server else [])
    with contextlib.ExitStack() as stack:
        pools = [stack.enter_context(SelfPlayWorkerPool(spec, weights, n, chunk_size=args.batch, inference=inf))
                 for n, inf in setups]
        for pool in pools:  # warm-up: one chunk per worker
            pool.generate(range(10**6, 10**6 + args.batch * pool.num_workers), key=1)
        emit("load_average_1min_before", os.getloadavg()[0], f"runnable processes ({os.cpu_count()} cores)")
        totals = [Totals(n) for n, _ in setups]
        bounds = [round(args.episodes * r / args.rounds) for r in range(args.rounds + 1)]
        for r in range(args.rounds):
            for pool, tot in zip(pools, totals, strict=True):
                tot.play(pool, range(bounds[r], bounds[r + 1]))
        startup = pools[1].startup_seconds
    one, two = totals[0], totals[1]
    if one.actions != two.actions:
        raise SystemExit("1 and 2 workers played different episodes: determinism is broken")
    sims = args.simulations * one.moves
    emit("c4_selfplay_1_worker_episodes_per_second", one.eps, "episodes/s")
    emit("c4_selfplay_2_workers_episodes_per_second", two.eps, "episodes/s", one.eps)
    emit("c4_selfplay_1_worker_simulations_per_second", sims / one.wall, "simulations/s")
    emit("c4_selfplay_2_workers_simulations_per_second", sims / two.wall, "simulations/s", sims / one.wall)
    for tot in (one, two):
        label = "1_worker" if tot.workers == 1 else f"{tot.workers}_workers"
        emit(f"c4_selfplay_{label}_wall_time", tot.wall, f"s per {tot.episodes} episodes")
        emit(f"c4_selfplay_{label}_cpu_share", tot.worker_cpu / (tot.workers * tot.wall),
             f"fraction of {tot.workers} core(s) the workers got")
        emit(f"c4_selfplay_{label}_cpu_wait_share", tot.cpu_wait / tot.wall,
             "fraction of wall time a worker waited for a CPU held by another process")
    emit("c4_selfplay_2_workers_episodes_per_cpu_second", two.episodes / two.worker_cpu,
         "episodes per worker CPU-second", one.episodes / one.worker_cpu)
    emit("c4_selfplay_2_workers_busy_share", two.worker_busy / (2 * two.wall),
         "fraction of wall time the workers spent on chunks")
    emit("c4_selfplay_2_workers_speedup_without_cpu_wait", (one.wall - one.cpu_wait) / (two.wall - two.cpu_wait),
         "x (estimate: wall time minus run-queue wait)")
    emit("c4_selfplay_2_workers_pool_startup", startup, "s (fork server already warm)")
    if args.server:
        srv = totals[2]
        same = sum(a == b for a, b in zip(srv.actions, one.actions, strict=True)) / len(one.actions)
        emit("c4_selfplay_2_workers_server_episodes_per_second", srv.eps, "episodes/s", two.eps)
        emit("c4_selfplay_server_mean_batch", srv.server_positions / max(1, srv.server_batches),
             "positions per forward pass", srv.net_positions / max(1, srv.net_calls))
        emit("c4_selfplay_server_same_episodes", same, "fraction of episodes identical to local inference")
    emit("load_average_1min_after", os.getloadavg()[0], f"runnable processes ({os.cpu_count()} cores)")
    emit("benchmark_wall_time", time.perf_counter() - start, "s")


if __name__ == "__main__":
    main()
