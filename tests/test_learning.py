"""It really learns: a short self-play run makes tic-tac-toe play perfect (a smaller, faster version of
the default run; `benchmarks/default_run.py` checks the full default)."""

from __future__ import annotations

from pathlib import Path

import torch

import zeroforge
from zeroforge.agent import Agent
from zeroforge.arena.evaluation import perfect_play_check
from zeroforge.config import load_config
from zeroforge.nets import build_net
from zeroforge.trainer import SelfPlayTrainer


def test_short_run_reaches_perfect_play_where_the_untrained_net_does_not(tmp_path: Path) -> None:
    # the default settings, 2 iterations instead of 15 (0 losses for seeds 0-5 when this was written)
    cfg = load_config(None, ["iterations=2", "arena.anchors=[perfect]", "arena.anchor_games=2"])
    SelfPlayTrainer(cfg, tmp_path).run()
    agent = zeroforge.load_agent(tmp_path)
    report = perfect_play_check(agent.task, agent)
    assert report.losses == 0 and report.mistakes == 0, report.losing_lines
    assert report.draws > 0 and report.agent_positions > 50

    # the same search over an untrained net of the same shape loses, even with 4x the simulations
    torch.manual_seed(cfg.seed)
    untrained = Agent(agent.task, build_net(cfg.net, agent.task), cfg.mcts, 4 * cfg.agent_simulations)
    assert perfect_play_check(agent.task, untrained).losses > 0
