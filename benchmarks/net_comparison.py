"""MLP / transformer / TRM / HRM at equal parameters and equal CPU minutes, as raw policy and inside search.

For each family of ``--families`` (task, search and training settings of ``configs/<family>.yaml``) and each net of
``--nets`` it trains one run into ``<runs>/<family>/<net>`` (resumed if there; ``--no-train`` only evaluates) with
the family's supervised phase (solver demonstrations, ``supervised`` section) and then its self-play iterations
(``--selfplay``, default none: the papers' setting is supervision alone), every run ending when it has used
``--budget`` CPU minutes (``cpu_budget_minutes``: at the first iteration boundary past it; the figure printed is
what each used). The nets share their widths (``--embed-dim``, ``--hidden``) and their layer counts are chosen for
about equal parameter counts (printed):

- ``mlp``: the size-free MLP (``TokenMLPNet``), 2 per-token blocks;
- ``transformer``: the pointer net (``PointerNet``), 2 layers applied once;
- ``trm``: one net of 2 layers, recursion ``--trm`` (``T,n,N_sup``);
- ``hrm``: H and L modules of 1 layer each, recursion ``--hrm`` (``N,T,N_sup``).

Each trained net then solves ``--episodes`` held-out instances at the family's evaluation sizes (``EVAL_SIZES``:
sudoku 6 x 6 and 9 x 9; maze one size larger than trained; logic one to four levels deeper than trained, the
deeper ones with more rules and concepts so that they fit) two ways: the raw
policy (1 simulation: the net's most likely legal move) and inside search (the config's ``agent_simulations``). TRM
and HRM run all their supervision segments at inference (the reference code's evaluation) and are evaluated once more
with per-row adaptive halting; the TRM run also with 1, 2 and 4 recursion cycles at inference (``--cycles``). Prints
a JSON line per cell and a markdown table.

``--tradeoff`` instead measures thinking per node against nodes for the trained TRM runs (``--no-train`` implied):
cycles ``c`` in ``--cycles`` with ``S * T / c`` simulations (``S`` the config's ``agent_simulations``, ``T`` the
trained cycles), so every row spends about the same net passes per move; solve rate and CPU seconds per row.

    python benchmarks/net_comparison.py [--families sudoku,maze,logic] [--nets mlp,transformer,trm,hrm]
                                        [--budget 8] [--runs runs/nets] [--episodes 100] [--no-train]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

import torch

from zeroforge.agent import Agent, load_agent
from zeroforge.arena.heldout import evaluate_held_out
from zeroforge.config import NetConfig, ZeroforgeConfig, load_config
from zeroforge.nets.params import HRMConfig, TRMConfig
from zeroforge.tasks import Task, make_task
from zeroforge.trainer import SelfPlayTrainer

REPO = Path(__file__).resolve().parents[1]
NETS = ("mlp", "transformer", "trm", "hrm")
#: per family: (label, task parameter overrides) of the evaluated instance sets
EVAL_SIZES: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {
    "sudoku": (("6x6", {"sizes": [6]}), ("9x9", {"sizes": [9]})),
    "maze": (("13x13 (larger)", {"size": 6}),),
    "logic": (("depth 7 (larger)", {"max_depth": 7}), ("depth 8", {"max_depth": 8}),
              ("depth 9", {"max_depth": 9, "max_rules": 22}),
              ("depth 10", {"max_depth": 10, "max_rules": 24, "num_concepts": 28})),
}


def net_config(kind: str, args: argparse.Namespace, family: NetConfig) -> NetConfig:
    """The compared net of ``kind`` (module docstring) with the family's attention biases."""
    t, n, n_sup = (int(v) for v in args.trm.split(","))
    h_cycles, low, h_sup = (int(v) for v in args.hrm.split(","))
    layers = {"mlp": 2, "transformer": 2, "trm": 2, "hrm": 1}[kind]
    biases = {"match_bias": family.match_bias, "distance_bias": family.distance_bias} if kind != "mlp" else {}
    return NetConfig(kind="pointer" if kind == "transformer" else kind, embed_dim=args.embed_dim,
                     hidden=args.hidden, num_layers=layers, trm=TRMConfig(t, n, n_sup),
                     hrm=HRMConfig(h_cycles, low, h_sup), **biases)


