"""A small transformer policy-value net over token observations (self-attention across the tokens).

An MLP sees the tokens only through fixed weights per position, so it must learn every "token at position i
equals token at position j" comparison separately; tasks whose answer is a relation between tokens (a rule's
conclusion is another rule's premise, a call's expected value against its actual one) need attention for that.
"""

from __future__ import annotations

import torch
from torch import nn

from zeroforge.nets.mlp import PolicyValueHeads

__all__ = ["TransformerNet", "attention_heads"]


def attention_heads(embed_dim: int) -> int:
    """Heads of the attention layers: 4, 2 or 1, the most that divide ``embed_dim``."""
    return next(h for h in (4, 2, 1) if embed_dim % h == 0)


class TransformerNet(nn.Module):
    """``tokens int64[B, L] -> (logits float[B, A], value float[B] in [-1, 1])``.

    Token and learned position embeddings (``embed_dim`` each, summed) pass through ``num_layers``
    pre-norm encoder layers (``attention_heads(embed_dim)`` heads, feed-forward width ``2 * embed_dim``,
    no dropout) and a final LayerNorm; the sequence ``[B, L, embed_dim]`` is flattened, so every position
    keeps its identity, projected to ``hidden`` and read by the policy and value heads. Same interface as
    ``MLPNet``; the value is for the player to move.
    """

    def __init__(self, vocab_size: int, seq_len: int, num_actions: int, embed_dim: int = 16,
                 hidden: int = 128, num_layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.position = nn.Parameter(torch.zeros(seq_len, embed_dim))
        nn.init.normal_(self.position, std=0.02)
        layer = nn.TransformerEncoderLayer(embed_dim, attention_heads(embed_dim), dim_feedforward=2 * embed_dim,
                                           dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embed_dim)
        self.proj = nn.Linear(seq_len * embed_dim, hidden)
        self.heads = PolicyValueHeads(hidden, num_actions)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.norm(self.encoder(self.embed(tokens) + self.position))
        return self.heads(torch.relu(self.proj(x.flatten(1))))
