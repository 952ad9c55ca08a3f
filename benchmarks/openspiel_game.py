"""A trained agent on an OpenSpiel game (the ``openspiel`` task) against OpenSpiel's own ``MCTSBot`` with random
rollouts, at equal simulations per move.

    python benchmarks/openspiel_game.py --agent runs/hex [--games 100] [--simulations 64] [--uct-c 2.0]

Games are played in pairs from the same opening (``--opening-random-moves`` random moves), the agent once as each
player. ``MCTSBot`` is OpenSpiel's UCT search (``open_spiel.python.algorithms.mcts``) with one random rollout per
leaf (``RandomRolloutEvaluator``) and its exact-solver shortcut on (its default). Prints one JSON line: wins, draws,
losses from the agent's side and its score, overall and by seat.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

import numpy as np
import torch
from open_spiel.python.algorithms import mcts

import zeroforge
from zeroforge.arena.match import play_match
from zeroforge.tasks.base import State
from zeroforge.tasks.games.openspiel import OpenSpielTask


class MCTSBotPlayer:
    """OpenSpiel's ``MCTSBot`` as a zeroforge arena player (``act(states, rng)``)."""

    name = "mctsbot"

    def __init__(self, task: OpenSpielTask, simulations: int, uct_c: float, seed: int) -> None:
        self.task = task
        rng = np.random.RandomState(seed)
        self.bot = mcts.MCTSBot(task.game, uct_c, simulations, mcts.RandomRolloutEvaluator(1, rng),
                                random_state=rng)

    def act(self, states: Sequence[State], rng: np.random.Generator) -> list[int]:
        return [int(self.bot.step(self.task.spiel_state(s))) for s in states]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agent", required=True, help="a run directory of the openspiel task")
    ap.add_argument("--games", type=int, default=100)
    ap.add_argument("--simulations", type=int, default=64, help="per move, for both")
    ap.add_argument("--uct-c", type=float, default=2.0, help="MCTSBot's exploration constant")
    ap.add_argument("--opening-random-moves", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    agent = zeroforge.load_agent(args.agent, num_simulations=args.simulations)
    if not isinstance(agent.task, OpenSpielTask):
        raise SystemExit(f"error: {args.agent} plays {agent.task.name!r}, not an OpenSpiel game")
    bot = MCTSBotPlayer(agent.task, args.simulations, args.uct_c, args.seed)
    rng = np.random.default_rng(args.seed)
    res = play_match(agent.task, agent, bot, args.games, rng, args.opening_random_moves)
    print(json.dumps({"game": agent.task.game_string, "agent": args.agent, "simulations": args.simulations,
                      "games": res.games, "wins": res.wins, "draws": res.draws, "losses": res.losses,
                      "score": round(res.score, 3)}))


if __name__ == "__main__":
    main()
