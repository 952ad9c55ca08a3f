"""Ranked reward (Laterre et al. 2018, "Ranked Reward: Enabling Self-Play Reinforcement Learning for
Combinatorial Optimization") for single-agent optimisation tasks.

A single-agent optimisation episode ends with a graded ``score`` in ``[0, 1]`` (``Task.score``: packed value /
optimum, optimal tour / tour length). A binary "optimal or not" reward is too sparse to learn from, and the
raw score has no fixed scale; ranked reward turns the score into a win or a loss against the agent's *own*
recent results: with ``r_alpha`` the ``alpha``-quantile of the last ``window`` scores,

    z = +1  if score > r_alpha, or the score is optimal (1.0)
    z = -1  if score < r_alpha
    z = +-1 if score == r_alpha: a coin flip

so the agent is always playing against its recent self, like a two-player self-play game. Success (the
``outcome``) keeps the verifier's meaning: the solution matches the exact optimum.

``RankedReward`` keeps the recent scores and the threshold; ``RankedRewardTask`` wraps a task so that its
terminal rewards are the ranked ones for a fixed threshold (the trainer builds one per iteration from the
scores seen so far). The coin flip of a tie is a hash of the final state, so the wrapped task stays a pure,
deterministic MDP.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import numpy as np

from zeroforge.tasks.base import SOLO_FAILURE, SOLO_SUCCESS, State, Task

__all__ = ["RankedReward", "RankedRewardTask", "ranked_reward"]

_OPTIMAL = 1.0 - 1e-9


def ranked_reward(score: float, threshold: float, tie_key: object = None) -> float:
    """``+1`` / ``-1`` for ``score`` against ``threshold`` (see the module docstring); a tie is decided by a
    stable hash of ``tie_key`` (``+1`` for about half of the keys)."""
    if score >= _OPTIMAL or score > threshold:
        return 1.0
    if score < threshold:
        return -1.0
    digest = hashlib.blake2b(repr(tie_key).encode(), digest_size=1).digest()[0]
    return 1.0 if digest & 1 else -1.0


class RankedReward:
    """The last ``window`` episode scores and their ``alpha``-quantile threshold ``r_alpha``."""

    def __init__(self, alpha: float = 0.75, window: int = 1000) -> None:
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"ranked reward: alpha must be in [0, 1], got {alpha!r}")
        if window < 1:
            raise ValueError(f"ranked reward: window must be >= 1, got {window!r}")
        self.alpha = float(alpha)
        self.window = int(window)
        self.scores: deque[float] = deque(maxlen=self.window)

    def add(self, scores: Iterable[float]) -> None:
        """Record finished episodes' scores (each in ``[0, 1]``)."""
        for s in scores:
            s = float(s)
            if not 0.0 <= s <= 1.0:
                raise ValueError(f"ranked reward: scores must be in [0, 1], got {s!r}")
            self.scores.append(s)

    @property
    def threshold(self) -> float | None:
        """``r_alpha``: the ``alpha``-quantile of the recent scores (``None`` before any)."""
        if not self.scores:
            return None
        return float(np.quantile(np.fromiter(self.scores, np.float64), self.alpha, method="lower"))

    def state_dict(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "window": self.window, "scores": list(self.scores)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.scores = deque((float(s) for s in state["scores"]), maxlen=self.window)


class RankedRewardTask(Task):
    """``inner`` with terminal rewards replaced by ranked rewards against a fixed ``threshold``.

    Everything else (states, observations, legal actions, ``outcome``, ``score``, texts) is ``inner``'s.
    ``inner`` must be single-agent and grade its episodes (``score`` not ``None`` at the end).
    """

    def __init__(self, inner: Task, threshold: float) -> None:
        if inner.num_players != 1:
            raise ValueError(f"ranked reward needs a single-agent task; {inner.name} has {inner.num_players} players")
        self.inner = inner
        self.threshold = float(threshold)
        self.name = inner.name  # type: ignore[misc]
        self.num_actions = inner.num_actions
        self.num_players = inner.num_players
        self.seq_len = inner.seq_len
        self.vocab_size = inner.vocab_size
        self.max_episode_steps = inner.max_episode_steps
        self.difficulty_levels = inner.difficulty_levels
        self.structured = inner.structured  # type: ignore[misc]
        self.bounds = inner.bounds  # type: ignore[misc]

    def _initial_state(self, seed: int, difficulty: int) -> State:
        return self.inner.initial_state(seed, difficulty)

    def _step(self, state: State, action: int) -> State:
        nxt = self.inner.step(state, action)
        if not nxt.terminal:
            return nxt
        score = self.inner.score(nxt)
        if score is None:
            raise ValueError(f"ranked reward: {self.inner.name} gave no score for a finished episode")
        z = ranked_reward(score, self.threshold, nxt.key())
        return replace(nxt, rewards=SOLO_SUCCESS if z > 0 else SOLO_FAILURE)

    def symmetries(self) -> tuple[np.ndarray, np.ndarray]:
        return self.inner.symmetries()

    def demonstration(self, state: State) -> list[int] | None:
        return self.inner.demonstration(state)

    def outcome(self, state: State) -> str:
        return self.inner.outcome(state)

    def score(self, state: State) -> float | None:
        return self.inner.score(state)

    def answer(self, state: State) -> Any:
        return self.inner.answer(state)

    def parse(self, text: str) -> State:
        return self.inner.parse(text)

    def instance_text(self, state: State) -> str:
        return self.inner.instance_text(state)

    def action_to_text(self, state: State, action: int) -> str:
        return self.inner.action_to_text(state, action)

    def __repr__(self) -> str:
        return f"RankedRewardTask({self.inner!r}, threshold={self.threshold})"
