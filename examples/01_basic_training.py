"""Basic training: tic-tac-toe by self-play with ``SelfPlayTrainer``.

Shows the AlphaZero loop end to end: the first iterations through the spec's async facade
(``await trainer.iteration(i)``), the rest with ``trainer.run()``; per iteration the self-play figures
(success rate, episode length) and the evaluation against the fixed anchors (random, perfect player), then the
run-level ``trainer.quality_metrics()``. The run directory keeps a checkpoint, ``metrics.jsonl`` and
``learning_curve.png`` (``zeroforge.load_agent(OUT)`` loads the agent; example 6 evaluates it).

Run from the repository root:

    python examples/01_basic_training.py [--out DIR]      # default DIR: runs/examples/01_basic_training

Small settings (about 15 s of CPU on 2 cores): 6 iterations of 64 self-play games with 16 simulations per move,
60 optimiser steps of batch 64 per iteration, 10 games against each anchor.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from pathlib import Path

import zeroforge

CONFIG = {
    "task": {"name": "tictactoe"},
    "iterations": 6,
    "agent_simulations": 32,
    "selfplay": {"games_per_iteration": 64, "parallel_batch_size": 64},
    "mcts": {"num_simulations": 16},
    "train": {"batch_size": 64, "steps_per_iteration": 60},
    "arena": {"anchors": ["random", "perfect"], "anchor_games": 10, "num_simulations": 16},
}
ASYNC_ITERATIONS = 2  # iterations run through ``await trainer.iteration(i)``; ``run()`` does the rest


def fresh_run_dir(path: Path) -> Path:
    """``path`` ready for a new run: a previous run of this example there is removed; anything else is refused."""
    if path.exists() and any(path.iterdir()):
        if not (path / "config.yaml").is_file():
            sys.exit(f"error: {path} exists and is not a zeroforge run directory; choose another --out")
        shutil.rmtree(path)
    return path


def show(m: dict[str, object]) -> None:
    # a game's "success" is a game played to its end by the rules; who won is in the other figures
    print(f"iteration {m['iteration']}: self-play success {m['success_rate']:.2f} "
          f"(first-player wins {m['selfplay_first_player_wins']:.2f}, draws {m['selfplay_draws']:.2f}), "
          f"episode length {m['avg_episode_length']:.1f}, loss {m['loss_total']:.3f}, "
          f"score vs random {m['score_vs_random']:.2f}, score vs perfect {m['score_vs_perfect']:.2f}")


async def first_iterations(trainer: zeroforge.SelfPlayTrainer, count: int) -> None:
    """The spec's async facade: each iteration's CPU work runs in a worker thread."""
    for i in range(count):
        show(await trainer.iteration(i))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/examples/01_basic_training"),
                        help="run directory (default: %(default)s)")
    args = parser.parse_args()
    run_dir = fresh_run_dir(args.out)

    trainer = zeroforge.SelfPlayTrainer(CONFIG, run_dir=run_dir)
    asyncio.run(first_iterations(trainer, ASYNC_ITERATIONS))
    for m in trainer.run():  # the remaining iterations (run() stops the workers and the monitor at the end)
        show(m)

    quality = trainer.quality_metrics()
    print("quality metrics: " + ", ".join(f"{k} {v:.3g}" for k, v in quality.items()))
    checkpoints = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    print(f"run directory {run_dir}: checkpoints {checkpoints}, metrics.jsonl, learning_curve.png")
    agent = zeroforge.load_agent(run_dir)
    print(f"loaded {agent.name}; its opening move: {agent.select_action(agent.task.initial_state(0))}")


if __name__ == "__main__":
    main()
