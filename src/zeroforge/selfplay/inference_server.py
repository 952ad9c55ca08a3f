"""The inference server: one process owns the net (on a GPU machine, the only one touching the GPU) and answers
the leaf evaluations of every self-play worker, merging the requests that arrive within a short window into one
forward pass. ``RemoteEvaluator`` is the worker's side (the ``Evaluator`` protocol over a pipe),
``InferenceServer`` the pool's handle on the process."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np
import torch

from zeroforge.nets import build_net
from zeroforge.nets.inputs import concat_inputs
from zeroforge.nets.params import NetConfig
from zeroforge.search.evaluator import LogitsEvaluator
from zeroforge.selfplay.processes import WorkerError, load_weights, reap, signals_deferred
from zeroforge.tasks import make_task

__all__ = ["InferenceServer", "RemoteEvaluator"]


class RemoteEvaluator(LogitsEvaluator):
    """The ``Evaluator`` protocol over a pipe to an ``InferenceServer``.

    ``evaluate_inputs(inputs, masks bool[B, A])`` sends the net inputs (``zeroforge.nets.inputs``: flat tokens,
    or structured tokens and pointers; tagged with the weights ``version`` the caller expects) and receives
    ``logits float32[B, A]`` and ``values float32[B]``; the legal-move softmax and the clipping are done here, as
    in ``NetworkEvaluator``. A lost server raises
    ``ConnectionError``. ``calls``, ``positions`` and ``seconds`` count as in ``NetworkEvaluator``.
    """

    def __init__(self, conn: Connection, version: int = 0) -> None:
        super().__init__()
        self.conn = conn
        self.version = version

    def _logits(self, inputs: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
        try:
            self.conn.send(("eval", self.version, inputs))
            reply = self.conn.recv()
        except (EOFError, OSError) as exc:
            raise ConnectionError(f"lost the inference server: {type(exc).__name__}") from exc
        if reply[0] != "ok":
            raise RuntimeError(f"inference server: {reply[1]}")
        return reply[1], reply[2]


@dataclass(frozen=True)
class _ServerSpec:
    task_name: str
    task_params: Mapping[str, Any]
    net: NetConfig
    device: str
    window_s: float
    torch_threads: int


def _forward(net: torch.nn.Module, device: torch.device,
             inputs: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Net inputs -> ``(logits float32[B, A], values float32[B])`` (raw: no softmax, no clipping)."""
    with torch.inference_mode():
        logits, values = net(*(torch.from_numpy(x).to(device) for x in inputs))
        return logits.float().cpu().numpy(), values.float().cpu().numpy().reshape(-1)


class _ServerLoop:
    """The server process: control messages from the pool, evaluation requests from the workers."""

    def __init__(self, control: Connection, spec: _ServerSpec) -> None:
        self.control = control
        self.spec = spec
        self.device = torch.device(spec.device)
        task = make_task(spec.task_name, **dict(spec.task_params))
        self.net = build_net(spec.net, task).to(self.device).eval()
        self.version = -1
        self.clients: dict[int, Connection] = {}  # client id -> its pipe
        self.stats = {"batches": 0, "requests": 0, "positions": 0, "seconds": 0.0}

    def run(self) -> None:
        self.control.send(("ready", os.getpid()))
        while True:
            ready = wait([self.control, *self.clients.values()])
            if self.control in ready:
                if not self._control_message():
                    return
                continue
            self._serve(ready)

    def _control_message(self) -> bool:
        """Handle one message from the pool; ``False`` means stop."""
        try:
            msg = self.control.recv()
        except (EOFError, OSError):
            return False
        if msg[0] == "stop":
            return False
        if msg[0] == "weights":
            load_weights(self.net, msg[2])
            self.net.eval()
            self.version = msg[1]
            self.control.send(("ack", self.version))
        elif msg[0] == "connect":
            self._drop(msg[1])
            self.clients[msg[1]] = msg[2]
        elif msg[0] == "stats":
            self.control.send(("stats", dict(self.stats)))
        return True

    def _drop(self, cid: int) -> None:
        conn = self.clients.pop(cid, None)
        if conn is not None:
            conn.close()

    def _serve(self, ready: Sequence[Any]) -> None:
        """Gather the ready requests and those arriving within the window, answer them with one forward pass."""
        by_conn = {id(c): cid for cid, c in self.clients.items()}
        batch: list[tuple[int, int, tuple[np.ndarray, ...]]] = []  # (client id, version, net inputs)
        waiting = set(self.clients)
        deadline = time.perf_counter() + self.spec.window_s
        while True:
            for conn in ready:
                cid = by_conn[id(conn)]
                waiting.discard(cid)
                try:
                    msg = conn.recv()
                except (EOFError, OSError):
                    self._drop(cid)
                    continue
                batch.append((cid, msg[1], msg[2]))
            left = deadline - time.perf_counter()
            if not waiting or left <= 0:
                break
            ready = wait([self.clients[c] for c in waiting if c in self.clients], timeout=left)
            if not ready:
                break
        good = [r for r in batch if r[1] == self.version]
        for cid, v, _ in batch:
            if v != self.version:
                self._reply(cid, ("error", f"request for weights version {v}, server holds {self.version}"))
        if not good:
            return
        start = time.perf_counter()
        logits, values = _forward(self.net, self.device, concat_inputs([r[2] for r in good]))
        self.stats["seconds"] += time.perf_counter() - start
        self.stats["batches"] += 1
        self.stats["requests"] += len(good)
        self.stats["positions"] += len(logits)
        offset = 0
        for cid, _, inputs in good:
            n = len(inputs[0])
            self._reply(cid, ("ok", logits[offset:offset + n], values[offset:offset + n]))
            offset += n

    def _reply(self, cid: int, msg: tuple[Any, ...]) -> None:
        conn = self.clients.get(cid)
        if conn is None:
            return
        try:
            conn.send(msg)
        except OSError:  # the worker died while waiting
            self._drop(cid)


