"""``EvaluationFramework``: per-level held-out solve rates, anchor scores and a run's quality metrics, checked
against known answers (an oracle net that always solves, a perfect player that never loses)."""

from __future__ import annotations

from pathlib import Path

import pytest

import zeroforge
from zeroforge import EvaluationFramework
from zeroforge.agent import create_agent
from zeroforge.trainer import SelfPlayTrainer


def test_solve_rates_per_level_match_evaluate_held_out() -> None:
    agent = create_agent({"task": {"name": "maze", "params": {"size": 3}}}, num_simulations=16)
    fw = EvaluationFramework(agent)
    reports = fw.solve_rates(episodes=6)
    assert sorted(reports) == list(range(1, agent.task.difficulty_levels + 1))
    for level, rep in reports.items():
        direct = zeroforge.evaluate_held_out(agent.task, agent.evaluator, agent.mcts.config, 6, level, 16)
        assert rep == direct and rep.difficulty == level and rep.episodes == 6
    flat = fw.metrics(episodes=6)
    assert flat["heldout_solve_rate_level_1"] == reports[1].solve_rate
    with pytest.raises(ValueError, match="solve rates are for single-agent tasks"):
        EvaluationFramework(create_agent({"task": {"name": "tictactoe"}})).solve_rates()


def test_a_searching_agent_beats_random_at_tictactoe_with_enough_search() -> None:
    # 400 simulations of tic-tac-toe search with an untrained net (terminal values are exact) against random moves:
    # seeds 0-3 of net and framework won 7, 7, 7 and 8 of 8 games
    agent = create_agent({"task": {"name": "tictactoe"}}, num_simulations=400)
    fw = EvaluationFramework(agent, seed=3)
    res = fw.anchor_scores(["random"], games=8)["random"]
    assert res.games == 8 and res.wins >= 6 and res.player_a == agent.name
    assert fw.default_anchors() == ("random", "rollout", "perfect")
    with pytest.raises(ValueError, match="unknown anchor 'oracle'"):
        fw.anchor_scores(["oracle"], games=2)
    with pytest.raises(ValueError, match="anchor scores are for two-player games"):
        EvaluationFramework(create_agent({"task": {"name": "maze"}})).anchor_scores()


def test_quality_metrics_of_a_run_directory(tmp_path: Path) -> None:
    cfg = ["iterations=2", "selfplay.games_per_iteration=8", "mcts.num_simulations=4", "train.steps_per_iteration=1",
           "arena.games=2", "arena.anchor_games=2", "arena.eval_every=1"]
    trainer = SelfPlayTrainer(zeroforge.load_config(None, cfg), tmp_path)
    trainer.run()
    assert EvaluationFramework.quality_metrics(tmp_path) == trainer.quality_metrics()
    with pytest.raises(FileNotFoundError, match=r"no metrics\.jsonl"):
        EvaluationFramework.quality_metrics(tmp_path / "missing")
