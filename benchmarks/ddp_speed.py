"""Learner steps per second: one process with every core's threads against ``--world`` DDP processes of one thread
each (gloo, started as torchrun starts ranks), on the same global minibatches.

The net and data: ``--net`` (``resnet``, ``mlp``, ``transformer``, ``trm``, ...) on positions along random games of
``--task``, uniform policy targets over the legal moves and random values (the speed does not depend on what is
learned). Each side first takes 3 steps (warm-up), then ``--steps`` timed ones.

Prints one JSON object per figure; the ratio takes the single process as reference.

    python benchmarks/ddp_speed.py [--net resnet] [--task connect_four] [--batch 256] [--steps 30] [--world 2]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from zeroforge.config import NetConfig, TrainConfig
from zeroforge.data import PolicyValueArrays
from zeroforge.distributed import DistContext, init_from_env
from zeroforge.nets import build_net
from zeroforge.nets.inputs import state_inputs
from zeroforge.tasks import make_task
from zeroforge.train import Learner

try:
    from _common import emit, random_states
except ImportError:  # run as a module from the repository root
    from benchmarks._common import emit, random_states


def positions(task_name: str, n: int) -> PolicyValueArrays:
    """``n`` positions along random games of the task, with uniform policy targets and random values."""
    states = random_states(make_task(task_name), n)
    rng = np.random.default_rng(0)
    inputs = state_inputs(states)
    masks = np.stack([s.legal_action_mask for s in states])
    policies = (masks / masks.sum(axis=1, keepdims=True)).astype(np.float32)
    values = rng.uniform(-1, 1, n).astype(np.float32)
    return PolicyValueArrays(inputs[0], masks, policies, values, inputs[1] if len(inputs) > 1 else None)


def timed_steps(args: argparse.Namespace, dist: DistContext) -> float:
    """Seconds per learner step after 3 warm-up steps."""
    task = make_task(args.task)
    torch.manual_seed(0)
    net = build_net(NetConfig(kind=args.net), task)
    learner = Learner(net, TrainConfig(batch_size=args.batch, augment_symmetries=False), seed=0, dist=dist)
    data = positions(args.task, 4 * args.batch)
    learner.train(data, 3)
    dist.barrier()
    t = time.perf_counter()
    learner.train(data, args.steps)
    dist.barrier()
    return (time.perf_counter() - t) / args.steps


def rank_main(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)
    dist = init_from_env()
    seconds = timed_steps(args, dist)
    if dist.rank == 0:
        print(json.dumps({"seconds_per_step": seconds}), flush=True)
    torch.distributed.destroy_process_group()
    sys.stdout.flush()
    os._exit(0)  # gloo sometimes aborts in the interpreter's teardown (see tests/ddp_worker.py)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--net", default="resnet")
    ap.add_argument("--task", default="connect_four")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--world", type=int, default=2)
    ap.add_argument("--rank", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rank:
        rank_main(args)
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    torch.set_num_threads(cores)
    single = timed_steps(args, DistContext())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": str(args.world),
           "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--rank", "--net", args.net, "--task", args.task,
           "--batch", str(args.batch), "--steps", str(args.steps)]
    procs = [subprocess.Popen(cmd, env={**env, "RANK": str(r), "LOCAL_RANK": str(r)}, stdout=subprocess.PIPE,
                              text=True) for r in range(args.world)]
    outs = [p.communicate(timeout=1800)[0] for p in procs]
    ddp = json.loads(outs[0].strip().splitlines()[-1])["seconds_per_step"]
    note = f"{args.net} on {args.task}, global batch {args.batch}, {args.steps} steps"
    emit("learner_steps_per_second_one_process", 1 / single, "steps/s", note=f"{note}; {cores} threads")
    emit(f"learner_steps_per_second_ddp_{args.world}", 1 / ddp, "steps/s", 1 / single,
         note=f"{note}; {args.world} gloo processes x 1 thread")


if __name__ == "__main__":
    main()
