"""The Ray inference server's batched throughput: ``--clients`` Ray actors, each sending ``--leaves`` positions per
request in a loop (a self-play actor's leaf batches), answered by one ``InferenceActor`` on ``--device`` in
``--dtype``, for ``--seconds``.

Reference, in the same process: one ``NetworkEvaluator`` on the same device answering the same ``--leaves``-position
requests one by one (no batching across clients). The ratio is the server's positions/s over it. Also printed: the
mean positions per forward pass (how well the window merges the clients) and the clients' mean wait per request.

On a CPU machine both sides share its cores, so the figure says little beyond "it batches"; the figure that counts
is on a GPU: ``--device cuda --dtype bfloat16`` (the server asks Ray for one GPU).

    python benchmarks/inference_server.py [--clients 8] [--leaves 64] [--seconds 10] [--device cpu]
        [--dtype float32] [--net resnet] [--task connect_four] [--window-ms 2]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import torch

from zeroforge.config import load_config
from zeroforge.distributed.ray_inference import InferenceActor, InferenceSpec
from zeroforge.nets import build_net
from zeroforge.nets.inputs import state_inputs
from zeroforge.search.evaluator import NetworkEvaluator
from zeroforge.selfplay.processes import weights_to_numpy
from zeroforge.tasks import make_task

try:
    from _common import emit, random_states
except ImportError:  # run as a module from the repository root
    from benchmarks._common import emit, random_states


class _Client:
    """A benchmark actor that asks the server for ``inputs`` again and again, as a self-play actor asks for its
    leaves."""

    def __init__(self, server: Any, inputs: tuple[np.ndarray, ...]) -> None:
        self.server, self.inputs = server, inputs

    def run(self, seconds: float) -> tuple[int, float]:
        """Requests answered within ``seconds``, and the seconds spent waiting for them."""
        import ray

        n, waited = 0, 0.0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t = time.perf_counter()
            ray.get(self.server.evaluate.remote(0, self.inputs))
            waited += time.perf_counter() - t
            n += 1
        return n, waited


def leaf_inputs(task_name: str, leaves: int) -> tuple[np.ndarray, ...]:
    """Net inputs of ``leaves`` positions along random games of the task."""
    return state_inputs(random_states(make_task(task_name), leaves))


def main() -> None:
    import ray

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--leaves", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32", choices=("float32", "bfloat16", "float16"))
    ap.add_argument("--net", default="resnet")
    ap.add_argument("--task", default="connect_four")
    ap.add_argument("--window-ms", type=float, default=2.0)
    args = ap.parse_args()
    cfg = load_config(None, [f"task.name={args.task}", f"net.kind={args.net}"])
    task = make_task(args.task)
    torch.manual_seed(0)
    net = build_net(cfg.net, task)
    inputs = leaf_inputs(args.task, args.leaves)

    device = torch.device(args.device)
    torch.set_num_threads(1)  # as the server runs (InferenceSpec.torch_threads)
    local = NetworkEvaluator(net.to(device).eval(), device, args.dtype)
    local._logits(inputs)
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < min(args.seconds, 5.0):
        local._logits(inputs)
        n += 1
    reference = n * args.leaves / (time.perf_counter() - t)

    ray.init(address="local", num_cpus=args.clients + 1, include_dashboard=False, log_to_driver=False)
    try:
        spec = InferenceSpec(args.task, {}, cfg.net, args.device, args.dtype, args.window_ms / 1000,
                             max_batch=args.clients * args.leaves, clients=args.clients)
        gpus = 1 if args.device.startswith("cuda") else 0
        server = ray.remote(num_cpus=1, num_gpus=gpus)(InferenceActor).remote(spec)
        info = ray.get(server.describe.remote())
        ray.get(server.set_weights.remote(0, weights_to_numpy(net.cpu().state_dict())))
        clients = [ray.remote(num_cpus=1)(_Client).remote(server, inputs) for _ in range(args.clients)]
        ray.get([c.run.remote(0.5) for c in clients])  # warm-up: imports, the first passes
        before = ray.get(server.counters.remote())
        t = time.perf_counter()
        done = ray.get([c.run.remote(args.seconds) for c in clients])
        wall = time.perf_counter() - t
        after = ray.get(server.counters.remote())
    finally:
        ray.shutdown()
    requests = sum(d[0] for d in done)
    positions = requests * args.leaves
    batches = max(after["batches"] - before["batches"], 1)
    where = f"{info['device']} {info['gpu']}".strip()
    emit("inference_server_positions_per_second", positions / wall, "positions/s", reference,
         note=f"{args.clients} clients x {args.leaves} leaves, {args.net} on {where}, {args.dtype}; reference: "
              f"one evaluator on the same device, no batching")
    emit("inference_server_positions_per_pass", (after["positions"] - before["positions"]) / batches, "positions")
    emit("inference_server_wait_ms_per_request", 1e3 * sum(d[1] for d in done) / max(requests, 1), "ms",
         higher_is_better=False)
    emit("inference_server_net_seconds_share", (after["seconds"] - before["seconds"]) / wall, "fraction")


if __name__ == "__main__":
    main()
