"""Shared fixtures: barely trained agents (one small iteration), built once per test session and worker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from zeroforge.config import load_config
from zeroforge.trainer import SelfPlayTrainer

#: one iteration of a few episodes and steps: an agent that loads and searches, not one that plays well
TINY_RUN = ["iterations=1", "selfplay.games_per_iteration=8", "selfplay.parallel_batch_size=8",
            "mcts.num_simulations=4", "train.steps_per_iteration=2", "train.batch_size=16", "arena.anchors=[random]",
            "arena.anchor_games=2", "arena.num_simulations=2", "arena.heldout_episodes=2", "agent_simulations=4"]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``tiny_run(*overrides)``: the run directory of a ``TINY_RUN`` training with these ``--set`` overrides
    (built on first use, then shared)."""
    runs: dict[tuple[str, ...], Path] = {}

    def make(*overrides: str) -> Path:
        if overrides not in runs:
            run = tmp_path_factory.mktemp("tiny_run")
            SelfPlayTrainer(load_config(None, [*TINY_RUN, *overrides]), run).run()
            runs[overrides] = run
        return runs[overrides]

    return make
