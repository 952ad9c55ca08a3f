"""SystemMonitor: CPU and memory of watched processes against child processes of known load, priming, exited
processes, the thread's life cycle, GPU figures with pynvml absent, failing or faked, and the summary window."""

from __future__ import annotations

import math
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import psutil
import pytest

from zeroforge.monitor import MIN_CPU_WINDOW_S, SystemMonitor

#: busy for 1.5 s, reporting its own CPU time (process_time) before and after, then alive until stdin closes
BUSY = """
import sys, time
print(time.process_time(), flush=True)
start = time.monotonic()
while time.monotonic() - start < 1.5:
    pass
print(time.process_time(), flush=True)
sys.stdin.read()
"""
#: 200 MiB allocated and every page written, then alive until stdin closes
ALLOCATE = """
import sys
block = bytearray(200 << 20)
for i in range(0, len(block), 4096):
    block[i] = 1
print("ready", flush=True)
sys.stdin.read()
"""
#: alive until stdin closes
IDLE = "import sys\nprint('ready', flush=True)\nsys.stdin.read()\n"


@pytest.fixture
def child() -> Iterator[Callable[[str], subprocess.Popen[str]]]:
    """``child(code)``: a Python child running ``code`` with pipes for stdin / stdout; all closed and reaped after."""
    started: list[subprocess.Popen[str]] = []

    def start(code: str) -> subprocess.Popen[str]:
        process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   text=True)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()
        process.wait(timeout=10)


def _worker_keys(summary: dict[str, float]) -> list[str]:
    return [key for key in summary if key.endswith("_worker") or "_worker_" in key]


def test_busy_child_reads_one_core(child: Callable[[str], subprocess.Popen[str]]) -> None:
    """Known answer from the child itself: the CPU seconds it spent between the two samples over their wall time;
    how much of a core it gets depends on what else the machine runs, so only that figure is the known answer."""
    with SystemMonitor(interval_s=60.0) as mon:  # the thread takes one sample at start, then sleeps
        process = child(BUSY)
        assert mon.watch(process.pid, "worker")
        cpu_before = float(process.stdout.readline())
        first = mon.sample_now()  # primes the worker
        cpu_after = float(process.stdout.readline())
        second = mon.sample_now()
        summary = mon.summary()
    worker = [p for p in second.processes if p.role == "worker"]
    assert len(worker) == 1 and [p.role for p in first.processes].count("worker") == 1
    expected = 100.0 * (cpu_after - cpu_before) / (second.time_s - first.time_s)
    assert summary["resource_cpu_percent_worker"] == pytest.approx(expected, abs=10.0)
    assert cpu_after > cpu_before  # the child did run in the window
    assert summary["resource_cpu_percent_worker_max"] == summary["resource_cpu_percent_worker"]
    assert summary["resource_processes_worker"] == 1
    assert summary["resource_processes_main"] == 1


def test_allocating_child_shows_its_resident_memory(child: Callable[[str], subprocess.Popen[str]]) -> None:
    mon = SystemMonitor()
    process = child(ALLOCATE)
    assert process.stdout.readline().strip() == "ready"
    mon.watch(process.pid, "worker")
    sample = mon.sample_now()
    summary = mon.summary()
    assert [p.rss_bytes >= 200 << 20 for p in sample.processes if p.role == "worker"] == [True]
    assert summary["resource_rss_mb_worker"] >= 150
    assert summary["resource_rss_mb_main"] > 0


def test_summary_sums_processes_of_one_role(child: Callable[[str], subprocess.Popen[str]]) -> None:
    mon = SystemMonitor()
    for _ in range(2):
        process = child(IDLE)
        assert process.stdout.readline().strip() == "ready"
        mon.watch(process.pid, "worker")
    sample = mon.sample_now()
    workers = [p for p in sample.processes if p.role == "worker"]
    summary = mon.summary()
    assert summary["resource_processes_worker"] == 2
    assert summary["resource_rss_mb_worker"] == sum(p.rss_bytes for p in workers) / 2**20


