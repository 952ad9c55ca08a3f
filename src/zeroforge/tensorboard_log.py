"""TensorBoard event files of a run (``monitor.tensorboard``, ``zeroforge train --tensorboard``).

Each iteration writes every numeric metric of its ``metrics.jsonl`` record as a scalar (step = iteration; a
nested mapping such as per-family figures becomes ``key/sub``), and two histograms of the round's searched
positions (moves with a full search):

- ``search/visit_entropy``: the entropy of the root visit distribution, nats (0: all visits on one move);
- ``search/value_error``: root value minus the value target (the discounted return from the mover's view), both
  in [-1, 1] for the player to move: how far the search's estimate was from what happened.

Files go to ``<run_dir>/tensorboard``; ``tensorboard --logdir <run_dir>`` shows them. A resumed run purges the
events of iterations it re-runs (``purge_step``), so a crash leaves no doubled curves. ``tensorboard`` is an
optional extra (``pip install 'zeroforge[tensorboard]'``): it brings grpcio, protobuf, werkzeug and markdown, which
a training run has no other use for.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from zeroforge.data.table import EpisodeTable, segments
from zeroforge.data.targets import training_view

__all__ = ["TensorBoardLog", "search_histograms"]

SUBDIR = "tensorboard"


def search_histograms(table: EpisodeTable, discount: float) -> dict[str, np.ndarray]:
    """``{"visit_entropy": float64[M'], "value_error": float64[M']}`` over the trainable moves of ``table`` that
    had a full search (``M'`` of them; module docstring for the definitions)."""
    view = training_view(table, discount)
    full = table.full_searches[view.rows]
    moves = view.rows[full].astype(np.int64)
    row, entry, _ = segments(table.legal_offsets, moves)
    probs = table.visit_probs[entry].astype(np.float64)
    terms = np.where(probs > 0, -probs * np.log(np.where(probs > 0, probs, 1.0)), 0.0)
    entropy = np.bincount(row, weights=terms, minlength=len(moves))
    error = table.root_values[moves].astype(np.float64) - view.values[full].astype(np.float64)
    return {"visit_entropy": entropy, "value_error": error}


def _scalars(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_scalars(value, f"{name}/"))
        elif isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value):
            out[name] = float(value)
    return out


class TensorBoardLog:
    """The event-file writer of one run directory (module docstring). ``first_step``: the iteration the run
    continues from (events of that step and later, left by an interrupted run, are purged)."""

    def __init__(self, run_dir: str | Path, first_step: int = 0) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ImportError("TensorBoard logging needs the tensorboard package: pip install "
                              "'zeroforge[tensorboard]'") from None
        self.log_dir = Path(run_dir) / SUBDIR
        self._writer = SummaryWriter(str(self.log_dir), purge_step=first_step if first_step > 0 else None)

    def log_iteration(self, iteration: int, metrics: Mapping[str, Any], table: EpisodeTable | None = None,
                      discount: float = 1.0) -> None:
        """Scalars of ``metrics`` and, with a self-play round's ``table``, its search histograms; flushed."""
        for name, value in _scalars(metrics).items():
            if name != "iteration":
                self._writer.add_scalar(name, value, iteration)
        if table is not None and table.num_moves:
            for name, values in search_histograms(table, discount).items():
                if len(values):
                    self._writer.add_histogram(f"search/{name}", values, iteration)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
