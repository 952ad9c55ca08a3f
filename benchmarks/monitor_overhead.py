"""SystemMonitor's cost: how much a running monitor slows a CPU-bound training iteration.

The workload is fixed: a small MLP (256 -> 512 -> 512 -> 10, batch 64) trained by SGD, forward and backward, on one
torch thread (``torch.set_num_threads(1)``), its step count calibrated once to about ``--seconds`` per repeat. It
runs ``--repeats`` times under each condition: no monitor, and a running ``SystemMonitor`` at ``interval_s`` 2.0
(the default) and 0.1, watching this process plus two idle child processes (role ``"worker"``). The conditions
are interleaved (their order rotated every repeat), only the workload is timed (``time.perf_counter``), and the
median of each condition is reported, with the ratio with / without per interval (and the median of each repeat's
own ratio, which a drifting machine load disturbs less). Also reported: the run-to-run noise of the runs without
a monitor (a ratio closer to 1 than that is not resolved), and the cost of one ``sample_now()`` of the three
processes, measured directly, as a share of one core at each interval. Goal: < 1 % at the default interval.

    python benchmarks/monitor_overhead.py [--repeats 7] [--seconds 2.0]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import torch

from _common import emit
from zeroforge.monitor import SystemMonitor

IDLE_CHILD = "import sys\nprint('ready', flush=True)\nsys.stdin.read()\n"
INTERVALS = (2.0, 0.1)


class Workload:
    """The fixed CPU-bound iteration: ``run(steps)`` SGD steps of a small MLP on one thread."""

    def __init__(self) -> None:
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                                       torch.nn.ReLU(), torch.nn.Linear(512, 10))
        self.opt = torch.optim.SGD(self.net.parameters(), lr=1e-3)
        self.x = torch.randn(64, 256)
        self.y = torch.randint(0, 10, (64,))

    def run(self, steps: int) -> None:
        for _ in range(steps):
            self.opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(self.net(self.x), self.y)
            loss.backward()
            self.opt.step()

    def calibrate(self, seconds: float) -> int:
        """Steps that take about ``seconds`` (after a warm-up)."""
        self.run(20)
        start = time.perf_counter()
        self.run(100)
        per_step = (time.perf_counter() - start) / 100
        return max(1, round(seconds / per_step))


def timed(workload: Workload, steps: int, interval: float | None, children: list[int]) -> float:
    """Seconds of ``workload.run(steps)``, under a running monitor at ``interval`` (``None``: no monitor)."""
    if interval is None:
        start = time.perf_counter()
        workload.run(steps)
        return time.perf_counter() - start
    with SystemMonitor(interval_s=interval) as mon:
        for pid in children:
            mon.watch(pid, "worker")
        start = time.perf_counter()
        workload.run(steps)
        elapsed = time.perf_counter() - start
    return elapsed


def sample_cost_ms(children: list[int], n: int = 2000) -> float:
    """Milliseconds of one ``sample_now()`` of this process and ``children``."""
    mon = SystemMonitor()
    for pid in children:
        mon.watch(pid, "worker")
    mon.sample_now()
    start = time.perf_counter()
    for _ in range(n):
        mon.sample_now()
    cost = (time.perf_counter() - start) / n * 1e3
    mon.stop()
    return cost


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7, help="runs of the workload per condition")
    ap.add_argument("--seconds", type=float, default=2.0, help="target length of one run of the workload")
    args = ap.parse_args()
    torch.set_num_threads(1)
    children = [subprocess.Popen([sys.executable, "-c", IDLE_CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True) for _ in range(2)]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        pids = [child.pid for child in children]
        workload = Workload()
        steps = workload.calibrate(args.seconds)
        conditions: list[float | None] = [None, *INTERVALS]
        times: dict[float | None, list[float]] = {c: [] for c in conditions}
        for repeat in range(args.repeats):
            shift = repeat % len(conditions)
            for condition in conditions[shift:] + conditions[:shift]:
                times[condition].append(timed(workload, steps, condition, pids))
        cost = sample_cost_ms(pids)
    finally:
        for child in children:
            assert child.stdin is not None
            child.stdin.close()
            child.wait(timeout=10)
    without = statistics.median(times[None])
    quartiles = statistics.quantiles(times[None], n=4) if args.repeats >= 2 else [without, without, without]
    emit("monitor_overhead_iteration_s_without", without, "s",
         note=f"{steps} MLP steps on one thread, median of {args.repeats}; run-to-run noise (interquartile range "
              f"/ median) {(quartiles[2] - quartiles[0]) / without * 100:.1f} %")
    for interval in INTERVALS:
        with_monitor = statistics.median(times[interval])
        ratio = with_monitor / without
        paired = statistics.median(w / o for w, o in zip(times[interval], times[None], strict=True))
        goal = "; goal < 1 %" if interval == 2.0 else ""
        emit(f"monitor_overhead_iteration_s_interval_{interval}", with_monitor, "s", reference=without,
             higher_is_better=False, note=f"with / without = {ratio:.4f} ({(ratio - 1) * 100:+.2f} %); median of "
                                          f"the repeats' own ratios {paired:.4f}{goal}")
    emit("monitor_sample_ms", cost, "ms", note="one sample_now() of 3 processes, no GPU")
    for interval in INTERVALS:
        emit(f"monitor_expected_overhead_percent_interval_{interval}", cost / 1e3 / interval * 100, "%",
             note="sample cost / interval: the monitor thread's share of one core")


if __name__ == "__main__":
    main()
