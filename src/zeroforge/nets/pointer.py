"""``PointerNet``: the size-free policy-value net over structured observations (:mod:`zeroforge.tasks.structured`).

A transformer encoder reads a variable number of typed tokens ``(type, a, b, row, col)``: each token's embedding is
the sum of a type, an ``a`` and a ``b`` embedding and a linear map of smooth functions of ``a`` and ``b`` as numbers
(``numeric_features``: weights, shares, coordinates read ordinally; no absolute position: nothing in the net is
sized by the instance). Attention gets a learned **relative 2-D position bias** per head and layer (Shaw et al.
2018; T5's bias): the bias of query ``i`` to key ``j`` is looked up by the clipped offset ``(row_j - row_i, col_j -
col_i)`` in ``[-R, R]^2`` (offsets beyond ``R`` share the border entry), so a grid's neighbourhoods look the same at
every size; set members all sit at ``(0, 0)`` and have no positional identity. Half the heads start with a locality
prior (bias ``-|dr| - |dc|``), the others uniform: on a grid, learning to look at the neighbours first takes
hundreds of steps from a flat start. A learned **summary token** (index 0) is prepended to every sequence; it
attends and is attended with a bias of its own, and carries the value and the global actions.

**Pointer heads** (Vinyals et al. 2015): the logit of action ``a`` with pointer ``(kind, src, dst)`` is
``w . relu(W_s h_src + W_d h_dst + e_kind)`` over the encoded tokens it names (``0`` = the summary token), so
"take item i", "go to city j", "move block b onto c" are scored from the tokens of i, j, b and c, and one
checkpoint serves any number of items, cities or squares. ``num_layers`` pre-norm encoder layers of width
``embed_dim`` (``attention_heads(embed_dim)`` heads, feed-forward and pointer-head width ``hidden``), applied
``recurrence`` times with shared weights, the token embeddings added back before each repeat (input injection, as
in Deep Thinking nets and TRM): depth for multi-hop problems (a maze's dead ends filled square by square) without
more weights. ``progressive`` trains half the batches with the progressive loss of Bansal et al. 2022 ("End-to-end
algorithm synthesis with recurrent networks"): ``n`` repeats without gradient, then ``k`` with (``n + k <=
recurrence``), so every repeat learns to improve on whatever state it is handed, and an instance larger than any
trained can be given more repeats at inference (``PointerNet.recurrence`` may be raised on a trained net).

**Match bias** (``match_bias=True``): where features are labels (block names, logic literals: equal values name the
same thing, nearby values nothing), which tokens share a value is the structure to reason over, e.g. the rule whose
premise is another rule's conclusion. Each layer then adds to its attention bias ``sum_k w[head, k] * m_k[i, j]``
over the four matches ``m = (a_i == a_j, a_i == b_j, b_i == a_j, b_i == b_j)`` (learned ``w``, zero at the start):
one attention hop follows one link of such a chain, whatever the labels are. It is computed once per forward pass.

**Distance bias** (``distance_bias=True``): where ``(a, b)`` are coordinates (tsp cities), how far apart two tokens
are is the structure: each layer adds ``sum_k u[head, k] * phi_k(d_ij)`` to its attention bias and the pointer head
adds ``W_g phi(d_src,dst)`` inside its ReLU, with ``d`` the Euclidean distance of the ``(a, b)`` features as a share
of the feature range and ``phi`` a few radial functions of it (``distance_features``; learned ``u`` and ``W_g``,
zero at the start): "the nearest unvisited city" is then one attention hop, and "go to city j" sees how far j is
from the current city.

Padding: a token of type ``0`` is padding; it is never attended to, and pointers never name it.
"""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from zeroforge.nets.transformer import attention_heads
from zeroforge.tasks.structured import (
    COL,
    FEATURE_A,
    FEATURE_B,
    FEATURE_VOCAB,
    NUM_POINTER_KINDS,
    NUM_TOKEN_TYPES,
    ROW,
    TYPE,
)

__all__ = ["PointerIO", "PointerNet", "check_count"]

#: relative offsets are clipped to ``[-MAX_OFFSET, MAX_OFFSET]`` per axis
MAX_OFFSET = 8
_SIDE = 2 * MAX_OFFSET + 1
#: the bias-table entry of every pair that involves the summary token
_SUMMARY_SLOT = _SIDE * _SIDE


#: smooth functions of a feature value per feature (``numeric_features``)
_NUMERIC_FEATURES = 6


