"""``RuleNet``: a relational policy-value net for rule-based deduction (the ``logic`` family's tokens).

Which applicable rule leads to the query is a question about paths in the implication graph (does this rule's
conclusion feed a rule that ... concludes the query?). An MLP over the flattened tokens must learn that for
every pair of rule slots separately and does not generalise to new instances (measured: it fits its training
positions and stays near chance at forks on held-out ones). ``RuleNet`` gives the net the graph's shape
instead: one token per rule slot (its premise literal, its conclusion literal and whether each is known) plus
one token for the query (and the remaining budget), and ``num_layers`` rounds of one weight-tied
self-attention layer over them — attention from a rule's conclusion to the premises of other rules is one hop
of backward chaining, and the rounds are hops (the recursion of TRM / HRM-style nets, with one layer).

Reads the same tokens as every other net (the layout of :mod:`zeroforge.tasks.reasoning.logic`: rule slots,
per-concept known flags, the query, the budget bucket) and returns ``(logits[B, R + 1], value[B])``: one logit
per rule slot from that slot's token and the "conclude: not provable" logit and the value from the query token.
"""

from __future__ import annotations

import torch
from torch import nn

from zeroforge.nets.transformer import attention_heads

__all__ = ["RuleNet", "rule_layout"]

#: tokens of the logic layout after the ``N`` concept ids: POSITIVE, NEGATIVE, PAD, UNKNOWN, KNOWN, 8 buckets
_AFTER_CONCEPTS = 13


def rule_layout(vocab_size: int, seq_len: int, num_actions: int) -> tuple[int, int]:
    """``(concepts N, rule slots R)`` of a logic observation, or a ``ValueError`` naming the mismatch."""
    concepts = vocab_size - _AFTER_CONCEPTS
    rules = num_actions - 1
    if concepts < 1 or rules < 1 or seq_len != 4 * rules + 2 * concepts + 3:
        raise ValueError(
            f"net kind 'rules' reads the logic task's tokens (vocab = concepts + 13, seq_len = 4 * rules + "
            f"2 * concepts + 3, actions = rules + 1); this task has vocab {vocab_size}, seq_len {seq_len}, "
            f"{num_actions} actions")
    return concepts, rules


class RuleNet(nn.Module):
    """``tokens int64[B, L] -> (logits float[B, R + 1], value float[B] in [-1, 1])`` for the logic layout.

    ``embed_dim`` is the token width, ``hidden`` the attention layer's feed-forward width and ``num_layers``
    the rounds of the one shared layer (hops of reasoning). Literal ``2 * c + sign`` indexes the embeddings;
    padding slots use an extra index and get a logit the legal mask removes anyway.
    """

    def __init__(self, vocab_size: int, seq_len: int, num_actions: int, embed_dim: int = 64,
                 hidden: int = 128, num_layers: int = 6) -> None:
        super().__init__()
        self.concepts, self.rules = rule_layout(vocab_size, seq_len, num_actions)
        literals = 2 * self.concepts + 1  # + the padding index
        self.premise = nn.Embedding(literals, embed_dim)
        self.conclusion = nn.Embedding(literals, embed_dim)
        self.query = nn.Embedding(literals, embed_dim)
        self.budget = nn.Embedding(8, embed_dim)
        self.flags = nn.Linear(3, embed_dim)
        self.rounds = num_layers
        self.layer = nn.TransformerEncoderLayer(embed_dim, attention_heads(embed_dim), dim_feedforward=hidden,
                                                dropout=0.0, batch_first=True, norm_first=True)
        self.norm = nn.LayerNorm(embed_dim)
        self.logit = nn.Linear(embed_dim, 1)
        self.value = nn.Sequential(nn.Linear(embed_dim, embed_dim), nn.ReLU(), nn.Linear(embed_dim, 1))

    def _literal(self, concept: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
        """Literal index ``2 * c + s`` (``2 N`` for padding) of concept and sign tokens."""
        n = self.concepts
        lit = 2 * concept.clamp(max=n - 1) + (sign - n).clamp(0, 1)
        return torch.where(concept >= n, 2 * n, lit)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, r = self.concepts, self.rules
        batch = tokens.shape[0]
        slots = tokens[:, : 4 * r].view(batch, r, 4)
        known = tokens[:, 4 * r : 4 * r + 2 * n] == n + 4  # [B, 2N]: literal 2c + s known
        known = torch.cat([known, torch.zeros_like(known[:, :1])], 1)  # the padding literal is never known
        premise = self._literal(slots[..., 0], slots[..., 1])
        conclusion = self._literal(slots[..., 2], slots[..., 3])
        flags = torch.stack([known.gather(1, premise), known.gather(1, conclusion), slots[..., 0] >= n], -1)
        x = self.premise(premise) + self.conclusion(conclusion) + self.flags(flags.float())
        q = tokens[:, 4 * r + 2 * n :]
        query = self.query(self._literal(q[:, 0], q[:, 1])) + self.budget((q[:, 2] - n - 5).clamp(0, 7))
        x = torch.cat([x, query[:, None]], 1)  # [B, R + 1, D]
        h = x
        for _ in range(self.rounds):
            h = self.layer(h + x)
        h = self.norm(h)
        return self.logit(h).squeeze(-1), torch.tanh(self.value(h[:, -1])).squeeze(-1)
