"""Per-family training runs and their held-out table: untrained search, supervised only, supervised + self-play and
the raw policy, at the trained instance size and at sizes around it.

    python benchmarks/heldout_table.py [--families maze,knapsack,...] [--runs runs/families] [--episodes 200]
                                       [--sizes -1,0,1] [--no-train] [--simulations N] [--recurrence R]

For each family it trains ``configs/<family>.yaml`` into ``<runs>/<family>`` (resuming a run that is already there;
a finished run is only evaluated; ``--no-train`` only evaluates what is there), then solves ``--episodes`` held-out
instances of the top level with the config's search budget (``agent_simulations``) four ways: the untrained net the
run started from, the net at the end of the supervised phase (runs with one: that checkpoint is kept), the final net,
and the final net's raw policy (1 simulation). Size-free families are evaluated at several instance sizes, the
trained one plus the offsets of ``--sizes`` along the family's size parameter (``SIZE_PARAMS``: maze ``size``,
knapsack ``num_items``, ..., code_function ``num_examples``: more examples are more tokens), so a positive offset
is a size larger than any trained. ``--simulations`` replaces the config's search budget (every column but the raw
policy), ``--recurrence`` a recurrent pointer net's passes (every column: ``load_agent(recurrence=)``). A curriculum
run that never reached the top level is evaluated at the level it ended at too.

Prints one JSON line per row and a markdown table at the end: solve rate per column and, for families graded against
an optimum (knapsack, tsp), the share within 5 % of it in brackets (``SolveReport.near_optimal_rate``); then the
trained agent's optimality gap, held-out test-case pass rate (code tasks) and the training minutes (wall / CPU).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

try:
    from _common import NEAR_OPTIMAL
except ImportError:  # run as a module from the repository root
    from benchmarks._common import NEAR_OPTIMAL
from zeroforge.agent import Agent, load_agent, untrained_agent
from zeroforge.arena.heldout import SolveReport, evaluate_held_out
from zeroforge.checkpoint import checkpoint_dir
from zeroforge.config import load_config
from zeroforge.tasks import Task, make_task
from zeroforge.trainer import SelfPlayTrainer

FAMILIES = ("maze", "knapsack", "tsp", "countdown", "logic", "blocksworld", "arithmetic", "linear_equation",
            "quadratic", "linear_system", "code_function", "code_sort", "code_class")
#: the task parameter that sets a size-free family's instance size (its top level draws that size)
SIZE_PARAMS = {"maze": "size", "knapsack": "num_items", "tsp": "num_cities", "blocksworld": "num_blocks",
               "countdown": "num_numbers", "logic": "max_depth", "code_function": "num_examples"}
REPO = Path(__file__).resolve().parents[1]
COLUMNS = ("untrained", "supervised", "trained", "raw_policy")


def _metrics(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]


def _minutes(metrics: list[dict[str, Any]]) -> tuple[float, float | None]:
    """Training wall time and CPU time in minutes (sums over the iterations; CPU ``None`` for runs older than
    the ``iteration_cpu_seconds`` metric)."""
    wall = sum(m["iteration_seconds"] for m in metrics) / 60
    if not all("iteration_cpu_seconds" in m for m in metrics):
        return wall, None
    return wall, sum(m["iteration_cpu_seconds"] for m in metrics) / 60


def _supervised_agent(run_dir: Path, agent: Agent, recurrence: int | None) -> Agent | None:
    """The agent at the end of the run's supervised phase, ``None`` if the run has none (or it was pruned)."""
    assert agent.config is not None
    n = agent.config.supervised.iterations
    path = checkpoint_dir(run_dir, n - 1)
    if n == 0 or not path.is_dir() or agent.config.total_iterations == n:
        return None
    return load_agent(path, recurrence=recurrence)


def _tasks(family: str, agent: Agent, offsets: list[int]) -> list[tuple[int | None, bool, Task]]:
    """``(size, trained, task)`` per evaluated size: the trained size and its offsets for size-free families."""
    assert agent.config is not None
    params = dict(agent.config.task.params)
    param = SIZE_PARAMS.get(family)
    if param is None or not hasattr(agent.task, param):
        return [(None, True, agent.task)]
    trained = int(params.get(param, getattr(agent.task, param)))  # the config's, else the task's default
    out: list[tuple[int | None, bool, Task]] = []
    for off in sorted(set(offsets) | {0}):
        size = trained + off
        try:
            task = make_task(agent.config.task.name, **{**params, param: size})
        except ValueError:
            continue  # beyond the family's bounds (or below its smallest instance)
        out.append((size, off <= 0, task))
    return out


