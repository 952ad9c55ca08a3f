"""One rank of the DDP equivalence test (``tests/test_ddp.py``), started the way torchrun starts a rank (``RANK``,
``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT`` in the environment):

    python tests/ddp_worker.py CASE STEPS OUT

trains the case's net ``STEPS`` learner steps with ``init_from_env()``'s context; rank 0 writes the weights, the
gradients of each optimiser step, the reported losses and every rank's "rows still thinking" flags (one per
segment decision of a recursive net) to ``OUT`` (``torch.save``). ``case_data`` and ``case_learner`` build the same
data and the same seeded learner in the test's own process, for the single-process reference."""

from __future__ import annotations

import os
import sys

import numpy as np
import torch

from zeroforge.config import NetConfig, TrainConfig
from zeroforge.data import PolicyValueArrays
from zeroforge.distributed import DistContext, init_from_env
from zeroforge.nets import build_net
from zeroforge.nets.inputs import state_inputs
from zeroforge.nets.params import HRMConfig, TRMConfig
from zeroforge.nets.recursive import recursive_core
from zeroforge.tasks.registry import make_task
from zeroforge.train import Learner
from zeroforge.train.learner import TrainMetrics


def case_data(case: str) -> tuple[PolicyValueArrays, object]:
    """Flat (tic-tac-toe) or structured positions of mixed lengths (mazes beside knapsacks; the ``structured``
    case and the recursive nets' ``trm`` / ``hrm``), with targets."""
    if case == "flat":
        task = make_task("tictactoe")
        rng = np.random.default_rng(0)
        states = []
        for _ in range(96):
            s = task.initial_state(0)
            for _ in range(int(rng.integers(0, 6))):
                nxt = task.step(s, int(rng.choice(np.flatnonzero(s.legal_action_mask))))
                if nxt.terminal:
                    break
                s = nxt
            states.append(s)
        tokens, pointers = np.stack([s.observation for s in states]), None
    else:
        task = make_task("mix", families={"maze": {"size": 4}, "knapsack": {"num_items": 6}})
        states = [task.initial_state(seed, level) for seed in range(48) for level in (1, task.difficulty_levels)]
        tokens, pointers = state_inputs(states)
    masks = np.stack([s.legal_action_mask for s in states])
    policies = (masks / masks.sum(axis=1, keepdims=True)).astype(np.float32)
    policies[::5] = 0.0  # rows without a policy target
    values = np.random.default_rng(1).uniform(-1, 1, len(states)).astype(np.float32)
    return PolicyValueArrays(tokens, masks, policies, values, pointers), task


def record_gradients(learner: Learner) -> list[dict[str, torch.Tensor]]:
    """The gradients each optimiser step of ``learner`` steps with (after DDP's all-reduce and the clipping)."""
    seen: list[dict[str, torch.Tensor]] = []
    step = learner.optimizer.step

    def recording(*args: object, **kwargs: object) -> object:
        seen.append({n: p.grad.clone() for n, p in learner.net.named_parameters() if p.grad is not None})
        return step(*args, **kwargs)  # type: ignore[arg-type]

    learner.optimizer.step = recording  # type: ignore[method-assign]
    return seen


class RecordingContext(DistContext):
    """``DistContext`` that keeps each "any rank still thinking?" question's local answer (in ``FLAGS``)."""

    def any_rank(self, flag: bool) -> bool:
        FLAGS.append(flag)
        return super().any_rank(flag)


FLAGS: list[bool] = []


def case_learner(case: str, task: object, dist: DistContext | None = None) -> Learner:
    """The case's seeded learner. The recursive nets (``trm``, ``hrm``) think up to 4 segments, rows of a batch of
    16 halting on their own: a random halting head (``q_halt`` from the summary token; HRM's ``q_continue`` 0) and
    exploration, so that some rows halt after one segment, others think on, and some segment finds one rank's rows
    all halted while the other's think on."""
    torch.manual_seed(0)
    kind = {"flat": "mlp", "structured": "pointer"}.get(case, case)
    recursive = {"trm": {"trm": TRMConfig(cycles=2, latent_steps=2, supervision_steps=4, halt_exploration=0.2)},
                 "hrm": {"hrm": HRMConfig(cycles=2, low_steps=2, supervision_steps=4, halt_exploration=0.2)}}
    net = build_net(NetConfig(kind=kind, embed_dim=16, hidden=32, num_layers=1 if case in recursive else 2,
                              **recursive.get(case, {})), task)  # type: ignore[arg-type]
    core = recursive_core(net)
    if core is not None:
        with torch.no_grad():
            core.q_head.weight.normal_(0.0, 1.0, generator=torch.Generator().manual_seed(3))
            core.q_head.weight[1].zero_()
            core.q_head.bias.zero_()
    cfg = TrainConfig(batch_size=16 if core is not None else 32, steps_per_iteration=3, learning_rate=3e-3,
                      l2_coef=1e-3, grad_clip=1.0, augment_symmetries=False)
    learner = Learner(net, cfg, seed=5, dist=dist)
    learner.CHUNK_MIN_ROWS = 4  # small length chunks: ranks end up with different numbers of them
    return learner


def reported(metrics: TrainMetrics) -> list[float]:
    """The losses a run reports (and the segments per minibatch of a recursive net)."""
    extra = [] if metrics.loss_halt is None or metrics.segments is None else [metrics.loss_halt, metrics.segments]
    return [metrics.loss_policy, metrics.loss_value, metrics.loss_total, *extra]


def main() -> None:
    case, steps, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    torch.set_num_threads(1)
    data, task = case_data(case)
    env = init_from_env()
    ctx = RecordingContext(env.rank, env.world_size)
    learner = case_learner(case, task, ctx)
    grads = record_gradients(learner)
    metrics = learner.train(data, steps)
    flags = ctx.gather(FLAGS)
    if ctx.rank == 0:
        torch.save({"weights": {k: v.detach().clone() for k, v in learner.net.state_dict().items()}, "grads": grads,
                    "metrics": reported(metrics), "world": ctx.world_size, "flags": flags}, out)
    torch.distributed.destroy_process_group()
    # leave without the interpreter's teardown: there a gloo rank sometimes aborts ("terminate called without an
    # active exception", about 1 run in 20, also before the recursive nets' case), after its work is done
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
