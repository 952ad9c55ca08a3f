"""Exact game-theoretic values by memoised negamax, over the generic Task API.

For small two-player zero-sum games (tic-tac-toe; connect four on tiny boards such as 3x4 with
connect 3) and single-player tasks. The search visits **every reachable state** once (memoised on
``state.key()``), so its time and memory are exponential in the board size: tic-tac-toe has 5478
reachable states and solves in a fraction of a second, full 6x7 connect four is far out of reach.

Values are the return still to come for the **player to move** at the state, assuming optimal play
by everyone: ``+1`` win, ``0`` draw, ``-1`` loss for the games here. Formally, with ``p`` the player
to move at ``s`` and ``s' = step(s, a)``::

    Q(s, a) = s'.rewards[p] + (V(s') if s'.current_player == p else -V(s'))
    V(s)    = max_a Q(s, a),        V(terminal) = 0

so a terminal state has value 0 (its outcome was paid in its ``rewards`` on the way in).
"""

from __future__ import annotations

import sys
import weakref

import numpy as np

from zeroforge.tasks.base import State, Task

__all__ = ["NegamaxSolver", "optimal_actions", "solve"]

_TOL = 1e-9


class NegamaxSolver:
    """Memoised negamax for one task; ``cache`` maps ``state.key()`` to the value for the mover.

    Reuse one solver per task: its cache persists, so later queries are dictionary lookups. Every
    state reached during a solve is cached, terminal ones included, so after ``value`` of the
    initial state ``len(solver.cache)`` is the number of distinct reachable states.
    """

    def __init__(self, task: Task) -> None:
        if task.num_players not in (1, 2):
            raise ValueError(
                f"NegamaxSolver handles 1- or 2-player zero-sum tasks, {task.name} has {task.num_players}"
            )
        self.task = task
        self.cache: dict[object, float] = {}

    def clear(self) -> None:
        """Forget every cached value."""
        self.cache.clear()

    def value(self, state: State) -> float:
        """Game-theoretic value of ``state`` for ``state.current_player`` (0 for terminal states)."""
        key = state.key()
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        if state.terminal:
            v = 0.0
        else:
            depth_needed = 4 * (self.task.max_episode_steps - state.step_count) + 200
            if sys.getrecursionlimit() < depth_needed:
                sys.setrecursionlimit(depth_needed)
            v = max(q for _, q in self._action_values(state))
        self.cache[key] = v
        return v

    def _action_values(self, state: State) -> list[tuple[int, float]]:
        mover = state.current_player
        out = []
        for a in np.flatnonzero(state.legal_action_mask).tolist():
            child = self.task.step(state, a)
            v = self.value(child)
            q = float(child.rewards[mover]) + (v if child.current_player == mover else -v)
            out.append((a, q))
        return out

    def action_values(self, state: State) -> dict[int, float]:
        """``{action: Q(state, action)}`` over the legal actions, from the mover's perspective."""
        if state.terminal:
            return {}
        return dict(self._action_values(state))

    def optimal_actions(self, state: State) -> list[int]:
        """All legal actions whose value for the mover equals the best, ascending; ``[]`` if terminal."""
        qs = self.action_values(state)
        if not qs:
            return []
        best = max(qs.values())
        return [a for a, q in qs.items() if q >= best - _TOL]


# One solver (and cache) per live task object, so repeated module-level calls are lookups.
_SOLVERS: weakref.WeakKeyDictionary[Task, NegamaxSolver] = weakref.WeakKeyDictionary()


def _solver_for(task: Task) -> NegamaxSolver:
    solver = _SOLVERS.get(task)
    if solver is None:
        solver = _SOLVERS[task] = NegamaxSolver(task)
    return solver


def solve(task: Task, state: State) -> float:
    """Value of ``state`` for the player to move under optimal play: +1 win, 0 draw, -1 loss.

    Exponential in the size of the game (it visits every state reachable from ``state``); meant for
    tic-tac-toe and tiny connect-four boards. The cache is kept per task object.
    """
    return _solver_for(task).value(state)


def optimal_actions(task: Task, state: State) -> list[int]:
    """All legal actions from ``state`` that achieve the mover's optimal value, ascending."""
    return _solver_for(task).optimal_actions(state)
