"""Flush-to-zero around a net's own work (``flush_denormals``), used by ``NetworkEvaluator`` and ``Learner``.

Weights that weight decay drives towards zero become denormal floats, which make CPU matmuls ~40x slower
(measured on a trained connect-four ResNet); flushing them to zero costs nothing. The mode is CPU state
(the FTZ / DAZ flags that ``torch.set_flush_denormal`` sets) that every float operation of the thread sees,
Python's and numpy's included, so it is on only inside the net's calls and put back as it was afterwards.

The flags belong to a thread: ``torch.set_flush_denormal`` sets the calling thread's, and the threads of
torch's intra-op pool keep the flags of the thread that started them. The pool starts at the first
parallel torch operation, normally inside the first net call, so it flushes from then on (where the net's
matmuls run); a pool that some other torch code started earlier keeps IEEE behaviour. A process that only
runs the net (``selfplay.inference_server``) sets the mode once for good instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

__all__ = ["flush_denormals", "flushes_denormals"]


#: the smallest positive float32, a denormal, from its bits (a literal would be flushed when read under FTZ)
_DENORMAL = np.array([1], np.uint32).view(np.float32)[0]
_ONE = np.float32(1.0)


def flushes_denormals() -> bool:
    """Whether this thread flushes denormals to zero now. Torch has no getter; a denormal times one is zero
    exactly when the thread's flags say so (numpy's scalar arithmetic reads the same flags, in ~0.1 us
    rather than the ~5 us of a torch operation)."""
    return bool(_DENORMAL * _ONE == 0)


@contextmanager
def flush_denormals() -> Iterator[None]:
    """Flush denormals to zero inside the block, then restore the thread's previous mode."""
    if flushes_denormals():
        yield
        return
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
