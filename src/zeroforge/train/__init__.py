"""Training: the AlphaZero loss and the learner."""

from zeroforge.train.learner import Learner, TrainMetrics
from zeroforge.train.losses import LossTerms, alphazero_loss

__all__ = ["Learner", "LossTerms", "TrainMetrics", "alphazero_loss"]
