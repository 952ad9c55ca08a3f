"""Self-play on Ray actors (``selfplay.backend: ray``; the ``ray`` extra): the same ``SelfPlaySource`` interface as
the local worker pool, the same chunks and random streams, so both give the same episodes for the same seeds.

- ``num_workers`` actors (one CPU each), each holding the task and its own copy of the net; a chunk is played with
  ``SelfPlayEpisodeGenerator`` and the RNG ``chunk_rng(seed, key, index)`` exactly as a pool worker plays it, and
  comes back as an ``EpisodeTable`` (numpy columns through the object store).
- Weights go into the object store once per new generation (``ray.put``) and every actor loads them before its
  next chunk; a chunk names the version it needs, so no game is played with stale weights.
- Actors are spread over the cluster's nodes (Ray's ``SPREAD`` strategy); a round reports how many nodes its actors
  ran on (``ray_nodes``).
- Chunks go to idle actors as they free up. An actor that dies (killed, its node lost) is replaced by a new one
  with the current weights, wherever the cluster has a free CPU, and its chunk is played again from scratch with
  its own stream: the round still holds exactly one episode per seed, the same episodes. A chunk that kills
  ``max_restarts + 1`` actors is a ``WorkerError``.
- ``ray_address``: ``""`` starts a Ray instance of its own on this machine (if none runs in this process yet),
  ``auto`` or ``HOST:PORT`` joins a cluster (``ray start --head`` ...). The source shuts Ray down on ``close``
  only if it started it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from zeroforge.data.table import EpisodeTable
from zeroforge.distributed.ray_inference import InferenceActor, InferenceSpec, RayServerEvaluator, node_id
from zeroforge.jit import set_threads
from zeroforge.nets import build_net
from zeroforge.search.evaluator import NetworkEvaluator
from zeroforge.selfplay.params import host_port
from zeroforge.selfplay.processes import WorkerError, load_weights, weights_to_numpy
from zeroforge.selfplay.source import SelfPlayRound
from zeroforge.selfplay.workers import WorkerSpec, _Chunk, _ChunkResult, _play_chunk, split_chunks
from zeroforge.tasks.base import Task

if TYPE_CHECKING:
    from zeroforge.config import ZeroforgeConfig

__all__ = ["RaySource", "SelfPlayActor"]


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ValueError("selfplay.backend ray needs Ray: pip install 'zeroforge[ray]'") from None
    return ray


def _probe(address: str) -> None:
    """A one-line ``ConnectionError`` when nothing listens at ``HOST:PORT`` (Ray itself would retry for minutes,
    printing warnings)."""
    parsed = host_port(address)
    if parsed is None:
        raise ValueError(f"selfplay.ray_address {address!r} is not HOST:PORT")
    host, port = parsed
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        raise ConnectionError(f"no Ray cluster answers at {address} ({exc.strerror or type(exc).__name__}): start "
                              f"one with `ray start --head --port {port}` there, or fix selfplay.ray_address "
                              f"(--address)") from None


@contextlib.contextmanager
def _own_signal_handlers() -> Iterator[None]:
    """Keep this process's SIGINT / SIGTERM handlers through ``ray.init``: Ray's core worker installs a C-level
    SIGTERM handler that dumps a stack and kills the driver at once, so ``zeroforge train`` would not stop cleanly
    (exit 143, its ``with`` blocks run). Only the main thread can set handlers; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in before.items():
            if handler is not None:
                signal.signal(s, handler)


