"""Per-family training runs and their held-out table: trained vs untrained search vs raw policy.

    python benchmarks/heldout_table.py [--families maze,knapsack,...] [--runs runs/families] [--episodes 200]

For each family it trains ``configs/<family>.yaml`` into ``<runs>/<family>`` (resuming a run that is already
there; a finished run is only evaluated), then solves ``--episodes`` held-out instances of the top level (and of
the level its curriculum ended at, when that is lower) with
the same search budget (the config's ``agent_simulations``) three ways: the trained net, the untrained net the
run started from, and the trained raw policy (1 simulation). Prints one JSON line per family and a markdown
table at the end (family, difficulty, untrained %, trained %, raw-policy %, optimality gap, held-out test-case
pass % of the trained agent's programs (code tasks), training minutes: wall and CPU).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

from zeroforge.agent import load_agent, untrained_agent
from zeroforge.arena.heldout import evaluate_held_out
from zeroforge.config import load_config
from zeroforge.trainer import SelfPlayTrainer

FAMILIES = ("maze", "knapsack", "tsp", "countdown", "logic", "blocksworld", "arithmetic", "linear_equation",
            "quadratic", "linear_system", "code_function", "code_sort", "code_class")
REPO = Path(__file__).resolve().parents[1]


def _train(family: str, run_dir: Path) -> list[dict[str, Any]]:
    """Train (or finish) the family's run; its metrics, one dict per iteration."""
    cfg = load_config(REPO / "configs" / f"{family}.yaml")
    SelfPlayTrainer(cfg, run_dir, resume=True).run()
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]


def _minutes(metrics: list[dict[str, Any]]) -> tuple[float, float | None]:
    """Training wall time and CPU time in minutes (sums over the iterations; CPU ``None`` for runs older than
    the ``iteration_cpu_seconds`` metric)."""
    wall = sum(m["iteration_seconds"] for m in metrics) / 60
    if not all("iteration_cpu_seconds" in m for m in metrics):
        return wall, None
    return wall, sum(m["iteration_cpu_seconds"] for m in metrics) / 60


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--runs", default="runs/families")
    ap.add_argument("--episodes", type=int, default=200)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    for family in [f.strip() for f in args.families.split(",") if f.strip()]:
        run_dir = Path(args.runs) / family
        metrics = _train(family, run_dir)
        minutes, cpu_minutes = _minutes(metrics)
        agent = load_agent(run_dir)
        untrained_evaluator = untrained_agent(agent).evaluator
        task, mcts, sims = agent.task, agent.mcts.config, agent.num_simulations
        # the top level, and the level the curriculum ended at when it never reached the top
        levels = sorted({task.difficulty_levels, int(metrics[-1].get("difficulty", task.difficulty_levels))})
        for level in levels:
            trained, untrained, raw = (
                evaluate_held_out(task, ev, mcts, args.episodes, difficulty=level, num_simulations=n)
                for ev, n in ((agent.evaluator, sims), (untrained_evaluator, sims), (agent.evaluator, 1))
            )
            row = {"family": family, "task": task.name, "difficulty": level, "simulations": sims,
                   "episodes": args.episodes, "train_minutes": round(minutes, 2),
                   "train_cpu_minutes": None if cpu_minutes is None else round(cpu_minutes, 2),
                   "trained": trained.to_dict(), "untrained": untrained.to_dict(), "raw_policy": raw.to_dict()}
            print(json.dumps(row), flush=True)
            rows.append(row)
    print("\n| family | task, level | sims | untrained | trained | raw policy (1 sim) | gap trained / untrained "
          "| held-out cases | train min (wall / CPU) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        def gap(rep: dict[str, object]) -> str:
            g = rep["optimality_gap"]
            return "–" if g is None else f"{float(g):.3f}"  # type: ignore[arg-type]

        cases = r["trained"]["heldout_case_pass_rate"]
        cpu = "–" if r["train_cpu_minutes"] is None else f"{r['train_cpu_minutes']:.1f}"

        print(f"| {r['family']} | {r['task']}, {r['difficulty']} | {r['simulations']} | "
              f"{_pct(r['untrained']['solve_rate'])} | {_pct(r['trained']['solve_rate'])} | "
              f"{_pct(r['raw_policy']['solve_rate'])} | {gap(r['trained'])} / {gap(r['untrained'])} | "
              f"{'–' if cases is None else _pct(cases)} | {r['train_minutes']:.1f} / {cpu} |")


if __name__ == "__main__":
    main()
