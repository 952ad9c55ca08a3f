"""``array_step``: the one compiled entry point to every task family's array step (see
:mod:`zeroforge.tasks.kernels`), dispatching on ``ArrayKernels.kind``, so that the compiled search can call a
task's step without taking a function argument (and stays in numba's on-disk cache).

numba's cache tracks the source file of each cached function, not of the functions it calls: after editing a
family's step, delete the ``__pycache__/*.nbi`` / ``*.nbc`` files of ``zeroforge.search`` (a fresh install
has none).
"""

from __future__ import annotations

import numpy as np

from zeroforge.jit import jit
from zeroforge.tasks.games.mnk_kernel import mnk_step
from zeroforge.tasks.kernels import KIND_STONE_GAMES

__all__ = ["array_step"]


@jit
def array_step(kind: int, src: np.ndarray, action: int, dst: np.ndarray, obs: np.ndarray,
               mask: np.ndarray) -> tuple[int, bool, np.float32]:
    """The ``step`` of family ``kind`` (same contract as ``ArrayKernels.step``)."""
    if kind == KIND_STONE_GAMES:
        return mnk_step(src, action, dst, obs, mask)
    raise ValueError("array_step: unknown array kernel kind")
