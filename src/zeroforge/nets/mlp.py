"""A small MLP policy-value net over token observations."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MLPNet", "PolicyValueHeads"]


class PolicyValueHeads(nn.Module):
    """Policy logits ``[B, A]`` and a tanh value ``[B]`` from a feature vector ``[B, H]``."""

    def __init__(self, hidden: int, num_actions: int) -> None:
        super().__init__()
        self.policy = nn.Linear(hidden, num_actions)
        self.value = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.policy(features), torch.tanh(self.value(features)).squeeze(-1)


class MLPNet(nn.Module):
    """``tokens int64[B, L] -> (logits float[B, A], value float[B] in [-1, 1])``.

    Each token is embedded (``embed_dim``), the embeddings are flattened and passed through
    ``num_layers`` ReLU layers of width ``hidden``. The value is for the player to move (the tokens are
    canonical, seen from that player).
    """

    def __init__(self, vocab_size: int, seq_len: int, num_actions: int, embed_dim: int = 16,
                 hidden: int = 128, num_layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        layers: list[nn.Module] = []
        width = seq_len * embed_dim
        for _ in range(num_layers):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.trunk = nn.Sequential(*layers)
        self.heads = PolicyValueHeads(width, num_actions)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.embed(tokens).flatten(1)
        return self.heads(self.trunk(x))
