"""Training data: extraction from episodes, the replay buffer and a torch Dataset."""

from zeroforge.data.buffer import ReplayBuffer
from zeroforge.data.dataset import PolicyValueDataset
from zeroforge.data.extractor import PolicyValueArrays, TrainingDataExtractor, TrainingExample

__all__ = ["PolicyValueArrays", "PolicyValueDataset", "ReplayBuffer", "TrainingDataExtractor", "TrainingExample"]
