"""Process plumbing shared by the self-play worker pool and the inference server: their error type, weights as
picklable numpy arrays, and stopping a child process for sure."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np
import torch

__all__ = ["JOIN_TIMEOUT_S", "WorkerError", "load_weights", "reap", "signals_deferred", "weights_to_numpy"]

JOIN_TIMEOUT_S = 5.0


class WorkerError(RuntimeError):
    """A self-play worker failed in a way a restart would not fix; ``remote_traceback`` is the worker's."""

    def __init__(self, message: str, remote_traceback: str = "") -> None:
        super().__init__(message)
        self.remote_traceback = remote_traceback


def weights_to_numpy(state_dict: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """A picklable copy of a torch ``state_dict``: every tensor as a CPU numpy array (bfloat16 as float32)."""
    out: dict[str, np.ndarray] = {}
    for name, value in state_dict.items():
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu()
            if tensor.dtype == torch.bfloat16:
                tensor = tensor.float()
            out[name] = tensor.numpy().copy()
        else:
            out[name] = np.array(value)
    return out


def load_weights(net: torch.nn.Module, arrays: Mapping[str, np.ndarray]) -> None:
    """Load what ``weights_to_numpy`` made into ``net``."""
    net.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in arrays.items()})


def reap(*processes: BaseProcess, timeout: float = JOIN_TIMEOUT_S) -> None:
    """Wait for ``processes`` to end, all within one ``timeout``; then terminate those left, and kill those
    that outlive a second ``timeout``. A process that was asked to stop gets the time to do so; a busy or
    hung one (stopped by SIGSTOP, say) does not hold up the others."""
    for stop in (None, BaseProcess.terminate, BaseProcess.kill):
        alive = [p for p in processes if p.is_alive()]
        if not alive:
            return
        if stop is not None:
            for p in alive:
                stop(p)
        deadline = time.monotonic() + timeout
        for p in alive:
            p.join(max(0.0, deadline - time.monotonic()) if stop is not BaseProcess.kill else None)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while shutting processes down (a second Ctrl-C would otherwise break off
    the clean-up half way); they are delivered when the block ends. A no-op outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
