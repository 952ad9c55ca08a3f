"""Evaluation of trained agents: a game against known answers, anchors and a perfect player; a single-agent family
on held-out instances, trained against untrained against the raw policy.

Tic-tac-toe: the agent (``load_agent``) is shown positions whose best move is known (win now, block now, win
rather than block; each answer checked against the exact solver first) and must find it; then it plays matches
against the random and perfect anchors (``zeroforge.arena.match``) and the perfect-play check (every optimal reply
of a perfect opponent, both seats: ``zeroforge.arena.evaluation``). Maze: the held-out solve rate
(``zeroforge.evaluate_held_out`` on mazes whose seeds training never draws) of the trained agent with search, the
same search with the untrained net the run started from, and the trained net's raw policy (1 simulation), as
``zeroforge evaluate`` does.

The agents: example 1's and example 3's runs when they are there (``runs/examples/01_basic_training``,
``runs/examples/03_supervised_then_selfplay``), else (or with ``--fresh``) small runs this script trains itself
under ``--out``.

Run from the repository root:

    python examples/06_evaluation.py [--out DIR] [--fresh]     # default DIR: runs/examples/06_evaluation

Small settings (about 25 s of CPU on 2 cores when it trains both agents itself): tic-tac-toe 3 iterations of 64
games with 16 simulations, evaluated with 128 simulations per move and 20 games per anchor; maze of 3 x 3 cells, 2
supervised iterations of 400 demonstrations (no self-play), 32 held-out mazes with 16 simulations.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

import zeroforge
from zeroforge.agent import untrained_agent
from zeroforge.arena.evaluation import perfect_play_check
from zeroforge.arena.match import PerfectPlayer, RandomPlayer, play_match
from zeroforge.tasks.games.solver import optimal_actions

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_1 = Path("runs/examples/01_basic_training")
EXAMPLE_3 = Path("runs/examples/03_supervised_then_selfplay")
TICTACTOE = {
    "task": {"name": "tictactoe"}, "iterations": 3,
    "selfplay": {"games_per_iteration": 64, "parallel_batch_size": 64}, "mcts": {"num_simulations": 16},
    "train": {"batch_size": 64, "steps_per_iteration": 60},
    "arena": {"anchors": ["random"], "anchor_games": 10, "num_simulations": 16},
}
MAZE = [
    "task.params.size=3", "iterations=0",
    "supervised.iterations=2", "supervised.episodes_per_iteration=400", "supervised.steps_per_iteration=150",
    "net.embed_dim=32", "net.hidden=64", "net.recurrence=3", "mcts.num_simulations=16", "agent_simulations=16",
    "train.batch_size=64", "arena.num_simulations=16", "arena.heldout_episodes=16", "arena.eval_every=1",
]
#: (moves played so far, who is to move, the known best move, why); cells are numbered row * 3 + col
KNOWN_POSITIONS = [
    ((0, 3, 1, 4), "x", 2, "win now: complete the top row"),
    ((0, 4, 1), "o", 2, "block x's top row"),
    ((6, 3, 7, 4), "x", 8, "win now rather than block o's middle row"),
    ((0, 4, 1, 2, 6), "o", 3, "block x's left column"),
]


def fresh_run_dir(path: Path) -> Path:
    """``path`` ready for a new run: a previous run of this example there is removed; anything else is refused."""
    if path.exists() and any(path.iterdir()):
        if not (path / "config.yaml").is_file():
            sys.exit(f"error: {path} exists and is not a zeroforge run directory; choose another --out")
        shutil.rmtree(path)
    return path


def has_checkpoint(run: Path) -> bool:
    return (run / "checkpoints").is_dir() and any((run / "checkpoints").iterdir())


def evaluate_game(run: Path) -> None:
    agent = zeroforge.load_agent(run, num_simulations=128)
    task = agent.task
    print(f"game agent: {agent.name} from {run}, {agent.num_simulations} simulations per move")
    correct = 0
    for moves, mover, best, why in KNOWN_POSITIONS:
        state = task.initial_state(0)
        for move in moves:
            state = task.step(state, move)
        assert optimal_actions(task, state) == [best], (moves, optimal_actions(task, state))  # the known answer
        action = agent.select_action(state)
        correct += action == best
        print(f"known position {list(moves)} ({mover} to move, {why}): best {best}, agent plays {action}: "
              f"{'correct' if action == best else 'WRONG'}")
    print(f"known positions: {correct} of {len(KNOWN_POSITIONS)} correct")

    rng = np.random.default_rng(0)
    for opponent in (RandomPlayer(), PerfectPlayer(task)):
        result = play_match(task, agent, opponent, 20, rng, opening_random_moves=1)
        print(f"vs {opponent.name}: {result.wins} wins, {result.draws} draws, {result.losses} losses "
              f"(score {result.score:.2f})")
    check = perfect_play_check(task, agent)
    print(f"perfect-play check (every optimal reply, both seats): {check.losses} losses, {check.draws} draws, "
          f"{check.mistakes} non-optimal moves in {check.agent_positions} positions")


def evaluate_single_agent(run: Path, episodes: int) -> None:
    agent = zeroforge.load_agent(run)
    task, mcts, sims = agent.task, agent.mcts.config, agent.num_simulations
    print(f"single-agent agent: {agent.name} from {run}; {episodes} held-out {task.name} instances")
    reports = {
        f"trained ({sims} simulations)": zeroforge.evaluate_held_out(task, agent.evaluator, mcts, episodes, None, sims),
        f"untrained ({sims} simulations)": zeroforge.evaluate_held_out(task, untrained_agent(agent).evaluator, mcts,
                                                                       episodes, None, sims),
        "raw policy (1 simulation)": zeroforge.evaluate_held_out(task, agent.evaluator, mcts, episodes, None, 1),
    }
    for name, report in reports.items():
        print(f"held-out solve rate, {name}: {report.solve_rate:.2f} (mean moves {report.mean_moves:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/examples/06_evaluation"),
                        help="where the agents this script trains go (default: %(default)s)")
    parser.add_argument("--fresh", action="store_true", help="train both agents here even if examples 1 and 3 ran")
    parser.add_argument("--episodes", type=int, default=32, help="held-out instances (default: %(default)s)")
    args = parser.parse_args()

    game_run = EXAMPLE_1
    if args.fresh or not has_checkpoint(game_run):
        game_run = fresh_run_dir(args.out / "tictactoe")
        print(f"training a tic-tac-toe agent into {game_run} ...")
        zeroforge.SelfPlayTrainer(TICTACTOE, run_dir=game_run).run()
    evaluate_game(game_run)

    maze_run = EXAMPLE_3
    if args.fresh or not has_checkpoint(maze_run):
        maze_run = fresh_run_dir(args.out / "maze")
        print(f"training a maze agent into {maze_run} ...")
        zeroforge.SelfPlayTrainer(zeroforge.load_config(REPO / "configs" / "maze.yaml", MAZE), run_dir=maze_run).run()
    evaluate_single_agent(maze_run, args.episodes)


if __name__ == "__main__":
    main()
