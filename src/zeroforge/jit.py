"""numba, when it is there: ``jit`` compiles a function with ``numba.njit(cache=True)``.

Without numba (or with ``ZEROFORGE_NUMBA=0`` in the environment) ``NUMBA_AVAILABLE`` is ``False`` and the
compiled paths are not taken: search runs the same kernels as plain Python (:func:`uncompiled`), which gives the
same results, slowly.
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["NUMBA_AVAILABLE", "get_threads", "jit", "jit_inline", "jit_parallel", "prange", "set_threads", "uncompiled"]

F = TypeVar("F", bound=Callable[..., Any])

numba: Any
try:
    import numba
except ImportError:  # pragma: no cover - the platform has no numba wheel
    numba = None

NUMBA_AVAILABLE: bool = numba is not None and os.environ.get("ZEROFORGE_NUMBA", "1") != "0"
#: ``numba.prange`` (plain ``range`` without numba)
prange = numba.prange if numba is not None else range


def set_threads(count: int) -> None:
    """Threads of numba's parallel loops in this process (a worker process sharing the cores with others
    takes 1). No-op without numba."""
    if numba is not None:
        numba.set_num_threads(max(1, min(int(count), numba.config.NUMBA_NUM_THREADS)))


def get_threads() -> int:
    """Threads numba's parallel loops run on in this process (1 without numba)."""
    return int(numba.get_num_threads()) if numba is not None else 1


def _njit(fn: F, **options: Any) -> F:
    """``numba.njit(cache=True, nogil=True, **options)(fn)`` when numba is available, else ``fn`` itself (never
    called on the numpy path, but importable)."""
    if numba is None:
        return fn
    compiled: F = numba.njit(cache=True, nogil=True, **options)(fn)
    return compiled


def jit(fn: F) -> F:
    """Compile ``fn`` with numba (cached on disk)."""
    return _njit(fn)


def jit_parallel(fn: F) -> F:
    """Like :func:`jit` with ``parallel=True``: ``numba.prange`` loops run on numba's threads."""
    return _njit(fn, parallel=True)


def jit_inline(fn: F) -> F:
    """Like :func:`jit`, inlined into its callers at numba's IR level (``inline="always"``): for the per-tree
    helpers of the search's hot loops, which return tuples."""
    return _njit(fn, inline="always")


def uncompiled(namespace: dict[str, Any]) -> dict[str, Any]:
    """A copy of a module's ``namespace`` (its ``globals()``) in which every numba dispatcher defined in that
    module is replaced by its plain Python function, rebound to the copy: so the plain functions call each other
    plain, never a compiled one (dispatchers imported from other modules stay as they are). Without numba the
    functions are plain already and the copy changes nothing."""
    plain: dict[str, Any] = dict(namespace)
    for name, obj in namespace.items():
        fn = getattr(obj, "py_func", None)
        if isinstance(fn, types.FunctionType) and fn.__module__ == namespace["__name__"]:
            plain[name] = types.FunctionType(fn.__code__, plain, fn.__name__, fn.__defaults__, fn.__closure__)
    return plain
