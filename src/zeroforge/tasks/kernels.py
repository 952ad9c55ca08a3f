"""Array kernels: a task's state arithmetic as compiled functions over flat ``int8`` state vectors (pgx style).

A task that offers ``Task.array_kernels()`` can be searched without building a Python ``State`` per tree
node: the compiled search (``zeroforge.search.mcts``) keeps every node's state in one
``int8[B, N, state_size]`` array and calls ``step`` from inside its own compiled loop.

The contract of ``step(src, action, dst, obs, mask) -> (to_play, terminal, reward)`` (a numba function):

- ``src int8[S]``: a non-terminal state; ``action``: a legal action id (``int64``);
- writes the next state into ``dst int8[S]``, its observation tokens into ``obs int64[L]`` and its legal
  action mask into ``mask bool[A]`` (all ``False`` when terminal), exactly what ``Task.step`` gives;
- returns the next state's player to move (``int64``), whether it is terminal (``bool``) and the reward
  (``float32``) received by the player who moved (``src``'s player to move) — ``State.rewards[mover]``.

``encode(state) -> int8[S]`` turns a ``State`` of the task into its vector (roots of a search come as
``State`` objects).

The search does not take ``step`` as an argument of its compiled loop (numba cannot cache a function that
takes another compiled function, and compiling it anew costs seconds in every process): it calls
:func:`zeroforge.tasks.array_step.array_step`, which dispatches on ``kind`` to the task family's step. A new
family adds its kind here and a branch there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["KIND_STONE_GAMES", "ArrayKernels"]

#: ``ArrayKernels.kind`` of tic-tac-toe, connect four and connect-N (:mod:`zeroforge.tasks.games.mnk_kernel`)
KIND_STONE_GAMES = 0


@dataclass(frozen=True)
class ArrayKernels:
    """``kind`` (which branch of ``array_step``), ``state_size`` (``S``), the compiled ``step`` (see the module
    docstring) and ``encode``."""

    kind: int
    state_size: int
    step: Any
    encode: Callable[[Any], np.ndarray]
