"""Self-play on Ray actors beside the local worker pool: connect four, a small MLP, 32 simulations per move, 1 and 2
workers / actors on this machine.

All four sources play the same seeds with the same chunks and random streams, so they play the same episodes
(checked). Each is started and warmed up (one round: imports, numba kernels, Ray's start) before its timed
``--rounds``; startup (that first round, with Ray's start and the actors' imports) is reported apart. The sources run
one after the other, each closed before the next starts: an actor holds one of Ray's CPUs while it lives.

Then the per-actor cost, what the estimate for 8, 64 and 512 actors rests on:

- **chunk round trip** (``ray_chunk_roundtrip_ms``): actors that hand back a real chunk's result (``--batch``
  episodes, numpy columns) at once, kept busy as ``RaySource`` keeps its actors busy: the driver's time per chunk to
  dispatch, wait, fetch and unpickle it. ``1 / roundtrip`` chunks per second is what one driver can take in, however
  many actors play (``ray_driver_ceiling_episodes_per_second``).
- **weights** (``ray_weights_broadcast_ms``): ``ray.put`` of the net's weights and ``set_weights`` on 2 actors.
- **actor memory** (``ray_actor_rss_mb``): one actor's resident memory (Python, torch, numba, the net, the task).
- **learner** (``learner_share``): a short training run on the Ray backend (2 actors): the share of an iteration that
  is not self-play (training on the driver, the evaluation games). Self-play shrinks with more actors; that share
  does not (Amdahl's bound on the iteration speed-up).

Prints one JSON object per figure; ratios take the local pool with 1 worker as reference; the last object is the
estimate.

    python benchmarks/ray_speed.py [--episodes 256] [--simulations 32] [--batch 32] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zeroforge.config import load_config
from zeroforge.distributed.ray_source import RaySource
from zeroforge.nets import build_net
from zeroforge.selfplay.processes import weights_to_numpy
from zeroforge.selfplay.source import SelfPlaySource, WorkerPoolSource
from zeroforge.selfplay.workers import _ChunkResult
from zeroforge.tasks import make_task

try:
    from _common import emit
except ImportError:  # run as a module from the repository root
    from benchmarks._common import emit


class _Echo:
    """A benchmark actor that hands back the same chunk result at once (no play): the driver's side of a chunk."""

    def __init__(self, result: _ChunkResult) -> None:
        self.result = result

    def play(self, i: int) -> _ChunkResult:
        return self.result


def chunk_roundtrip(result: _ChunkResult, actors: int, calls: int) -> float:
    """Seconds per chunk on the driver with ``actors`` echo actors kept busy (``RaySource``'s wait / get loop)."""
    import ray

    cls = ray.remote(num_cpus=1)(_Echo)
    ref = ray.put(result)
    handles = [cls.remote(ref) for _ in range(actors)]
    ray.get([h.play.remote(0) for h in handles])
    running = {h.play.remote(i): h for i, h in enumerate(handles)}
    sent, got = len(handles), 0
    t = time.perf_counter()
    while got < calls:
        ready, _ = ray.wait(list(running), num_returns=1)
        h = running.pop(ready[0])
        ray.get(ready[0])
        got += 1
        if sent < calls:
            running[h.play.remote(sent)] = h
            sent += 1
    seconds = (time.perf_counter() - t) / calls
    for h in handles:
        ray.kill(h)
    return seconds


def per_actor_costs(base: list[str], net: torch.nn.Module, batch: int) -> dict[str, float]:
    """Round trip per chunk, weights broadcast and one actor's memory (module docstring)."""
    import psutil
    import ray

    task = make_task("connect_four")
    cfg = load_config(None, [*base, "selfplay.num_workers=2", "selfplay.backend=ray"])
    source = RaySource(task, cfg)
    try:
        played = source.play(net, 0, range(batch), None, None, np.random.default_rng(0))
        result = _ChunkResult(0, 0, played.table, 1.0, 1.0, 1, 1, 0.0)
        weights = weights_to_numpy(net.state_dict())
        t = time.perf_counter()
        for v in range(5):
            ref = ray.put(weights)
            ray.get([a.set_weights.remote(v + 1, ref) for a in source.actors])
        broadcast = (time.perf_counter() - t) / 5
        rss = max(psutil.Process(p).memory_info().rss for p in source.process_roles()) / 2**20
        table_bytes = played.table.nbytes
    finally:
        source.close()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        roundtrip = {n: chunk_roundtrip(result, n, 200) for n in (1, 2)}
    finally:
        ray.shutdown()
    return {"roundtrip_1": roundtrip[1], "roundtrip_2": roundtrip[2], "broadcast": broadcast, "rss_mb": rss,
            "chunk_kb": table_bytes / 1024, "weights_kb": sum(w.nbytes for w in weights.values()) / 1024}


