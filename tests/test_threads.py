"""Thread pools sized from the cores the process may use (affinity, cgroup quota), and the parallel search
kernels (``mcts.search_threads`` > 1) giving the very visit counts of the serial ones."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from zeroforge.config import MCTSConfig, NetConfig, load_config
from zeroforge.jit import NUMBA_AVAILABLE, get_threads, set_threads
from zeroforge.nets import build_net
from zeroforge.search import MCTS
from zeroforge.search.evaluator import NetworkEvaluator
from zeroforge.search.kernels import PARALLEL_MIN_TREES, use_parallel
from zeroforge.tasks.registry import make_task
from zeroforge.threads import available_cores, cgroup_cpu_limit, configure_threads


@pytest.fixture
def restore_threads() -> Iterator[None]:
    torch_before, numba_before = torch.get_num_threads(), get_threads()
    yield
    torch.set_num_threads(torch_before)
    set_threads(numba_before)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cgroup_v2_quota_is_the_smallest_along_the_path(tmp_path: Path) -> None:
    proc = tmp_path / "proc_cgroup"
    _write(proc, "0::/jobs/mine\n")
    _write(tmp_path / "fs" / "cpu.max", "max 100000\n")
    _write(tmp_path / "fs" / "jobs" / "cpu.max", "300000 100000\n")
    _write(tmp_path / "fs" / "jobs" / "mine" / "cpu.max", "150000 100000\n")
    assert cgroup_cpu_limit(tmp_path / "fs", proc) == pytest.approx(1.5)
    _write(tmp_path / "fs" / "jobs" / "mine" / "cpu.max", "max 100000\n")
    assert cgroup_cpu_limit(tmp_path / "fs", proc) == pytest.approx(3.0)


def test_cgroup_v1_quota_and_no_quota(tmp_path: Path) -> None:
    proc = tmp_path / "proc_cgroup"
    _write(proc, "4:memory:/x\n3:cpu,cpuacct:/box\n")
    _write(tmp_path / "fs" / "cpu,cpuacct" / "box" / "cpu.cfs_quota_us", "50000\n")
    _write(tmp_path / "fs" / "cpu,cpuacct" / "box" / "cpu.cfs_period_us", "100000\n")
    assert cgroup_cpu_limit(tmp_path / "fs", proc) == pytest.approx(0.5)
    _write(tmp_path / "fs" / "cpu,cpuacct" / "box" / "cpu.cfs_quota_us", "-1\n")
    assert cgroup_cpu_limit(tmp_path / "fs", proc) is None
    assert cgroup_cpu_limit(tmp_path / "nowhere", tmp_path / "no_proc_file") is None
    _write(proc, "garbage without colons\n0::/\n")
    _write(tmp_path / "fs" / "cpu.max", "not numbers\n")
    assert cgroup_cpu_limit(tmp_path / "fs", proc) is None


def test_available_cores_follow_the_affinity_mask() -> None:
    mask = os.sched_getaffinity(0)
    assert 1 <= available_cores() <= len(mask)
    if len(mask) < 2:
        pytest.skip("needs two cores to narrow the mask")
    try:
        os.sched_setaffinity(0, {min(mask)})
        assert available_cores() == 1
    finally:
        os.sched_setaffinity(0, mask)


def test_configure_threads_sizes_every_pool_within_the_budget(restore_threads: None) -> None:
    plan = configure_threads(threads=1, torch_threads=4, search_threads=4)
    assert (plan.threads, plan.torch_threads, plan.search_threads) == (1, 1, 1)
    assert torch.get_num_threads() == 1 and get_threads() == 1
    plan = configure_threads(threads=0)
    assert plan.threads == available_cores() and plan.torch_threads == 1 and plan.search_threads == 1
    assert not use_parallel(10 * PARALLEL_MIN_TREES)  # one numba thread: the serial kernels


def test_threads_config_key_is_checked() -> None:
    assert load_config(None, ["threads=3"]).threads == 3
    with pytest.raises(ValueError, match="'threads' must be >= 0"):
        load_config(None, ["threads=-1"])
    with pytest.raises(ValueError, match=r"'mcts\.search_threads' must be >= 1"):
        load_config(None, ["mcts.search_threads=0"])


@pytest.mark.skipif(not NUMBA_AVAILABLE, reason="numba is not installed")
def test_parallel_kernels_give_the_serial_visit_counts(restore_threads: None) -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two cores for two numba threads")
    task = make_task("connect_four")
    torch.manual_seed(0)
    evaluator = NetworkEvaluator(build_net(NetConfig(hidden=32), task))
    rng = np.random.default_rng(3)
    roots = []
    for k in range(2 * PARALLEL_MIN_TREES):
        s = task.initial_state(k)
        for _ in range(int(rng.integers(0, 6))):
            s = task.step(s, int(rng.choice(np.flatnonzero(s.legal_action_mask))))
        roots.append(s)
    traces = []
    for threads in (1, 2):
        set_threads(threads)
        assert use_parallel(len(roots)) == (threads > 1)
        search = MCTS(task, evaluator, MCTSConfig(num_simulations=48))
        traces.append(search.search(roots, np.random.default_rng(0), add_noise=True, temperatures=1.0))
    for a, b in zip(*traces, strict=True):
        np.testing.assert_array_equal(a.visit_counts, b.visit_counts)
        np.testing.assert_array_equal(a.q_values, b.q_values)
        assert a.selected_action == b.selected_action
