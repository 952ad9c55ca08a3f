"""The evaluation's parameters (``arena`` in a run's config)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zeroforge.params import at_least, require, unit_interval

__all__ = ["ANCHORS", "ArenaConfig"]

#: the fixed opponents the best net is measured against
ANCHORS = ("random", "rollout", "perfect")


@dataclass(frozen=True)
class ArenaConfig:
    """Evaluation: candidate vs best (gating) and games against fixed anchors.

    With ``gating`` off the candidate always replaces the best (AlphaZero's continuous update).
    ``opening_random_moves`` random plies start each arena game so that deterministic players meet in
    varied positions. Anchors: ``random``, ``rollout`` (pure random-rollout MCTS with
    ``rollout_simulations``) and ``perfect`` (a minimax player; only for solvable games).
    Single-agent tasks are evaluated instead on ``heldout_episodes`` held-out instances of the top level
    (seeds never used in training), searching with ``num_simulations``.
    """

    SECTION: ClassVar[str] = "arena"

    gating: bool = False
    games: int = 20
    win_threshold: float = 0.55
    num_simulations: int = 32
    opening_random_moves: int = 1
    anchors: tuple[str, ...] = ("random", "rollout", "perfect")
    anchor_games: int = 20
    rollout_simulations: int = 32
    eval_every: int = 1
    heldout_episodes: int = 64

    def __post_init__(self) -> None:
        at_least(self, "games", 1 if self.gating else 0, 10**6)
        unit_interval(self, "win_threshold")
        at_least(self, "num_simulations", 1, 10**6)
        at_least(self, "opening_random_moves", 0, 1000)
        unknown = sorted(set(self.anchors) - set(ANCHORS))
        require(self, "anchors", not unknown, f"a subset of {sorted(ANCHORS)} (unknown: {unknown})")
        require(self, "anchors", len(set(self.anchors)) == len(self.anchors), "without duplicates")
        at_least(self, "anchor_games", 0, 10**6)
        at_least(self, "rollout_simulations", 1, 10**6)
        at_least(self, "eval_every", 1, 10**7)
        at_least(self, "heldout_episodes", 0, 10**7)
