"""A residual policy-value net over token observations (pre-norm residual MLP blocks)."""

from __future__ import annotations

import torch
from torch import nn

from zeroforge.nets.mlp import PolicyValueHeads

__all__ = ["ResNet", "ResidualBlock"]


class ResidualBlock(nn.Module):
    """``x + W2 relu(W1 LayerNorm(x))`` on ``[B, H]``."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.fc1 = nn.Linear(hidden, hidden)
        self.fc2 = nn.Linear(hidden, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(torch.relu(self.fc1(self.norm(x))))


class ResNet(nn.Module):
    """``tokens int64[B, L] -> (logits float[B, A], value float[B] in [-1, 1])``.

    Embedded, flattened tokens are projected to ``hidden`` and passed through ``num_layers`` residual
    blocks and a final LayerNorm. Same interface as ``MLPNet``.
    """

    def __init__(self, vocab_size: int, seq_len: int, num_actions: int, embed_dim: int = 16,
                 hidden: int = 128, num_layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.proj = nn.Linear(seq_len * embed_dim, hidden)
        self.blocks = nn.Sequential(*[ResidualBlock(hidden) for _ in range(num_layers)])
        self.norm = nn.LayerNorm(hidden)
        self.heads = PolicyValueHeads(hidden, num_actions)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.relu(self.proj(self.embed(tokens).flatten(1)))
        return self.heads(torch.relu(self.norm(self.blocks(x))))
