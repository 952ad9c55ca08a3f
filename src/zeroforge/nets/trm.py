"""``TRMNet``: the Tiny Recursive Model (Jolicoeur-Martineau 2025) on the size-free interface.

One tiny net (``num_layers`` post-norm encoder layers, shared by both updates) refines an answer ``y`` and a latent
``z`` (each ``float[B, N + 1, D]``, summary token first). One **cycle** updates ``z`` ``latent_steps`` (``n``) times
from ``x + y + z`` (``z = net(z + y + x)``, the input ``x`` injected by addition) and then the answer once from ``y
+ z`` (``y = net(y + z)``, no input: the answer is revised from the reasoning alone). One **supervision segment**
runs ``cycles`` (``T``) cycles, the first ``T - 1`` without gradient and the last fully back-propagated, then reads
the heads off ``y``: policy (pointer head), value, and the halting logit ``q_halt`` ("is the answer right",
trained with binary cross-entropy). Deep supervision, halting and EMA: ``RecursiveNet`` and ``zeroforge.train``.

The initial ``y`` and ``z`` are fixed random vectors (buffers, as in the reference code): under the no-gradient
cycles nothing would train them. Differences from the reference, kept on purpose: the layers use the pointer net's
relative 2-D attention biases instead of rotary positions (size-free), a ReLU feed-forward block instead of SwiGLU
(one block shared with the other nets, equal parameter counts in comparisons), and there is no MLP-over-sequence
variant: mixing tokens with weights sized by the sequence length would bind the net to one instance size.
"""

from __future__ import annotations

import torch

from zeroforge.nets.pointer import check_count
from zeroforge.nets.recursive import Carry, Prepared, RecursiveNet, initial_vector, post_norm_layers

__all__ = ["TRMNet"]


class TRMNet(RecursiveNet):
    """``(tokens int64[B, N, 5], pointers int64[B, A, 3]) -> (logits float[B, A], value float[B] in [-1, 1])``
    (the value for the player to move), thought out in up to ``segments`` supervision segments of ``cycles``
    cycles each (module docstring). ``recurrence`` is ``cycles``: the search-time knob of thinking per node."""

    def __init__(self, embed_dim: int = 64, hidden: int = 128, num_layers: int = 2, cycles: int = 3,
                 latent_steps: int = 6, supervision_steps: int = 16, halt_exploration: float = 0.1,
                 adaptive_halting: bool = False, match_bias: bool = False, distance_bias: bool = False,
                 **_: object) -> None:
        super().__init__(embed_dim, hidden, match_bias, distance_bias, cycles, supervision_steps,
                         halt_exploration, adaptive_halting)
        self.layers = post_norm_layers(num_layers, embed_dim, hidden, match_bias, distance_bias)
        self.latent_steps = check_count("latent_steps", latent_steps)
        self.register_buffer("y_init", initial_vector(embed_dim))
        self.register_buffer("z_init", initial_vector(embed_dim))

    def layer_groups(self) -> list[torch.nn.ModuleList]:
        return [self.layers]

    def initial_state(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.get_buffer("y_init"), self.get_buffer("z_init")

    def cycle(self, prepared: Prepared, y: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One cycle: ``z = net(z + y + x)`` ``latent_steps`` times, then ``y = net(y + z)``."""
        for _ in range(self.latent_steps):
            z = self.apply_group(0, prepared, z, y + prepared.x)
        return self.apply_group(0, prepared, y, z), z

    def reason(self, prepared: Prepared, carry: Carry) -> Carry:
        """``cycles - 1`` cycles without gradient, then one with (the TRM paper's "deep recursion")."""
        y, z = carry.y, carry.z
        with torch.no_grad():
            for _ in range(self.cycles - 1):
                y, z = self.cycle(prepared, y, z)
        y, z = self.cycle(prepared, y, z)
        return Carry(y, z)
