"""``AgentTrainingOrchestrator``: the spec's two-phase facade (``train_phase("supervised")`` on solver
demonstrations, then self-play fine-tuning from that net) over one resumable ``SelfPlayTrainer`` run.

Both phases are iterations of the same run (``config.supervised.iterations`` supervised ones first, then
``config.iterations`` of self-play): one run directory, one metrics file whose lines say their ``phase``, one
learning curve, one checkpoint series, so a crash in either phase resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from zeroforge.config import ZeroforgeConfig
from zeroforge.trainer import ProgressFn, SelfPlayTrainer

__all__ = ["PHASES", "AgentTrainingOrchestrator"]

PHASES = ("supervised", "selfplay")


class AgentTrainingOrchestrator:
    """Runs a config's phases one at a time: ``train_phase("supervised")``, then ``train_phase("selfplay")``
    (``run()`` does both). ``resume=True`` continues the run in ``run_dir`` from its newest checkpoint."""

    def __init__(self, config: ZeroforgeConfig | Mapping[str, Any] | None = None,
                 run_dir: str | Path = "runs/default", *, resume: bool = False, device: str | None = None,
                 on_progress: ProgressFn | None = None) -> None:
        self.trainer = SelfPlayTrainer(config, run_dir, resume=resume, device=device, on_progress=on_progress)

    @property
    def model(self) -> torch.nn.Module:
        """The best net so far (after the supervised phase: the pre-trained net self-play starts from)."""
        return self.trainer.best_net

    def train_phase(self, phase: str) -> list[dict[str, Any]]:
        """Run the remaining iterations of ``phase`` (``supervised`` or ``selfplay``; fewer once the run's
        ``cpu_budget_minutes`` is spent); returns their metrics. The self-play phase needs the supervised one done
        first (a one-line ``ValueError`` otherwise)."""
        if phase not in PHASES:
            raise ValueError(f"unknown training phase {phase!r}; choose one of {list(PHASES)}")
        cfg, trainer = self.trainer.config, self.trainer
        first_selfplay = cfg.supervised.iterations
        if phase == "selfplay" and trainer.next_iteration < first_selfplay:
            raise ValueError(f"the supervised phase is not done ({trainer.next_iteration} of {first_selfplay} "
                             f"iterations): run train_phase('supervised') first")
        end = first_selfplay if phase == "supervised" else cfg.total_iterations
        return trainer.run_until(end)

    def run(self) -> list[dict[str, Any]]:
        """Both phases in order; the worker processes are stopped at the end."""
        try:
            return [m for phase in PHASES for m in self.train_phase(phase)]
        finally:
            self.close()

    def close(self) -> None:
        self.trainer.close()

    def __enter__(self) -> AgentTrainingOrchestrator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
