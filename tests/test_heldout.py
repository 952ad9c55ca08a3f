"""Held-out evaluation: seeds apart from training's, solve rate and optimality gap on known answers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from zeroforge.arena.heldout import (
    HELDOUT_SEED_BASE,
    NEAR_OPTIMAL_SCORE,
    evaluate_held_out,
    held_out_seeds,
    training_seed,
)
from zeroforge.config import MCTSConfig
from zeroforge.search.evaluator import UniformEvaluator
from zeroforge.tasks import State, Task, make_task
from zeroforge.tasks.search.maze import bfs_distance


class ShortestPathOracle:
    """Priors: all mass on a move that shortens the BFS distance to the goal; value +1 (a known answer)."""

    def evaluate_states(self, task: Task, states: Sequence[State]) -> tuple[np.ndarray, np.ndarray]:
        priors = np.zeros((len(states), task.num_actions), np.float32)
        for b, s in enumerate(states):
            here = bfs_distance(s)  # type: ignore[arg-type]
            for a in np.flatnonzero(s.legal_action_mask):
                nxt = task.step(s, int(a))
                if nxt.terminal or bfs_distance(nxt) == here - 1:  # type: ignore[arg-type, operator]
                    priors[b, a] = 1.0
                    break
        return priors, np.ones(len(states), np.float32)


def test_held_out_seeds_never_meet_training_seeds() -> None:
    seeds = held_out_seeds(100, 3)
    assert seeds == held_out_seeds(100, 3) and len(set(seeds)) == 100
    assert min(seeds) >= HELDOUT_SEED_BASE and set(seeds).isdisjoint(held_out_seeds(100, 2))
    assert training_seed(10**5, 10**5) < HELDOUT_SEED_BASE
    with pytest.raises(ValueError, match="held-out range"):
        training_seed(10**6, 0)
    with pytest.raises(ValueError, match="difficulty"):
        held_out_seeds(5, 0)


def test_oracle_solves_every_maze_on_a_shortest_path() -> None:
    maze = make_task("maze", size=4)
    report = evaluate_held_out(maze, ShortestPathOracle(), MCTSConfig(), 12, num_simulations=1)
    assert report.solve_rate == 1.0 and report.optimality_gap == 0.0 and report.mean_score == 1.0
    assert report.outcomes == {"success": 12, "failure": 0, "timeout": 0, "error": 0}
    assert report.heldout_case_pass_rate is None  # mazes have no held-out test cases
    assert report.near_optimal_rate == 1.0  # every path is a shortest one
    optimal = [maze.initial_state(s).optimal_length for s in held_out_seeds(12, maze.difficulty_levels)]  # type: ignore[attr-defined]
    assert report.mean_moves == pytest.approx(np.mean(optimal))
    assert report.simulations_total == sum(optimal) and report.num_simulations == 1


class PreferenceEvaluator:
    """Priors: all mass on the first legal action in ``order``; value 0 (a policy whose play is known)."""

    def __init__(self, order: Sequence[int]) -> None:
        self.order = tuple(order)

    def evaluate_states(self, task: Task, states: Sequence[State]) -> tuple[np.ndarray, np.ndarray]:
        priors = np.zeros((len(states), task.num_actions), np.float32)
        for b, s in enumerate(states):
            priors[b, next(a for a in self.order if s.legal_action_mask[a])] = 1.0
        return priors, np.zeros(len(states), np.float32)


def _play_first_legal(task: Task, state: State, order: Sequence[int]) -> State:
    while not state.terminal:
        state = task.step(state, next(a for a in order if state.legal_action_mask[a]))
    return state


def test_raw_policy_plays_the_top_prior_move_with_one_simulation() -> None:
    """With 1 simulation a move the report is that of the prior's top move, played here by hand: the solve
    rate is the share of held-out mazes that "right, else down, else left, else up" gets through."""
    maze = make_task("maze", size=4)
    order = (3, 1, 2, 0)
    n = 40
    finals = [_play_first_legal(maze, maze.initial_state(seed), order)
              for seed in held_out_seeds(n, maze.difficulty_levels)]
    solved = [f for f in finals if maze.outcome(f) == "success"]
    assert 5 <= len(solved) <= n - 5, len(solved)  # a share strictly between none and all
    report = evaluate_held_out(maze, PreferenceEvaluator(order), MCTSConfig(), n, num_simulations=1)
    assert report.solve_rate == len(solved) / n
    assert report.outcomes == {"success": len(solved), "failure": n - len(solved), "timeout": 0, "error": 0}
    moves = [f.step_count for f in finals]
    assert report.mean_moves == pytest.approx(np.mean(moves))
    assert report.simulations_total == sum(moves) and report.num_simulations == 1  # one simulation a move
    assert report.mean_score == pytest.approx(np.mean([maze.score(f) for f in finals]))
    assert report.optimality_gap == pytest.approx(np.mean([1.0 - maze.score(f) for f in solved]))  # type: ignore[operator]


def test_near_optimal_rate_counts_greedy_packings_within_five_percent() -> None:
    """"Take every item that fits" on held-out knapsacks, played by hand: the near-optimal rate is the share of
    packings worth at least 1/1.05 of the DP optimum (strictly between none and all of them here), counting the
    failures too, while the solve rate counts only exact optima."""
    knapsack = make_task("knapsack", num_items=8)
    n = 40
    finals = [_play_first_legal(knapsack, knapsack.initial_state(seed), (1, 0))
              for seed in held_out_seeds(n, knapsack.difficulty_levels)]
    scores = [knapsack.score(f) for f in finals]
    near = sum(s is not None and s >= NEAR_OPTIMAL_SCORE for s in scores)
    exact = sum(knapsack.outcome(f) == "success" for f in finals)
    assert 0 < exact < near < n, (exact, near)
    report = evaluate_held_out(knapsack, PreferenceEvaluator((1, 0)), MCTSConfig(), n, num_simulations=1)
    assert report.near_optimal_rate == near / n and report.solve_rate == exact / n
    assert pytest.approx(1 / 1.05) == NEAR_OPTIMAL_SCORE


def test_oracle_at_a_lower_level_solves_that_level() -> None:
    """Level 1 is a 2 x 2-cell maze, 4 moves from start to goal: the oracle takes exactly 4 on each."""
    maze = make_task("maze", size=4)
    report = evaluate_held_out(maze, ShortestPathOracle(), MCTSConfig(), 10, difficulty=1, num_simulations=2)
    assert report.difficulty == 1 and report.episodes == 10 and report.to_dict()["task"] == "maze"
    assert report.solve_rate == 1.0 and report.mean_moves == 4.0 and report.mean_score == 1.0
    assert report.simulations_total == 2 * 4 * 10


def test_uniform_search_report_fields_agree_with_each_other() -> None:
    maze = make_task("maze", size=4)
    report = evaluate_held_out(maze, UniformEvaluator(), MCTSConfig(), 10, num_simulations=8)
    assert report.solve_rate == report.outcomes["success"] / 10 and sum(report.outcomes.values()) == 10
    assert report.simulations_total == 8 * round(10 * report.mean_moves)
    assert report.simulations_per_episode == report.simulations_total / 10
    # failures score 0, so the mean score is the solve rate times the mean score of the solved ones
    gap = 0.0 if report.optimality_gap is None else report.optimality_gap
    assert report.mean_score == pytest.approx(report.solve_rate * (1.0 - gap))


def test_held_out_evaluation_rejects_bad_requests() -> None:
    with pytest.raises(ValueError, match="single-agent"):
        evaluate_held_out(make_task("tictactoe"), UniformEvaluator(), MCTSConfig(), 4)
    with pytest.raises(ValueError, match="difficulty 9 is out of range"):
        evaluate_held_out(make_task("maze", size=4), UniformEvaluator(), MCTSConfig(), 4, difficulty=9)
    with pytest.raises(ValueError, match="num_simulations"):
        evaluate_held_out(make_task("maze", size=4), UniformEvaluator(), MCTSConfig(), 4, num_simulations=0)
    with pytest.raises(ValueError, match="at least one episode"):
        evaluate_held_out(make_task("maze", size=4), UniformEvaluator(), MCTSConfig(), 0)