@pytest.mark.parametrize("reaped", [True, False], ids=["reaped", "zombie"])
def test_exited_process_is_dropped(child: Callable[[str], subprocess.Popen[str]], reaped: bool) -> None:
    """A watched process that exits (reaped, or a zombie its parent has not waited for) leaves the watch list at
    the next sample, without an error; a summary over later samples has no worker figures at all."""
    mon = SystemMonitor()
    process = child(IDLE)
    assert process.stdout.readline().strip() == "ready"
    mon.watch(process.pid, "worker")
    assert _worker_keys(mon.summary())
    process.stdin.close()
    if reaped:
        process.wait(timeout=10)
    else:
        deadline = time.monotonic() + 10
        while psutil.Process(process.pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    sample = mon.sample_now()
    assert [p.role for p in sample.processes] == ["main"]
    assert mon.watched() == {mon.samples()[-1].processes[0].pid: "main"}
    assert _worker_keys(mon.summary()) == []


def test_process_gone_while_the_thread_samples(child: Callable[[str], subprocess.Popen[str]]) -> None:
    process = child(IDLE)
    assert process.stdout.readline().strip() == "ready"
    with SystemMonitor(interval_s=0.02) as mon:
        mon.watch(process.pid, "worker")
        process.stdin.close()
        process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while process.pid in mon.watched():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert mon.running
    assert "resource_sample_errors" not in mon.summary()


def test_watch_of_a_gone_process_is_refused(child: Callable[[str], subprocess.Popen[str]]) -> None:
    process = child("pass")
    process.wait(timeout=10)
    mon = SystemMonitor()
    assert mon.watch(process.pid, "worker") is False
    assert process.pid not in mon.watched()


def test_first_sample_of_a_process_reports_no_cpu_figure() -> None:
    """psutil's first cpu_percent call only primes (0.0): the monitor reports nan there, and a summary over that
    sample alone has no CPU key for the role, only memory and the count."""
    mon = SystemMonitor()
    summary = mon.summary()  # no samples yet: one synchronous sample, the priming one
    assert summary["resource_samples"] == 1
    assert summary["resource_processes_main"] == 1 and summary["resource_rss_mb_main"] > 0
    assert "resource_cpu_percent_main" not in summary and "resource_cpu_percent_main_max" not in summary
    end = time.monotonic() + 0.2
    while time.monotonic() < end:  # busy: this process spends CPU time
        pass
    summary = mon.summary(reset=False)  # again no samples (reset): one synchronous sample, now a measured one
    assert summary["resource_samples"] == 1 and summary["resource_cpu_percent_main"] > 0
    main = mon.samples()[0].processes[0]
    assert main.role == "main" and main.cpu_percent == summary["resource_cpu_percent_main"]


def test_sample_too_soon_after_the_previous_reports_no_cpu_figure() -> None:
    mon = SystemMonitor()
    mon.sample_now()
    time.sleep(MIN_CPU_WINDOW_S * 2)
    assert not math.isnan(mon.sample_now().processes[0].cpu_percent)
    assert math.isnan(mon.sample_now().processes[0].cpu_percent)  # microseconds later: one clock tick is noise


@pytest.mark.parametrize("interval", [0, 0.0, -1.0, math.nan])
def test_bad_interval_is_refused(interval: float) -> None:
    with pytest.raises(ValueError, match="interval_s"):
        SystemMonitor(interval_s=interval)


def test_bad_role_is_refused() -> None:
    with pytest.raises(ValueError, match="role"):
        SystemMonitor().watch(1, "bad role")


def _monitor_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "zeroforge-monitor"]


def test_stop_joins_the_thread_and_is_idempotent() -> None:
    mon = SystemMonitor(interval_s=0.01)
    mon.start()
    mon.start()  # already running: no second thread
    assert mon.running and len(_monitor_threads()) == 1
    deadline = time.monotonic() + 10
    while len(mon.samples()) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    mon.stop()
    assert not mon.running and _monitor_threads() == []
    count = len(mon.samples())
    time.sleep(0.05)
    assert len(mon.samples()) == count  # nothing samples any more
    mon.stop()
    assert not mon.running


def test_context_manager_starts_and_stops() -> None:
    with SystemMonitor(interval_s=0.01) as mon:
        assert mon.running
        deadline = time.monotonic() + 10
        while not mon.samples():
            assert time.monotonic() < deadline
            time.sleep(0.01)
    assert not mon.running and _monitor_threads() == []
    assert mon.summary()["resource_samples"] >= 1


def test_no_gpu_keys_when_pynvml_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml -> ImportError
    mon = SystemMonitor()
    assert mon.sample_now().gpus == ()
    assert not [key for key in mon.summary() if key.startswith("resource_gpu")]
    mon.stop()


def _fake_nvml(init_error: bool = False) -> SimpleNamespace:
    """Two devices: 30 % and 50 % busy, 1 GiB and 3 GiB used of 16 GiB each."""
    class NVMLError(Exception):
        pass

    calls: list[str] = []

    def init() -> None:
        calls.append("init")
        if init_error:
            raise NVMLError("driver not loaded")

    devices = [(30, 1 << 30), (50, 3 << 30)]
    return SimpleNamespace(
        NVMLError=NVMLError, calls=calls, nvmlInit=init, nvmlShutdown=lambda: calls.append("shutdown"),
        nvmlDeviceGetCount=lambda: len(devices), nvmlDeviceGetHandleByIndex=lambda i: i,
        nvmlDeviceGetUtilizationRates=lambda h: SimpleNamespace(gpu=devices[h][0], memory=0),
        nvmlDeviceGetMemoryInfo=lambda h: SimpleNamespace(used=devices[h][1], total=16 << 30, free=0))


def test_no_gpu_keys_when_nvml_init_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    nvml = _fake_nvml(init_error=True)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    mon = SystemMonitor()
    assert mon.sample_now().gpus == ()
    assert not [key for key in mon.summary() if key.startswith("resource_gpu")]
    mon.stop()
    assert nvml.calls == ["init"]


def test_gpu_figures_from_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    nvml = _fake_nvml()
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    mon = SystemMonitor()
    gpus = mon.sample_now().gpus
    assert [(g.index, g.utilization_percent, g.memory_used_bytes, g.memory_total_bytes) for g in gpus] == [
        (0, 30.0, 1 << 30, 16 << 30), (1, 50.0, 3 << 30, 16 << 30)]
    mon.sample_now()
    summary = mon.summary()
    assert summary["resource_gpu_utilization_percent"] == 40.0
    assert summary["resource_gpu_memory_mb"] == 4096.0
    mon.stop()
    mon.stop()
    assert nvml.calls == ["init", "shutdown"]


def test_summary_reset_starts_a_new_window() -> None:
    mon = SystemMonitor()
    for _ in range(3):
        mon.sample_now()
    assert mon.summary(reset=False)["resource_samples"] == 3
    assert mon.summary(reset=True)["resource_samples"] == 3
    assert mon.samples() == []
    for _ in range(2):
        mon.sample_now()
    assert mon.summary()["resource_samples"] == 2


def test_samples_are_bounded_oldest_dropped() -> None:
    mon = SystemMonitor(max_samples=3)
    taken = [mon.sample_now() for _ in range(5)]
    assert mon.samples() == taken[2:]
