"""The learner's parameters (``train`` in a run's config)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zeroforge.params import at_least, positive, require, unit_interval

__all__ = ["TrainConfig"]


@dataclass(frozen=True)
class TrainConfig:
    """Learner: AdamW on policy cross-entropy + ``value_loss_weight`` * value MSE + ``l2_coef`` * L2.
    ``augment_symmetries`` trains on random symmetric images of the examples (``Task.symmetries``).
    ``self_imitation`` (single-agent tasks): in episodes that succeeded, the policy target of each move is
    ``(1 - w) * visits + w * played action`` (self-imitation learning, Oh et al. 2018): where search alone
    gives flat visit counts (sparse rewards, deep proofs), the agent's own successes say which move led on.
    The replay buffer holds whole episodes, the newest first, up to ``replay_buffer_size`` positions and
    ``replay_buffer_bytes`` bytes of episode table (whichever binds first).
    ``ema_decay`` > 0 keeps an exponential moving average of the weights (TRM: 0.999), updated after every optimiser
    step with the decay ``min(ema_decay, (1 + t) / (10 + t))`` at update ``t`` (short runs are not dominated by the
    initial weights); the average is the candidate the arena judges."""

    SECTION: ClassVar[str] = "train"

    batch_size: int = 256
    steps_per_iteration: int = 300
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    l2_coef: float = 1e-4
    value_loss_weight: float = 1.0
    grad_clip: float = 1.0
    replay_buffer_size: int = 50_000
    replay_buffer_bytes: int = 1 << 30
    ema_decay: float = 0.0
    augment_symmetries: bool = True
    device: str = "cpu"
    self_imitation: float = 0.0

    def __post_init__(self) -> None:
        at_least(self, "batch_size", 1, 10**6)
        at_least(self, "steps_per_iteration", 0, 10**8)
        positive(self, "learning_rate")
        require(self, "learning_rate", self.learning_rate <= 10, "<= 10")
        at_least(self, "weight_decay", 0)
        at_least(self, "l2_coef", 0)
        at_least(self, "value_loss_weight", 0)
        positive(self, "grad_clip")
        at_least(self, "replay_buffer_size", 1, 10**9)
        at_least(self, "replay_buffer_bytes", 65536, 2**40)
        require(self, "device", isinstance(self.device, str) and bool(self.device.strip()), "a device name")
        unit_interval(self, "self_imitation")
        unit_interval(self, "ema_decay")
        require(self, "ema_decay", self.ema_decay < 1, "< 1 (1 would never move)")
