"""Data-parallel learner: with the same global minibatch, steps in ``DistributedDataParallel`` over 2 CPU processes
(gloo, started as torchrun starts them) give the gradients, weights and losses of the same steps in one process.

The structured case compares the first step's gradients only: its pointer net has biases whose true gradient is 0
(a bias added to every logit, the attention keys' bias: softmax ignores a shift), and AdamW turns the float noise
left in them, which differs with the order of summation, into full-size steps; later gradients then differ by that.
The recursive nets (TRM, HRM: deep supervision, one optimiser step per segment) have the same heads and attention:
there every segment's gradients agree (those noisy biases' are below the tolerance), and the weights other than
biases.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ddp_worker import case_data, case_learner, record_gradients, reported

WORKER = Path(__file__).resolve().parent / "ddp_worker.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_ranks(case: str, steps: int, out: Path, world: int = 2) -> dict:
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()), "WORLD_SIZE": str(world),
           "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, str(WORKER), case, str(steps), str(out)],
                              env={**env, "RANK": str(r), "LOCAL_RANK": str(r)}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for r in range(world)]
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err[-2000:]
    return torch.load(out)


def _close(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for name, w in b.items():
        torch.testing.assert_close(a[name], w, rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.parametrize("case", ["flat", "structured"])
def test_two_ddp_processes_step_like_one_process(case: str, tmp_path: Path) -> None:
    got = _run_ranks(case, 3, tmp_path / "rank0.pt")
    assert got["world"] == 2
    data, task = case_data(case)
    torch.set_num_threads(1)
    single = case_learner(case, task)
    grads = record_gradients(single)
    metrics = single.train(data, 3)
    assert len(got["grads"]) == len(grads) == 3
    _close(got["grads"][0], grads[0])
    if case == "flat":  # every parameter has a real gradient: the steps agree all the way
        for step in (1, 2):
            _close(got["grads"][step], grads[step])
        _close(got["weights"], single.net.state_dict())
    assert got["metrics"] == pytest.approx(reported(metrics), rel=1e-4)
    assert any(float(g.abs().max()) > 1e-3 for g in grads[0].values()), "a real gradient"


@pytest.mark.parametrize("case", ["trm", "hrm"])
def test_two_ddp_processes_think_a_recursive_net_out_like_one_process(case: str, tmp_path: Path) -> None:
    """Deep supervision in DDP: 3 learner steps of up to 4 segments each, rows halting on their own, on both ranks
    take the single process's optimiser steps with its gradients, and report its losses and segments."""
    got = _run_ranks(case, 3, tmp_path / "rank0.pt")
    data, task = case_data(case)
    torch.set_num_threads(1)
    single = case_learner(case, task)
    grads = record_gradients(single)
    metrics = single.train(data, 3)
    assert metrics.segments is not None and 1 < metrics.segments < 4  # rows halted at different segments
    flags = got["flags"]  # per rank, "a row of mine still thinks" before each segment (and after the last)
    assert len(flags[0]) == len(flags[1]) > len(grads)
    assert any(a != b for a, b in zip(*flags, strict=True)), "a segment where one rank's rows had all halted"
    assert len(got["grads"]) == len(grads) > 3  # the same optimiser steps (segments)
    for step, grad in enumerate(grads):
        _close(got["grads"][step], grad)
    weights = {k: v for k, v in single.net.state_dict().items() if not k.endswith("bias")}
    _close({k: v for k, v in got["weights"].items() if not k.endswith("bias")}, weights)
    assert got["metrics"] == pytest.approx(reported(metrics), rel=1e-4)
    assert any(float(g.abs().max()) > 1e-3 for g in grads[0].values()), "a real gradient"


def test_a_batch_that_does_not_split_is_refused_and_a_recursive_net_trains_in_segments(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from zeroforge.distributed import DistContext

    _, task = case_data("flat")
    with pytest.raises(ValueError, match=r"train.batch_size \(32\) must be a multiple of the 3 data-parallel"):
        case_learner("flat", task, DistContext(0, 3))
    from zeroforge.config import NetConfig, TrainConfig
    from zeroforge.nets import build_net
    from zeroforge.train import Learner
    from zeroforge.train.deep import SegmentStep

    trm = build_net(NetConfig(kind="trm", embed_dim=16, hidden=32, num_layers=1), task)  # type: ignore[arg-type]
    wrapped: list[torch.nn.Module] = []
    monkeypatch.setattr(DistContext, "wrap", lambda _self, net, _device: wrapped.append(net) or net)
    learner = Learner(trm, TrainConfig(batch_size=32), dist=DistContext(0, 2))  # no longer refused
    assert wrapped == [learner.model] and isinstance(learner.model, SegmentStep) and learner.model.net is trm


def test_torchrun_trains_the_default_config_on_two_cpu_processes(tmp_path: Path) -> None:
    """``torchrun --nproc_per_node 2 -m zeroforge train`` (tiny settings of the embedded default): rank 0 alone
    writes the run (one metrics line per iteration, checkpoints that load), both ranks train in DDP, and the run
    resumes under torchrun too."""
    import json

    import zeroforge

    run = tmp_path / "run"
    tiny = ["selfplay.games_per_iteration=16", "selfplay.parallel_batch_size=8", "mcts.num_simulations=8",
            "train.steps_per_iteration=5", "train.batch_size=32", "arena.games=2", "arena.anchor_games=2"]

    def torchrun(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
               "zeroforge", "train", "--run-dir", str(run), "--quiet", *args]
        for s in tiny:
            cmd += ["--set", s]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})

    first = torchrun("--set", "iterations=2")
    assert first.returncode == 0, first.stderr[-3000:]
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["iteration"] for m in lines] == [0, 1]  # one writer: no line twice
    assert all(m["episodes"] == 16 for m in lines)  # both ranks' episodes in the round
    assert all(np.isfinite(m["loss_total"]) for m in lines)
    agent = zeroforge.load_agent(run)
    assert agent.task.name == "tictactoe"
    again = torchrun("--set", "iterations=3", "--resume")
    assert again.returncode == 0, again.stderr[-3000:]
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["iteration"] for m in lines] == [0, 1, 2]
