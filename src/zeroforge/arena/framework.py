"""``EvaluationFramework`` (the spec's name): everything we measure about a trained agent, from one object.

- single-agent tasks: held-out solve rate, optimality gap and search budget **per difficulty level**
  (``evaluate_held_out`` at each level: instances no training seed draws);
- two-player games: the score against each fixed anchor (``random``; ``rollout``, MCTS with random playouts;
  ``perfect``, the exact solver, for solvable games) over games from both seats, and for solvable games the
  perfect-play check;
- a run's quality metrics (``report.quality_metrics`` of its ``metrics.jsonl``).

The agent searches as it plays (its ``num_simulations``, no noise, most visited move); ``metrics`` flattens the
results into the names the trainer's metrics use (``heldout_solve_rate_level_<k>``, ``score_vs_<anchor>``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zeroforge.agent import Agent
from zeroforge.arena.evaluation import PerfectPlayReport, perfect_play_check
from zeroforge.arena.heldout import SolveReport, evaluate_held_out
from zeroforge.arena.match import MatchResult, SearchPlayer, anchor_player, play_match

__all__ = ["EvaluationFramework"]

#: rollout anchor's simulations when the agent has no config to take ``arena.rollout_simulations`` from
ROLLOUT_SIMULATIONS = 200


class EvaluationFramework:
    """Evaluates ``agent`` (module docstring); ``seed`` seeds the anchors' and openings' randomness."""

    def __init__(self, agent: Agent, seed: int = 0) -> None:
        self.agent = agent
        self.task = agent.task
        self.seed = seed

    # -- single-agent ------------------------------------------------------------------------------------

    def solve_rates(self, episodes: int = 100, levels: Sequence[int] | None = None,
                    num_simulations: int | None = None) -> dict[int, SolveReport]:
        """``level -> SolveReport`` on ``episodes`` held-out instances at each of ``levels`` (default: every level
        of the task)."""
        if self.task.num_players != 1:
            raise ValueError(f"solve rates are for single-agent tasks; {self.task.name!r} is a two-player game "
                             f"(use anchor_scores)")
        wanted = range(1, self.task.difficulty_levels + 1) if levels is None else levels
        sims = self.agent.num_simulations if num_simulations is None else num_simulations
        return {self.task.check_difficulty(k): evaluate_held_out(self.task, self.agent.evaluator,
                                                                 self.agent.mcts.config, episodes, k, sims)
                for k in wanted}

    # -- two-player --------------------------------------------------------------------------------------

    def default_anchors(self) -> tuple[str, ...]:
        return ("random", "rollout", "perfect") if self.task.solvable else ("random", "rollout")

    def _me(self) -> SearchPlayer:
        return SearchPlayer(self.agent.name, self.task, self.agent.evaluator, self.agent.mcts.config,
                            self.agent.num_simulations)

    def anchor_scores(self, anchors: Sequence[str] | None = None, games: int = 20) -> dict[str, MatchResult]:
        """``anchor -> MatchResult`` (counts from the agent's side) over ``games`` games against each anchor, half
        from each seat."""
        if self.task.num_players != 2:
            raise ValueError(f"anchor scores are for two-player games; {self.task.name!r} is single-agent "
                             f"(use solve_rates)")
        rng = np.random.default_rng(self.seed)
        me = self._me()
        cfg = self.agent.config
        rollout_sims = cfg.arena.rollout_simulations if cfg is not None else ROLLOUT_SIMULATIONS
        return {name: play_match(self.task, me, anchor_player(name, self.task, self.agent.mcts.config, rollout_sims,
                                                              rng), games, rng)
                for name in (self.default_anchors() if anchors is None else anchors)}

    def perfect_play(self) -> PerfectPlayReport:
        """The perfect-play check (every optimal reply of the solver, both seats); solvable games only."""
        if self.task.num_players != 2 or not self.task.solvable:
            raise ValueError(f"the perfect-play check needs a solvable two-player game; {self.task.name!r} is not")
        return perfect_play_check(self.task, self._me())

    # -- both ---------------------------------------------------------------------------------------------

    def metrics(self, episodes: int = 100, games: int = 20) -> dict[str, Any]:
        """The agent's figures under the trainer's metric names: per level ``heldout_solve_rate_level_<k>`` (and
        ``heldout_optimality_gap_level_<k>`` where graded), or per anchor ``score_vs_<anchor>``."""
        out: dict[str, Any] = {}
        if self.task.num_players == 1:
            for k, rep in self.solve_rates(episodes).items():
                out[f"heldout_solve_rate_level_{k}"] = rep.solve_rate
                if rep.optimality_gap is not None:
                    out[f"heldout_optimality_gap_level_{k}"] = rep.optimality_gap
        else:
            for name, res in self.anchor_scores(games=games).items():
                out[f"score_vs_{name}"] = res.score
                out[f"losses_vs_{name}"] = res.losses / res.games
        return out

    @staticmethod
    def quality_metrics(run_dir: str | Path) -> dict[str, float]:
        """The spec's quality metrics of a run (``report.quality_metrics`` of ``RUN/metrics.jsonl``)."""
        from zeroforge.report import quality_metrics, read_metrics
        from zeroforge.runstate import METRICS_FILE

        path = Path(run_dir) / METRICS_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{run_dir}: no {METRICS_FILE}")
        return quality_metrics(read_metrics(path))
