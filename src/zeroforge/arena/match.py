"""Players and matches: many games in lockstep, every player called once per ply for all its games.

A ``Player`` maps a batch of states (where it is to move) to actions. ``play_match`` plays paired games:
each opening (``opening_random_moves`` uniformly random plies) is played twice with colours swapped, so
that deterministic players meet in varied positions and neither gets the first move more often.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from zeroforge.search.evaluator import Evaluator, RolloutEvaluator
from zeroforge.search.mcts import make_mcts
from zeroforge.search.params import MCTSConfig
from zeroforge.tasks.base import State, Task, random_legal_action

__all__ = ["MatchResult", "PerfectPlayer", "Player", "RandomPlayer", "SearchPlayer", "anchor_player", "play_match"]


class Player(Protocol):
    """Chooses one legal action for each state of a batch (all with this player to move)."""

    name: str

    def act(self, states: Sequence[State], rng: np.random.Generator) -> list[int]: ...


class RandomPlayer:
    """Uniformly random legal moves."""

    name = "random"

    def act(self, states: Sequence[State], rng: np.random.Generator) -> list[int]:
        return [random_legal_action(s, rng) for s in states]


class SearchPlayer:
    """PUCT search with ``num_simulations`` and no noise; plays the most visited action (deterministic)."""

    def __init__(self, name: str, task: Task, evaluator: Evaluator, config: MCTSConfig,
                 num_simulations: int) -> None:
        self.name = name
        self.mcts = make_mcts(task, evaluator, config)
        self.num_simulations = num_simulations

    def act(self, states: Sequence[State], rng: np.random.Generator) -> list[int]:
        traces = self.mcts.search(states, rng, add_noise=False, temperatures=0.0,
                                  num_simulations=self.num_simulations)
        return [t.selected_action for t in traces]


class PerfectPlayer:
    """Plays a game-theoretically optimal move (uniformly among them) using the exact solver."""

    name = "perfect"

    def __init__(self, task: Task) -> None:
        from zeroforge.tasks.games.solver import NegamaxSolver

        self.solver = NegamaxSolver(task)

    def act(self, states: Sequence[State], rng: np.random.Generator) -> list[int]:
        out = []
        for s in states:
            best = self.solver.optimal_actions(s)
            out.append(int(best[rng.integers(len(best))]))
        return out


@dataclass(frozen=True)
class MatchResult:
    """Results of ``a`` against ``b``: counts from ``a``'s side and ``score = (wins + draws / 2) / games``."""

    player_a: str
    player_b: str
    wins: int
    draws: int
    losses: int

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def score(self) -> float:
        return (self.wins + 0.5 * self.draws) / max(1, self.games)


def _opening(task: Task, moves: int, rng: np.random.Generator) -> State:
    state = task.initial_state(0)
    for _ in range(moves):
        if state.terminal:
            break
        nxt = task.step(state, random_legal_action(state, rng))
        if nxt.terminal:  # an opening must leave a game to play
            break
        state = nxt
    return state


def anchor_player(name: str, task: Task, mcts: MCTSConfig, rollout_simulations: int,
                  rng: np.random.Generator) -> Player:
    """A fixed anchor: ``random`` moves, ``rollout`` (MCTS with ``rollout_simulations`` random-playout leaves, its
    stream drawn from ``rng``) or ``perfect`` play (solvable games); a one-line ``ValueError`` for anything else."""
    if name == "random":
        return RandomPlayer()
    if name == "perfect":
        if not task.solvable:
            raise ValueError(f"the 'perfect' anchor needs a solvable game; {task.name!r} is not")
        return PerfectPlayer(task)
    if name == "rollout":
        rollout = RolloutEvaluator(np.random.default_rng(rng.integers(2**63)), discount=mcts.discount)
        return SearchPlayer("rollout", task, rollout, mcts, rollout_simulations)
    raise ValueError(f"unknown anchor {name!r}; one of: random, rollout, perfect")


def play_match(task: Task, player_a: Player, player_b: Player, num_games: int, rng: np.random.Generator,
               opening_random_moves: int = 0) -> MatchResult:
    """Play ``num_games`` two-player games (rounded up to an even number: one pair per opening)."""
    if task.num_players != 2:
        raise ValueError(f"play_match needs a two-player task; {task.name} has {task.num_players} players")
    if num_games < 1:
        raise ValueError(f"num_games must be >= 1, got {num_games}")
    pairs = (num_games + 1) // 2
    states: list[State] = []
    a_seat: list[int] = []
    for _ in range(pairs):
        opening = _opening(task, opening_random_moves, rng)
        states += [opening, opening]
        a_seat += [0, 1]
    players = {0: player_a, 1: player_b}
    steps = 0
    while True:
        live = [i for i, s in enumerate(states) if not s.terminal]
        if not live or steps > task.max_episode_steps:
            break
        for who in (0, 1):  # 0 = player_a, 1 = player_b
            mine = [i for i in live
                    if not states[i].terminal and (states[i].current_player == a_seat[i]) == (who == 0)]
            if not mine:
                continue
            actions = players[who].act([states[i] for i in mine], rng)
            for i, a in zip(mine, actions, strict=True):
                states[i] = task.step(states[i], a)
        steps += 1
    wins = draws = losses = 0
    for s, seat in zip(states, a_seat, strict=True):
        r = float(s.rewards[seat]) if s.terminal else 0.0
        if r > 0:
            wins += 1
        elif r < 0:
            losses += 1
        else:
            draws += 1
    return MatchResult(player_a.name, player_b.name, wins, draws, losses)
