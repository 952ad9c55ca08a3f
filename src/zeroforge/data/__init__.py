"""Training data: extraction from episodes, the replay buffer, compact episode storage and a torch Dataset."""

from zeroforge.data.buffer import ReplayBuffer
from zeroforge.data.dataset import PolicyValueDataset
from zeroforge.data.episodes import EpisodeBuffer, EpisodeTable
from zeroforge.data.extractor import PolicyValueArrays, TrainingDataExtractor, TrainingExample

__all__ = [
    "EpisodeBuffer",
    "EpisodeTable",
    "PolicyValueArrays",
    "PolicyValueDataset",
    "ReplayBuffer",
    "TrainingDataExtractor",
    "TrainingExample",
]
