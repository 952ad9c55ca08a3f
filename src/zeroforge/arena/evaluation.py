"""Evaluation against fixed anchors and the perfect-play check for solvable games.

``perfect_play_check`` walks the whole tree of games in which the agent plays its (deterministic) move and
the perfect opponent tries **every** optimal reply, with the agent as first and as second player; the agent
plays perfectly when no such game is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zeroforge.arena.match import Player
from zeroforge.tasks.base import State, Task

__all__ = ["PerfectPlayReport", "perfect_play_check"]


@dataclass(frozen=True)
class PerfectPlayReport:
    """Distinct final positions reached, counted from the agent's side, over both seats.

    ``mistakes`` counts the agent's decisions (distinct positions) whose move was not game-theoretically
    optimal; ``losing_lines`` lists action sequences of lost games. In a game that is a draw from the start
    (tic-tac-toe) perfect play means no loss; in one that is lost for a seat (Nim 1-3-5-7 for the first
    player) the losses of that seat are forced, so perfection is judged by ``mistakes``.
    """

    wins: int
    draws: int
    losses: int
    agent_positions: int
    losing_lines: tuple[tuple[int, ...], ...]
    mistakes: int = 0

    @property
    def perfect(self) -> bool:
        return self.mistakes == 0


def perfect_play_check(task: Task, agent: Player, rng: np.random.Generator | None = None,
                       max_lines: int = 10) -> PerfectPlayReport:
    """Play ``agent`` against every optimal reply of a perfect player, as player 0 and as player 1.

    The agent is called once per ply with all its distinct positions of that ply (batched). Requires a
    two-player task small enough for the exact solver (tic-tac-toe).
    """
    from zeroforge.tasks.games.solver import NegamaxSolver

    if task.num_players != 2:
        raise ValueError(f"perfect_play_check needs a two-player game, {task.name} has {task.num_players}")
    rng = rng if rng is not None else np.random.default_rng(0)
    solver = NegamaxSolver(task)
    wins = draws = losses = mistakes = 0
    positions = 0
    losing: list[tuple[int, ...]] = []
    for seat in (0, 1):
        frontier: dict[object, tuple[State, tuple[int, ...]]] = {}
        root = task.initial_state(0)
        frontier[root.key()] = (root, ())
        finals: dict[object, tuple[State, tuple[int, ...]]] = {}
        while frontier:
            nxt: dict[object, tuple[State, tuple[int, ...]]] = {}
            mine = [v for v in frontier.values() if v[0].current_player == seat]
            theirs = [v for v in frontier.values() if v[0].current_player != seat]
            if mine:
                positions += len(mine)
                actions = agent.act([s for s, _ in mine], rng)
                for (s, line), a in zip(mine, actions, strict=True):
                    mistakes += a not in solver.optimal_actions(s)
                    child = task.step(s, a)
                    (finals if child.terminal else nxt).setdefault(child.key(), (child, (*line, a)))
            for s, line in theirs:
                for a in solver.optimal_actions(s):
                    child = task.step(s, a)
                    (finals if child.terminal else nxt).setdefault(child.key(), (child, (*line, a)))
            frontier = nxt
        for s, line in finals.values():
            r = float(s.rewards[seat])
            if r > 0:
                wins += 1
            elif r < 0:
                losses += 1
                if len(losing) < max_lines:
                    losing.append(line)
            else:
                draws += 1
    return PerfectPlayReport(wins, draws, losses, positions, tuple(losing), mistakes)
