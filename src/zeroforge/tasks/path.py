"""``PathTask``: the verdict, score and step budget of single-agent tasks whose episode is a path to a goal.

Maze, blocksworld, logic and the step-by-step math tasks share one shape: an episode ends when the goal is
reached (or a declaration is made) or when the instance's step budget is used up; the verifier's verdict
on the finished episode is ``success`` or ``failure`` (``timeout`` while it runs); a success scores
``optimal / steps`` (``1.0`` on a shortest path), a failure ``0.0``. A subclass says what its states are
(``path_state``), whether a state is solved (``is_solved``) and how long the optimal path is
(``optimal_steps``); this class does the rest.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections import deque
from collections.abc import Hashable
from typing import ClassVar

import numpy as np

from zeroforge.tasks.base import State, Task

__all__ = ["PathTask", "path_score"]


def path_score(solved: bool, optimal_steps: int, steps: int) -> float:
    """The score of a finished path-like episode: ``optimal_steps / steps`` (``1.0`` on a shortest solution)
    if it was solved, else ``0.0``."""
    return min(1.0, optimal_steps / max(steps, 1)) if solved else 0.0


class PathTask(Task):
    """A single-agent task whose episode is a path under a step budget (see the module docstring).

    Subclasses set ``path_state`` (the task's ``State`` subclass), ``step_budget_factor`` and
    ``max_episode_steps``, and implement ``is_solved`` / ``optimal_steps``.
    """

    num_players = 1
    #: the task's own state type: ``outcome`` and ``score`` judge only states of it
    path_state: ClassVar[type[State]] = State
    step_budget_factor: float

    @abstractmethod
    def is_solved(self, state: State) -> bool:
        """The verifier's verdict on a finished ``path_state`` (goal reached, true declaration, ...)."""

    @abstractmethod
    def optimal_steps(self, state: State) -> int:
        """The length of an optimal episode of ``state``'s instance (a ``path_state``)."""

    def step_budget(self, horizon: int) -> int:
        """The step budget of an instance ``horizon`` steps from its goal: ``ceil(step_budget_factor *
        horizon)``, at least ``1``, at most ``max_episode_steps``."""
        return min(self.max_episode_steps, max(1, math.ceil(self.step_budget_factor * horizon)))

    def outcome(self, state: State) -> str:
        """``success`` iff the finished episode is solved (:meth:`is_solved`), else ``failure``; ``timeout``
        if ``state`` is not terminal."""
        if not state.terminal:
            return "timeout"
        if isinstance(state, self.path_state):
            return "success" if self.is_solved(state) else "failure"
        return super().outcome(state)

    def search_key(self, state: State) -> Hashable:
        """What identifies ``state`` for :meth:`shortest_solution`: ``state.key()``; a subclass drops what a
        breadth-first search may merge (the step count: the first visit of a position is the shortest)."""
        return state.key()

    def shortest_solution(self, state: State, max_nodes: int = 20_000) -> list[int] | None:
        """A shortest action sequence from ``state`` to a successful end (breadth-first over :meth:`step`, legal
        actions in index order, positions merged by :meth:`search_key`): ``[]`` on a finished success, ``None``
        on a failure, when no success is in reach, or past ``max_nodes`` positions. The generic solver behind
        the demonstrations of families without a dedicated one (issue 13)."""
        if state.terminal:
            return [] if self.outcome(state) == "success" else None
        start = self.search_key(state)
        parents: dict[Hashable, tuple[Hashable, int] | None] = {start: None}
        frontier: deque[tuple[Hashable, State]] = deque([(start, state)])
        while frontier:
            key, s = frontier.popleft()
            for a in np.flatnonzero(s.legal_action_mask):
                nxt = self.step(s, int(a))
                if nxt.terminal:
                    if self.outcome(nxt) != "success":
                        continue
                    actions, at = [int(a)], parents[key]
                    while at is not None:
                        actions.append(at[1])
                        at = parents[at[0]]
                    return actions[::-1]
                nkey = self.search_key(nxt)
                if nkey in parents:
                    continue
                if len(parents) >= max_nodes:
                    return None
                parents[nkey] = (key, int(a))
                frontier.append((nkey, nxt))
        return None

    def score(self, state: State) -> float | None:
        """``optimal_steps / step_count`` on success (``1.0`` on a shortest path), ``0.0`` on failure; ``None``
        while the episode is not over."""
        if not state.terminal or not isinstance(state, self.path_state):
            return None
        return path_score(self.is_solved(state), self.optimal_steps(state), state.step_count)