def numeric_features(values: torch.Tensor) -> torch.Tensor:
    """``float[..., 2 * _NUMERIC_FEATURES]``: the features ``values int64[..., 2]`` (``a``, ``b``) as numbers, ``x =
    value / FEATURE_VOCAB`` and ``x^2, sin(pi k x), cos(pi k x)`` for ``k = 1, 2``: nearby values get nearby inputs,
    so a weight or a share seen rarely is read like its neighbours (a learned embedding per value alone would have
    to learn each of the 1024 values separately)."""
    x = values.float() / FEATURE_VOCAB
    parts = [x, x * x, torch.sin(torch.pi * x), torch.cos(torch.pi * x), torch.sin(2 * torch.pi * x),
             torch.cos(2 * torch.pi * x)]
    return torch.cat(parts, dim=-1)


#: radial functions of a token pair's feature distance (``distance_bias``)
_DISTANCE_FEATURES = 4


def distance_features(tokens: torch.Tensor) -> torch.Tensor:
    """``float[B, N + 1, N + 1, 4]``: for every (query, key) pair of the summary token followed by ``tokens
    int64[B, N, 5]``, ``d, exp(-d / s)`` for ``s = 0.05, 0.15, 0.5`` with ``d = |(a, b)_i - (a, b)_j| /
    FEATURE_VOCAB``; ``0`` for every pair with the summary token."""
    xy = tokens[..., FEATURE_A:FEATURE_B + 1].float() / FEATURE_VOCAB
    d = torch.cdist(xy, xy)
    phi = torch.stack([d, torch.exp(-d / 0.05), torch.exp(-d / 0.15), torch.exp(-d / 0.5)], dim=-1)
    return F.pad(phi, (0, 0, 1, 0, 1, 0))


#: the feature matches of ``match_bias``: ``(a, a), (a, b), (b, a), (b, b)``
_MATCHES = 4


def feature_matches(tokens: torch.Tensor) -> torch.Tensor:
    """``float[B, 4, N + 1, N + 1]``: ``1`` where query token ``i`` and key token ``j`` of ``tokens int64[B, N, 5]``
    share a feature value, per pair of fields ``(a_i, a_j), (a_i, b_j), (b_i, a_j), (b_i, b_j)``; ``0`` for every
    pair with the summary token (index 0)."""
    a, b = tokens[..., FEATURE_A], tokens[..., FEATURE_B]
    pairs = [(a, a), (a, b), (b, a), (b, b)]
    m = torch.stack([(q[:, :, None] == k[:, None, :]) for q, k in pairs], dim=1).float()
    return F.pad(m, (1, 0, 1, 0))


def relative_slots(tokens: torch.Tensor) -> torch.Tensor:
    """``int64[B, N + 1, N + 1]``: the bias-table entry of every (query, key) pair of the summary token followed
    by ``tokens int64[B, N, 5]``: the clipped 2-D offset ``key - query``, ``_SUMMARY_SLOT`` for pairs with the
    summary token."""
    rows, cols = tokens[..., ROW], tokens[..., COL]
    dr = (rows[:, None, :] - rows[:, :, None]).clamp(-MAX_OFFSET, MAX_OFFSET) + MAX_OFFSET
    dc = (cols[:, None, :] - cols[:, :, None]).clamp(-MAX_OFFSET, MAX_OFFSET) + MAX_OFFSET
    inner = dr * _SIDE + dc
    return F.pad(inner, (1, 0, 1, 0), value=_SUMMARY_SLOT)


