"""Held-out evaluation of single-agent tasks: solve rate, optimality gap and search budget.

Held-out instances come from seeds that training never draws: training episode ``k`` of iteration ``i`` uses
seed ``i * 1_000_003 + k`` (below ``HELDOUT_SEED_BASE`` for any run shorter than ~10**6 iterations), while
``held_out_seeds(n, difficulty)`` are ``HELDOUT_SEED_BASE + difficulty * 10**7 + k``: a fixed set per
family and difficulty that every evaluation of every run shares.

``evaluate_held_out`` solves each instance with deterministic search (no root noise, most visited action,
``num_simulations`` per move; ``1`` simulation plays the raw policy's top move) and reports:

- ``solve_rate``: share of episodes the task's verifier calls ``success``;
- ``optimality_gap``: mean ``1 - score`` over the solved episodes of graded tasks (0 = every solution
  optimal: shortest path, optimal tour, ...), ``None`` for tasks without ``score``;
- ``mean_score``: mean ``score`` over all episodes (failures count 0 where the task says so);
- ``near_optimal_rate``: share of all episodes (solved or not) within 5 % of the optimum, i.e. ``score >=
  NEAR_OPTIMAL_SCORE = 1 / 1.05``: a tour at most 5 % longer than the optimal one, a packing worth at least
  95.2 % of the optimal value (a hair stricter than 5 % for maximisation); ``None`` for tasks without ``score``;
- ``heldout_case_pass_rate``: mean share of each instance's held-out test cases that the final solution
  passes (program synthesis: generalisation beyond the visible cases), ``None`` for tasks without them;
- the search budget: moves, simulations in total and per episode.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from zeroforge.search.evaluator import Evaluator
from zeroforge.search.params import MCTSConfig
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator
from zeroforge.tasks.base import Task

__all__ = ["HELDOUT_SEED_BASE", "NEAR_OPTIMAL_SCORE", "SolveReport", "evaluate_held_out", "held_out_seeds",
           "training_seed"]

HELDOUT_SEED_BASE = 10**12
_TRAIN_STRIDE = 1_000_003
NEAR_OPTIMAL_SCORE = 1.0 / 1.05


def training_seed(iteration: int, episode: int) -> int:
    """The instance seed of self-play episode ``episode`` of ``iteration`` (never a held-out seed)."""
    seed = iteration * _TRAIN_STRIDE + episode
    if seed >= HELDOUT_SEED_BASE:
        raise ValueError(f"training seed {seed} would reach the held-out range (>= {HELDOUT_SEED_BASE})")
    return seed


def held_out_seeds(num: int, difficulty: int) -> list[int]:
    """The first ``num`` held-out instance seeds of ``difficulty`` (the same for every run)."""
    if num < 0 or num > 10**7:
        raise ValueError(f"held-out set size must be in 0..10**7, got {num}")
    if difficulty < 1:
        raise ValueError(f"difficulty must be >= 1, got {difficulty}")
    first = HELDOUT_SEED_BASE + difficulty * 10**7
    return list(range(first, first + num))


@dataclass(frozen=True)
class SolveReport:
    """What ``evaluate_held_out`` measured (see the module docstring)."""

    task: str
    difficulty: int
    episodes: int
    num_simulations: int
    solve_rate: float
    optimality_gap: float | None
    mean_score: float | None
    near_optimal_rate: float | None
    heldout_case_pass_rate: float | None
    mean_moves: float
    simulations_total: int
    simulations_per_episode: float
    outcomes: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_held_out(task: Task, evaluator: Evaluator, mcts: MCTSConfig, num_episodes: int,
                      difficulty: int | None = None, num_simulations: int | None = None,
                      parallel_batch_size: int = 256, seeds: list[int] | None = None) -> SolveReport:
    """Solve ``num_episodes`` held-out instances of ``task`` at ``difficulty`` (default: the top level)."""
    if task.num_players != 1:
        raise ValueError(f"held-out evaluation is for single-agent tasks; {task.name} has {task.num_players} players")
    level = task.check_difficulty(difficulty)
    sims = mcts.num_simulations if num_simulations is None else int(num_simulations)
    if sims < 1:
        raise ValueError(f"num_simulations must be >= 1, got {sims}")
    seeds = held_out_seeds(num_episodes, level) if seeds is None else list(seeds)
    if not seeds:
        raise ValueError("held-out evaluation needs at least one episode")
    config = replace(mcts, num_simulations=sims, temperature_threshold=0)
    generator = SelfPlayEpisodeGenerator(task, evaluator, config, parallel_batch_size, add_noise=False)
    episodes = generator.generate(seeds, np.random.default_rng(0), difficulties=[level] * len(seeds))
    outcomes = {k: sum(e.outcome == k for e in episodes) for k in ("success", "failure", "timeout", "error")}
    scores = [task.score(e.states[-1]) for e in episodes]
    graded = [s for s in scores if s is not None]
    case_rates = [r for r in (task.heldout_pass_rate(e.states[-1]) for e in episodes) if r is not None]
    solved = [s for e, s in zip(episodes, scores, strict=True) if e.outcome == "success" and s is not None]
    sims_total = sum(t.num_simulations for e in episodes for t in e.mcts_traces)
    return SolveReport(
        task=task.name,
        difficulty=level,
        episodes=len(episodes),
        num_simulations=sims,
        solve_rate=outcomes["success"] / len(episodes),
        optimality_gap=float(np.mean([1.0 - s for s in solved])) if solved else None,
        mean_score=float(np.mean(graded)) if graded else None,
        near_optimal_rate=(float(np.mean([s is not None and s >= NEAR_OPTIMAL_SCORE for s in scores]))
                           if graded else None),
        heldout_case_pass_rate=float(np.mean(case_rates)) if case_rates else None,
        mean_moves=float(np.mean([e.episode_length for e in episodes])),
        simulations_total=int(sims_total),
        simulations_per_episode=sims_total / len(episodes),
        outcomes=outcomes,
    )
