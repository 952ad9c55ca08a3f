"""Parallel self-play: worker processes that each advance many episodes in lockstep (DESIGN §3).

``SelfPlayWorkerPool`` owns ``num_workers`` processes. ``generate(seeds)`` cuts the seeds into chunks of
``chunk_size`` consecutive seeds; whenever a worker is idle it is handed the next chunk, so faster workers
take more (while plenty are left, a busy worker also has its next chunk queued, so that it never waits for the
pool between chunks). A worker plays its chunk with ``SelfPlayEpisodeGenerator`` (``parallel_batch_size`` episodes in
lockstep) and the RNG ``chunk_rng(seed, key, chunk_index)``, and sends the episodes back as one ``EpisodeTable``
(numpy columns: compact to pickle, no ``State`` objects).

Determinism. The episodes of a chunk depend only on the weights, the chunk's seeds and difficulties and
``(seed, key, chunk_index)``: not on which worker played it, on how many workers there are, or on whether it
is a replay after a crash. Each worker runs torch on one thread, so the forward passes of a chunk are the same
computation wherever it runs.

Weights. ``update_weights(state_dict)`` (or ``generate(..., weights=...)``) stores a numpy copy under a new
version number; every chunk carries the version it must be played with, and a worker (or the inference
server) is sent the weights before its first chunk of a newer version; a mismatch is an error, never a
silently stale game.

Fault tolerance. A worker process that dies (killed, segfault, out of memory) is detected through its
process sentinel or the end of its pipe, one that hangs (stopped by SIGSTOP, deadlocked) by the silence of its
heartbeat for ``heartbeat_timeout_s``; the chunk it was playing goes back to the front of the queue and a
new process takes its slot. Chunks are replayed from scratch with their own RNG, so the result holds exactly
one episode per seed, identical to a run without the crash. A chunk that kills ``max_restarts + 1`` workers
raises ``WorkerError``; so does a Python exception inside a worker (replaying it would fail again).

Inference. ``inference="local"``: every worker runs its own copy of the net. ``inference="server"``: one
``InferenceServer`` process (:mod:`zeroforge.selfplay.inference_server`) owns the net (on a GPU machine, the
only process that touches the GPU); the workers' ``RemoteEvaluator`` sends each batch of leaf observations
through a private pipe, and the server concatenates the requests of all workers that arrive within
``server_window_s`` into one forward pass. The server answers logits and values and the worker applies the
legal-move softmax, exactly as ``NetworkEvaluator`` does. If the server dies it is restarted, and every worker with it.

Processes start with ``forkserver`` where available (torch and ``fork`` do not mix): the fork server imports
torch and zeroforge once (1.5-2.5 s), after which a worker process starts in 20-30 ms; its first chunk then
loads the search's numba kernels from the on-disk cache (0.5-0.8 s more, once per process). Transport is one
``multiprocessing`` pipe per process pair, never a queue shared by several writers: a writer killed while
holding a shared queue's lock would hang all the others.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from typing import Any

import numpy as np
import torch

from zeroforge.data.table import EpisodeTable
from zeroforge.jit import set_threads
from zeroforge.nets import build_net
from zeroforge.nets.params import NetConfig
from zeroforge.search.evaluator import Evaluator, LogitsEvaluator, NetworkEvaluator
from zeroforge.search.params import MCTSConfig
from zeroforge.selfplay.episode import SelfPlayEpisode
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator
from zeroforge.selfplay.inference_server import InferenceServer, RemoteEvaluator
from zeroforge.selfplay.processes import WorkerError, load_weights, reap, signals_deferred, weights_to_numpy
from zeroforge.tasks import make_task
from zeroforge.tasks.base import Task
from zeroforge.tasks.ranked import RankedRewardTask

__all__ = [
    "INFERENCE_MODES",
    "InferenceServer",
    "PoolStats",
    "RemoteEvaluator",
    "SelfPlayWorkerPool",
    "WorkerError",
    "WorkerSpec",
    "chunk_rng",
    "weights_to_numpy",
]

INFERENCE_MODES = ("local", "server")

#: exit status of a worker that lost its inference server (the pool restarts the server, then the worker)
_EXIT_SERVER_LOST = 75
#: exit status of a worker killed by the ``fault_injection`` test hook
_EXIT_INJECTED = 70
#: seconds between a busy worker's signs of life
HEARTBEAT_S = 0.5


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker process needs to rebuild its task, net and episode generator (picklable).

    The task is ``make_task(task_name, **task_params)`` and the net ``build_net(net, task)``; the weights
    travel separately (``SelfPlayWorkerPool.update_weights``).
    """

    task_name: str
    net: NetConfig
    mcts: MCTSConfig
    task_params: Mapping[str, Any] = field(default_factory=dict)
    parallel_batch_size: int = 64
    max_moves: int | None = None
    add_noise: bool = True

    def __post_init__(self) -> None:
        if self.parallel_batch_size < 1:
            raise ValueError(f"parallel_batch_size must be >= 1, got {self.parallel_batch_size}")

    def build_task(self) -> Task:
        return make_task(self.task_name, **dict(self.task_params))