def _cell(rep: dict[str, Any] | None, family: str) -> str:
    if rep is None:
        return "–"
    text = f"{100 * rep['solve_rate']:.0f} %"
    if family in NEAR_OPTIMAL and rep["near_optimal_rate"] is not None:
        text += f" ({100 * rep['near_optimal_rate']:.0f} %)"
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--runs", default="runs/families")
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--sizes", default="-1,0,1", help="size offsets from the trained size (size-free families)")
    ap.add_argument("--no-train", action="store_true", help="evaluate the runs that are there, train nothing")
    ap.add_argument("--simulations", type=int, help="search budget per move (default: the config's agent_simulations)")
    ap.add_argument("--recurrence", type=int, help="passes of a recurrent pointer net (default: its net.recurrence)")
    args = ap.parse_args()
    offsets = [int(v) for v in args.sizes.split(",") if v.strip()]
    torch.set_num_threads(1)
    rows = []
    for family in [f.strip() for f in args.families.split(",") if f.strip()]:
        run_dir = Path(args.runs) / family
        if not args.no_train:
            SelfPlayTrainer(load_config(REPO / "configs" / f"{family}.yaml"), run_dir, resume=True).run()
        metrics = _metrics(run_dir)
        minutes, cpu_minutes = _minutes(metrics)
        agent = load_agent(run_dir, num_simulations=args.simulations, recurrence=args.recurrence)
        evaluators = {"untrained": untrained_agent(agent).evaluator, "trained": agent.evaluator}
        supervised = _supervised_agent(run_dir, agent, args.recurrence)
        if supervised is not None:
            evaluators["supervised"] = supervised.evaluator
        mcts, sims = agent.mcts.config, agent.num_simulations
        for size, trained_size, task in _tasks(family, agent, offsets):
            # the top level, and the level the curriculum ended at when it never reached the top
            top = task.difficulty_levels
            levels = sorted({top, min(top, int(metrics[-1].get("difficulty", top)))}) if trained_size else [top]
            for level in levels:
                reports: dict[str, SolveReport] = {}
                for name, n in (("untrained", sims), ("supervised", sims), ("trained", sims), ("raw_policy", 1)):
                    ev = evaluators.get("trained" if name == "raw_policy" else name)
                    if ev is not None:
                        reports[name] = evaluate_held_out(task, ev, mcts, args.episodes, difficulty=level,
                                                          num_simulations=n)
                row = {"family": family, "task": task.name, "size_param": SIZE_PARAMS.get(family), "size": size,
                       "trained_size": trained_size, "difficulty": level, "simulations": sims,
                       "recurrence": getattr(agent.net, "recurrence", None),
                       "episodes": args.episodes, "train_minutes": round(minutes, 2),
                       "train_cpu_minutes": None if cpu_minutes is None else round(cpu_minutes, 2),
                       **{name: (reports[name].to_dict() if name in reports else None) for name in COLUMNS}}
                print(json.dumps(row), flush=True)
                rows.append(row)
    print("\n| family | size, level | sims | untrained | supervised only | supervised + self-play | raw policy (1 sim) "
          "| gap | held-out cases | train min (wall / CPU) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        gap, cases = r["trained"]["optimality_gap"], r["trained"]["heldout_case_pass_rate"]
        cpu = "–" if r["train_cpu_minutes"] is None else f"{r['train_cpu_minutes']:.1f}"
        at = "" if r["size"] is None else f"{r['size_param']}={r['size']}{'' if r['trained_size'] else ' (larger)'}, "
        print(f"| {r['family']} | {at}{r['difficulty']} | {r['simulations']} | "
              + " | ".join(_cell(r[c], r["family"]) for c in COLUMNS)
              + f" | {'–' if gap is None else f'{gap:.3f}'} | {'–' if cases is None else f'{100 * cases:.0f} %'} "
              f"| {r['train_minutes']:.1f} / {cpu} |")


if __name__ == "__main__":
    main()
