"""What every benchmark shares: one JSON object per figure on its own line; the families graded against an
optimum."""

from __future__ import annotations

import json

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