@dataclass(frozen=True)
class PoolStats:
    """What one ``generate`` call cost.

    ``worker_seconds`` sums the chunks' wall times inside the workers, ``worker_cpu_seconds`` the CPU time
    the workers spent on them (less than ``worker_seconds`` when other processes share the cores);
    ``net_*`` count the evaluator calls made by the workers (in server mode ``net_seconds`` includes the
    round trips to the server);
    ``server_*`` count the server's forward passes, the worker requests they merged and the positions
    evaluated (zero in local mode); ``restarts`` counts worker and server processes replaced.
    """

    episodes: int
    chunks: int
    wall_seconds: float
    worker_seconds: float
    worker_cpu_seconds: float
    net_calls: int
    net_positions: int
    net_seconds: float
    restarts: int
    server_batches: int = 0
    server_requests: int = 0
    server_positions: int = 0


def chunk_rng(seed: int, key: int, index: int) -> np.random.Generator:
    """The RNG of chunk ``index`` of a ``generate(..., key=key)`` call of a pool created with ``seed``."""
    return np.random.default_rng(np.random.SeedSequence([seed, key, index]))


# -- messages --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Chunk:
    """``seeds`` (and their ``difficulties``) to play with the weights of ``version``; ``call`` numbers the
    ``generate`` call so that a late answer from an aborted call is recognised and dropped."""

    call: int
    index: int
    seeds: tuple[int, ...]
    difficulties: tuple[int, ...] | None
    seed: int
    key: int
    version: int
    ranked_threshold: float | None


@dataclass(frozen=True)
class _ChunkResult:
    call: int
    index: int
    table: EpisodeTable
    wall_seconds: float
    cpu_seconds: float
    net_calls: int
    net_positions: int
    net_seconds: float


def split_chunks(task: Task, call: int, seeds: Sequence[int], difficulties: Sequence[int] | None, size: int,
                 seed: int, key: int, version: int, ranked_threshold: float | None) -> deque[_Chunk]:
    """A round's seeds (and levels) as the chunks of ``size`` that workers or Ray actors play, index ``i`` the
    ``i``-th ``size`` seeds (its random stream: ``chunk_rng(seed, key, i)``). The levels and the ranked threshold
    are checked here, with a clear error, rather than in every worker."""
    seed_list = [int(s) for s in seeds]
    if difficulties is not None and len(difficulties) != len(seed_list):
        raise ValueError(f"got {len(difficulties)} difficulties for {len(seed_list)} seeds")
    levels = None if difficulties is None else tuple(task.check_difficulty(int(d)) for d in difficulties)
    if ranked_threshold is not None:
        RankedRewardTask(task, ranked_threshold)
    return deque(_Chunk(call, i, tuple(seed_list[a:a + size]), None if levels is None else levels[a:a + size], seed,
                        key, version, ranked_threshold) for i, a in enumerate(range(0, len(seed_list), size)))


# -- the workers ----------------------------------------------------------------------------------------


