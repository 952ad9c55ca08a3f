"""``zeroforge train --backend ray --address`` on a two-node Ray cluster started on this machine (``ray start --head``
and a second node, ports on loopback, token auth on, torn down after): a short training that loses its worker node
and one actor process mid-run gives exactly the local pool's episodes, iteration for iteration, with exact counts; a
driver killed mid-run resumes on the cluster from its checkpoint and ends with the same episodes too."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ray")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ray_cluster import LoopbackCluster
from zeroforge.report_episodes import episode_files, read_episode_file

ITERATIONS = 4
CFG = ["selfplay.num_workers=2", "selfplay.parallel_batch_size=4", "selfplay.chunk_size=4", "mcts.num_simulations=8",
       f"iterations={ITERATIONS}", "selfplay.games_per_iteration=16", "train.steps_per_iteration=2",
       "train.batch_size=16", "arena.games=2", "arena.anchor_games=2", "seed=7"]


def _train(run: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    sets = [a for kv in CFG for a in ("--set", kv)]
    return subprocess.Popen([sys.executable, "-m", "zeroforge", "train", "--run-dir", str(run), "--quiet", *extra,
                             *sets], env={**env, "OMP_NUM_THREADS": "1"}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def _metrics(run: Path) -> list[dict]:
    path = run / "metrics.jsonl"
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    return [json.loads(x) for x in lines if x.strip().endswith("}")]


def _episodes(run: Path) -> dict[int, object]:
    return {i: read_episode_file(p) for i, p in episode_files(run / "episodes")}


def _wait(proc: subprocess.Popen[bytes], what: str, timeout: float = 240.0) -> None:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"{what} did not finish in {timeout:.0f} s:\n{out.decode(errors='replace')[-3000:]}")
    assert proc.returncode == 0, f"{what} failed:\n{out.decode(errors='replace')[-3000:]}"


@pytest.fixture
def cluster() -> LoopbackCluster:
    c = LoopbackCluster(head_cpus=2, node_cpus=1)
    yield c
    c.close()


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same run on the local worker pool: the reference."""
    run = tmp_path_factory.mktemp("ray_cluster") / "local"
    _wait(_train(run, dict(os.environ), "--backend", "local"), "the local run")
    return run


def _same_episodes(run: Path, reference: Path) -> None:
    ours, theirs = _episodes(run), _episodes(reference)
    assert sorted(ours) == sorted(theirs) == list(range(ITERATIONS))
    for i in ours:
        for name in ours[i].array_names():  # type: ignore[attr-defined]
            if name != "search_times":
                np.testing.assert_array_equal(getattr(ours[i], name), getattr(theirs[i], name),
                                              err_msg=f"iteration {i}: {name}")


def test_a_cluster_run_that_loses_a_node_and_an_actor_plays_the_local_pools_episodes(
        cluster: LoopbackCluster, local: Path, tmp_path: Path) -> None:
    remote = tmp_path / "cluster"
    run = _train(remote, cluster.env, "--backend", "ray", "--address", cluster.address)
    faults: list[str] = []
    deadline = time.monotonic() + 240
    while run.poll() is None and time.monotonic() < deadline and len(faults) < 2:
        done = len(_metrics(remote))
        if done >= 1 and not faults:  # mid-run: the worker node goes away with its actor
            cluster.kill_node()
            faults.append("node")
        elif done >= 2 and len(faults) == 1:  # then an actor process on the head dies
            pids = cluster.actor_pids("SelfPlayActor")
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                faults.append("actor")
        time.sleep(0.05)
    _wait(run, "the cluster run")
    assert faults == ["node", "actor"], f"the run ended before both faults: {faults}"

    got, want = _metrics(remote), _metrics(local)
    assert len(got) == len(want) == ITERATIONS
    assert got[0]["ray_nodes"] == 2  # the actors were spread over both nodes
    assert all(m["episodes"] == 16 for m in got)  # exact counts despite the faults
    assert sum(m["worker_restarts"] for m in got) >= 2  # the node's actor and the killed one were replaced
    assert got[-1]["ray_nodes"] == 1  # the replacements run on the head
    _same_episodes(remote, local)
    for a, b in zip(got, want, strict=True):  # the same games, so the same training
        assert a["loss_total"] == pytest.approx(b["loss_total"], rel=1e-5)


def test_a_driver_killed_mid_run_resumes_on_the_cluster(cluster: LoopbackCluster, local: Path, tmp_path: Path) -> None:
    remote = tmp_path / "cluster"
    run = _train(remote, cluster.env, "--backend", "ray", "--address", cluster.address)
    deadline = time.monotonic() + 240
    while run.poll() is None and time.monotonic() < deadline and len(_metrics(remote)) < 2:
        time.sleep(0.05)
    assert run.poll() is None, "the run ended before the driver could be killed"
    run.kill()  # SIGKILL: the driver goes, its actors with it
    run.communicate()
    kept = len(_metrics(remote))
    assert 2 <= kept < ITERATIONS
    _wait(_train(remote, cluster.env, "--resume", "--backend", "ray", "--address", cluster.address), "the resumed run")
    got = _metrics(remote)
    assert [m["iteration"] for m in got] == list(range(ITERATIONS))
    _same_episodes(remote, local)
