"""``Evaluation``: after training, one verdict on the candidate net (DESIGN §1, the trainer's third part).

- **gating** (two-player tasks with ``arena.gating``): candidate vs best over ``arena.games``; the candidate
  becomes the best net if it scores at least ``win_threshold``; without gating (and for single-agent tasks) it
  always does;
- **anchors** (every ``eval_every`` iterations and at the last one): the best net, searching with
  ``arena.num_simulations``, against each fixed anchor (``random``, ``rollout`` MCTS, ``perfect`` play), an Elo
  fit over all anchor games so far, and for solvable games the perfect-play check;
- **held-out** (single-agent tasks): the best net on ``arena.heldout_episodes`` held-out instances of the top
  level: solve rate, optimality gap, mean score, held-out test-case pass rate.

The Elo games are the only state (``state_dict`` for checkpoints).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from zeroforge.arena.elo import GameRecord, fit_elo
from zeroforge.arena.evaluation import perfect_play_check
from zeroforge.arena.heldout import evaluate_held_out
from zeroforge.arena.match import SearchPlayer, anchor_player, play_match
from zeroforge.params import ConfigError
from zeroforge.search.evaluator import NetworkEvaluator
from zeroforge.tasks.base import Task
from zeroforge.tasks.mix import MixedTask

if TYPE_CHECKING:
    from zeroforge.config import ZeroforgeConfig

__all__ = ["Evaluation", "Verdict"]

#: ``on_progress(stage, done, total)``
ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Verdict:
    """Whether the candidate replaces the best net, and the evaluation's metrics."""

    accepted: bool
    metrics: dict[str, Any] = field(default_factory=dict)


