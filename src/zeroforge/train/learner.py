"""``Learner``: trains a policy-value net with AdamW on minibatches drawn from a position source (the replay
buffer ``EpisodeBuffer``, or fixed ``PolicyValueArrays``)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, cast

import numpy as np
import torch

from zeroforge.checkpoint import Checkpoint
from zeroforge.data.targets import PolicyValueArrays
from zeroforge.distributed.ddp import DistContext
from zeroforge.nets.denormal import flush_denormals
from zeroforge.nets.inputs import length_buckets, token_lengths
from zeroforge.nets.recursive import RecursiveNet
from zeroforge.nets.sequence import SequenceView
from zeroforge.train.deep import DeepChunk, SegmentStep, deep_supervision_step, exploration_minimum, recursive_core
from zeroforge.train.losses import alphazero_loss
from zeroforge.train.params import TrainConfig

__all__ = ["Learner", "PositionSource", "TrainMetrics", "optimizer_from_checkpoint", "optimizer_to_checkpoint"]


class PositionSource(Protocol):
    """Where minibatches come from: ``num_positions`` positions with targets, ``take(rows int64[B])`` gives those
    rows' targets (``EpisodeBuffer``, ``PolicyValueArrays``)."""

    @property
    def num_positions(self) -> int: ...

    def take(self, rows: np.ndarray) -> PolicyValueArrays: ...


@dataclass(frozen=True)
class TrainMetrics:
    """Mean losses over the steps of one ``train`` call: ``loss_total = loss_policy +
    value_loss_weight * loss_value + loss_l2`` where ``loss_l2 = l2_coef * weight_norm_sq`` and
    ``weight_norm_sq`` is the squared L2 norm of the non-bias weights."""

    steps: int
    loss_policy: float
    loss_value: float
    loss_l2: float
    loss_total: float
    examples: int
    weight_norm_sq: float
    loss_halt: float | None = None
    segments: float | None = None

    def as_metrics(self) -> dict[str, float | int]:
        """The run's metrics keys: ``loss_*``, ``weight_norm_sq``, ``train_steps``; for a recursive net also
        ``loss_halt`` and ``supervision_segments`` (mean segments per minibatch)."""
        out: dict[str, float | int] = {
            "loss_policy": self.loss_policy, "loss_value": self.loss_value, "loss_l2": self.loss_l2,
            "weight_norm_sq": self.weight_norm_sq, "loss_total": self.loss_total, "train_steps": self.steps}
        if self.loss_halt is not None and self.segments is not None:
            out.update(loss_halt=self.loss_halt, supervision_segments=self.segments)
        return out


