"""A trained size-free agent on held-out instances of several sizes: one checkpoint, the sizes it was trained on
and larger ones (issue 13's table).

    python benchmarks/heldout_sizes.py RUN --param size --values 4,5,6,7 [--episodes 100]

``RUN`` is a run directory (or checkpoint) of a structured task; ``--param`` the task parameter that sets the size
of the drawn instances (maze ``size``, knapsack ``num_items``, tsp ``num_cities``, blocksworld ``num_blocks``,
countdown ``num_numbers``); every other task parameter stays the run's. For each value it solves ``--episodes``
held-out instances of the top level with the agent's search budget and with the raw policy (1 simulation) and
prints one JSON line: solve rate, mean score, optimality gap of the solved ones, mean moves, seconds.
"""

from __future__ import annotations

import argparse
import json
import time

from zeroforge.agent import load_agent
from zeroforge.arena.heldout import evaluate_held_out
from zeroforge.tasks import make_task


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", help="run directory or checkpoint of a structured task")
    ap.add_argument("--param", required=True, help="the task parameter that sets the instance size")
    ap.add_argument("--values", required=True, help="comma-separated sizes, e.g. 4,5,6")
    ap.add_argument("--episodes", type=int, default=100)
    args = ap.parse_args()
    agent = load_agent(args.run)
    if agent.config is None:
        raise SystemExit("error: the agent has no run config")
    params = dict(agent.config.task.params)
    for value in (int(v) for v in args.values.split(",")):
        task = make_task(agent.config.task.name, **{**params, args.param: value})
        for sims in (agent.num_simulations, 1):
            start = time.perf_counter()
            r = evaluate_held_out(task, agent.evaluator, agent.mcts.config, args.episodes, num_simulations=sims)
            print(json.dumps({"task": task.name, args.param: value, "trained": params.get(args.param),
                              "simulations": sims, "solve_rate": r.solve_rate, "mean_score": r.mean_score,
                              "optimality_gap": r.optimality_gap, "mean_moves": r.mean_moves,
                              "seconds": round(time.perf_counter() - start, 1)}), flush=True)


if __name__ == "__main__":
    main()
