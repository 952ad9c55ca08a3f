"""How many threads this process runs: sized from the cores it may use, never from the machine's core count.

``available_cores()`` is the smaller of the CPU affinity mask (``os.sched_getaffinity``: ``taskset``, a
container's cpuset) and the cgroup CPU quota (cgroup v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``), rounded down,
at least 1. ``configure_threads(threads, torch_threads, search_threads)`` sizes every pool of the process from
one budget ``threads`` (``0`` = ``available_cores()``): torch's intra-op pool (which also runs MKL) gets
``min(torch_threads, threads)``, numba's pool ``min(search_threads, threads)``.

Why numba gets one thread unless asked: its threads spin-wait between the short parallel loops of a simulation
step. On a machine of its own that buys ~20-25 % (connect four, 1024 roots: 375k vs 298k simulations/s); beside
another job on the same cores the spinning threads take the CPU from it (two knapsack runs on 2 cores: each
iteration 5-6x slower than alone). With waits that sleep (``OMP_WAIT_POLICY=PASSIVE``) waking the threads costs
more than the loops save (153k simulations/s). So parallelism across cores comes from processes by default
(``selfplay.num_workers``), whose waits block, and ``mcts.search_threads`` > 1 is for a machine of one's own.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ThreadPlan", "available_cores", "cgroup_cpu_limit", "configure_threads"]


@dataclass(frozen=True)
class ThreadPlan:
    """What ``configure_threads`` set: the budget and each pool's share (all >= 1)."""

    threads: int
    torch_threads: int
    search_threads: int


def cgroup_cpu_limit(root: Path = Path("/sys/fs/cgroup"), proc_cgroup: Path = Path("/proc/self/cgroup")
                     ) -> float | None:
    """CPUs the cgroup quota allows this process (``quota / period``, the smallest along its cgroup path), or
    ``None`` when no quota is set or none can be read."""
    limits: list[float] = []
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":  # cgroup v2: cpu.max "quota period" or "max period"
            for folder in _ancestors(root, path):
                limits += _ratio(folder / "cpu.max", None)
        elif "cpu" in controllers.split(","):
            for base in (root / "cpu", root / "cpu,cpuacct", root / "cpuacct,cpu"):
                for folder in _ancestors(base, path):
                    limits += _ratio(folder / "cpu.cfs_quota_us", folder / "cpu.cfs_period_us")
    return min(limits) if limits else None


def _ancestors(base: Path, path: str) -> list[Path]:
    parts = [p for p in path.strip("/").split("/") if p and p != ".."]
    return [base.joinpath(*parts[:k]) for k in range(len(parts), -1, -1)]


def _ratio(quota_file: Path, period_file: Path | None) -> list[float]:
    try:
        words = quota_file.read_text().split()
        if period_file is not None:
            words = [words[0], period_file.read_text().split()[0]]
        quota, period = words[0], words[1]
        if quota in ("max", "-1") or float(period) <= 0:
            return []
        return [float(quota) / float(period)]
    except (OSError, IndexError, ValueError):
        return []


def available_cores() -> int:
    """Cores this process may use: affinity mask and cgroup quota, whichever is smaller (at least 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    quota = cgroup_cpu_limit()
    if quota is not None:
        cores = min(cores, max(1, math.floor(quota)))
    return max(1, cores)


def configure_threads(threads: int = 0, torch_threads: int = 1, search_threads: int = 1) -> ThreadPlan:
    """Size torch's and numba's thread pools of this process from the budget ``threads`` (0: the cores it may
    use); returns the plan. Call it before the work starts (torch's inter-op pool is left as it is)."""
    import torch

    from zeroforge.jit import set_threads

    budget = threads if threads > 0 else available_cores()
    plan = ThreadPlan(budget, max(1, min(torch_threads, budget)), max(1, min(search_threads, budget)))
    torch.set_num_threads(plan.torch_threads)
    set_threads(plan.search_threads)
    return plan
