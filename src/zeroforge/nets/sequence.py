"""``SequenceView``: a size-free structured net (``PointerNet``, ``TRMNet``, ``HRMNet``) reading a flat task's tokens.

A flat task's observation ``int64[B, L]`` becomes ``L`` structured tokens ``(type 1, a = token value, b = 0, row 0,
col = i)``: a 1-D sequence whose positions the net reads by their relative offsets, like every structured input;
action ``a`` becomes the global pointer ``(kind a, summary, summary)``, scored from the summary token. So every net
kind runs on every task: ``zeroforge train --set net.kind=trm`` on the default tic-tac-toe run trains a TRM.
"""

from __future__ import annotations

import torch
from torch import nn

from zeroforge.tasks.structured import FEATURE_A, FEATURE_VOCAB, MAX_POSITION, NUM_POINTER_KINDS, TOKEN_FIELDS

__all__ = ["SequenceView"]

#: the token type of a flat task's tokens (types below 16 belong to no family)
FLAT_TOKEN_TYPE = 1


class SequenceView(nn.Module):
    """``tokens int64[B, L] -> (logits float[B, A], value float[B])`` through the structured net ``inner`` (see the
    module docstring); ``A = num_actions``. A one-line ``ValueError`` when the flat task's vocabulary, length or
    actions exceed what structured tokens hold."""

    structured = False

    def __init__(self, inner: nn.Module, vocab_size: int, seq_len: int, num_actions: int) -> None:
        super().__init__()
        for what, value, bound in (("vocab_size", vocab_size, FEATURE_VOCAB), ("seq_len", seq_len, MAX_POSITION),
                                   ("num_actions", num_actions, NUM_POINTER_KINDS)):
            if value > bound:
                raise ValueError(f"a structured net reads a flat task with {what} <= {bound}, got {value}")
        self.inner = inner
        self.register_buffer("positions", torch.arange(seq_len), persistent=False)
        pointers = torch.zeros(num_actions, 3, dtype=torch.int64)
        pointers[:, 0] = torch.arange(num_actions)
        self.register_buffer("pointers", pointers, persistent=False)

    def structured_inputs(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens int64[B, L, 5], pointers int64[B, A, 3])``: the flat ``tokens int64[B, L]`` as the inner net
        reads them."""
        b, length = tokens.shape
        out = tokens.new_zeros((b, length, TOKEN_FIELDS))
        out[..., 0] = FLAT_TOKEN_TYPE
        out[..., FEATURE_A] = tokens
        out[..., TOKEN_FIELDS - 1] = self.get_buffer("positions")[:length]
        return out, self.get_buffer("pointers").expand(b, -1, -1)

    @property
    def recurrence(self) -> int:
        """The inner net's recurrence (``PointerNet.recurrence``, TRM / HRM cycles)."""
        return int(getattr(self.inner, "recurrence"))  # noqa: B009

    @recurrence.setter
    def recurrence(self, value: int) -> None:
        setattr(self.inner, "recurrence", value)  # noqa: B010

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        result: tuple[torch.Tensor, torch.Tensor] = self.inner(*self.structured_inputs(tokens))
        return result