class SelfPlayActor:
    """What one Ray actor runs (``ray.remote`` is applied by ``RaySource``): a pool worker's chunk loop, as
    methods."""

    def __init__(self, spec: WorkerSpec, server: Any = None) -> None:
        torch.set_num_threads(1)
        set_threads(1)
        self.spec = spec
        self.task = spec.build_task()
        self.net: torch.nn.Module | None = None
        self.evaluator: NetworkEvaluator | RayServerEvaluator
        if server is None:  # the net here, on this actor's CPU
            self.net = build_net(spec.net, self.task).eval()
            self.evaluator = NetworkEvaluator(self.net, "cpu")
        else:  # the leaves go to the inference server
            self.evaluator = RayServerEvaluator(server)
        self.version = -1

    def pid(self) -> int:
        return os.getpid()

    def where(self) -> tuple[int, str]:
        """This actor's process id and the Ray node it runs on (hex id)."""
        return os.getpid(), node_id()

    def set_weights(self, version: int, weights: dict[str, np.ndarray] | None) -> int:
        """Load weights ``version`` (``None`` with an inference server: it holds them, the actor only asks for
        that version)."""
        if self.net is not None and weights is not None:
            load_weights(self.net, weights)
            self.net.eval()
        if isinstance(self.evaluator, RayServerEvaluator):
            self.evaluator.version = version
        self.version = version
        return version

    def play(self, chunk: _Chunk) -> _ChunkResult:
        if chunk.version != self.version:
            raise RuntimeError(f"chunk {chunk.index} needs weights version {chunk.version}, actor holds "
                               f"{self.version}")
        try:
            return _play_chunk(self.task, self.evaluator, self.spec, chunk, lambda ep: None)
        except ConnectionError as exc:  # the driver replaces the server and replays the chunk
            raise ServerLost(str(exc)) from None


class ServerLost(RuntimeError):
    """A self-play actor lost the inference server mid-chunk."""


