"""Data-parallel learner training with torch's ``DistributedDataParallel`` (gloo on CPU, nccl on GPU).

Every rank holds the same replay data and draws the same global minibatch (the learner's seeded generator); rank
``r`` trains on rows ``r, r + W, r + 2W, ...`` of it (``W`` the world size, which must divide ``batch_size``).
Each rank's loss is its rows' sums divided by the **global** counts times ``W`` (and the L2 term once), so that
DDP's gradient average is exactly the single-process gradient of the whole minibatch: one DDP step gives the same
weights as one single-process step on the same global batch (up to float summation order).

A recursive net (TRM, HRM) takes one optimiser step per supervision segment, its rows halting on their own: the
ranks ask ``any_rank`` before each segment whether a row of any of them still thinks, so that all run the same
segments, each ending with one synchronising backward on every rank (``zeroforge.train.deep``).

``init_from_env`` reads torchrun's environment (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``) and
starts the process group; without it (a plain run) it returns the single-process context.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

__all__ = ["DistContext", "init_from_env"]


@dataclass(frozen=True)
class DistContext:
    """This process's place in a data-parallel group: ``rank`` of ``world_size`` (``1``: no group)."""

    rank: int = 0
    world_size: int = 1

    @property
    def active(self) -> bool:
        return self.world_size > 1

    def wrap(self, net: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """``net`` in ``DistributedDataParallel`` when the group has more than one process, else ``net``."""
        if not self.active:
            return net
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index] if device.type == "cuda" and device.index is not None else None
        return DistributedDataParallel(net, device_ids=ids)

    def no_sync(self, model: torch.nn.Module, last: bool) -> AbstractContextManager[object]:
        """Gradients of a chunk that is not the minibatch's last are accumulated without an all-reduce (every rank
        ends each minibatch with exactly one synchronising backward, whatever its number of chunks)."""
        if self.active and not last:
            return model.no_sync()  # type: ignore[operator]
        return nullcontext()

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def gather(self, obj: Any) -> list[Any]:
        """Every rank's ``obj``, in rank order, on every rank (pickled: episode tables, small records)."""
        if not self.active:
            return [obj]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank."""
        if not self.active:
            return obj
        box = [obj if self.rank == 0 else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def any_rank(self, flag: bool) -> bool:
        """Whether ``flag`` holds on any rank (a decision every rank must take alike, as "another segment")."""
        if not self.active:
            return flag
        t = torch.tensor([int(flag)], dtype=torch.int64, device=_collective_device())
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def mean(self, values: list[float]) -> list[float]:
        """The mean over the ranks of each value (for reported losses)."""
        if not self.active:
            return values
        t = torch.tensor(values, dtype=torch.float64, device=_collective_device())
        dist.all_reduce(t)
        return (t / self.world_size).tolist()


def _collective_device() -> torch.device:
    """Where a tensor for a collective lives: nccl reduces CUDA tensors only (this process's current device)."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def init_from_env(device: torch.device | str = "cpu") -> DistContext:
    """The process group torchrun describes in the environment (gloo on CPU, nccl on CUDA), started if not yet;
    ``DistContext()`` without a ``WORLD_SIZE`` above 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    if not dist.is_initialized():
        backend = "nccl" if torch.device(device).type == "cuda" else "gloo"
        dist.init_process_group(backend)
    return DistContext(dist.get_rank(), dist.get_world_size())
