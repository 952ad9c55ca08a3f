"""Solver demonstrations: the supervised phase's episodes, with and without random detours, checked against the
solver's own answers (BFS distances, the DP optimum) and through the training targets."""

from __future__ import annotations

import numpy as np
import pytest

from zeroforge.arena.heldout import NEAR_OPTIMAL_SCORE
from zeroforge.data.table import EpisodeTable
from zeroforge.data.targets import targets
from zeroforge.selfplay.demonstrations import DemonstrationSource, demonstration_episode
from zeroforge.tasks import make_task
from zeroforge.tasks.search.maze import bfs_distance


def test_maze_demonstration_is_a_shortest_path() -> None:
    maze = make_task("maze", size=4)
    for seed in range(20):
        ep = demonstration_episode(maze, seed)
        assert ep is not None and ep.outcome == "success"
        assert len(ep.actions) == bfs_distance(ep.states[0]) and ep.metadata["score"] == 1.0
        assert all(t.full_search and t.policy_target is not None for t in ep.mcts_traces)


def test_generic_shortest_solution_matches_bfs_on_mazes() -> None:
    """``PathTask.shortest_solution`` (breadth-first over the task's own steps) finds paths as short as the
    maze's grid BFS, and gives up past ``max_nodes`` positions."""
    maze = make_task("maze", size=3)
    for seed in range(8):
        s = maze.initial_state(seed)
        path = maze.shortest_solution(s)
        assert path is not None and len(path) == bfs_distance(s)
        assert maze.shortest_solution(s, max_nodes=1) is None


@pytest.mark.parametrize("detour", [1, 5, 30])
def test_a_detour_has_no_policy_targets_and_ends_as_bfs_allows(detour: int) -> None:
    """After ``detour`` random moves the solver's shortest path from there: the episode succeeds iff the detour plus
    the BFS distance from where it led fit the budget (the known answer); only the solver's moves are targets."""
    maze = make_task("maze", size=4)
    outcomes = set()
    for seed in range(30):
        ep = demonstration_episode(maze, seed, detour=detour, rng=np.random.default_rng(seed))
        assert ep is not None
        taken = min(detour, len(ep.actions))
        after = ep.states[taken]
        fits = not after.terminal and taken + bfs_distance(after) <= after.budget
        expected = "success" if fits or (after.terminal and maze.outcome(after) == "success") else "failure"
        assert ep.outcome == expected, (seed, ep.outcome)
        flags = [t.full_search for t in ep.mcts_traces]
        assert not any(flags[:taken])
        assert all(flags[taken:]) if fits else not any(flags[taken:])
        outcomes.add(ep.outcome)
        table = EpisodeTable.from_episodes([ep], maze.vocab_size)
        got = targets(table)
        rest = got.policies[taken:]
        assert (got.policies[:taken] == 0).all() and (not len(rest) or (rest.sum(axis=1) > 0).all() == fits)
        assert (np.sign(got.values) == (1 if ep.outcome == "success" else -1)).all()
    if detour == 30:
        assert outcomes == {"success", "failure"}


def test_knapsack_detour_off_the_optimum_fails() -> None:
    """Knapsack demonstrations take the DP optimum; a detour that takes a decision the optimum does not take ends
    below it (``failure``, value -1) however well the rest is solved."""
    task = make_task("knapsack", num_items=8)
    for seed in range(40):
        plain = demonstration_episode(task, seed)
        assert plain is not None and plain.outcome == "success" and plain.metadata["score"] == 1.0
        ep = demonstration_episode(task, seed, detour=1, rng=np.random.default_rng(seed))
        assert ep is not None
        if ep.actions[0].action_id != plain.actions[0].action_id and task.demonstration(ep.states[1]) is not None:
            optimum_after = task.score(ep.states[-1])
            assert optimum_after is not None and optimum_after <= 1.0
            assert ep.outcome == ("success" if optimum_after == 1.0 else "failure")


def test_source_round_mixes_plain_and_detoured_demonstrations() -> None:
    maze = make_task("maze", size=4)
    source = DemonstrationSource(maze, min_level=2, detour_fraction=0.5)
    played = source.play(None, 0, range(200), None, None, np.random.default_rng(0))  # type: ignore[arg-type]
    table = played.table
    detoured = [table.metadata(i)["detour"] > 0 for i in range(len(table))]
    assert 0.35 < np.mean(detoured) < 0.65 and played.extra["demonstrations"] == 200
    assert set(table.difficulties.tolist()) == {2, 3}
    assert (table.outcomes[~np.array(detoured)] == 0).all()  # plain demonstrations all succeed
    with pytest.raises(ValueError, match="no demonstrations"):
        DemonstrationSource(make_task("tictactoe")).play(None, 0, range(3), None, None,  # type: ignore[arg-type]
                                                         np.random.default_rng(0))


def test_ranked_threshold_rewards_detours_that_end_near_the_optimum() -> None:
    """With a ranked-reward threshold (the supervised phase passes ``NEAR_OPTIMAL_SCORE``) a knapsack
    demonstration's return is +1 iff its packing is worth at least that share of the optimum: detours that lose the
    exact optimum but stay within 5 % of it count as wins, the others as losses."""
    task = make_task("knapsack", num_items=8)
    source = DemonstrationSource(task, min_level=8, detour_fraction=1.0)
    table = source.play(None, 0, range(120), None, NEAR_OPTIMAL_SCORE,  # type: ignore[arg-type]
                        np.random.default_rng(0)).table
    kinds = set()
    for i in range(len(table)):
        score = float(table.metadata(i)["score"])  # the verifier's score of the episode's final state
        won = float(table.total_rewards[i]) > 0
        assert won == (score >= NEAR_OPTIMAL_SCORE), (i, score, table.total_rewards[i])
        kinds.add("exact" if score == 1.0 else "near" if won else "off")
    assert kinds == {"exact", "near", "off"}  # all three cases occur