class Evaluation:
    """Gating, anchors, Elo and held-out sets for one task and config (see the module docstring)."""

    def __init__(self, task: Task, config: ZeroforgeConfig, device: torch.device) -> None:
        if task.num_players == 2 and "perfect" in config.arena.anchors and not task.solvable:
            raise ConfigError(f"arena.anchors: the 'perfect' anchor needs a solvable game; "
                              f"{config.task.name!r} is not (drop 'perfect' from arena.anchors)")
        self.task, self.config, self.device = task, config, device
        self.elo_games: list[GameRecord] = []

    def run(self, i: int, candidate: torch.nn.Module, best: torch.nn.Module, rng: np.random.Generator,
            on_progress: ProgressFn | None = None) -> Verdict:
        """Iteration ``i``'s verdict: the gate, then (when due) the anchors or held-out set, played by the net
        that is best after the gate."""
        progress = on_progress or (lambda stage, done, total: None)
        accepted, metrics = self._gate(candidate, best, rng, progress)
        if self._due(i):
            winner = candidate if accepted else best
            metrics.update(self._held_out(winner, progress) if self.task.num_players == 1
                           else self._anchors(i, winner, rng, progress))
        return Verdict(accepted, metrics)

    def state_dict(self) -> dict[str, Any]:
        return {"elo_games": [[g.player_a, g.player_b, g.score_a] for g in self.elo_games]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.elo_games = [GameRecord(a, b, float(s)) for a, b, s in state["elo_games"]]

    # -- parts -------------------------------------------------------------------------------------------

    def _due(self, i: int) -> bool:
        every = self.config.arena.eval_every
        last = (self.config.supervised.iterations - 1, self.config.total_iterations - 1)  # the end of each phase
        return every > 0 and (i % every == 0 or i in last)

    def _player(self, name: str, net: torch.nn.Module, sims: int) -> SearchPlayer:
        return SearchPlayer(name, self.task, NetworkEvaluator(net, self.device), self.config.mcts, sims)

    def _gate(self, candidate: torch.nn.Module, best: torch.nn.Module, rng: np.random.Generator,
              progress: ProgressFn) -> tuple[bool, dict[str, Any]]:
        arena = self.config.arena
        if not arena.gating or self.task.num_players != 2:
            return True, {"accepted": True}
        progress("arena", 0, arena.games)
        result = play_match(self.task, self._player("candidate", candidate, arena.num_simulations),
                            self._player("best", best, arena.num_simulations), arena.games, rng,
                            arena.opening_random_moves)
        progress("arena", arena.games, arena.games)
        accepted = result.score >= arena.win_threshold
        return accepted, {"arena_score": result.score, "arena_wins": result.wins, "arena_draws": result.draws,
                          "arena_losses": result.losses, "accepted": accepted}

    def _anchors(self, i: int, net: torch.nn.Module, rng: np.random.Generator, progress: ProgressFn) -> dict[str, Any]:
        arena = self.config.arena
        if not arena.anchors:
            return {}
        me = f"iter{i}"
        agent = self._player(me, net, arena.num_simulations)
        out: dict[str, Any] = {}
        for k, name in enumerate(arena.anchors):
            progress("anchors", k, len(arena.anchors))
            opponent = anchor_player(name, self.task, self.config.mcts, arena.rollout_simulations, rng)
            res = play_match(self.task, agent, opponent, arena.anchor_games, rng, arena.opening_random_moves)
            out[f"win_rate_vs_{name}"] = res.wins / res.games
            out[f"score_vs_{name}"] = res.score
            out[f"losses_vs_{name}"] = res.losses / res.games
            self.elo_games += [GameRecord(me, name, 1.0)] * res.wins + [GameRecord(me, name, 0.5)] * res.draws \
                + [GameRecord(me, name, 0.0)] * res.losses
        progress("anchors", len(arena.anchors), len(arena.anchors))
        anchor = "random" if "random" in arena.anchors else arena.anchors[0]
        out["elo"] = fit_elo(self.elo_games, anchor=anchor)[me]
        out["elo_anchor"] = anchor
        if "perfect" in arena.anchors:
            report = perfect_play_check(self.task, self._player(me, net, self.config.agent_simulations))
            out.update(perfect_play_losses=report.losses, perfect_play_mistakes=report.mistakes,
                       perfect_play_draws=report.draws, perfect_play_wins=report.wins)
        return out

    def _held_out(self, net: torch.nn.Module, progress: ProgressFn) -> dict[str, Any]:
        """Held-out solve rate (and gap, score, within-5 % share, test-case pass rate where the task has them) at
        the top level; a mix is evaluated family by family on its members (``heldout_solve_rate_<family>`` ...,
        ``heldout_episodes`` instances each) and ``heldout_solve_rate`` is their mean."""
        arena = self.config.arena
        if arena.heldout_episodes == 0:
            return {}
        tasks = ({f: self.task.members[f] for f, w in self.task.weights.items() if w > 0}
                 if isinstance(self.task, MixedTask) else {"": self.task})
        out: dict[str, Any] = {}
        for k, (family, task) in enumerate(tasks.items()):
            progress("held-out", k * arena.heldout_episodes, len(tasks) * arena.heldout_episodes)
            report = evaluate_held_out(task, NetworkEvaluator(net, self.device), self.config.mcts,
                                       arena.heldout_episodes, num_simulations=arena.num_simulations,
                                       parallel_batch_size=self.config.selfplay.parallel_batch_size)
            figures = {"heldout_solve_rate": report.solve_rate, "heldout_optimality_gap": report.optimality_gap,
                       "heldout_mean_score": report.mean_score, "heldout_near_optimal": report.near_optimal_rate,
                       "heldout_case_pass_rate": report.heldout_case_pass_rate}
            out.update({f"{key}_{family}" if family else key: v for key, v in figures.items() if v is not None})
        if len(tasks) > 1 or "" not in tasks:
            out["heldout_solve_rate"] = float(np.mean([out[f"heldout_solve_rate_{f}"] for f in tasks]))
        progress("held-out", len(tasks) * arena.heldout_episodes, len(tasks) * arena.heldout_episodes)
        return out
