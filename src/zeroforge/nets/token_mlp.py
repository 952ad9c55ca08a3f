"""``TokenMLPNet``: the MLP of the size-free interface (``net.kind: mlp`` on a structured task).

The same token embedding and pointer / value heads as every structured net (``PointerIO``), with no attention in
between: ``num_layers`` residual blocks apply one feed-forward net to each token, which sees the rest of the
instance only through the mean of all tokens (DeepSets, Zaheer et al. 2017): ``x_i = x_i + FFN(LN(x_i) +
P mean_j LN(x_j))``. The summary token (index 0) is one of the tokens. It is the baseline without any relational
reasoning: whatever it solves, it solves from each token's own features and the instance's average.
"""

from __future__ import annotations

import torch
from torch import nn

from zeroforge.nets.pointer import PointerIO
from zeroforge.tasks.structured import TYPE

__all__ = ["TokenMLPNet"]


class _PooledBlock(nn.Module):
    """``x [B, N, D] -> x + FFN(LN(x) + P mean(LN(x)))``, the mean over the tokens of ``keep bool[B, N]``."""

    def __init__(self, dim: int, ffn: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.pool = nn.Linear(dim, dim, bias=False)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn), nn.ReLU(), nn.Linear(ffn, dim))

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        weights = keep.float().unsqueeze(-1)
        mean = (h * weights).sum(dim=1, keepdim=True) / weights.sum(dim=1, keepdim=True).clamp(min=1.0)
        return x + self.ffn(h + self.pool(mean))


class TokenMLPNet(PointerIO):
    """``(tokens int64[B, N, 5], pointers int64[B, A, 3]) -> (logits float[B, A], value float[B] in [-1, 1])``
    (value for the player to move) through per-token feed-forward blocks (module docstring)."""

    def __init__(self, embed_dim: int = 64, hidden: int = 128, num_layers: int = 2, **_: object) -> None:
        super().__init__(embed_dim, hidden)
        self.blocks = nn.ModuleList(_PooledBlock(embed_dim, hidden) for _ in range(num_layers))
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, tokens: torch.Tensor, pointers: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.embed(tokens)
        keep = nn.functional.pad(tokens[..., TYPE] != 0, (1, 0), value=True)
        for block in self.blocks:
            x = block(x, keep)
        return self.heads(self.norm(x), pointers)
