"""Deep supervision of the recursive nets (``TRMNet``, ``HRMNet``; ``zeroforge.nets.recursive``).

Each minibatch is thought out in up to ``supervision_steps`` segments, as in both papers' training loop: a segment
starts from the carry the last one left (detached), computes the AlphaZero loss of its answer plus the halting loss,
and takes its own optimiser step (the TRM paper's pseudo-code: ``for step in range(N_sup): ... loss.backward();
opt.step(); opt.zero_grad(); if q_halt > 0: break``). Rows halt on their own: when the halting head says stop (TRM:
``q_halt > 0``, HRM: ``q_halt > q_continue``), unless an exploration draw (probability ``halt_exploration``) set
them a minimum of 2..``supervision_steps`` segments; every row stops at ``supervision_steps``.

The halting head learns "the answer is right" (binary cross-entropy): here a position's answer is right when the
policy's most likely legal action is one the target ranks first (for positions without a policy target, a fast
playout-cap move: when the value has the sign of the return). HRM also learns ``q_continue`` towards
``sigmoid(q_halt)`` of the next segment at the last one and ``sigmoid(max(q_halt, q_continue))`` of the next segment
before it (its Q-learning target, computed without gradient).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from zeroforge.distributed.ddp import DistContext
from zeroforge.nets.recursive import Carry, Prepared, RecursiveNet, SegmentOutput, recursive_core
from zeroforge.train.losses import alphazero_loss

__all__ = ["DeepChunk", "DeepStepResult", "SegmentStep", "answer_is_right", "deep_supervision_step",
           "exploration_minimum", "recursive_core"]

#: the halting losses' weight beside the policy and value losses (both papers: 0.5)
HALT_LOSS_WEIGHT = 0.5


def answer_is_right(logits: torch.Tensor, values: torch.Tensor, masks: torch.Tensor, target_policy: torch.Tensor,
                    target_value: torch.Tensor) -> torch.Tensor:
    """``bool[B]``: the policy's top legal action is one ``target_policy[B, A]`` ranks first; where a row has no
    policy target, the value ``values[B]`` has the sign of ``target_value[B]``."""
    masked = logits.detach().masked_fill(~masks, torch.finfo(logits.dtype).min)
    choice = masked.argmax(dim=-1, keepdim=True)
    best = target_policy.max(dim=-1, keepdim=True).values
    policy_right = target_policy.gather(1, choice).squeeze(1) >= best.squeeze(1) - 1e-6
    value_right = values.detach() * target_value > 0
    return torch.where(best.squeeze(1) > 0, policy_right, value_right)


@dataclass
class DeepChunk:
    """One length chunk of a minibatch through its segments: the structured inputs ``tokens [b, N, 5]`` and
    ``pointers [b, A, 3]``, the targets, the rows still thinking (``int64[k]`` into the chunk), their carry and
    the minimum segments each row must think (exploration; 0 = none)."""

    tokens: torch.Tensor
    pointers: torch.Tensor
    masks: torch.Tensor
    policies: torch.Tensor
    values: torch.Tensor
    active: torch.Tensor
    carry: Carry | None
    min_segments: torch.Tensor


@dataclass(frozen=True)
class DeepStepResult:
    """Sums over the segments of one minibatch: the loss terms (each segment's as ``alphazero_loss`` reports it),
    the halting loss, and the segments run (= optimiser steps taken)."""

    policy: float
    value: float
    l2: float
    total: float
    halt: float
    segments: int


class SegmentStep(nn.Module):
    """One supervision segment of ``net``'s recursive core (``recursive_core``) as a module's ``forward``: what the
    learner calls, and what ``DistributedDataParallel`` wraps in data-parallel training (it syncs the gradients of
    calls through ``forward`` only). ``net`` is its one child, so its parameters are ``net``'s.

    ``(tokens int64[b, N, 5], pointers int64[b, A, 3], carry or None) -> (prepared, output)``: the inputs prepared
    (with gradient: the embedding gets one in every segment) and the segment run from ``carry`` (``None``: the
    initial carry)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        if recursive_core(net) is None:
            raise ValueError("SegmentStep needs a recursive net (trm / hrm)")
        self.net = net

    def forward(self, tokens: torch.Tensor, pointers: torch.Tensor,
                carry: Carry | None) -> tuple[Prepared, SegmentOutput]:
        core = recursive_core(self.net)
        assert core is not None
        prepared = core.prepare(tokens)
        out = core.segment(prepared, pointers, core.initial_carry(prepared) if carry is None else carry)
        return prepared, out


def deep_supervision_step(core: RecursiveNet, chunks: Sequence[DeepChunk], optimizer: torch.optim.Optimizer,
                          weights: list[torch.nn.Parameter], value_weight: float, l2_coef: float,
                          policy_rows: float, value_rows: float, optimizer_step: Callable[[], None],
                          step: nn.Module | None = None, dist: DistContext | None = None) -> DeepStepResult:
    """Think one minibatch (its ``chunks``) out in up to ``core.supervision_steps`` segments, each ending with
    ``optimizer_step()`` (the caller's gradient clipping, ``optimizer.step()`` and weight average) on the gradient
    of that segment's loss (the module docstring); ``optimizer`` is zeroed before each segment. The losses are
    normalised by the whole minibatch's ``policy_rows`` / ``value_rows``, so a segment where some rows halted weighs
    them as zero. The forward passes go through ``step`` (a ``SegmentStep`` of ``core``'s net, maybe in DDP;
    default: one of ``core``).

    Data-parallel (``dist`` of more than one process): ``chunks`` are this rank's rows of the global minibatch and
    the row counts are the global ones divided by the world size (``Learner``). Every segment's backwards end with
    exactly one synchronising backward on every rank (the chunks before the last under ``no_sync``), and another
    segment runs while any row of any rank thinks: a rank whose rows have all halted forwards one row and scores
    none, so its backward adds zero gradients (and the L2 term, which every rank adds once) to the all-reduce."""
    dist = dist or DistContext()
    step = SegmentStep(core) if step is None else step
    sums = {"policy": 0.0, "value": 0.0, "l2": 0.0, "total": 0.0, "halt": 0.0}
    steps = core.supervision_steps
    done = 0
    for s in range(steps):
        if not dist.any_rank(any(len(c.active) for c in chunks)):
            break
        optimizer.zero_grad(set_to_none=True)
        thinking = [c for c in chunks if len(c.active)]
        idle = not thinking  # this rank's rows have all halted; another rank's think on
        last = s == steps - 1
        for i, c in enumerate(thinking or chunks[:1]):
            rows = c.active if not idle else torch.zeros(1, dtype=torch.int64, device=c.tokens.device)
            scored = slice(0 if idle else len(rows))  # an idle rank scores none of its one row
            with dist.no_sync(step, last=i == len(thinking) - 1 or idle):
                pointers = c.pointers[rows]
                prepared, out = step(c.tokens[rows], pointers, None if idle else c.carry)
                logits, values = out.logits[scored], out.values[scored]
                masks, pis, zs = c.masks[rows][scored], c.policies[rows][scored], c.values[rows][scored]
                terms = alphazero_loss(logits, values, masks, pis, zs, weights if i == 0 else [], value_weight,
                                       l2_coef if i == 0 else 0.0, policy_rows=policy_rows, value_rows=value_rows)
                right = answer_is_right(logits, values, masks, pis, zs).float()
                halt = F.binary_cross_entropy_with_logits(out.q_halt[scored], right, reduction="sum") / value_rows
                if core.uses_continue:
                    with torch.no_grad():
                        nxt = core.segment(prepared, pointers, out.carry)
                        target = torch.sigmoid(nxt.q_halt if last else torch.maximum(nxt.q_halt, nxt.q_continue))
                    halt = halt + F.binary_cross_entropy_with_logits(out.q_continue[scored], target[scored],
                                                                     reduction="sum") / value_rows
                total = terms.total + HALT_LOSS_WEIGHT * halt
                total.backward()
            for key, v in (("policy", terms.policy), ("value", terms.value), ("l2", terms.l2),
                           ("total", float(total.detach())), ("halt", float(halt.detach()))):
                sums[key] += v
            if idle:
                break
            with torch.no_grad():
                stop = core.halts(out) & (c.min_segments[rows] <= s + 1) if not last else torch.ones_like(right).bool()
            keep = ~stop
            c.active, c.carry = rows[keep], out.carry.take(keep)
        optimizer_step()
        done += 1
    return DeepStepResult(sums["policy"], sums["value"], sums["l2"], sums["total"], sums["halt"], done)


def exploration_minimum(rows: int, steps: int, probability: float, generator: torch.Generator) -> torch.Tensor:
    """``int64[rows]``: the least segments each row must think: with ``probability`` a draw from ``2..steps``,
    else 0 (both papers' ACT exploration)."""
    explore = torch.rand(rows, generator=generator) < probability
    low = min(2, steps)
    return torch.where(explore, torch.randint(low, steps + 1, (rows,), generator=generator), 0)