class _EncoderLayer(nn.Module):
    """Self-attention with a relative position bias, then a feed-forward block: ``x [B, N, D]``. Pre-norm (layer
    norms before each block, the residual stream unnormalised: ``PointerNet``) or ``post_norm`` (an RMS norm without
    weights after each residual sum, as the HRM and TRM blocks: every state the recursion hands on has unit RMS)."""

    def __init__(self, dim: int, ffn: int, match_bias: bool = False, distance_bias: bool = False,
                 post_norm: bool = False) -> None:
        super().__init__()
        self.post_norm = post_norm
        self.heads = attention_heads(dim)
        self.match = nn.Parameter(torch.zeros(self.heads, _MATCHES)) if match_bias else None
        self.distance = nn.Parameter(torch.zeros(self.heads, _DISTANCE_FEATURES)) if distance_bias else None
        self.norm1 = nn.Identity() if post_norm else nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.bias = nn.Parameter(torch.zeros(self.heads, _SUMMARY_SLOT + 1))
        with torch.no_grad():  # a locality prior: half the heads start looking near (-|dr| - |dc|), half anywhere
            offsets = torch.arange(_SIDE) - MAX_OFFSET
            distance = (offsets[:, None].abs() + offsets[None, :].abs()).float().flatten()
            self.bias[: self.heads // 2, :_SUMMARY_SLOT] = -distance
        self.norm2 = nn.Identity() if post_norm else nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn), nn.ReLU(), nn.Linear(ffn, dim))

    def attention_bias(self, slots: torch.Tensor, pad: torch.Tensor, matches: torch.Tensor | None = None,
                       distances: torch.Tensor | None = None) -> torch.Tensor:
        """``float[B, H, N, N]``: the layer's relative-position bias of ``slots int64[B, N, N]`` (plus its match
        bias of ``matches float[B, 4, N, N]``, ``feature_matches``, and its distance bias of ``distances float[B, N,
        N, 4]``, ``distance_features``), ``-inf`` on the padding keys ``pad bool[B, N]`` (built once per forward
        pass and reused by every repeat of the layer)."""
        bias = self.bias[:, slots].permute(1, 0, 2, 3)
        if self.match is not None and matches is not None:
            bias = bias + torch.einsum("hk,bkij->bhij", self.match, matches)
        if self.distance is not None and distances is not None:
            bias = bias + torch.einsum("hk,bijk->bhij", self.distance, distances)
        return bias.masked_fill(pad[:, None, None, :], float("-inf"))

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """``x float[B, N, D]``, ``bias float[B, H, N, N]`` (``attention_bias``)."""
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        x = x + self.out(attended.transpose(1, 2).reshape(b, n, d))
        if self.post_norm:
            x = F.rms_norm(x, (d,))
            return F.rms_norm(x + self.ffn(x), (d,))
        return x + self.ffn(self.norm2(x))


