"""Self-play: episodes advanced in lockstep, their records, parallel worker processes and the sources the
trainer draws rounds from.

The episode records (``episode``) are imported by ``zeroforge.data``, whose episode table the workers and
sources send back, so those (``SelfPlayWorkerPool``, ``InferenceServer``, ...) load on first use here.
"""

from typing import Any

from zeroforge.selfplay.episode import Action, MCTSTrace, SelfPlayEpisode, returns_to_go
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator

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

_FROM_WORKERS = ("InferenceServer", "RemoteEvaluator", "SelfPlayWorkerPool", "WorkerError", "WorkerSpec")


def __getattr__(name: str) -> Any:
    if name in _FROM_WORKERS:
        from zeroforge.selfplay import workers

        return getattr(workers, name)
    raise AttributeError(f"module 'zeroforge.selfplay' has no attribute {name!r}")
