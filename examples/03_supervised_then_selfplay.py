"""Supervised pre-training, then self-play: one maze run in two phases with ``AgentTrainingOrchestrator``.

``configs/maze.yaml`` with small overrides: the first iterations learn from solver demonstrations (BFS shortest
paths on mazes of every size up to the configured one), then self-play iterations fine-tune the same net. The
phases run one at a time (``train_phase("supervised")``, then ``train_phase("selfplay")``) over one resumable
run directory whose ``metrics.jsonl`` lines carry their ``phase``. For every iteration the script prints its
phase, the held-out solve rate (mazes whose seeds training never draws, solved with search) and, in self-play,
the training episodes' success rate.

Run from the repository root:

    python examples/03_supervised_then_selfplay.py [--out DIR]

(default DIR: runs/examples/03_supervised_then_selfplay).

Small settings (about 30 s of CPU on 2 cores): mazes of 3 x 3 cells (7 x 7 squares) and smaller; pointer net of
width 32 with 2 layers applied 3 times; 3 supervised iterations of 500 demonstrations and 150 optimiser steps,
then 2 self-play iterations of 48 games with 16 simulations per move; 32 held-out mazes per evaluation.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import zeroforge

REPO = Path(__file__).resolve().parents[1]
OVERRIDES = [
    "task.params.size=3",
    "supervised.iterations=3", "supervised.episodes_per_iteration=500", "supervised.steps_per_iteration=150",
    "iterations=2", "selfplay.games_per_iteration=48", "selfplay.parallel_batch_size=48",
    "net.embed_dim=32", "net.hidden=64", "net.recurrence=3",
    "mcts.num_simulations=16", "agent_simulations=16",
    "train.batch_size=64", "train.steps_per_iteration=40",
    "arena.num_simulations=16", "arena.heldout_episodes=32", "arena.eval_every=1",
]


def fresh_run_dir(path: Path) -> Path:
    """``path`` ready for a new run: a previous run of this example there is removed; anything else is refused."""
    if path.exists() and any(path.iterdir()):
        if not (path / "config.yaml").is_file():
            sys.exit(f"error: {path} exists and is not a zeroforge run directory; choose another --out")
        shutil.rmtree(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/examples/03_supervised_then_selfplay"),
                        help="run directory (default: %(default)s)")
    args = parser.parse_args()
    run_dir = fresh_run_dir(args.out)

    config = zeroforge.load_config(REPO / "configs" / "maze.yaml", OVERRIDES)
    print(f"maze {config.task.params}: {config.supervised.iterations} supervised iterations, "
          f"then {config.iterations} self-play iterations")
    with zeroforge.AgentTrainingOrchestrator(config, run_dir) as orchestrator:
        for phase in ("supervised", "selfplay"):
            for m in orchestrator.train_phase(phase):
                selfplay = f", self-play success {m['success_rate']:.2f}" if "success_rate" in m else ""
                print(f"iteration {m['iteration']} ({m['phase']}): held-out solve rate "
                      f"{m['heldout_solve_rate']:.2f}{selfplay}")
            if phase == "supervised":
                params = sum(p.numel() for p in orchestrator.model.parameters())
                print(f"supervised phase done: the pre-trained net ({params} parameters) now plays self-play")

    agent = zeroforge.load_agent(run_dir)
    start = agent.task.parse("#######\n#S..#.#\n#.#.#.#\n#.#...#\n#.###.#\n#....G#\n#######")
    states, actions = agent.solve(start)
    print(f"a maze of my own: {agent.task.outcome(states[-1])} in {len(actions)} moves: "
          f"{' '.join(agent.task.action_to_text(s, a) for s, a in zip(states, actions, strict=False))}")


if __name__ == "__main__":
    main()