class PointerIO(nn.Module):
    """The size-free net's inputs and outputs, shared by ``PointerNet`` and the recursive nets (``TRMNet``,
    ``HRMNet``): the token embedding with its summary token (``embed``), the attention biases every encoder layer
    reads (``attention_inputs``), and the pointer policy head and value head over encoded tokens (``heads``).
    Subclasses add the encoder between them."""

    #: the net reads ``(tokens, pointers)`` (``zeroforge.nets.inputs``), not flat tokens
    structured = True

    def __init__(self, embed_dim: int, hidden: int, match_bias: bool = False, distance_bias: bool = False) -> None:
        super().__init__()
        self.type_embed = nn.Embedding(NUM_TOKEN_TYPES, embed_dim, padding_idx=0)
        self.a_embed = nn.Embedding(FEATURE_VOCAB, embed_dim)
        self.b_embed = nn.Embedding(FEATURE_VOCAB, embed_dim)
        self.numeric = nn.Linear(2 * _NUMERIC_FEATURES, embed_dim)
        self.summary = nn.Parameter(torch.zeros(embed_dim))
        nn.init.normal_(self.summary, std=0.02)
        self.match_bias = match_bias
        self.distance_bias = distance_bias
        self.kind_embed = nn.Embedding(NUM_POINTER_KINDS, hidden)
        self.src = nn.Linear(embed_dim, hidden)
        self.dst = nn.Linear(embed_dim, hidden, bias=False)
        self.pair_distance = nn.Linear(_DISTANCE_FEATURES, hidden, bias=False) if distance_bias else None
        if self.pair_distance is not None:
            nn.init.zeros_(self.pair_distance.weight)
        self.logit = nn.Linear(hidden, 1)
        self.value = nn.Sequential(nn.Linear(embed_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """``float[B, N + 1, D]``: the summary token followed by the embeddings of ``tokens int64[B, N, 5]``."""
        features = tokens[..., FEATURE_A:FEATURE_B + 1]
        x0 = (self.type_embed(tokens[..., TYPE]) + self.a_embed(features[..., 0]) + self.b_embed(features[..., 1])
              + self.numeric(numeric_features(features)))
        return torch.cat([self.summary.expand(len(tokens), 1, -1), x0], dim=1)

    def attention_inputs(self, tokens: torch.Tensor,
                         distances: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor,
                                                                         torch.Tensor | None, torch.Tensor | None]:
        """What ``_EncoderLayer.attention_bias`` reads for ``tokens int64[B, N, 5]``: ``(slots, pad, matches,
        distances)`` (``relative_slots``; padding keys ``bool[B, N + 1]``; ``feature_matches`` with a match bias;
        ``distance_features`` with a distance bias, computed here if not given)."""
        pad = F.pad(tokens[..., TYPE] == 0, (1, 0), value=False)
        matches = feature_matches(tokens) if self.match_bias else None
        if self.distance_bias and distances is None:
            distances = distance_features(tokens)
        return relative_slots(tokens), pad, matches, distances

    def heads(self, h: torch.Tensor, pointers: torch.Tensor,
              distances: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logits float[B, A], value float[B] in [-1, 1])`` from encoded tokens ``h float[B, N + 1, D]``
        (summary first) and ``pointers int64[B, A, 3]``: the pointer head reads the tokens each action names, the
        value head the summary token."""
        width = h.shape[-1]
        src = h.gather(1, pointers[..., 1:2].expand(-1, -1, width))
        dst = h.gather(1, pointers[..., 2:3].expand(-1, -1, width))
        pre = self.src(src) + self.dst(dst) + self.kind_embed(pointers[..., 0])
        if self.pair_distance is not None and distances is not None:
            batch = torch.arange(len(h), device=h.device)[:, None]
            pair = distances[batch, pointers[..., 1], pointers[..., 2]]  # phi(d(src, dst)) per action, [B, A, 4]
            pre = pre + self.pair_distance(pair)
        logits = self.logit(torch.relu(pre)).squeeze(-1)
        return logits, torch.tanh(self.value(h[:, 0])).squeeze(-1)

    def encoder_layers(self, module: nn.ModuleList) -> list[_EncoderLayer]:
        """The layers of ``module`` typed as encoder layers."""
        return [cast(_EncoderLayer, layer) for layer in module]


class PointerNet(PointerIO):
    """``(tokens int64[B, N, 5], pointers int64[B, A, 3]) -> (logits float[B, A], value float[B] in [-1, 1])``.

    ``tokens`` are padded with all-zero rows (type 0); ``pointers`` are ``(kind, src, dst)`` with ``src``/``dst``
    in ``0..N`` (``0`` = summary token); the logits of actions that are illegal are meaningless (masked by the
    caller). The value is for the player to move. ``num_actions`` is unused by the weights (any ``A`` works).
    """

    def __init__(self, embed_dim: int = 64, hidden: int = 128, num_layers: int = 4, recurrence: int = 1,
                 match_bias: bool = False, progressive: bool = False, distance_bias: bool = False,
                 **_: object) -> None:
        super().__init__(embed_dim, hidden, match_bias, distance_bias)
        self.recurrence = recurrence
        self.progressive = progressive
        self.layers = nn.ModuleList(_EncoderLayer(embed_dim, hidden, match_bias, distance_bias)
                                    for _ in range(num_layers))
        self.norm = nn.LayerNorm(embed_dim)

    @property
    def recurrence(self) -> int:
        """How many times the layers run (shared weights); may be raised on a trained net for larger instances."""
        return self._recurrence

    @recurrence.setter
    def recurrence(self, value: int) -> None:
        self._recurrence = check_count("recurrence", value)

    def encode(self, tokens: torch.Tensor, distances: torch.Tensor | None = None) -> torch.Tensor:
        """``float[B, N + 1, D]``: the encoded summary token followed by the encoded ``tokens`` (``distances``:
        their ``distance_features`` when the net has a distance bias, computed here if not given)."""
        x0 = self.embed(tokens)
        layers = self.encoder_layers(self.layers)
        bias_inputs = self.attention_inputs(tokens, distances)
        biases = [layer.attention_bias(*bias_inputs) for layer in layers]
        skipped, repeats = 0, self.recurrence
        if self.training and self.progressive and self.recurrence > 1 and torch.rand(()) < 0.5:
            # progressive loss (Bansal et al. 2022): n repeats without gradient, then k with, n + k <= recurrence
            skipped = int(torch.randint(0, self.recurrence, ()))
            repeats = int(torch.randint(1, self.recurrence - skipped + 1, ()))
        x = x0
        for r in range(skipped + repeats):
            # the skipped repeats run without gradient; the token embeddings x0 still get one through the others
            with torch.set_grad_enabled(torch.is_grad_enabled() and r >= skipped):
                if r:
                    x = x + x0
                for layer, bias in zip(layers, biases, strict=True):
                    x = layer(x, bias)
        return self.norm(x)

    def forward(self, tokens: torch.Tensor, pointers: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        distances = distance_features(tokens) if self.distance_bias else None
        return self.heads(self.encode(tokens, distances), pointers, distances)


def check_count(name: str, value: int) -> int:
    """``value`` if it is an integer >= 1, else a one-line ``ValueError`` naming ``name`` (a net's recurrence)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return value
