"""Resource monitor of a training run: CPU and memory of its processes, GPU use, sampled in a background thread.

What it measures, per sample (``ResourceSample``, stamped with ``time.monotonic()`` seconds):

- per watched process (``ProcessSample``): CPU percent as psutil reports it (``100`` = one core busy for the whole
  time since the previous sample; a multi-threaded process can exceed 100) and resident memory (RSS, bytes). The
  creating process is watched from the start as role ``"main"``; others are added with ``watch(pid, role)``
  (the project's roles: ``"worker"``, ``"inference_server"``). A process that has exited, become a zombie or
  denies access is dropped silently.
- per GPU (``GPUSample``), when ``pynvml`` (package ``nvidia-ml-py``, optional, not a dependency) imports and
  ``nvmlInit()`` succeeds: utilisation percent (the driver's figure over its last sampling period, 1/6 s to 1 s)
  and memory used / total (bytes). Without it there are no GPU figures and no error.

CPU percent needs two readings: psutil's first ``cpu_percent(None)`` call on a process only primes it and returns
a meaningless ``0.0``. The first sample that sees a process therefore reports its CPU as ``nan`` ("not measured
yet"), never as ``0.0``, and ``summary()`` leaves such figures out. A sample less than ``MIN_CPU_WINDOW_S`` after
the previous reading of a process also reports ``nan`` and keeps the baseline, so that the next sample covers the
whole time: the kernel counts CPU time in clock ticks (10 ms), and over a few milliseconds one tick reads as
hundreds of percent.

``summary()`` turns the samples since the last reset into flat ``resource_*`` metrics for a metrics.jsonl record
(CPU in percent, memory in MiB). Samples are kept in a bounded deque (``max_samples``, oldest dropped).

Cost: one sample reads ``/proc/<pid>/stat`` and ``/proc/<pid>/statm`` per watched process (0.09-0.11 ms measured
for three processes) plus two NVML calls per GPU; at the default ``interval_s=2.0`` that is 0.005 % of one core
(``benchmarks/monitor_overhead.py`` measures it, and the slowdown of a CPU-bound torch loop under the monitor).
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import re
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass
from types import ModuleType, TracebackType
from typing import Any

import psutil

__all__ = ["MIN_CPU_WINDOW_S", "GPUSample", "ProcessSample", "ResourceSample", "SystemMonitor"]

#: shortest time between two CPU readings of a process, seconds (one 10 ms clock tick is then at most 20 percent)
MIN_CPU_WINDOW_S = 0.05

_MIB = float(1 << 20)
_ROLE = re.compile(r"[A-Za-z0-9_]+")
#: psutil's errors for a process that is gone or out of reach: such a process is dropped, never reported
_GONE = (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess)


@dataclass(frozen=True)
class ProcessSample:
    """One process at one sample. ``cpu_percent``: percent of one core since the previous sample (100 = one core
    busy throughout), ``nan`` when not measured (the first sample that sees the process, or one less than
    ``MIN_CPU_WINDOW_S`` after the previous reading); ``rss_bytes``: resident memory, bytes."""

    role: str
    pid: int
    cpu_percent: float
    rss_bytes: int


@dataclass(frozen=True)
class GPUSample:
    """One GPU at one sample: ``utilization_percent`` (0-100, the driver's last sampling period) and memory used /
    total in bytes."""

    index: int
    utilization_percent: float
    memory_used_bytes: int
    memory_total_bytes: int


@dataclass(frozen=True)
class ResourceSample:
    """One sample: ``time_s`` (``time.monotonic()`` seconds), every watched process alive at that moment, every
    GPU (empty without NVML)."""

    time_s: float
    processes: tuple[ProcessSample, ...]
    gpus: tuple[GPUSample, ...]


def _load_nvml() -> ModuleType | None:
    """``pynvml`` initialised, or ``None`` when it does not import or ``nvmlInit()`` fails (no driver, no GPU)."""
    try:
        # imported by name: nvidia-ml-py is optional, not a dependency of the project
        nvml = importlib.import_module("pynvml")
        nvml.nvmlInit()
    except Exception:
        return None
    return nvml


class _GPUReader:
    """NVML handles of every device; ``read()`` returns one ``GPUSample`` per device that answers."""

    def __init__(self, nvml: ModuleType) -> None:
        self._nvml = nvml
        self._error: type[BaseException] = getattr(nvml, "NVMLError", Exception)
        try:
            count = int(nvml.nvmlDeviceGetCount())
            self._handles: list[tuple[int, Any]] = [(i, nvml.nvmlDeviceGetHandleByIndex(i)) for i in range(count)]
        except self._error:
            self._handles = []

    def read(self) -> tuple[GPUSample, ...]:
        out: list[GPUSample] = []
        for index, handle in self._handles:
            try:
                rates = self._nvml.nvmlDeviceGetUtilizationRates(handle)
                memory = self._nvml.nvmlDeviceGetMemoryInfo(handle)
            except self._error:
                continue
            out.append(GPUSample(index, float(rates.gpu), int(memory.used), int(memory.total)))
        return tuple(out)

    def close(self) -> None:
        with contextlib.suppress(self._error):
            self._nvml.nvmlShutdown()


class SystemMonitor:
    """Samples the CPU and memory of watched processes and the GPUs every ``interval_s`` seconds in a daemon
    thread (``start()`` / ``stop()``, or ``with SystemMonitor() as mon:``); ``summary()`` gives flat metrics.

    Thread-safe: ``watch``, ``unwatch``, ``sample_now``, ``samples`` and ``summary`` may be called from any thread
    while the sampling thread runs.
    """

    def __init__(self, interval_s: float = 2.0, *, max_samples: int = 10_000) -> None:
        if not (isinstance(interval_s, (int, float)) and math.isfinite(interval_s) and interval_s > 0):
            raise ValueError(f"interval_s must be a positive number of seconds, got {interval_s!r}")
        if not (isinstance(max_samples, int) and max_samples >= 1):
            raise ValueError(f"max_samples must be an integer >= 1, got {max_samples!r}")
        self.interval_s = float(interval_s)
        self.max_samples = max_samples
        self._lock = threading.Lock()  # the sample deque
        self._sample_lock = threading.Lock()  # watched processes, their CPU baselines, NVML
        self._samples: deque[ResourceSample] = deque(maxlen=max_samples)
        self._watched: dict[int, tuple[str, psutil.Process]] = {}
        self._cpu_read_at: dict[int, float] = {}  # pid -> time.monotonic() of its last cpu_percent call
        self._gpu: _GPUReader | None = None
        self._gpu_tried = False
        self._errors = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.watch(os.getpid(), "main")

    # -- which processes ---------------------------------------------------------------------------------------

    def watch(self, pid: int, role: str) -> bool:
        """Watch process ``pid`` under ``role`` (letters, digits, ``_``; it names the summary keys). Watching a
        watched pid again changes its role. Returns ``False`` (and watches nothing) when the process is gone."""
        if not _ROLE.fullmatch(role):
            raise ValueError(f"role must be letters, digits or '_', got {role!r}")
        try:
            process = psutil.Process(pid)
        except _GONE:
            return False
        with self._sample_lock:
            if pid in self._watched:
                process = self._watched[pid][1]  # keep its CPU baseline
            self._watched[pid] = (role, process)
        return True

    def unwatch(self, pid: int) -> None:
        """Stop watching ``pid`` (no error when it is not watched)."""
        with self._sample_lock:
            self._watched.pop(pid, None)
            self._cpu_read_at.pop(pid, None)

    def watched(self) -> dict[int, str]:
        """The processes watched now: pid -> role (a copy; exited processes leave at the next sample)."""
        with self._sample_lock:
            return {pid: role for pid, (role, _) in self._watched.items()}

    # -- sampling ----------------------------------------------------------------------------------------------

    def sample_now(self) -> ResourceSample:
        """Take one sample now, record it (it counts in ``samples()`` and ``summary()``) and return it."""
        with self._sample_lock:
            processes: list[ProcessSample] = []
            for pid, (role, process) in list(self._watched.items()):
                try:
                    with process.oneshot():
                        if process.status() == psutil.STATUS_ZOMBIE:
                            raise psutil.ZombieProcess(pid)
                        cpu = self._read_cpu(pid, process)
                        rss = process.memory_info().rss
                except _GONE:
                    del self._watched[pid]
                    self._cpu_read_at.pop(pid, None)
                    continue
                processes.append(ProcessSample(role, pid, cpu, int(rss)))
            if not self._gpu_tried:
                self._gpu_tried = True
                nvml = _load_nvml()
                self._gpu = _GPUReader(nvml) if nvml is not None else None
            gpus = self._gpu.read() if self._gpu is not None else ()
            sample = ResourceSample(time.monotonic(), tuple(processes), gpus)
        with self._lock:
            self._samples.append(sample)
        return sample

    def _read_cpu(self, pid: int, process: psutil.Process) -> float:
        """CPU percent of ``process`` since its previous reading, ``nan`` when there is none (this call primes it)
        or it is less than ``MIN_CPU_WINDOW_S`` old (this call leaves the baseline alone)."""
        now = time.monotonic()
        last = self._cpu_read_at.get(pid)
        if last is not None and now - last < MIN_CPU_WINDOW_S:
            return math.nan
        cpu = float(process.cpu_percent(None))
        self._cpu_read_at[pid] = now
        return math.nan if last is None else cpu  # psutil's first reading only primes: 0.0, meaningless

    def samples(self) -> list[ResourceSample]:
        """A copy of the recorded samples, oldest first (at most ``max_samples``)."""
        with self._lock:
            return list(self._samples)

    def summary(self, reset: bool = True) -> dict[str, float]:
        """Flat metrics over the samples since the last reset (one synchronous sample first when there are none):

        - per role present: ``resource_cpu_percent_<role>`` (mean over samples of the role's summed CPU percent)
          and ``resource_cpu_percent_<role>_max``, both left out while the role has no measured CPU figure yet
          (first sample of its processes); ``resource_rss_mb_<role>`` (max over samples of the summed RSS, MiB);
          ``resource_processes_<role>`` (max number of its processes in one sample);
        - with GPUs: ``resource_gpu_utilization_percent`` (mean over samples and devices) and
          ``resource_gpu_memory_mb`` (max over samples of the memory used summed over devices, MiB);
        - ``resource_samples`` (how many samples), and ``resource_sample_errors`` only when the sampling thread
          met unexpected errors (it never raises; it counts them and goes on).

        ``reset=True`` starts a new window: the next call summarises only later samples.
        """
        with self._lock:
            empty = not self._samples
        if empty:
            self.sample_now()
        with self._lock:
            window = list(self._samples)
            if reset:
                self._samples.clear()
            errors, self._errors = self._errors, (0 if reset else self._errors)
        return _summarise(window, errors)

    # -- the thread --------------------------------------------------------------------------------------------

    def start(self) -> SystemMonitor:
        """Start the sampling thread (a first sample at once, then one every ``interval_s``); no-op if running."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stop,), name="zeroforge-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the sampling thread, wait for it to end and shut NVML down. Idempotent; samples stay readable (a
        later ``sample_now`` or ``summary`` opens NVML again: stop once more after it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._sample_lock:
            if self._gpu is not None:
                self._gpu.close()
            self._gpu = None
            self._gpu_tried = False

    @property
    def running(self) -> bool:
        """Whether the sampling thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> SystemMonitor:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _run(self, stop: threading.Event) -> None:
        # the process's SIGINT / SIGTERM go to the main thread, as without the monitor: a thread that took them
        # would let them through the main thread's signals_deferred() clean-up (selfplay.processes)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        deadline = time.monotonic()
        while not stop.is_set():
            try:
                self.sample_now()
            except Exception:  # never let the thread die: count it, it shows as resource_sample_errors
                with self._lock:
                    self._errors += 1
            deadline = max(deadline + self.interval_s, time.monotonic())
            stop.wait(deadline - time.monotonic())


def _summarise(window: list[ResourceSample], errors: int) -> dict[str, float]:
    """The metrics of ``SystemMonitor.summary`` over ``window``."""
    cpu: dict[str, list[float]] = {}
    rss: dict[str, int] = {}
    count: dict[str, int] = {}
    gpu_util: list[float] = []
    gpu_memory: list[int] = []
    for sample in window:
        roles: dict[str, list[ProcessSample]] = {}
        for process in sample.processes:
            roles.setdefault(process.role, []).append(process)
        for role, members in roles.items():
            measured = [p.cpu_percent for p in members if not math.isnan(p.cpu_percent)]
            cpu.setdefault(role, [])
            if measured:
                cpu[role].append(sum(measured))
            rss[role] = max(rss.get(role, 0), sum(p.rss_bytes for p in members))
            count[role] = max(count.get(role, 0), len(members))
        if sample.gpus:
            gpu_util.extend(g.utilization_percent for g in sample.gpus)
            gpu_memory.append(sum(g.memory_used_bytes for g in sample.gpus))
    out: dict[str, float] = {}
    for role in sorted(count):
        if cpu[role]:
            out[f"resource_cpu_percent_{role}"] = sum(cpu[role]) / len(cpu[role])
            out[f"resource_cpu_percent_{role}_max"] = max(cpu[role])
        out[f"resource_rss_mb_{role}"] = rss[role] / _MIB
        out[f"resource_processes_{role}"] = float(count[role])
    if gpu_util:
        out["resource_gpu_utilization_percent"] = sum(gpu_util) / len(gpu_util)
        out["resource_gpu_memory_mb"] = max(gpu_memory) / _MIB
    out["resource_samples"] = float(len(window))
    if errors:
        out["resource_sample_errors"] = float(errors)
    return out
