"""One inference server for many Ray self-play actors (``selfplay.backend: ray`` with ``selfplay.inference:
server``): the actor that owns the net (on a GPU node, the one process touching the GPU) and answers the leaf
evaluations of every self-play actor, merging the requests that arrive within a short window into one forward pass.

- ``InferenceActor`` is an async Ray actor. ``evaluate(version, inputs)`` queues a request (net inputs,
  ``zeroforge.nets.inputs``: flat ``(tokens [B, L],)`` or structured ``(tokens [B, N, 5], pointers [B, A, 3])``) and
  awaits its share of a batch. A batch is sent to the net when every client has a request in (each self-play actor
  waits for its answer, so it has at most one), when ``max_batch`` positions wait, or ``window_s`` after its first
  request, whichever comes first. The forward pass runs on one thread beside the event loop, so the next batch
  gathers while the net works.
- The forward pass is ``NetworkEvaluator``'s: ``torch.inference_mode``, autocast in ``dtype`` (``bfloat16`` or
  ``float16``: AMP on a GPU), inputs through pinned memory to a CUDA device.
- ``RayServerEvaluator`` is the self-play actor's side: the ``Evaluator`` protocol (legal-move softmax and value
  clipping done there, as every ``LogitsEvaluator`` does) over ``evaluate`` calls. A request for weights the server
  does not hold is refused, so no leaf is evaluated with stale weights; a lost server is a ``ConnectionError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from zeroforge.nets import build_net
from zeroforge.nets.inputs import concat_inputs
from zeroforge.nets.params import NetConfig
from zeroforge.search.evaluator import LogitsEvaluator, NetworkEvaluator
from zeroforge.selfplay.processes import load_weights
from zeroforge.tasks import make_task

__all__ = ["InferenceActor", "InferenceSpec", "RayServerEvaluator", "node_id"]


@dataclass(frozen=True)
class InferenceSpec:
    """What the inference actor builds: the task (for the net's shapes) and net, where it runs (``device``:
    ``cpu``, ``cuda``; ``auto``: a GPU if the actor's node has one) in which autocast ``dtype``, and the batching
    rule (``window_s``, ``max_batch`` positions, ``clients`` self-play actors)."""

    task_name: str
    task_params: Mapping[str, Any]
    net: NetConfig
    device: str = "cpu"
    dtype: str = "float32"
    window_s: float = 0.002
    max_batch: int = 4096
    clients: int = 1
    torch_threads: int = 1


class InferenceActor:
    """What the Ray inference actor runs (``ray.remote`` is applied by ``RaySource``; module docstring)."""

    def __init__(self, spec: InferenceSpec) -> None:
        torch.set_num_threads(spec.torch_threads)
        name = spec.device
        if name == "auto":
            name = "cuda" if torch.cuda.is_available() else "cpu"
        self.spec = spec
        self.device = torch.device(name)
        task = make_task(spec.task_name, **dict(spec.task_params))
        self.net = build_net(spec.net, task).to(self.device).eval()
        self.evaluator = NetworkEvaluator(self.net, self.device, spec.dtype)
        self.version = -1
        self.pending: list[tuple[tuple[np.ndarray, ...], asyncio.Future[tuple[np.ndarray, np.ndarray]]]] = []
        self.pending_rows = 0
        self.flusher: asyncio.Task[None] | None = None
        self.full: asyncio.Event | None = None
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="zeroforge-inference")
        self.stats = {"batches": 0, "requests": 0, "positions": 0, "seconds": 0.0}

    async def where(self) -> tuple[int, str]:
        """The server's process id and the Ray node it runs on (hex id)."""
        return os.getpid(), node_id()

    async def describe(self) -> dict[str, Any]:
        """Where the server runs: ``device``, ``dtype``, ``gpu`` (its name, or ``""``)."""
        gpu = torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else ""
        return {"device": str(self.device), "dtype": self.spec.dtype, "gpu": gpu}

    async def set_weights(self, version: int, weights: dict[str, np.ndarray]) -> int:
        load_weights(self.net, weights)
        self.net.eval()
        self.version = version
        return version

    async def counters(self) -> dict[str, float]:
        """Since start: ``batches`` (forward passes), ``requests``, ``positions``, ``seconds`` in the net."""
        return dict(self.stats)

    async def evaluate(self, version: int, inputs: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
        """``(logits float32[B, A], values float32[B])`` of the net inputs: raw, no softmax, no clipping."""
        if version != self.version:
            raise RuntimeError(f"request for weights version {version}, the inference server holds {self.version}")
        loop = asyncio.get_running_loop()
        if self.full is None:
            self.full = asyncio.Event()
        future: asyncio.Future[tuple[np.ndarray, np.ndarray]] = loop.create_future()
        self.pending.append((inputs, future))
        self.pending_rows += len(inputs[0])
        if self.flusher is None:
            self.flusher = asyncio.create_task(self._flush())
        if len(self.pending) >= self.spec.clients or self.pending_rows >= self.spec.max_batch:
            self.full.set()
        return await future

    async def _flush(self) -> None:
        """Wait for the batch to fill (or the window to close), then run it."""
        assert self.full is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.full.wait(), timeout=self.spec.window_s)
        batch, self.pending, self.pending_rows = self.pending, [], 0
        self.full.clear()
        self.flusher = None  # requests from here on gather into the next batch while this one runs
        start = time.perf_counter()
        try:
            logits, values = await asyncio.get_running_loop().run_in_executor(
                self.pool, self.evaluator._logits, concat_inputs([inputs for inputs, _ in batch]))
        except Exception as exc:  # every waiting request gets the error (its actor raises it)
            for _, future in batch:
                future.set_exception(exc)
            return
        self.stats["seconds"] += time.perf_counter() - start
        self.stats["batches"] += 1
        self.stats["requests"] += len(batch)
        self.stats["positions"] += len(logits)
        offset = 0
        for inputs, future in batch:
            n = len(inputs[0])
            future.set_result((logits[offset:offset + n], values[offset:offset + n]))
            offset += n


def node_id() -> str:
    """The Ray node of the calling process (hex id)."""
    import ray

    return str(ray.get_runtime_context().get_node_id())


class RayServerEvaluator(LogitsEvaluator):
    """The ``Evaluator`` protocol over an ``InferenceActor`` (module docstring): ``version`` is the weights version
    the caller needs; ``calls``, ``positions`` and ``seconds`` count as in ``NetworkEvaluator`` (seconds: waiting
    for the server, the net's share of a self-play actor's time)."""

    def __init__(self, server: Any, version: int = -1) -> None:
        super().__init__()
        self.server = server
        self.version = version

    def _logits(self, inputs: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
        import ray

        try:
            logits, values = ray.get(self.server.evaluate.remote(self.version, inputs))
        except ray.exceptions.RayActorError as exc:
            raise ConnectionError(f"lost the Ray inference server: {type(exc).__name__}") from None
        return logits, values