def run_config(family: str, kind: str, args: argparse.Namespace) -> ZeroforgeConfig:
    """The family's config with the compared net, supervised iterations a quarter of the family's size (demonstrated
    episodes and learner steps: a run overshoots its budget by less) and as many as the budget allows (then
    ``--selfplay`` self-play iterations, if the budget is not spent), no held-out evaluation inside the budget, and
    TRM's weight average (EMA 0.999, as the paper; warm-up decay: ``TrainConfig.ema_decay``)."""
    base = load_config(REPO / "configs" / f"{family}.yaml")
    sup = base.supervised
    supervised = dataclasses.replace(sup, iterations=1000 if not args.selfplay else 4 * sup.iterations,
                                     episodes_per_iteration=max(1, sup.episodes_per_iteration // 4),
                                     steps_per_iteration=max(1, (sup.steps_per_iteration
                                                                 or base.train.steps_per_iteration) // 4))
    arena = dataclasses.replace(base.arena, eval_every=10**6)  # no held-out evaluation inside the budget
    train = dataclasses.replace(base.train, ema_decay=0.999 if kind == "trm" else 0.0)
    return dataclasses.replace(base, net=net_config(kind, args, base.net), supervised=supervised, train=train,
                               iterations=args.selfplay, cpu_budget_minutes=args.budget, arena=arena,
                               keep_checkpoints=1)


def cpu_minutes(run_dir: Path) -> float:
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return sum(json.loads(line)["iteration_cpu_seconds"] for line in lines) / 60


def evaluate(agent: Agent, task: Task, episodes: int, sims: int) -> float:
    report = evaluate_held_out(task, agent.evaluator, agent.mcts.config, episodes, num_simulations=sims)
    return report.solve_rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default="sudoku,maze,logic")
    ap.add_argument("--nets", default=",".join(NETS))
    ap.add_argument("--budget", type=float, default=8.0, help="CPU minutes of training per run")
    ap.add_argument("--selfplay", type=int, default=0, help="self-play iterations after the supervised phase")
    ap.add_argument("--runs", default="runs/nets")
    ap.add_argument("--episodes", type=int, default=100)
    ap.add_argument("--embed-dim", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--trm", default="2,2,2", help="TRM cycles T, latent steps n, supervision segments N_sup")
    ap.add_argument("--hrm", default="2,2,2", help="HRM cycles N, low steps T, supervision segments")
    ap.add_argument("--cycles", default="1,2,4", help="TRM recursion cycles at inference (extra rows)")
    ap.add_argument("--no-train", action="store_true")
    ap.add_argument("--tradeoff", action="store_true", help="TRM: cycles x simulations at equal net passes")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.tradeoff:
        tradeoff(args)
        return
    rows: list[dict[str, Any]] = []
    for family in args.families.split(","):
        for kind in args.nets.split(","):
            run_dir = Path(args.runs) / family / kind
            cfg = run_config(family, kind, args)
            if not args.no_train:
                SelfPlayTrainer(cfg, run_dir, resume=(run_dir / "metrics.jsonl").exists()).run()
            variants: list[tuple[str, int | None, bool | None]] = [(kind, None, None)]
            if kind in ("trm", "hrm"):  # per-row halting at inference instead of all supervision segments
                variants.append((f"{kind} (adaptive halting)", None, True))
            if kind == "trm":  # other recursion cycles at inference than the trained
                variants += [(f"trm ({c} cycles)", c, None) for c in (int(v) for v in args.cycles.split(",") if v)
                             if c != cfg.net.trm.cycles]
            for name, cycles, halting in variants:
                agent = load_agent(run_dir, recurrence=cycles, adaptive_halting=halting)
                params = sum(p.numel() for p in agent.net.parameters())
                for label, overrides in EVAL_SIZES[family]:
                    task = make_task(cfg.task.name, **{**cfg.task.params, **overrides})
                    row = {"family": family, "net": name, "instances": label, "parameters": params,
                           "train_cpu_minutes": round(cpu_minutes(run_dir), 2),
                           "episodes": args.episodes, "simulations": cfg.agent_simulations,
                           "raw_policy": evaluate(agent, task, args.episodes, 1),
                           "search": evaluate(agent, task, args.episodes, cfg.agent_simulations)}
                    print(json.dumps(row), flush=True)
                    rows.append(row)
    print("\n| family | instances | net | parameters | train CPU min | raw policy | search (sims) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['family']} | {r['instances']} | {r['net']} | {r['parameters']:,} | {r['train_cpu_minutes']:.1f} "
              f"| {100 * r['raw_policy']:.0f} % | {100 * r['search']:.0f} % ({r['simulations']}) |")


def tradeoff(args: argparse.Namespace) -> None:
    """The ``--tradeoff`` rows (module docstring)."""
    import time

    print("| family | instances | cycles | simulations | solve rate | CPU s |")
    print("|---|---|---|---|---|---|")
    for family in args.families.split(","):
        run_dir = Path(args.runs) / family / "trm"
        cfg = run_config(family, "trm", args)
        budget = cfg.agent_simulations * cfg.net.trm.cycles
        for cycles in (int(v) for v in args.cycles.split(",") if v):
            agent = load_agent(run_dir, recurrence=cycles)
            sims = max(1, budget // cycles)
            for label, overrides in EVAL_SIZES[family]:
                task = make_task(cfg.task.name, **{**cfg.task.params, **overrides})
                start = time.process_time()
                rate = evaluate(agent, task, args.episodes, sims)
                row = {"family": family, "instances": label, "cycles": cycles, "simulations": sims,
                       "solve_rate": rate, "cpu_seconds": round(time.process_time() - start, 1)}
                print(json.dumps(row), flush=True)
                print(f"| {family} | {label} | {cycles} | {sims} | {100 * rate:.0f} % | {row['cpu_seconds']} |")


if __name__ == "__main__":
    main()