class RaySource:
    """``selfplay.num_workers`` Ray actors behind ``SelfPlaySource`` (module docstring)."""

    #: seconds the actors may take to start (imports, the net) before the source gives up on them
    STARTUP_TIMEOUT_S = 120.0

    def __init__(self, task: Task, config: ZeroforgeConfig) -> None:
        self.task, self.config = task, config
        self.ray = _ray()
        sp = config.selfplay
        self.spec = WorkerSpec(config.task.name, config.net, config.mcts, dict(config.task.params),
                               sp.parallel_batch_size)
        self.chunk_size = sp.chunk_size or sp.parallel_batch_size
        self._started_ray = False
        self._actor_class: Any = None
        self.actors: list[Any] = []
        self.server: Any = None  # the inference actor (``selfplay.inference: server``)
        self.version, self._generation, self._weights_ref = -1, -1, None
        self._calls = 0

    # -- actors ---------------------------------------------------------------------------------------

    def _start(self) -> None:
        ray = self.ray
        workers = self.config.selfplay.num_workers
        if not ray.is_initialized():
            # "local": a Ray instance of this run's own, even where `ray start` left a cluster running here
            address = self.config.selfplay.ray_address or "local"
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
            need = workers + (self.config.selfplay.inference == "server")  # an actor each, and the server
            if address not in ("local", "auto") and not address.startswith("ray://"):
                _probe(address)
            with _own_signal_handlers():
                ray.init(address=address, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.ERROR if address == "local" else logging.WARNING,
                         **({"num_cpus": max(need, cores)} if address == "local" else {}))
            self._started_ray = True
        if self.config.selfplay.inference == "server":
            self._start_server()
        self._actor_class = ray.remote(num_cpus=1, scheduling_strategy="SPREAD")(SelfPlayActor)
        self.actors = [self._actor_class.remote(self.spec, self.server) for _ in range(workers)]
        self._wait_ready(self.actors)

    def _start_server(self) -> None:
        """The inference actor: one CPU, and one GPU when its device is a GPU (Ray places it on a GPU node)."""
        ray, sp = self.ray, self.config.selfplay
        device = sp.server_device or self.config.train.device
        gpus = 1 if device.startswith("cuda") else 0
        if gpus:  # Ray picks the GPU and shows the actor that one only: as `cuda`, whatever index was asked for
            device = "cuda"
        spec = InferenceSpec(self.config.task.name, dict(self.config.task.params), self.config.net, device,
                             sp.inference_dtype, sp.server_window_ms / 1000, clients=sp.num_workers)
        self.server = ray.remote(num_cpus=1, num_gpus=gpus)(InferenceActor).remote(spec)
        try:
            ray.get(self.server.describe.remote(), timeout=self.STARTUP_TIMEOUT_S)  # up, its net built
        except ray.exceptions.GetTimeoutError:
            have = ray.cluster_resources()
            raise WorkerError(f"the Ray inference server did not start within {self.STARTUP_TIMEOUT_S:.0f} s: it "
                              f"needs 1 CPU{' and 1 GPU' if gpus else ''}, the cluster has {have.get('CPU', 0):g} "
                              f"CPUs and {have.get('GPU', 0):g} GPUs") from None
        if self._weights_ref is not None:
            ray.get(self.server.set_weights.remote(self.version, self._weights_ref))

    def _replace_server(self) -> None:
        """The inference server died: a new one, with the current weights (the actors get its handle anew)."""
        self._forget(self.server)
        self._start_server()
        for a in self.actors:
            self._forget(a)
        self.actors = [self._actor_class.remote(self.spec, self.server) for _ in self.actors]
        self._wait_ready(self.actors)
        self.ray.get([a.set_weights.remote(self.version, None) for a in self.actors])

    def _wait_ready(self, actors: list[Any]) -> None:
        """Every actor up within ``STARTUP_TIMEOUT_S``, or a one-line ``WorkerError`` (each actor needs a CPU of the
        cluster: more actors than CPUs would wait forever)."""
        ray = self.ray
        try:
            ray.get([a.pid.remote() for a in actors], timeout=self.STARTUP_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError:
            cpus = ray.cluster_resources().get("CPU", 0)
            raise WorkerError(f"{len(actors)} Ray actor(s) did not start within {self.STARTUP_TIMEOUT_S:.0f} s: the "
                              f"cluster has {cpus:g} CPUs and each actor needs one (fewer selfplay.num_workers, or "
                              f"more nodes)") from None

    def _new_actor(self) -> Any:
        actor = self._actor_class.remote(self.spec, self.server)
        self._wait_ready([actor])
        if self._weights_ref is not None:
            self.ray.get(actor.set_weights.remote(self.version, self._actor_weights()))
        return actor

    def _actor_weights(self) -> Any:
        """What an actor loads: the weights' object ref, or ``None`` when the server holds them."""
        return None if self.server is not None else self._weights_ref

    def _replace(self, k: int) -> None:
        """Actor ``k`` died (killed, or its node lost): a new one, with the current weights."""
        self._forget(self.actors[k])
        self.actors[k] = self._new_actor()

    def _send_weights(self) -> int:
        """The current weights to every actor; one that died since the last round is replaced (returns how
        many were)."""
        ray = self.ray
        replaced = 0
        if self.server is not None:
            try:
                ray.get(self.server.set_weights.remote(self.version, self._weights_ref))
            except ray.exceptions.RayActorError:
                self._replace_server()  # it gets the weights, and the actors are new
                return 1
        refs = [a.set_weights.remote(self.version, self._actor_weights()) for a in self.actors]
        for k, ref in enumerate(refs):
            try:
                ray.get(ref)
            except ray.exceptions.RayActorError:
                self._replace(k)
                replaced += 1
        return replaced

    def _ask(self, method: str) -> list[Any]:
        """``method`` of every live actor (a dead one is skipped: the next round replaces it)."""
        out = []
        for ref in [getattr(a, method).remote() for a in self.actors]:
            try:
                out.append(self.ray.get(ref))
            except self.ray.exceptions.RayActorError:
                continue
        return out

    def _forget(self, actor: Any) -> None:
        """Make sure a failed actor is gone for good (an unreachable one could otherwise come back and hold its
        CPU)."""
        with contextlib.suppress(Exception):  # already dead, or its node gone: nothing left to stop
            self.ray.kill(actor, no_restart=True)

    def kill_actor(self, k: int) -> None:
        """Kill actor ``k`` (fault-injection in the tests; a lost node looks the same)."""
        self.ray.kill(self.actors[k], no_restart=True)

    # -- SelfPlaySource -------------------------------------------------------------------------------

    def play(self, net: torch.nn.Module, generation: int, seeds: Sequence[int], levels: Sequence[int] | None,
             ranked_threshold: float | None, rng: np.random.Generator,
             on_progress: Callable[[int, int], None] | None = None) -> SelfPlayRound:
        ray = self.ray
        if not self.actors:
            self._start()
        if generation != self._generation:  # new weights: into the object store once, to every actor
            self.version += 1
            self._weights_ref = ray.put(weights_to_numpy(net.state_dict()))
            self._generation = generation
            restarts = self._send_weights()
        else:
            restarts = 0
        self._calls += 1
        queue = split_chunks(self.task, self._calls, seeds, levels, self.chunk_size, self.config.seed,
                             int(seeds[0]) if len(seeds) else 0, self.version, ranked_threshold)
        total = len(queue)
        results: dict[int, _ChunkResult] = {}
        kills: dict[int, int] = {}
        idle = list(range(len(self.actors)))
        running: dict[Any, tuple[int, _Chunk]] = {}
        server_losses = 0
        before = self._server_counters()
        start = time.perf_counter()
        done = 0
        while len(results) < total:
            while idle and queue:
                k, chunk = idle.pop(), queue.popleft()
                running[self.actors[k].play.remote(chunk)] = (k, chunk)
            ready, _ = ray.wait(list(running), num_returns=1)
            ref = ready[0]
            k, chunk = running.pop(ref)
            try:
                result: _ChunkResult = ray.get(ref)
            except ray.exceptions.RayActorError:
                kills[chunk.index] = kills.get(chunk.index, 0) + 1
                if kills[chunk.index] > self.config.selfplay.max_restarts:
                    raise WorkerError(f"chunk {chunk.index} (seeds {chunk.seeds[0]}..{chunk.seeds[-1]}) killed "
                                      f"{kills[chunk.index]} Ray actors") from None
                self._replace(k)
                restarts += 1
                queue.appendleft(chunk)  # played again from scratch, with its own stream
                idle.append(k)
                continue
            except ray.exceptions.RayTaskError as exc:
                if isinstance(exc.cause, ServerLost) and self.server is not None:
                    server_losses += 1
                    if server_losses > self.config.selfplay.max_restarts:
                        raise WorkerError(f"lost the Ray inference server {server_losses} times in one round"
                                          ) from None
                    # every chunk in flight failed with it: all are played again, by new actors
                    self._replace_server()
                    queue.extendleft(c for _, c in sorted(running.values(), key=lambda kc: -kc[1].index))
                    queue.appendleft(chunk)
                    running.clear()
                    idle = list(range(len(self.actors)))
                    restarts += 1
                    continue
                # a Python error inside the actor: replaying fails again
                raise WorkerError(f"chunk {chunk.index} failed in a Ray actor: {' '.join(str(exc).split())[-300:]}"
                                  ) from None
            results[chunk.index] = result
            idle.append(k)
            done += len(result.table)
            if on_progress is not None:
                on_progress(done, len(seeds))
        wall = time.perf_counter() - start
        ordered = [results[i] for i in range(total)]
        table = EpisodeTable.concat([r.table for r in ordered])
        worker_seconds = sum(r.wall_seconds for r in ordered)
        return SelfPlayRound(table, wall, sum(r.net_positions for r in ordered),
                             sum(r.net_seconds for r in ordered) / max(worker_seconds, 1e-9),
                             {"worker_restarts": restarts, "ray_nodes": len(self.nodes()),
                              **self._server_metrics(before, server_losses)})

    def _server_counters(self) -> dict[str, float]:
        if self.server is None:
            return {}
        try:
            counters: dict[str, float] = self.ray.get(self.server.counters.remote())
        except self.ray.exceptions.RayActorError:
            return {}
        return counters

    def _server_metrics(self, before: dict[str, float], losses: int) -> dict[str, float | int]:
        """The inference server's round: forward passes, positions per pass (the batching), restarts."""
        if self.server is None:
            return {}
        after = self._server_counters()
        if not before or not after or losses:  # a new server: its counters started again
            return {"inference_server_restarts": losses}
        batches = after["batches"] - before["batches"]
        return {"inference_server_restarts": 0, "inference_batches": int(batches),
                "inference_batch_positions": (after["positions"] - before["positions"]) / max(batches, 1)}

    def nodes(self) -> set[str]:
        """The Ray nodes the actors run on now."""
        return {node for _, node in self._ask("where")}

    def process_roles(self) -> dict[int, str]:
        """The actors' processes that run on this machine, the driver's node (the run's monitor watches them; a pid
        of another machine would name an unrelated process here)."""
        if not self.actors:  # not started (asking Ray anything now would start it, with the wrong resources)
            return {}
        here = node_id()
        roles = {int(pid): "worker" for pid, node in self._ask("where") if node == here}
        if self.server is not None:
            with contextlib.suppress(self.ray.exceptions.RayActorError):
                pid, node = self.ray.get(self.server.where.remote())
                if node == here:
                    roles[int(pid)] = "inference_server"
        return roles

    def close(self) -> None:
        for a in self.actors:
            self._forget(a)
        self.actors = []
        if self.server is not None:
            self._forget(self.server)
            self.server = None
        if self._started_ray:
            self.ray.shutdown()
            self._started_ray = False