def _server_main(control: Connection, spec: _ServerSpec) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the pool's to handle
    torch.set_num_threads(spec.torch_threads)
    torch.set_flush_denormal(True)
    _ServerLoop(control, spec).run()


class InferenceServer:
    """Parent-side handle of a process that owns the net and answers ``RemoteEvaluator`` requests.

    Requests from all connected clients that arrive within ``window_s`` of the first one are concatenated
    into one forward pass (the server stops waiting early once every client has a request in). ``connect``
    returns the client end of a new private pipe; ``set_weights`` loads a version and waits for the server's
    acknowledgement. Used by ``SelfPlayWorkerPool(inference="server")``.
    """

    def __init__(self, ctx: Any, task_name: str, task_params: Mapping[str, Any], net: NetConfig,
                 device: str = "cpu", window_s: float = 0.002, torch_threads: int = 1) -> None:
        if window_s < 0:
            raise ValueError(f"window_s must be >= 0, got {window_s}")
        self._ctx = ctx
        self._spec = _ServerSpec(task_name, dict(task_params), net, str(device), float(window_s), torch_threads)
        self.version = -1
        self._control, child = ctx.Pipe()
        self.process: BaseProcess = ctx.Process(target=_server_main, args=(child, self._spec), daemon=True,
                                                name="zeroforge-inference-server")
        self.process.start()
        child.close()
        msg = self._request(None)
        if msg[0] != "ready":
            raise WorkerError(f"inference server failed to start: {msg}")

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def sentinel(self) -> int:
        return self.process.sentinel

    def is_alive(self) -> bool:
        return self.process.is_alive()

    def _request(self, msg: tuple[Any, ...] | None) -> tuple[Any, ...]:
        try:
            if msg is not None:
                self._control.send(msg)
            reply: tuple[Any, ...] = self._control.recv()
        except (EOFError, OSError) as exc:
            raise ConnectionError(f"the inference server (pid {self.pid}) died") from exc
        return reply

    def set_weights(self, version: int, arrays: Mapping[str, np.ndarray]) -> None:
        """Load weights ``version``; returns once the server holds them."""
        reply = self._request(("weights", version, dict(arrays)))
        if reply != ("ack", version):
            raise WorkerError(f"inference server answered {reply[0]!r} to weights version {version}")
        self.version = version

    def connect(self, client_id: int) -> Connection:
        """A new client pipe (``client_id`` unique per client process); the caller passes it to the client."""
        mine, theirs = self._ctx.Pipe()
        try:
            self._control.send(("connect", client_id, theirs))
        except OSError as exc:
            mine.close()
            raise ConnectionError(f"the inference server (pid {self.pid}) died") from exc
        finally:
            theirs.close()
        return mine

    def stats(self) -> dict[str, float]:
        """Counters since start: ``batches`` (forward passes), ``requests``, ``positions``, ``seconds``."""
        reply = self._request(("stats",))
        return dict(reply[1])

    def close(self) -> None:
        """Stop the server process (terminated if it does not stop by itself)."""
        with signals_deferred():
            if self.process.is_alive():
                with contextlib.suppress(OSError):
                    self._control.send(("stop",))
            reap(self.process)
            self._control.close()
