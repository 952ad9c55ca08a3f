"""``HRMNet``: the Hierarchical Reasoning Model (Wang et al. 2025) on the size-free interface.

Two recurrent modules of ``num_layers`` post-norm encoder layers each: a slow high-level ``H`` and a fast low-level
``L``, with states ``z_H`` and ``z_L`` (each ``float[B, N + 1, D]``, summary token first). One supervision segment
runs ``cycles`` (``N``) high-level cycles of ``low_steps`` (``T``) low-level steps: ``z_L = L(z_L + z_H + x)`` (the
input ``x`` injected by addition) ``T`` times, then ``z_H = H(z_H + z_L)``. The **one-step gradient
approximation**: every step runs without gradient except the last ``L`` step and the last ``H`` step, so memory
and back-propagation cost do not grow with ``N * T``. The heads read ``z_H``: policy (pointer head), value, and the
Q-head's ``(q_halt, q_continue)`` of adaptive computation time (ACT): ``q_halt`` is trained towards "the answer is
right", ``q_continue`` towards the next segment's ``sigmoid(max(q_halt, q_continue))`` (Q-learning without a
target net), and a row halts when ``q_halt > q_continue`` (``zeroforge.train.deep``; exploration: with probability
``halt_exploration`` a row must think at least a random 2..``supervision_steps`` segments).

The initial states are fixed random vectors (buffers, as in the reference code): under the one-step gradient no
gradient reaches them. Like ``TRMNet``, the layers use relative 2-D attention biases and a ReLU feed-forward block.
"""

from __future__ import annotations

import torch

from zeroforge.nets.pointer import check_count
from zeroforge.nets.recursive import Carry, Prepared, RecursiveNet, initial_vector, post_norm_layers

__all__ = ["HRMNet"]

#: indices of the modules in ``layer_groups``
_H, _L = 0, 1


class HRMNet(RecursiveNet):
    """``(tokens int64[B, N, 5], pointers int64[B, A, 3]) -> (logits float[B, A], value float[B] in [-1, 1])``
    (the value for the player to move), thought out in up to ``segments`` supervision segments of ``cycles`` high-level
    cycles each (module docstring). ``recurrence`` is ``cycles``: the search-time knob of thinking per node."""

    uses_continue = True

    def __init__(self, embed_dim: int = 64, hidden: int = 128, num_layers: int = 1, cycles: int = 2,
                 low_steps: int = 2, supervision_steps: int = 16, halt_exploration: float = 0.1,
                 adaptive_halting: bool = False, match_bias: bool = False, distance_bias: bool = False,
                 **_: object) -> None:
        super().__init__(embed_dim, hidden, match_bias, distance_bias, cycles, supervision_steps,
                         halt_exploration, adaptive_halting)
        self.h_layers = post_norm_layers(num_layers, embed_dim, hidden, match_bias, distance_bias)
        self.l_layers = post_norm_layers(num_layers, embed_dim, hidden, match_bias, distance_bias)
        self.low_steps = check_count("low_steps", low_steps)
        self.register_buffer("h_init", initial_vector(embed_dim))
        self.register_buffer("l_init", initial_vector(embed_dim))

    def layer_groups(self) -> list[torch.nn.ModuleList]:
        return [self.h_layers, self.l_layers]

    def initial_state(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.get_buffer("h_init"), self.get_buffer("l_init")

    def reason(self, prepared: Prepared, carry: Carry) -> Carry:
        """``N * T`` low-level and ``N`` high-level steps, all but the last of each without gradient."""
        z_h, z_l = carry.y, carry.z
        n, t = self.cycles, self.low_steps
        with torch.no_grad():
            for i in range(n):
                for j in range(t):
                    if not (i == n - 1 and j == t - 1):
                        z_l = self.apply_group(_L, prepared, z_l, z_h + prepared.x)
                if i != n - 1:
                    z_h = self.apply_group(_H, prepared, z_h, z_l)
        z_l = self.apply_group(_L, prepared, z_l, z_h + prepared.x)
        z_h = self.apply_group(_H, prepared, z_h, z_l)
        return Carry(z_h, z_l)
