"""Self-play: episodes advanced in lockstep and their records."""

from zeroforge.selfplay.episode import Action, MCTSTrace, SelfPlayEpisode, returns_to_go
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator

__all__ = ["Action", "MCTSTrace", "SelfPlayEpisode", "SelfPlayEpisodeGenerator", "returns_to_go"]