class Learner:
    """AdamW on ``alphazero_loss``; minibatches drawn uniformly with replacement from the positions of a
    ``PositionSource`` (no copy of the buffer: blocks of minibatches are taken from it) with a seeded
    ``torch.Generator`` (its state is part of the checkpoint).

    ``symmetries`` (``Task.symmetries()``: ``obs_perms int64[K, L]``, ``action_perms int64[K, A]``) turn on
    data augmentation: every sampled example is seen under one of the K symmetries drawn at random.

    A recursive net (``TRMNet``, ``HRMNet``) is trained with deep supervision (``zeroforge.train.deep``): every
    minibatch is thought out in up to ``supervision_steps`` segments with an optimiser step each; its reported losses
    are means over the segments run. With ``ema_decay`` the weights' moving average is kept (``ema``) and is the
    ``candidate`` the arena judges; ``net`` keeps the trained weights.

    With ``dist`` of more than one process (``zeroforge.distributed.ddp``), the net trains in
    ``DistributedDataParallel``: every rank draws the same global minibatch and trains on its share of the rows, and
    a step gives the weights a single process would get on the whole minibatch. So does a recursive net's step (all
    its segments): its forward passes go through a ``SegmentStep`` in DDP, and the ranks run the same segments
    (``deep_supervision_step``). The random draws (symmetries, exploration) are the global minibatch's, each rank
    taking its rows'.
    """

    def __init__(self, net: torch.nn.Module, config: TrainConfig, seed: int = 0,
                 symmetries: tuple[np.ndarray, np.ndarray] | None = None, dist: DistContext | None = None) -> None:
        self.net = net
        self.config = config
        self.device = torch.device(config.device)
        self.net.to(self.device)
        self.dist = dist or DistContext()
        if self.dist.active and config.batch_size % self.dist.world_size:
            raise ValueError(f"train.batch_size ({config.batch_size}) must be a multiple of the "
                             f"{self.dist.world_size} data-parallel processes")
        # what the forward passes go through: the net, or for a recursive net one segment of it (deep supervision)
        self.model = self.dist.wrap(net if recursive_core(net) is None else SegmentStep(net), self.device)
        self.optimizer = torch.optim.AdamW(
            self.net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
        self.generator = torch.Generator().manual_seed(seed)
        self.steps_done = 0
        self.ema = copy.deepcopy(net) if config.ema_decay > 0 else None
        self.ema_updates = 0
        self.symmetries: tuple[torch.Tensor, torch.Tensor] | None = None
        if symmetries is not None and len(symmetries[0]) > 1:
            self.symmetries = (torch.as_tensor(symmetries[0], dtype=torch.int64, device=self.device),
                               torch.as_tensor(symmetries[1], dtype=torch.int64, device=self.device))

    @property
    def candidate(self) -> torch.nn.Module:
        """The net the arena judges: the weights' moving average with ``ema_decay``, else the trained net."""
        return self.net if self.ema is None else self.ema

    def update_ema(self) -> None:
        """One step of the weights' moving average (``TrainConfig.ema_decay``): ``ema = d * ema + (1 - d) * w``
        with ``d = min(ema_decay, (1 + t) / (10 + t))`` at update ``t``; buffers are copied."""
        if self.ema is None:
            return
        t = self.ema_updates
        decay = min(self.config.ema_decay, (1 + t) / (10 + t))
        with torch.no_grad():
            for avg, w in zip(self.ema.parameters(), self.net.parameters(), strict=True):
                avg.lerp_(w, 1.0 - decay)
            for avg_b, b in zip(self.ema.buffers(), self.net.buffers(), strict=True):
                avg_b.copy_(b)
        self.ema_updates += 1

    def _optimizer_step(self) -> None:
        if self.config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.config.grad_clip)
        self.optimizer.step()
        self.update_ema()

    def train(self, data: PositionSource, steps: int | None = None,
              on_step: Callable[[int, int], None] | None = None) -> TrainMetrics:
        """Run ``steps`` (default ``config.steps_per_iteration``) optimiser steps on minibatches of ``data``;
        ``on_step(done, total)`` after each (progress, and a point where a stop request can end the run)."""
        n_steps = self.config.steps_per_iteration if steps is None else steps
        if data.num_positions == 0:
            raise ValueError("cannot train on an empty replay buffer")
        with flush_denormals():  # denormal weights stall CPU matmuls ~40x (zeroforge.nets.denormal)
            return self._train(data, n_steps, on_step)

    #: positions taken from the source at once (a block of minibatches): taking costs a fixed amount per buffer
    #: chunk, so one take serves several steps; the block is small next to the buffer (no copy of it)
    BLOCK_POSITIONS = 8192

    #: structured minibatches are split into length chunks (``length_buckets``: the longest row of a chunk at
    #: most ``CHUNK_SPREAD`` times its shortest, each chunk ``CHUNK_MIN_ROWS`` rows or more) whose gradients add
    #: up to the minibatch's: a batch of mixed lengths (``task: mix``, mazes of several sizes) is not padded to
    #: its longest row, where attention costs grow with the square of the tokens
    CHUNK_SPREAD = 2.0
    CHUNK_MIN_ROWS = 32

    def _batches(self, data: PositionSource, n_steps: int) -> Iterator[
            tuple[int, int, list[tuple[tuple[torch.Tensor, ...], ...]], list[torch.Tensor]]]:
        """``n_steps`` minibatches of ``batch_size`` positions drawn uniformly with replacement, each ``(rows, rows
        with a policy target, chunks, places)``, the chunks ``(net inputs, (masks bool[b, A], policies
        float32[b, A], values float32[b]))`` on the device (one chunk for flat nets; length chunks for structured
        ones, ``CHUNK_SPREAD``) of this rank's rows; the net inputs are
        ``(tokens int64[b, L],)`` or structured ``(tokens int64[b, N, 5], pointers int64[b, A, 3])`` without the
        padding that no row of the chunk needs; ``places`` the chunks' rows in the global minibatch (``int64[b]``
        each, on the CPU: where each row's random draws are)."""
        size = self.config.batch_size
        per_block = max(1, self.BLOCK_POSITIONS // size)
        for first in range(0, n_steps, per_block):
            steps = min(per_block, n_steps - first)
            idx = torch.randint(data.num_positions, (steps * size,), generator=self.generator)
            b = data.take(idx.numpy())
            for k in range(steps):
                part = b.take(slice(k * size, (k + 1) * size))  # views of the block, no copy
                rows, with_policy = len(part), int(part.has_policy.sum())
                share = np.arange(self.dist.rank, rows, self.dist.world_size)  # this rank's rows (all in one process)
                if self.dist.active:
                    part = part.take(share)
                groups = [np.arange(len(part))]
                if part.pointers is not None:
                    buckets = length_buckets(token_lengths(part.observations), self.CHUNK_SPREAD, self.CHUNK_MIN_ROWS)
                    if len(buckets) > 1:
                        groups = [np.sort(g) for g in buckets]
                chunks = [part.take(g) if len(groups) > 1 else part for g in groups]
                yield rows, with_policy, [
                    (tuple(self._tensor(x) for x in c.inputs()),
                     tuple(self._tensor(x) for x in (c.masks, c.policies, c.values))) for c in chunks], [
                    torch.from_numpy(share[g]) for g in groups]

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array)).to(self.device)

    def _train(self, data: PositionSource, n_steps: int, on_step: Callable[[int, int], None] | None) -> TrainMetrics:
        weights = [p for name, p in self.net.named_parameters() if not name.endswith("bias")]
        sums = {"policy": 0.0, "value": 0.0, "l2": 0.0, "total": 0.0, "halt": 0.0, "segments": 0.0}
        core = recursive_core(self.net)
        self.net.train()
        for step, (rows, with_policy, chunks, places) in enumerate(self._batches(data, n_steps)):
            with_target = max(1, with_policy)
            if self.symmetries is not None:  # one draw per row of the global minibatch: the same on every rank
                drawn = torch.randint(len(self.symmetries[0]), (rows,), generator=self.generator)
                chunks = [self._augmented(chunk, drawn[at]) for chunk, at in zip(chunks, places, strict=True)]
            if core is not None:
                self._deep_step(core, chunks, places, weights, with_target, rows, sums)
            else:
                self._step(chunks, weights, with_target, rows, sums)
            if on_step is not None:
                on_step(step + 1, n_steps)
        self.steps_done += n_steps
        if self.dist.active:  # each rank's losses are its share's: the reported ones are the global minibatch's
            keys = ("policy", "value", "total", "halt")
            sums.update(zip(keys, self.dist.mean([sums[key] for key in keys]), strict=True))
        k = max(1, n_steps)
        deep = {"loss_halt": sums["halt"] / k, "segments": sums["segments"] / k} if core is not None else {}
        return TrainMetrics(n_steps, sums["policy"] / k, sums["value"] / k, self.config.l2_coef * sums["l2"] / k,
                            sums["total"] / k, data.num_positions, sums["l2"] / k, **deep)

    def _step(self, chunks: list[tuple[tuple[torch.Tensor, ...], ...]], weights: list[torch.nn.Parameter],
              with_target: int, rows: int, sums: dict[str, float]) -> None:
        """One optimiser step on a minibatch's chunks (their gradients add up to the minibatch's)."""
        self.optimizer.zero_grad(set_to_none=True)
        w = self.dist.world_size  # data terms x W over global counts: DDP's mean over ranks is the global gradient
        for i, (inputs, (masks, pis, zs)) in enumerate(chunks):
            with self.dist.no_sync(self.model, last=i == len(chunks) - 1):
                logits, values = self.model(*inputs)
                terms = alphazero_loss(logits, values, masks, pis, zs, weights if i == 0 else [],
                                       self.config.value_loss_weight, self.config.l2_coef if i == 0 else 0.0,
                                       policy_rows=with_target / w,
                                       value_rows=rows / w)
                terms.total.backward()
            sums["policy"] += terms.policy
            sums["value"] += terms.value
            sums["l2"] += terms.l2
            sums["total"] += float(terms.total.detach())
        self._optimizer_step()

    def _deep_step(self, core: RecursiveNet, chunks: list[tuple[tuple[torch.Tensor, ...], ...]],
                   places: list[torch.Tensor], weights: list[torch.nn.Parameter], with_target: int, rows: int,
                   sums: dict[str, float]) -> None:
        """Deep supervision of a recursive net on one minibatch (``zeroforge.train.deep``; its ``rows`` rows, of
        which ``chunks`` are this rank's, at ``places``); the sums get the means over its segments."""
        minimum = exploration_minimum(rows, core.supervision_steps, core.halt_exploration, self.generator)
        deep = []
        for (inputs, (masks, pis, zs)), at in zip(chunks, places, strict=True):
            structured = inputs if len(inputs) == 2 else self._structured(inputs[0])
            deep.append(DeepChunk(structured[0], structured[1], masks, pis, zs,
                                  torch.arange(len(masks), device=self.device), None, minimum[at].to(self.device)))
        w = self.dist.world_size  # global counts / W, as in ``_step``
        result = deep_supervision_step(core, deep, self.optimizer, weights, self.config.value_loss_weight,
                                       self.config.l2_coef, with_target / w, rows / w, self._optimizer_step,
                                       self.model, self.dist)
        k = max(1, result.segments)
        for key, v in (("policy", result.policy), ("value", result.value), ("l2", result.l2),
                       ("total", result.total), ("halt", result.halt)):
            sums[key] += v / k
        sums["segments"] += result.segments

    def checkpoint(self) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any]]:
        """``(tensors, state)`` for a checkpoint: the trained net's weights (``candidate``), their moving average
        (``ema``, with ``ema_decay``) and the optimizer's tensors; the optimizer's other state, the steps done and the
        sampling generator's state."""
        opt_tensors, opt_meta = optimizer_to_checkpoint(self.optimizer)
        tensors = {"candidate": {k: v.detach().cpu() for k, v in self.net.state_dict().items()}}
        if self.ema is not None:
            tensors["ema"] = {k: v.detach().cpu() for k, v in self.ema.state_dict().items()}
        if opt_tensors:
            tensors["optimizer"] = opt_tensors
        return tensors, {"optimizer": opt_meta, "learner_steps": self.steps_done, "ema_updates": self.ema_updates,
                         "learner_generator": self.generator.get_state().tolist()}

    def restore(self, ckpt: Checkpoint) -> None:
        """Load what ``checkpoint`` saved."""
        ckpt.load_weights(self.net, "candidate")
        if self.ema is not None:
            # a run that turned the average on at resume starts it from the trained weights
            ckpt.load_weights(self.ema, "ema" if "ema" in ckpt.tensors else "candidate")
            self.ema_updates = int(ckpt.state.get("ema_updates", 0))
        optimizer_from_checkpoint(self.optimizer, ckpt.tensors.get("optimizer", {}), ckpt.state["optimizer"])
        self.steps_done = int(ckpt.state["learner_steps"])
        self.generator.set_state(torch.tensor(ckpt.state["learner_generator"], dtype=torch.uint8))

    def _structured(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A flat task's ``tokens [b, L]`` as the structured inputs of the net's ``SequenceView``."""
        view = cast(SequenceView, self.net)
        return view.structured_inputs(tokens)

    def _augmented(self, chunk: tuple[tuple[torch.Tensor, ...], ...],
                   drawn: torch.Tensor) -> tuple[tuple[torch.Tensor, ...], ...]:
        """A chunk ``(inputs, (masks, policies, values))`` of flat inputs under the symmetries ``drawn int64[b]``
        (``_augment``)."""
        inputs, (masks, pis, zs) = chunk
        tokens, masks, pis = self._augment(inputs[0], masks, pis, drawn)
        return (tokens,), (masks, pis, zs)

    def _augment(self, tokens: torch.Tensor, masks: torch.Tensor, pis: torch.Tensor,
                 drawn: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Apply symmetry ``drawn[i]`` (an index into ``symmetries``; default: drawn now) to row ``i``:
        ``tokens[B, L]``, ``masks[B, A]``, ``pis[B, A]``."""
        assert self.symmetries is not None
        obs_perms, act_perms = self.symmetries
        if drawn is None:
            drawn = torch.randint(len(obs_perms), (tokens.shape[0],), generator=self.generator)
        k = drawn.to(self.device)
        ap = act_perms[k]
        return tokens.gather(1, obs_perms[k]), masks.gather(1, ap), pis.gather(1, ap)


def optimizer_to_checkpoint(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer's ``state_dict`` into flat tensors (``"{param}.{key}"``) and JSON-able rest."""
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, float]] = {}
    for pid, pstate in sd["state"].items():
        for key, value in pstate.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{pid}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[key] = float(value)
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in sd["param_groups"]]
    return tensors, {"param_groups": groups, "scalars": scalars}


def optimizer_from_checkpoint(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                              meta: dict[str, Any]) -> None:
    """Inverse of ``optimizer_to_checkpoint``: load the saved state into ``optimizer``."""
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    for pid, values in meta.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(values)
    groups = [{k: (tuple(v) if k == "betas" else v) for k, v in g.items()} for g in meta["param_groups"]]
    optimizer.load_state_dict({"state": state, "param_groups": groups})
