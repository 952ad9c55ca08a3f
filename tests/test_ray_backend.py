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
    ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False)  # one CPU, running
    source = RaySource(task, cfg)  # 2 actors
    source.STARTUP_TIMEOUT_S = 2.0
    try:
        with pytest.raises(WorkerError, match=r"2 Ray actor\(s\) did not start within 2 s: the cluster has 1 CPUs"):
            source.play(net, 0, range(4), None, None, np.random.default_rng(0))
    finally:
        source.close()
        ray.shutdown()


def test_a_ray_run_with_an_inference_server_trains(tmp_path: Path) -> None:
    """(With local inference, the cluster tests train through the CLI.)"""
    from zeroforge.trainer import SelfPlayTrainer

    cfg = load_config(None, [*CFG, "selfplay.backend=ray", "iterations=2", "selfplay.games_per_iteration=8",
                             "train.steps_per_iteration=2", "train.batch_size=16", "arena.games=2",
                             "arena.anchor_games=2", "selfplay.inference=server"])
    ms = SelfPlayTrainer(cfg, tmp_path).run()
    assert [m["episodes"] for m in ms] == [8, 8] and ms[-1]["worker_restarts"] == 0
    assert all(m["inference_batches"] > 0 and m["inference_server_restarts"] == 0 for m in ms)


def test_backend_ray_needs_workers_and_a_known_backend() -> None:
    from zeroforge.config import ConfigError

    with pytest.raises(ConfigError, match="num_workers"):
        load_config(None, ["selfplay.backend=ray"])
    with pytest.raises(ConfigError, match="backend"):
        load_config(None, ["selfplay.backend=spark"])


def test_the_inference_server_merges_concurrent_requests_into_one_pass(setup: tuple) -> None:
    """Two clients' requests in one forward pass, each answered with what the net gives it alone; bfloat16
    autocast stays close."""
    from zeroforge.distributed.ray_inference import InferenceActor, InferenceSpec
    from zeroforge.nets.inputs import state_inputs
    from zeroforge.search.evaluator import NetworkEvaluator
    from zeroforge.selfplay.processes import weights_to_numpy

    cfg, task, net = setup
    rng = np.random.default_rng(0)
    states = [task.initial_state(0)]
    while len(states) < 7:  # positions along random games (non-terminal)
        s = states[-1]
        nxt = task.step(s, int(rng.choice(np.flatnonzero(s.legal_action_mask))))
        states.append(nxt if not nxt.terminal else task.initial_state(len(states)))
    a, b = state_inputs(states[:3]), state_inputs(states[3:])
    want = NetworkEvaluator(net)._logits(a), NetworkEvaluator(net)._logits(b)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        weights = ray.put(weights_to_numpy(net.state_dict()))
        for dtype, atol in (("float32", 1e-5), ("bfloat16", 0.1)):
            spec = InferenceSpec(cfg.task.name, dict(cfg.task.params), cfg.net, "cpu", dtype, window_s=30.0,
                                 clients=2)
            server = ray.remote(InferenceActor).remote(spec)
            ray.get(server.set_weights.remote(3, weights))
            with pytest.raises(ray.exceptions.RayTaskError, match="version 2, the inference server holds 3"):
                ray.get(server.evaluate.remote(2, a))
            got = ray.get([server.evaluate.remote(3, a), server.evaluate.remote(3, b)])  # no 30 s wait: both in
            assert ray.get(server.counters.remote())["batches"] == 1
            assert ray.get(server.describe.remote())["dtype"] == dtype
            for (gl, gv), (wl, wv) in zip(got, want, strict=True):
                np.testing.assert_allclose(gl, wl, atol=atol)
                np.testing.assert_allclose(gv, wv, atol=atol)
            ray.kill(server)
    finally:
        ray.shutdown()


def test_ray_actors_with_an_inference_server_and_the_server_killed_mid_round(setup: tuple) -> None:
    """The actors' leaves are batched together on the server; a server killed mid-round is replaced and every
    chunk in flight played again: exact counts, the same seeds."""
    cfg, task, net = setup
    cfg = load_config(None, [*CFG, "selfplay.backend=ray", "selfplay.inference=server", "selfplay.server_window_ms=50"])
    source = RaySource(task, cfg)
    seeds = range(100, 116)
    try:
        got = source.play(net, 0, seeds, None, None, np.random.default_rng(0))
        assert list(got.table.seeds) == list(seeds)
        assert got.extra["inference_batch_positions"] > 4  # one actor asks at most 4 (parallel_batch_size)
        assert sorted(source.process_roles().values()) == ["inference_server", "worker", "worker"]
        killed: list[int] = []

        def kill_server(done: int, total: int) -> None:
            if not killed:
                killed.append(done)
                ray.kill(source.server, no_restart=True)

        again = source.play(net, 0, seeds, None, None, np.random.default_rng(0), kill_server)
        assert killed and again.extra["inference_server_restarts"] == 1
        assert list(again.table.seeds) == list(seeds)
        np.testing.assert_array_equal(again.table.episode_lengths > 0, True)
    finally:
        source.close()


def test_the_ray_inference_server_config() -> None:
    from zeroforge.config import ConfigError

    cfg = load_config(None, [*CFG, "selfplay.backend=ray", "selfplay.inference=server",
                             "selfplay.inference_dtype=bfloat16", "selfplay.server_device=cuda"])
    assert cfg.selfplay.server_device == "cuda"
    with pytest.raises(ConfigError, match="inference_dtype"):  # the pool's workers run float32
        load_config(None, [*CFG, "selfplay.inference_dtype=bfloat16"])
    with pytest.raises(ConfigError, match=r"server_device.*torch device name"):
        load_config(None, [*CFG, "selfplay.server_device=gpu"])


def test_the_pools_server_device_is_checked_on_this_machine(tmp_path: Path) -> None:
    """The pool's inference server runs here, so a GPU this machine lacks is refused up front (a Ray server's GPU
    is on whatever node Ray picks, so it is not)."""
    from zeroforge.config import ConfigError
    from zeroforge.trainer import SelfPlayTrainer

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    cfg = load_config(None, [*CFG, "selfplay.inference=server", "selfplay.server_device=cuda"])
    with pytest.raises(ConfigError, match=r"selfplay\.server_device.*no CUDA device"):
        SelfPlayTrainer(cfg, tmp_path)
    ray_cfg = load_config(None, [*CFG, "selfplay.backend=ray", "selfplay.inference=server",
                                 "selfplay.server_device=cuda"])
    assert ray_cfg.selfplay.server_device == "cuda"


def test_a_ray_address_that_nothing_answers_is_a_one_line_error(setup: tuple) -> None:
    """Ray alone would retry a wrong HOST:PORT for minutes; a malformed one is refused with the config."""
    import socket

    from zeroforge.config import ConfigError

    _, task, net = setup
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = load_config(None, [*CFG, "selfplay.backend=ray", f"selfplay.ray_address=127.0.0.1:{port}"])
    source = RaySource(task, cfg)
    with pytest.raises(ConnectionError, match=rf"no Ray cluster answers at 127.0.0.1:{port} .*ray start --head"):
        source.play(net, 0, range(4), None, None, np.random.default_rng(0))
    assert not ray.is_initialized()
    for bad in ("nohost", "host:0", ":6379", "host:port"):
        with pytest.raises(ConfigError, match="ray_address"):
            load_config(None, [*CFG, "selfplay.backend=ray", f"selfplay.ray_address={bad}"])