class _Outbox:
    """Sends a worker's messages from a thread, so that the worker starts its next chunk while the pool reads
    the last one's episodes (a chunk's result is far larger than a socket buffer: a plain ``send`` would block
    until the pool has read it all). Messages leave in the order they were put."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.queue: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="zeroforge-outbox", daemon=True)
        self.thread.start()

    def put(self, msg: tuple[Any, ...]) -> None:
        self.queue.put(msg)

    def close(self) -> None:
        """Send what is queued, then stop the thread."""
        self.queue.put(None)
        self.thread.join()

    def _run(self) -> None:
        while (msg := self.queue.get()) is not None:
            try:
                data = ForkingPickler.dumps(msg)
            except Exception:  # an episode that does not pickle: report it instead of the result
                data = ForkingPickler.dumps(("error", msg[1].call, msg[1].index, traceback.format_exc()))
            try:
                self.conn.send_bytes(data)
            except OSError:  # the pool is gone
                return


def _worker_main(slot: int, conn: Connection, spec: WorkerSpec, device: str, server: Connection | None,
                 die_after_first_episode: bool) -> None:
    """A worker process: rebuild task and net, then play the chunks the pool sends until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the pool's to handle
    torch.set_num_threads(1)
    set_threads(1)  # numba's parallel tree loops: one thread per worker, the workers share the cores
    try:
        task = spec.build_task()
        net: torch.nn.Module | None = None
        evaluator: NetworkEvaluator | RemoteEvaluator
        if server is None:
            net = build_net(spec.net, task).to(device).eval()
            evaluator = NetworkEvaluator(net, device)
        else:
            evaluator = RemoteEvaluator(server)
    except Exception:
        conn.send(("error", -1, -1, traceback.format_exc()))
        return
    outbox = _Outbox(conn)
    outbox.put(("ready", os.getpid()))
    version = -1
    busy = threading.Event()

    def beat() -> None:  # a sign of life while a chunk is played (a stopped or hung process sends none)
        while True:
            time.sleep(HEARTBEAT_S)
            if busy.is_set():
                outbox.put(("beat",))

    threading.Thread(target=beat, name="zeroforge-heartbeat", daemon=True).start()

    def maybe_die(_: SelfPlayEpisode) -> None:
        if die_after_first_episode:
            os._exit(_EXIT_INJECTED)

    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # the pool is gone
            return
        if msg[0] == "stop":
            outbox.close()
            return
        if msg[0] == "weights":
            if net is not None:
                load_weights(net, msg[2])
                net.eval()
            version = msg[1]
            continue
        chunk: _Chunk = msg[1]
        if isinstance(evaluator, RemoteEvaluator):
            evaluator.version = version = chunk.version
        busy.set()
        try:
            if chunk.version != version:
                raise RuntimeError(f"chunk {chunk.index} needs weights version {chunk.version}, worker holds "
                                   f"{version}")
            result = _play_chunk(task, evaluator, spec, chunk, maybe_die)
        except ConnectionError:
            os._exit(_EXIT_SERVER_LOST)
        except Exception:
            outbox.put(("error", chunk.call, chunk.index, traceback.format_exc()))
            continue
        finally:
            busy.clear()
        outbox.put(("done", result))


def _play_chunk(task: Task, evaluator: LogitsEvaluator, spec: WorkerSpec, chunk: _Chunk,
                on_episode: Callable[[SelfPlayEpisode], None]) -> _ChunkResult:
    play_task = task if chunk.ranked_threshold is None else RankedRewardTask(task, chunk.ranked_threshold)
    ev: Evaluator = evaluator
    generator = SelfPlayEpisodeGenerator(play_task, ev, spec.mcts, spec.parallel_batch_size, spec.max_moves,
                                         spec.add_noise)
    calls, positions, seconds = evaluator.calls, evaluator.positions, evaluator.seconds
    start, cpu = time.perf_counter(), time.process_time()
    rng = chunk_rng(chunk.seed, chunk.key, chunk.index)
    episodes = generator.generate(chunk.seeds, rng, on_episode=on_episode, difficulties=chunk.difficulties)
    table = EpisodeTable.from_episodes(episodes, task.vocab_size)
    return _ChunkResult(chunk.call, chunk.index, table, time.perf_counter() - start,
                        time.process_time() - cpu, evaluator.calls - calls, evaluator.positions - positions,
                        evaluator.seconds - seconds)


