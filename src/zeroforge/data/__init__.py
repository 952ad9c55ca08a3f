"""Training data: the episode table (one format from search to learner), its targets, the bounded replay buffer,
Parquet files, the spec's example extractor and a torch Dataset."""

from zeroforge.data.buffer import EpisodeBuffer
from zeroforge.data.dataset import PolicyValueDataset
from zeroforge.data.extractor import TrainingDataExtractor, TrainingExample
from zeroforge.data.table import EpisodeTable
from zeroforge.data.targets import PolicyValueArrays, TargetRule, targets

__all__ = [
    "EpisodeBuffer",
    "EpisodeTable",
    "PolicyValueArrays",
    "PolicyValueDataset",
    "TargetRule",
    "TrainingDataExtractor",
    "TrainingExample",
    "targets",
]
