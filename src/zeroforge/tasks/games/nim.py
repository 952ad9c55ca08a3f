"""Nim (normal or misère play) with OpenSpiel's action numbering.

Piles of objects; a move takes ``take >= 1`` objects from one pile. Normal play: whoever takes the last
object wins; misère: whoever takes it loses. Action ``(take - 1) * num_piles + pile`` (OpenSpiel's
``nim``; OpenSpiel declares one more, never legal, action id). Nim is impartial, so the observation needs no
perspective: it is the pile sizes, ``seq_len = num_piles`` tokens in ``range(max_pile + 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from zeroforge.tasks.base import State, Task, frozen_array
from zeroforge.tasks.games.stones import NO_REWARD, WIN_REWARD
from zeroforge.tasks.registry import register_task

__all__ = ["Nim", "NimState"]


@dataclass(frozen=True, eq=False)
class NimState(State):
    """A Nim position: ``piles`` (objects left per pile)."""

    piles: tuple[int, ...] = ()

    def key(self) -> tuple[tuple[int, ...], int]:
        return (self.piles, self.current_player)

    def to_text(self) -> str:
        """OpenSpiel style: ``(player): 1 3 5 7``."""
        return f"({self.current_player}): " + " ".join(str(p) for p in self.piles)


@register_task("nim")
class Nim(Task):
    """Nim on ``piles`` (default OpenSpiel's ``1 3 5 7``); ``misere=True`` for misère play."""

    name: ClassVar[str] = "nim"
    num_players = 2
    vocab_size: int
    solvable = True

    def __init__(self, piles: tuple[int, ...] | list[int] = (1, 3, 5, 7), misere: bool = False) -> None:
        sizes = tuple(piles)
        if not sizes or any(isinstance(p, bool) or not isinstance(p, int) or p < 1 for p in sizes):
            raise ValueError(f"nim: piles must be a non-empty list of positive integers, got {list(piles)!r}")
        if not isinstance(misere, bool):
            raise ValueError(f"nim: misere must be true or false, got {misere!r}")
        self.piles = sizes
        self.misere = misere
        self.max_pile = max(sizes)
        self.num_actions = len(sizes) * self.max_pile
        self.seq_len = len(sizes)
        self.vocab_size = self.max_pile + 1
        self.max_episode_steps = sum(sizes)
        self._no_actions = frozen_array(np.zeros(self.num_actions, bool), bool)

    def _state(self, piles: tuple[int, ...], player: int, steps: int, rewards: np.ndarray) -> NimState:
        terminal = sum(piles) == 0
        if terminal:
            mask = self._no_actions
        else:
            m = np.zeros(self.num_actions, bool)
            n = len(piles)
            for i, p in enumerate(piles):
                m[i : p * n : n] = True  # takes 1..p from pile i
            mask = frozen_array(m, bool)
        return NimState(current_player=player, legal_action_mask=mask, terminal=terminal, rewards=rewards,
                        observation=frozen_array(piles, np.int64), step_count=steps, piles=piles)

    def _initial_state(self, seed: int, difficulty: int) -> NimState:
        return self._state(self.piles, 0, 0, NO_REWARD)

    def _step(self, state: State, action: int) -> NimState:
        assert isinstance(state, NimState)
        n = len(self.piles)
        pile, take = action % n, action // n + 1
        piles = tuple(p - take if i == pile else p for i, p in enumerate(state.piles))
        mover = state.current_player
        rewards = NO_REWARD
        if sum(piles) == 0:
            rewards = WIN_REWARD[1 - mover] if self.misere else WIN_REWARD[mover]
        return self._state(piles, 1 - mover, state.step_count + 1, rewards)

    def action_to_text(self, state: State, action: int) -> str:
        """OpenSpiel style: ``pile:2, take:3;`` (piles counted from 1)."""
        n = len(self.piles)
        return f"pile:{action % n + 1}, take:{action // n + 1};"

    def __repr__(self) -> str:
        return f"Nim(piles={list(self.piles)}, misere={self.misere})"
