"""Exact negamax solver speed: a cold solve of tic-tac-toe from the empty board (all 5478 reachable states),
and the warm per-task cache behind ``zeroforge.tasks.games.solver.solve`` (a lookup per call).

Prints one JSON object (``name``, ``value``, ``unit``, ``note``): the best of ``--repeats`` cold solves, with
the mean time of a warm ``solve`` call in the note. The claim the unit tests used to time (and now check
by counting: tests/test_solver.py): a cold solve well under 1 s, a warm call well under 1 ms.

    python benchmarks/solver_speed.py [--repeats 3] [--warm-calls 1000]
"""

from __future__ import annotations

import argparse
import time

from zeroforge.tasks import make_task
from zeroforge.tasks.games.solver import NegamaxSolver, solve

try:
    from _common import emit
except ImportError:  # run as a module from the repository root
    from benchmarks._common import emit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="cold solves (the best one is reported)")
    ap.add_argument("--warm-calls", type=int, default=1000, help="warm solve calls timed together")
    args = ap.parse_args()
    task = make_task("tictactoe")
    root = task.initial_state()
    cold = []
    for _ in range(args.repeats):
        solver = NegamaxSolver(task)
        start = time.perf_counter()
        value = solver.value(root)
        cold.append(time.perf_counter() - start)
        assert value == 0.0 and len(solver.cache) == 5478
    solve(task, root)  # warm the per-task cache
    start = time.perf_counter()
    for _ in range(args.warm_calls):
        solve(task, root)
    warm = (time.perf_counter() - start) / max(1, args.warm_calls)
    emit("solver_tictactoe_cold_solve", min(cold), "s", higher_is_better=False,
         note=f"5478 states; warm solve() {warm * 1e6:.1f} us per call over {args.warm_calls} calls")


if __name__ == "__main__":
    main()
