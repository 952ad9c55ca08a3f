"""A trained agent against an anchor (random-rollout MCTS with the same simulations, or random play).

    python benchmarks/vs_anchor.py --agent runs/c4 [--anchor rollout] [--games 100] [--simulations 64]

Prints JSON lines with the agent's wins / draws / losses and score; the agent and the rollout anchor
search with the same number of simulations.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

import zeroforge
from zeroforge.arena.match import Player, RandomPlayer, SearchPlayer, play_match
from zeroforge.config import MCTSConfig
from zeroforge.search.evaluator import RolloutEvaluator


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agent", required=True)
    ap.add_argument("--anchor", choices=["rollout", "random"], default="rollout")
    ap.add_argument("--games", type=int, default=100)
    ap.add_argument("--simulations", type=int, default=64)
    ap.add_argument("--opening-random-moves", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    agent = zeroforge.load_agent(args.agent, num_simulations=args.simulations)
    rng = np.random.default_rng(args.seed)
    anchor: Player = RandomPlayer()
    if args.anchor == "rollout":
        anchor = SearchPlayer("rollout", agent.task, RolloutEvaluator(np.random.default_rng(args.seed + 1)),
                              MCTSConfig(), args.simulations)
    res = play_match(agent.task, agent, anchor, args.games, rng, args.opening_random_moves)
    for key, value in (("wins", res.wins), ("draws", res.draws), ("losses", res.losses), ("score", res.score)):
        print(json.dumps({"name": f"{agent.task.name}_vs_{args.anchor}_{key}", "value": value,
                          "unit": "games" if key != "score" else "(wins + draws/2) / games",
                          "games": res.games, "simulations": args.simulations}))


if __name__ == "__main__":
    main()
