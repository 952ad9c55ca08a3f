"""What every benchmark shares: one JSON object per figure on its own line; the families graded against an
optimum."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

#: families graded against an optimum, where "within 5 %" is the goal (issue 13: ``SolveReport.near_optimal_rate``)
NEAR_OPTIMAL = ("knapsack", "tsp")


def emit(name: str, value: float, unit: str, reference: float | None = None, *, higher_is_better: bool = True,
         note: str | None = None) -> dict[str, object]:
    """Print ``{"name", "value", "unit"[, "reference", "ratio"][, "note"]}``; ``ratio`` is ours / reference
    (reference / ours when lower is better), so a ratio above 1 is always a win. Returns the row."""
    row: dict[str, object] = {"name": name, "value": round(float(value), 4), "unit": unit}
    if reference is not None and reference > 0 and value > 0:
        row["reference"] = round(float(reference), 4)
        row["ratio"] = round(float(value) / reference if higher_is_better else reference / float(value), 3)
    if note:
        row["note"] = note
    print(json.dumps(row), flush=True)
    return row


def random_states(task: Any, n: int, seed: int = 0) -> list[Any]:
    """``n`` non-terminal states along uniformly random games of ``task`` (a new game from the next seed whenever
    one ends): positions for benchmarks whose speed does not depend on what the positions are."""
    rng = np.random.default_rng(seed)
    states = [task.initial_state(0)]
    while len(states) < n:
        s = states[-1]
        nxt = task.step(s, int(rng.choice(np.flatnonzero(s.legal_action_mask))))
        states.append(nxt if not nxt.terminal else task.initial_state(len(states)))
    return states
