"""Self-play: episodes advanced in lockstep, their records, and parallel worker processes."""

from zeroforge.selfplay.episode import Action, MCTSTrace, SelfPlayEpisode, returns_to_go
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator
from zeroforge.selfplay.workers import InferenceServer, RemoteEvaluator, SelfPlayWorkerPool, WorkerError, WorkerSpec

__all__ = [
    "Action",
    "InferenceServer",
    "MCTSTrace",
    "RemoteEvaluator",
    "SelfPlayEpisode",
    "SelfPlayEpisodeGenerator",
    "SelfPlayWorkerPool",
    "WorkerError",
    "WorkerSpec",
    "returns_to_go",
]