@dataclass
class _Slot:
    """One worker slot: its current process and pipe, the weights version it holds, its chunk in flight."""

    index: int
    incarnation: int
    process: BaseProcess
    conn: Connection
    version: int = -1
    in_flight: list[_Chunk] = field(default_factory=list)  # the chunk being played first, then one queued
    ready: bool = False
    last_seen: float = field(default_factory=time.monotonic)  # when it last sent something (or got a chunk)


@dataclass
class _Call:
    """The state of one ``generate`` call."""

    number: int
    pending: deque[_Chunk]
    results: dict[int, _ChunkResult] = field(default_factory=dict)
    attempts: dict[int, int] = field(default_factory=dict)
    restarts: int = 0
    startup_failures: int = 0  # since a worker last started successfully
    server_restarts: int = 0  # since the last chunk finished


ChunkCallback = Callable[[EpisodeTable], None]


class SelfPlayWorkerPool:
    """``num_workers`` self-play processes fed from one queue of chunks (see the module docstring).

    ``weights``: the net's ``state_dict`` (tensors or numpy arrays) for ``spec.net``. ``chunk_size``:
    seeds per chunk (default ``spec.parallel_batch_size``). ``seed``: base of the chunk RNGs.
    ``inference``: ``"local"`` or ``"server"``; ``device`` is where the net runs (the server's in server mode).
    ``server_window_s``: how long the server waits to merge requests. ``max_restarts``: crashes tolerated
    per chunk. ``heartbeat_timeout_s``: a worker that holds a chunk and sends no sign of life (it beats every
    ``HEARTBEAT_S`` while playing) for that long is taken for hung, killed and replaced like a dead one.
    ``start_method``: ``multiprocessing`` start method (default ``forkserver``, else ``spawn``).
    ``fault_injection``: testing hook, the worker slots whose first process dies (``os._exit``) right after
    its first finished episode.

    Use as a context manager, or call ``close()``: it stops every process the pool started.
    """

    def __init__(self, spec: WorkerSpec, weights: Mapping[str, Any], num_workers: int = 2, *,
                 chunk_size: int | None = None, seed: int = 0, inference: str = "local", device: str = "cpu",
                 server_window_s: float = 0.002, max_restarts: int = 3, start_method: str | None = None,
                 heartbeat_timeout_s: float = 30.0, fault_injection: Sequence[int] = ()) -> None:
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 1:
            raise ValueError(f"num_workers must be an integer >= 1, got {num_workers!r}")
        if inference not in INFERENCE_MODES:
            raise ValueError(f"inference must be one of {INFERENCE_MODES}, got {inference!r}")
        chunk_size = spec.parallel_batch_size if chunk_size is None else chunk_size
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        if max_restarts < 0:
            raise ValueError(f"max_restarts must be >= 0, got {max_restarts}")
        if server_window_s < 0:
            raise ValueError(f"server_window_s must be >= 0, got {server_window_s}")
        if not heartbeat_timeout_s > 2 * HEARTBEAT_S:
            raise ValueError(f"heartbeat_timeout_s must be > {2 * HEARTBEAT_S}, got {heartbeat_timeout_s}")
        if start_method is None:
            start_method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
        self.spec = spec
        self.num_workers = num_workers
        self.chunk_size = chunk_size
        self.seed = seed
        self.inference = inference
        self.device = device
        self.max_restarts = max_restarts
        self.server_window_s = server_window_s
        self.heartbeat_timeout_s = heartbeat_timeout_s
        #: workers replaced because they held a chunk without a sign of life for ``heartbeat_timeout_s``
        self.hung_workers = 0
        self._task = spec.build_task()  # the task, the net and the weights are checked in this process
        self._template = build_net(spec.net, self._task)
        self._arrays: dict[str, np.ndarray] = {}
        self.version = 0
        self.update_weights(weights)
        self._ctx: Any = mp.get_context(start_method)
        if start_method == "forkserver":
            self._ctx.set_forkserver_preload(["zeroforge.selfplay.workers"])
        self._faults = set(fault_injection)
        self._incarnations = 0
        self._calls = 0
        self._closed = False
        self.last_stats: PoolStats | None = None
        self.server: InferenceServer | None = None
        self._slots: list[_Slot] = []
        start = time.perf_counter()
        try:
            if inference == "server":
                self.server = self._start_server()
            self._slots = [self._start_worker(k) for k in range(num_workers)]
            for slot in self._slots:
                self._await_ready(slot)
        except BaseException:
            self.close()
            raise
        #: seconds from creating the pool to every worker holding its task and net
        self.startup_seconds = time.perf_counter() - start

    # -- public API --------------------------------------------------------------------------------------

    def update_weights(self, state_dict: Mapping[str, Any]) -> int:
        """Store new weights under the next version (returned); every later chunk is played with them."""
        arrays = weights_to_numpy(state_dict)
        try:
            load_weights(self._template, arrays)
        except (RuntimeError, ValueError, TypeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(f"weights do not fit the net {self.spec.net}: {first}") from exc
        self._arrays = arrays
        self.version += 1
        return self.version

    @property
    def worker_pids(self) -> list[int]:
        """The pids of the current worker processes, by slot."""
        return [s.process.pid or -1 for s in self._slots]

    def process_roles(self) -> dict[int, str]:
        """The pool's live processes, pid -> role: ``worker`` per slot, ``inference_server`` for the server."""
        roles = {pid: "worker" for pid in self.worker_pids if pid > 0}
        if self.server is not None and self.server.pid:
            roles[self.server.pid] = "inference_server"
        return roles

    def generate(self, seeds: Sequence[int], difficulties: Sequence[int] | None = None, *, key: int = 0,
                 weights: Mapping[str, Any] | None = None, ranked_threshold: float | None = None,
                 on_chunk: ChunkCallback | None = None) -> EpisodeTable:
        """One episode per seed, in the order of ``seeds``, as one table.

        ``difficulties``: one level per seed (default: the task's top level). ``key`` (>= 0) selects fresh
        RNG streams for this call (e.g. the iteration number). ``weights``: a ``state_dict`` to switch to
        first (as ``update_weights``). ``ranked_threshold``: play ``RankedRewardTask(task, threshold)``.
        ``on_chunk(table)`` is called in this process with each chunk's table as it comes back (in completion
        order).
        """
        if self._closed:
            raise RuntimeError("this SelfPlayWorkerPool is closed")
        if key < 0:
            raise ValueError(f"key must be >= 0, got {key}")
        if weights is not None:
            self.update_weights(weights)
        self._calls += 1
        chunks = split_chunks(self._task, self._calls, seeds, difficulties, self.chunk_size, self.seed, key,
                              self.version, ranked_threshold)
        call = _Call(self._calls, chunks)
        server_before = self._server_stats()
        start = time.perf_counter()
        total = len(chunks)
        while len(call.results) < total:
            self._dispatch(call)
            self._wait_and_handle(call, on_chunk)
        wall = time.perf_counter() - start
        server_after = self._server_stats()
        ordered = [call.results[i] for i in range(total)]
        episodes = EpisodeTable.concat([r.table for r in ordered])
        self.last_stats = PoolStats(
            episodes=len(episodes),
            chunks=total,
            wall_seconds=wall,
            worker_seconds=sum(r.wall_seconds for r in ordered),
            worker_cpu_seconds=sum(r.cpu_seconds for r in ordered),
            net_calls=sum(r.net_calls for r in ordered),
            net_positions=sum(r.net_positions for r in ordered),
            net_seconds=sum(r.net_seconds for r in ordered),
            restarts=call.restarts,
            server_batches=int(server_after.get("batches", 0) - server_before.get("batches", 0)),
            server_requests=int(server_after.get("requests", 0) - server_before.get("requests", 0)),
            server_positions=int(server_after.get("positions", 0) - server_before.get("positions", 0)),
        )
        return episodes

    def close(self) -> None:
        """Stop all worker processes and the server; the pool cannot be used afterwards. Idle workers stop
        when asked; busy ones (an interrupted ``generate``) are terminated after ``JOIN_TIMEOUT_S`` together.
        Ctrl-C and SIGTERM wait until this is done."""
        self._closed = True
        with signals_deferred():
            busy = [s for s in self._slots if s.in_flight]
            for slot in self._slots:
                if slot.process.is_alive() and not slot.in_flight:
                    with contextlib.suppress(OSError):
                        slot.conn.send(("stop",))
            for slot in busy:  # a worker in the middle of a chunk would finish it first: no need to wait
                slot.process.terminate()
            reap(*(s.process for s in self._slots))
            for slot in self._slots:
                slot.conn.close()
            self._slots = []
            if self.server is not None:
                self.server.close()
                self.server = None

    def __enter__(self) -> SelfPlayWorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- processes -------------------------------------------------------------------------------------

    def _start_server(self) -> InferenceServer:
        server = InferenceServer(self._ctx, self.spec.task_name, self.spec.task_params, self.spec.net,
                                 self.device, self.server_window_s)
        server.set_weights(self.version, self._arrays)
        return server

    def _start_worker(self, index: int) -> _Slot:
        self._incarnations += 1
        incarnation = self._incarnations
        die = index in self._faults
        self._faults.discard(index)
        server_conn = None if self.server is None else self.server.connect(incarnation)
        mine, theirs = self._ctx.Pipe()
        process = self._ctx.Process(target=_worker_main, daemon=True, name=f"zeroforge-selfplay-{index}",
                                    args=(index, theirs, self.spec, self.device, server_conn, die))
        process.start()
        theirs.close()
        if server_conn is not None:
            server_conn.close()
        return _Slot(index, incarnation, process, mine)

    def _await_ready(self, slot: _Slot) -> None:
        try:
            msg = slot.conn.recv()
        except (EOFError, OSError) as exc:
            raise WorkerError(f"self-play worker {slot.index} died while starting "
                              f"(exit code {slot.process.exitcode})") from exc
        if msg[0] != "ready":
            raise WorkerError(f"self-play worker {slot.index} failed to start: {_last_line(msg[3])}", msg[3])
        slot.ready = True

    def _replace_worker(self, slot: _Slot, call: _Call) -> None:
        """Reap ``slot``'s process, requeue its chunks and start a new process in its place."""
        exitcode = self._stop_and_requeue(slot, call, blame=True)
        call.restarts += 1
        if not slot.ready:
            call.startup_failures += 1
            if call.startup_failures > self.max_restarts:
                raise WorkerError(f"self-play workers died {call.startup_failures} times in a row while starting "
                                  f"(last exit code {exitcode}); giving up")
        if self.server is not None and not self.server.is_alive():
            self._replace_server(call)
            return
        self._slots[slot.index] = self._start_worker(slot.index)

    def _replace_server(self, call: _Call) -> None:
        """Restart a dead server, then every worker (their pipes went with it)."""
        assert self.server is not None
        self.server.close()
        self.server = None
        call.restarts += 1
        call.server_restarts += 1
        if call.server_restarts > self.max_restarts:
            raise WorkerError(f"the inference server died {call.server_restarts} times without a chunk finishing in "
                              f"between; giving up")
        self.server = self._start_server()
        for slot in list(self._slots):
            self._stop_and_requeue(slot, call, blame=False)
            self._slots[slot.index] = self._start_worker(slot.index)

    def _stop_and_requeue(self, slot: _Slot, call: _Call, blame: bool) -> int | None:
        """Kill and reap ``slot``'s process; put its unfinished chunks of this call back at the front of the
        queue, in order. With ``blame`` the chunk it was playing counts an attempt (``max_restarts``).
        Returns the process's exit code."""
        if slot.process.is_alive():
            slot.process.kill()
        slot.process.join()
        slot.conn.close()
        exitcode = slot.process.exitcode
        chunks = [c for c in slot.in_flight if c.call == call.number and c.index not in call.results]
        if blame and chunks and chunks[0] is slot.in_flight[0]:
            playing = chunks[0]
            tries = call.attempts.get(playing.index, 0) + 1
            call.attempts[playing.index] = tries
            if tries > self.max_restarts:
                raise WorkerError(f"chunk {playing.index} (seeds {playing.seeds[0]}..{playing.seeds[-1]}) killed "
                                  f"its worker {tries} times (last exit code {exitcode}); giving up")
        slot.in_flight = []
        call.pending.extendleft(reversed(chunks))
        return exitcode

    def _server_stats(self) -> dict[str, float]:
        if self.server is None or not self.server.is_alive():
            return {}
        try:
            return self.server.stats()
        except ConnectionError:
            return {}

    # -- the dispatch loop -----------------------------------------------------------------------------

    def _dispatch(self, call: _Call) -> None:
        """Hand the next chunks to idle workers (weights first where they are behind)."""
        if self.server is not None and self.server.version != self.version:
            try:
                self.server.set_weights(self.version, self._arrays)
            except ConnectionError:
                self._replace_server(call)
        # every idle worker gets a chunk; while plenty are left, a busy worker gets its next one queued so that
        # it never waits for this process between chunks (not near the end, where it would hold up the others)
        for depth in (1, 2):
            for slot in list(self._slots):
                enough = len(call.pending) >= (1 if depth == 1 else self.num_workers)
                if len(slot.in_flight) >= depth or not enough or self._slots[slot.index] is not slot:
                    continue
                chunk = call.pending.popleft()
                if not slot.in_flight:
                    slot.last_seen = time.monotonic()  # the silence of an idle worker is not a hang
                slot.in_flight.append(chunk)
                try:
                    if self.server is None and slot.version != chunk.version:
                        slot.conn.send(("weights", chunk.version, self._arrays))
                    slot.version = chunk.version
                    slot.conn.send(("chunk", chunk))
                except OSError:
                    self._replace_worker(slot, call)

    def _wait_and_handle(self, call: _Call, on_chunk: ChunkCallback | None) -> None:
        """Wait for an answer or a death; handle everything that is ready."""
        events: dict[Any, tuple[str, _Slot | None]] = {}
        for slot in self._slots:
            events[slot.conn] = ("answer", slot)
            events[slot.process.sentinel] = ("death", slot)
        if self.server is not None:
            events[self.server.sentinel] = ("server", None)
        ready = wait(list(events), timeout=self.heartbeat_timeout_s / 4)
        for obj in sorted(ready, key=lambda o: events[o][0] != "answer"):  # answers before deaths
            kind, owner = events[obj]
            if kind == "server":
                if self.server is not None and not self.server.is_alive():
                    self._replace_server(call)
                continue
            assert owner is not None
            slot = owner
            if self._slots[slot.index] is not slot:  # already replaced while handling this batch of events
                continue
            if kind == "answer":
                try:
                    msg = slot.conn.recv()
                except (EOFError, OSError):
                    self._replace_worker(slot, call)
                    continue
                self._handle(slot, msg, call, on_chunk)
            else:
                self._drain(slot, call, on_chunk)
                self._replace_worker(slot, call)
        now = time.monotonic()
        for slot in list(self._slots):
            if slot.in_flight and now - slot.last_seen > self.heartbeat_timeout_s:
                # stopped (SIGSTOP), deadlocked or swapped out: no sign of life while it holds a chunk
                self.hung_workers += 1
                self._replace_worker(slot, call)

    def _drain(self, slot: _Slot, call: _Call, on_chunk: ChunkCallback | None) -> None:
        """Read what a dead worker managed to send in full before it died."""
        while True:
            try:
                if not slot.conn.poll():
                    return
                msg = slot.conn.recv()
            except (EOFError, OSError):
                return
            self._handle(slot, msg, call, on_chunk)

    def _handle(self, slot: _Slot, msg: tuple[Any, ...], call: _Call, on_chunk: ChunkCallback | None) -> None:
        slot.last_seen = time.monotonic()
        if msg[0] == "beat":
            return
        if msg[0] == "ready":
            slot.ready = True
            call.startup_failures = 0
            return
        if msg[0] == "error":
            slot.in_flight = [c for c in slot.in_flight if (c.call, c.index) != (msg[1], msg[2])]
            if msg[1] not in (-1, call.number):
                return  # an aborted call's chunk
            where = "while starting" if msg[1] == -1 else f"on chunk {msg[2]}"
            raise WorkerError(f"self-play worker {slot.index} failed {where}: {_last_line(msg[3])}", msg[3])
        result: _ChunkResult = msg[1]
        slot.in_flight = [c for c in slot.in_flight if (c.call, c.index) != (result.call, result.index)]
        if result.call != call.number or result.index in call.results:
            return
        call.results[result.index] = result
        call.server_restarts = 0
        if on_chunk is not None:
            on_chunk(result.table)


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "unknown error"
