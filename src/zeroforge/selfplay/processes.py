"""Process plumbing shared by the self-play worker pool and the inference server: their error type, weights as
picklable numpy arrays, and stopping a child process for sure."""

from __future__ import annotations

from collections.abc import Mapping
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np
import torch

__all__ = ["JOIN_TIMEOUT_S", "WorkerError", "load_weights", "reap", "weights_to_numpy"]

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


def reap(process: BaseProcess) -> None:
    """Wait for ``process`` to end; terminate it, then kill it, when it does not within ``JOIN_TIMEOUT_S``."""
    process.join(JOIN_TIMEOUT_S)
    if process.is_alive():
        process.terminate()
        process.join(JOIN_TIMEOUT_S)
    if process.is_alive():
        process.kill()
        process.join()
