"""The AlphaZero loss: ``l = -pi^T log p + w_v (z - v)^2 + c ||theta||^2``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = ["LossTerms", "alphazero_loss"]


@dataclass(frozen=True)
class LossTerms:
    """The loss and its parts (``total`` carries the graph; the rest are detached floats)."""

    total: torch.Tensor
    policy: float
    value: float
    l2: float


def alphazero_loss(logits: torch.Tensor, values: torch.Tensor, masks: torch.Tensor, target_policy: torch.Tensor,
                   target_value: torch.Tensor, parameters: Iterable[torch.nn.Parameter],
                   value_weight: float = 1.0, l2_coef: float = 0.0, policy_rows: float | None = None,
                   value_rows: float | None = None) -> LossTerms:
    """Policy cross-entropy over legal actions + weighted value MSE + L2 on ``parameters``.

    Shapes: ``logits[B, A]``, ``values[B]``, ``masks bool[B, A]``, ``target_policy[B, A]`` (zero on
    illegal actions), ``target_value[B]``. Illegal logits are masked out of the softmax.

    A row whose ``target_policy`` is all zeros has no policy target (a fast playout-cap move): the policy
    cross-entropy is the mean over the rows that have one (0 when none has), the value MSE the mean over all.

    ``policy_rows`` / ``value_rows`` replace those counts (the sums are divided by them instead): a minibatch
    split into chunks (``Learner``: length buckets) adds up its chunks' losses to the whole minibatch's.
    """
    masked = logits.masked_fill(~masks, torch.finfo(logits.dtype).min)
    cross_entropy = -(target_policy * F.log_softmax(masked, dim=-1)).sum(dim=-1)
    with_target = (target_policy.sum(dim=-1) > 0).sum().clamp(min=1) if policy_rows is None else policy_rows
    policy_loss = cross_entropy.sum() / with_target
    value_loss = (F.mse_loss(values, target_value) if value_rows is None
                  else F.mse_loss(values, target_value, reduction="sum") / value_rows)
    squares = [p.pow(2).sum() for p in parameters] if l2_coef > 0 else []
    l2 = torch.stack(squares).sum() if squares else logits.new_zeros(())
    total = policy_loss + value_weight * value_loss + l2_coef * l2
    return LossTerms(total, float(policy_loss.detach()), float(value_loss.detach()), float(l2.detach()))
