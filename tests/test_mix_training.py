"""A mixed run (``task: mix``) end to end: per-family round and held-out metrics, the supervised phase on the families
that have a solver, and a mixed agent solving one family's instance (``family_agent``, ``zeroforge solve``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from zeroforge.agent import family_agent, load_agent
from zeroforge.config import load_config
from zeroforge.tasks import MixedTask
from zeroforge.trainer import SelfPlayTrainer

MIX = ["task.name=mix", "supervised.iterations=1", "supervised.episodes_per_iteration=24", "iterations=1",
       "selfplay.games_per_iteration=24", "selfplay.parallel_batch_size=24", "mcts.num_simulations=4",
       "train.steps_per_iteration=3", "train.batch_size=16", "net.kind=pointer", "net.embed_dim=16", "net.hidden=32",
       "net.num_layers=1", "arena.anchors=[]", "arena.heldout_episodes=6", "arena.num_simulations=2",
       "agent_simulations=4"]
# 7 x 7 grid of a size-3 maze: a corridor where the goal is two moves right of the start
CORRIDOR = "#######\n#S.G..#\n#######\n#.....#\n#######\n#.....#\n#######\n"


@pytest.fixture(scope="module")
def mix_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, object]]]:
    run = tmp_path_factory.mktemp("mix_run")
    return run, SelfPlayTrainer(load_config(None, MIX), run).run()


def test_metrics_are_per_family(mix_run: tuple[Path, list[dict[str, object]]]) -> None:
    """The default mix (maze, knapsack, linear_equation): self-play reports each family's success and episodes (their
    counts add up to the round), the judge a held-out rate per family whose mean is ``heldout_solve_rate``."""
    _, ms = mix_run
    families = ("maze", "knapsack", "linear_equation")
    supervised, selfplay = ms
    assert supervised["phase"] == "supervised" and selfplay["phase"] == "selfplay"
    assert sum(int(selfplay[f"episodes_{f}"]) for f in families) == 24  # type: ignore[call-overload]
    rates = [float(selfplay[f"heldout_solve_rate_{f}"]) for f in families]  # type: ignore[arg-type]
    assert all(0.0 <= r <= 1.0 for r in rates)
    assert selfplay["heldout_solve_rate"] == pytest.approx(sum(rates) / 3)
    assert "heldout_near_optimal_knapsack" in selfplay and "heldout_mean_score_maze" in selfplay
    # every family demonstrates (linear equations: their shortest solution), so the supervised round holds all
    assert int(supervised["episodes"]) == 24  # type: ignore[call-overload]


def test_mixed_agent_serves_each_family(mix_run: tuple[Path, list[dict[str, object]]], tmp_path: Path) -> None:
    run, _ = mix_run
    agent = load_agent(run)
    assert isinstance(agent.task, MixedTask)
    maze = family_agent(agent, "maze")
    assert maze.task.name == "maze" and maze.net is agent.net
    states, _ = maze.solve(maze.task.parse(CORRIDOR))
    assert maze.task.outcome(states[-1]) in ("success", "failure")
    with pytest.raises(ValueError, match=r"trained on 'mix' \(its families: maze, knapsack, linear_equation\), not "
                                         r"'tsp'"):
        family_agent(agent, "tsp")
    inst = tmp_path / "corridor.txt"
    inst.write_text(CORRIDOR, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "zeroforge", "solve", "--task", "maze", "--agent", str(run),
                          "--instance", str(inst)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["task"] == "maze" and result["outcome"] in ("success", "failure") and result["steps"] >= 2
    bad = subprocess.run([sys.executable, "-m", "zeroforge", "solve", "--task", "tsp", "--agent", str(run),
                          "--instance", str(inst)], capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "not 'tsp'" in bad.stderr and "Traceback" not in bad.stderr
