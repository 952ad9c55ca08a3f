"""Array kernels: a task's state arithmetic as compiled functions over flat ``int8`` state vectors (pgx style).

A task that offers ``Task.array_kernels()`` can be searched without building a Python ``State`` per tree
node: the compiled search (``zeroforge.search.compiled``) keeps every node's state in one
``int8[B, N, state_size]`` array and calls ``step`` from inside its own compiled loop.

The contract of ``step(src, action, dst, obs, mask) -> (to_play, terminal, reward)`` (a numba function):

- ``src int8[S]``: a non-terminal state; ``action``: a legal action id (``int64``);
- writes the next state into ``dst int8[S]``, its observation tokens into ``obs int64[L]`` and its legal
  action mask into ``mask bool[A]`` (all ``False`` when terminal), exactly what ``Task.step`` gives;
- returns the next state's player to move (``int64``), whether it is terminal (``bool``) and the reward
  (``float32``) received by the player who moved (``src``'s player to move) — ``State.rewards[mover]``.

``encode(state) -> int8[S]`` turns a ``State`` of the task into its vector (roots of a search come as
``State`` objects).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ArrayKernels"]


@dataclass(frozen=True)
class ArrayKernels:
    """``state_size`` (``S``), the compiled ``step`` (see the module docstring) and ``encode``."""

    state_size: int
    step: Any
    encode: Callable[[Any], np.ndarray]
