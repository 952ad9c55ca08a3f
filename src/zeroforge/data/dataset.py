"""A torch ``Dataset`` over policy/value arrays (for our learner and for anyone else's trainer)."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from zeroforge.data.targets import PolicyValueArrays

__all__ = ["PolicyValueDataset"]


class PolicyValueDataset(Dataset[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]):
    """Items are ``(tokens int64[L], mask bool[A], policy float32[A], value float32[])``.

    ``__getitems__`` fetches a whole batch of indices with one gather (DataLoader uses it when present).
    """

    def __init__(self, data: PolicyValueArrays, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.observations = torch.from_numpy(np.ascontiguousarray(data.observations)).to(self.device)
        self.masks = torch.from_numpy(np.ascontiguousarray(data.masks)).to(self.device)
        self.policies = torch.from_numpy(np.ascontiguousarray(data.policies)).to(self.device)
        self.values = torch.from_numpy(np.ascontiguousarray(data.values)).to(self.device)

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.observations[i], self.masks[i], self.policies[i], self.values[i]

    def batch(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """A batch of rows at ``indices int64[M]``: tensors ``[M, L]``, ``[M, A]``, ``[M, A]``, ``[M]``."""
        idx = indices.to(self.device)
        return self.observations[idx], self.masks[idx], self.policies[idx], self.values[idx]
