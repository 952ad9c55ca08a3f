"""The Ray backend (``selfplay.backend: ray``): the same episodes as the local worker pool for the same seeds and
weights, and an actor killed between rounds or mid-round is replaced with exact counts and the same episodes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

ray = pytest.importorskip("ray")

from zeroforge.config import load_config  # noqa: E402
from zeroforge.distributed.ray_source import RaySource  # noqa: E402
from zeroforge.nets import build_net  # noqa: E402
from zeroforge.selfplay.source import WorkerPoolSource  # noqa: E402
from zeroforge.tasks import make_task  # noqa: E402

CFG = ["selfplay.num_workers=2", "selfplay.parallel_batch_size=4", "selfplay.chunk_size=4", "mcts.num_simulations=8"]


def _same(a: object, b: object) -> None:
    """Every column equal but the searches' wall times."""
    for name in a.array_names():  # type: ignore[attr-defined]
        if name == "search_times":
            continue
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.fixture(scope="module")
def setup() -> tuple[object, object, torch.nn.Module]:
    cfg = load_config(None, [*CFG, "selfplay.backend=ray"])
    task = make_task(cfg.task.name, **cfg.task.params)
    torch.manual_seed(0)
    net = build_net(cfg.net, task)
    return cfg, task, net


def test_ray_actors_play_the_pools_episodes(setup: tuple) -> None:
    cfg, task, net = setup
    seeds, levels = range(100, 116), None
    pool = WorkerPoolSource(task, load_config(None, CFG))
    source = RaySource(task, cfg)
    try:
        want = pool.play(net, 0, seeds, levels, None, np.random.default_rng(0))
        got = source.play(net, 0, seeds, levels, None, np.random.default_rng(0))
        _same(got.table, want.table)
        assert len(got.table) == 16 and list(got.table.seeds) == list(seeds)
        assert len(source.process_roles()) == 2
        # an actor killed between rounds, then one killed while its chunk is in flight: exact counts, same games
        source.kill_actor(0)
        again = source.play(net, 0, seeds, levels, None, np.random.default_rng(0))
        _same(again.table, want.table)
        assert again.extra["worker_restarts"] >= 1
        killed: list[int] = []

        def kill_once(done: int, total: int) -> None:  # after the first chunk is back, the others in flight
            if not killed:
                killed.append(done)
                source.kill_actor(1)

        third = source.play(net, 0, seeds, levels, None, np.random.default_rng(0), kill_once)
        _same(third.table, want.table)
        assert killed and third.extra["worker_restarts"] >= 1
    finally:
        pool.close()
        source.close()
    assert not ray.is_initialized()  # the source started Ray, and shut it down


def test_more_actors_than_the_cluster_has_cpus_is_a_one_line_error(setup: tuple) -> None:
    from zeroforge.selfplay.processes import WorkerError

    cfg, task, net = setup
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)  # a cluster of one CPU, already running
    source = RaySource(task, cfg)  # 2 actors
    source.STARTUP_TIMEOUT_S = 5.0
    try:
        with pytest.raises(WorkerError, match=r"2 Ray actor\(s\) did not start within 5 s: the cluster has 1 CPUs"):
            source.play(net, 0, range(4), None, None, np.random.default_rng(0))
    finally:
        source.close()
        ray.shutdown()


def test_a_ray_run_trains(tmp_path: Path) -> None:
    from zeroforge.trainer import SelfPlayTrainer

    cfg = load_config(None, [*CFG, "selfplay.backend=ray", "iterations=1", "selfplay.games_per_iteration=8",
                             "train.steps_per_iteration=2", "train.batch_size=16", "arena.games=2",
                             "arena.anchor_games=2"])
    ms = SelfPlayTrainer(cfg, tmp_path).run()
    assert ms[0]["episodes"] == 8 and ms[0]["worker_restarts"] == 0


def test_backend_ray_needs_workers_and_local_inference() -> None:
    from zeroforge.config import ConfigError

    with pytest.raises(ConfigError, match="num_workers"):
        load_config(None, ["selfplay.backend=ray"])
    with pytest.raises(ConfigError, match="backend"):
        load_config(None, ["selfplay.backend=spark"])
