"""Recursive nets in search: batched inference throughput and search simulations per second per net kind.

For each family of ``--families`` (task parameters of ``configs/<family>.yaml``) and each net of ``--nets``, all
seeded and untrained, at equal widths (``--embed-dim``, ``--hidden``) and with their layer counts chosen for equal
parameter counts (``pointer``: 2 layers, once; ``mlp``: the size-free MLP, 2 blocks; ``trm``: one net of 2 layers;
``hrm``: H and L modules of 1 layer;
the family's attention biases, ``match_bias`` / ``distance_bias``):

- ``recursive_speed.<family>.<net>.inference_positions_per_second``: positions per second of one forward pass over
  a batch of ``--batch`` real positions (states reached by random legal moves from held-out-style seeds), the net
  in ``torch.inference_mode`` (the evaluator's path: softmax over legal actions, length buckets);
- ``.simulations_per_second``: self-play with ``--simulations`` simulations per move, ``--episodes`` episodes in
  lockstep (``benchmarks/size_free.measure``), and ``.net_time_share`` there;
- ``.parameters``: the net's parameter count (the comparison is at equal counts).

The reference of each row (``ratio``) is the non-recursive ``pointer`` net (the size-free transformer) on the same
family in the same run. ``--cycles 1,2,4`` adds TRM rows with that many recursion cycles at inference
(``TRMNet.recurrence``: thinking per node against nodes per second). The recursive nets run their
``supervision_steps`` segments (``--segments``; rows halt on their own when their halting head says so: an
untrained head never does).

    python benchmarks/recursive_speed.py [--families maze,logic,sudoku] [--nets pointer,trm,hrm] [--cycles 1,2,4]
    python benchmarks/recursive_speed.py --quick
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import torch

import zeroforge
from zeroforge.config import NetConfig, load_config
from zeroforge.jit import set_threads
from zeroforge.nets import build_net
from zeroforge.nets.params import HRMConfig, TRMConfig
from zeroforge.search.evaluator import NetworkEvaluator
from zeroforge.tasks.base import State, Task, random_legal_action

try:
    from _common import emit
    from size_free import ROOT, measure
except ImportError:  # run as a module from the repository root
    from benchmarks._common import emit
    from benchmarks.size_free import ROOT, measure


def net_config(kind: str, args: argparse.Namespace, family: NetConfig, cycles: int | None = None) -> NetConfig:
    """The net of ``kind`` at the benchmark's widths, layer counts for equal parameters (module docstring), with
    the attention biases of the ``family``'s net."""
    trm = TRMConfig(cycles=cycles or args.trm_cycles, latent_steps=args.latent_steps,
                    supervision_steps=args.segments)
    hrm = HRMConfig(cycles=args.hrm_cycles, low_steps=args.low_steps, supervision_steps=args.segments)
    layers = {"mlp": 2, "pointer": 2, "trm": 2, "hrm": 1}[kind]
    biases = {} if kind == "mlp" else {"match_bias": family.match_bias, "distance_bias": family.distance_bias}
    return NetConfig(kind=kind, embed_dim=args.embed_dim, hidden=args.hidden, num_layers=layers, trm=trm, hrm=hrm,
                     **biases)


def positions(task: Task, count: int, seed: int) -> list[State]:
    """``count`` non-terminal states: each from its own seed, a few random legal moves in."""
    rng = np.random.default_rng(seed)
    out: list[State] = []
    s = 0
    while len(out) < count:
        state = task.initial_state(10**6 + seed * 10**4 + s)
        s += 1
        for _ in range(int(rng.integers(0, 4))):
            nxt = task.step(state, random_legal_action(state, rng))
            if nxt.terminal:
                break
            state = nxt
        out.append(state)
    return out


def inference_rate(task: Task, net: torch.nn.Module, states: list[State], repeats: int) -> float:
    """Positions per second of the evaluator over ``states`` as one batch (after one untimed call)."""
    evaluator = NetworkEvaluator(net)
    evaluator.evaluate_states(task, states)
    start = time.perf_counter()
    for _ in range(repeats):
        evaluator.evaluate_states(task, states)
    return repeats * len(states) / (time.perf_counter() - start)


def run_family(family: str, args: argparse.Namespace) -> None:
    cfg = load_config(ROOT / "configs" / f"{family}.yaml")
    task = zeroforge.make_task(cfg.task.name, **cfg.task.params)
    mcts = dataclasses.replace(cfg.mcts, num_simulations=args.simulations)
    states = positions(task, args.batch, args.seed)
    variants = [(kind, None) for kind in args.nets.split(",")]
    variants += [("trm", c) for c in (int(x) for x in args.cycles.split(",") if x)]
    ref: dict[str, float] = {}
    for kind, cycles in variants:
        torch.manual_seed(args.seed)
        net = build_net(net_config(kind, args, cfg.net, cycles), task).eval()
        name = kind if cycles is None else f"trm_cycles{cycles}"
        tag = f"recursive_speed.{family}.{name}"
        params = sum(p.numel() for p in net.parameters())
        rate = inference_rate(task, net, states, args.repeats)
        play = measure(task, net, mcts, args.episodes, args.episodes, args.max_moves)
        if kind == "pointer" and cycles is None:
            ref = {"rate": rate, "sims": play["sims_per_s"]}
        emit(f"{tag}.parameters", params, "parameters")
        emit(f"{tag}.inference_positions_per_second", rate, "positions/s", ref.get("rate"),
             note=f"batch {len(states)}, mean tokens {play['mean_tokens']:.0f}")
        emit(f"{tag}.simulations_per_second", play["sims_per_s"], "simulations/s", ref.get("sims"),
             note=f"{mcts.num_simulations} sims, {args.episodes} episodes in lockstep, "
                  f"{play['net_batch']:.1f} positions per net call")
        emit(f"{tag}.net_time_share", play["net_share"], "fraction of self-play wall time in the net")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default="maze,logic,sudoku")
    ap.add_argument("--nets", default="pointer,mlp,trm,hrm")
    ap.add_argument("--cycles", default="1,2,4", help="TRM rows with these recursion cycles at inference")
    ap.add_argument("--embed-dim", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--trm-cycles", type=int, default=2)
    ap.add_argument("--latent-steps", type=int, default=2)
    ap.add_argument("--hrm-cycles", type=int, default=2)
    ap.add_argument("--low-steps", type=int, default=2)
    ap.add_argument("--segments", type=int, default=2, help="supervision segments of the recursive nets")
    ap.add_argument("--batch", type=int, default=256, help="positions per inference batch")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--episodes", type=int, default=16, help="self-play episodes in lockstep")
    ap.add_argument("--simulations", type=int, default=16)
    ap.add_argument("--max-moves", type=int, default=4, help="moves per self-play episode at most")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--quick", action="store_true", help="smoke settings: batch 32, 4 episodes, 4 sims, 1 repeat")
    args = ap.parse_args()
    if args.quick:
        args.batch, args.episodes, args.simulations, args.repeats, args.max_moves = 32, 4, 4, 1, 2
    torch.set_num_threads(args.threads)
    set_threads(1)
    for family in args.families.split(","):
        run_family(family, args)


if __name__ == "__main__":
    main()