def learner_share(base: list[str], episodes: int) -> dict[str, float]:
    """Self-play, training and evaluation seconds of a short Ray run's second iteration (2 actors)."""
    from zeroforge.trainer import SelfPlayTrainer

    cfg = load_config(None, [*base, "selfplay.num_workers=2", "selfplay.backend=ray", "iterations=2",
                             "arena.anchors=[random]", f"selfplay.games_per_iteration={episodes}"])
    with tempfile.TemporaryDirectory() as d:
        metrics: list[dict[str, Any]] = SelfPlayTrainer(cfg, Path(d)).run()
    m = metrics[-1]
    return {k: float(m[k]) for k in ("selfplay_seconds", "train_seconds", "eval_seconds", "iteration_seconds")}


def estimate(per_actor: float, costs: dict[str, float], share: dict[str, float], batch: int) -> dict[str, object]:
    """Self-play episodes/s and iteration speed-up at 8, 64 and 512 actors, and what bounds each."""
    ceiling = batch / costs["roundtrip_1"]
    rest = share["train_seconds"] + share["eval_seconds"]
    sp_one = share["selfplay_seconds"] * 2  # the measured round took 2 actors
    out: dict[str, object] = {"per_actor_episodes_per_second": round(per_actor, 2),
                              "driver_ceiling_episodes_per_second": round(ceiling, 1)}
    for n in (8, 64, 512):
        rate = min(n * per_actor, ceiling)
        sp = sp_one * per_actor * 1 / rate  # one actor's self-play seconds, at the rate n actors reach
        share_sp = sp / (sp + rest)
        out[f"actors_{n}"] = {
            "episodes_per_second": round(rate, 1),
            "selfplay_bound": "actors" if n * per_actor < ceiling else "driver (chunk round trips)",
            "iteration_speedup_vs_1_actor": round((sp_one + rest) / (sp + rest), 2),
            "selfplay_share_of_iteration": round(share_sp, 3),
            "iteration_bound": "self-play" if share_sp >= 0.5 else "learner and evaluation on the driver"}
    return out


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

    costs = per_actor_costs(base, net, args.batch)
    emit("ray_chunk_roundtrip_ms", costs["roundtrip_1"] * 1e3, "ms", higher_is_better=False,
         note=f"{args.batch} episodes, {costs['chunk_kb']:.0f} KiB of columns; 1 echo actor")
    emit("ray_chunk_roundtrip_2_actors_ms", costs["roundtrip_2"] * 1e3, "ms", higher_is_better=False)
    emit("ray_driver_ceiling_episodes_per_second", args.batch / costs["roundtrip_1"], "episodes/s")
    emit("ray_weights_broadcast_ms", costs["broadcast"] * 1e3, "ms", higher_is_better=False,
         note=f"{costs['weights_kb']:.0f} KiB of weights to 2 actors")
    emit("ray_actor_rss_mb", costs["rss_mb"], "MiB", higher_is_better=False)
    share = learner_share(base, args.episodes)
    rest = share["train_seconds"] + share["eval_seconds"]
    emit("learner_share", rest / (rest + share["selfplay_seconds"]), "fraction", higher_is_better=False,
         note=f"selfplay {share['selfplay_seconds']:.1f} s, train {share['train_seconds']:.1f} s, eval "
              f"{share['eval_seconds']:.1f} s (2 Ray actors, {args.episodes} games)")
    per_actor = episodes["ray_1"] / wall["ray_1"]
    print(json.dumps({"estimate": estimate(per_actor, costs, share, args.batch)}), flush=True)


if __name__ == "__main__":
    main()
