"""``Progression``: what the next self-play round plays, and how its episodes move that on.

- a **curriculum** (``CurriculumConfig``): each episode's difficulty level (the current level, or with
  probability ``review_fraction`` a uniformly drawn lower one); after a round the level moves on the success
  rate at the current level;
- **ranked reward** (Laterre et al. 2018; ``task.ranked_reward``): single-agent tasks that grade their episodes
  (``Task.score``) are played as ``RankedRewardTask(task, threshold)`` once the buffer of recent scores gives a
  threshold; each round's scores go into that buffer.

Both read the round's episode table (difficulty and the ``score`` the generator records in each episode's
metadata), so they work the same whichever self-play source played it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from zeroforge.data.table import EpisodeTable
from zeroforge.params import ConfigError
from zeroforge.selfplay.episode import OUTCOMES
from zeroforge.tasks.base import Task
from zeroforge.tasks.generators import Curriculum
from zeroforge.tasks.ranked import RankedReward

if TYPE_CHECKING:
    from zeroforge.config import CurriculumConfig

__all__ = ["Progression", "episode_scores"]


def episode_scores(table: EpisodeTable) -> list[float]:
    """The graded scores (``metadata["score"]``) of the table's episodes that have one."""
    scores = (table.metadata(i).get("score") for i in range(len(table)))
    return [float(s) for s in scores if isinstance(s, int | float)]


class Progression:
    """Curriculum and ranked-reward state of one run (both optional); ``state_dict`` for checkpoints."""

    def __init__(self, task: Task, curriculum: CurriculumConfig, ranked_reward: bool = False,
                 ranked_alpha: float = 0.75, ranked_window: int = 1000) -> None:
        self.task = task
        self.config = curriculum
        self.curriculum: Curriculum | None = None
        if curriculum.enabled:
            levels = task.difficulty_levels
            if curriculum.start_level > levels:
                raise ConfigError(f"config key 'curriculum.start_level' must be <= {levels} (the levels of "
                                  f"{task.name!r}), got {curriculum.start_level}")
            self.curriculum = Curriculum(1, levels, curriculum.start_level, curriculum.raise_at, curriculum.lower_at)
        self.ranked: RankedReward | None = None
        if ranked_reward:
            if task.num_players != 1 or type(task).score is Task.score:
                raise ConfigError(f"task.ranked_reward: needs a single-agent task that grades its episodes "
                                  f"(Task.score); {task.name!r} does not")
            self.ranked = RankedReward(ranked_alpha, ranked_window)

    @property
    def level(self) -> int:
        return self.curriculum.level if self.curriculum is not None else self.task.difficulty_levels

    @property
    def threshold(self) -> float | None:
        """The ranked-reward threshold to play with (``None``: plain rewards)."""
        return self.ranked.threshold if self.ranked is not None else None

    def levels(self, num_games: int, rng: np.random.Generator) -> list[int] | None:
        """Per episode difficulty (``None``, the top level, without a curriculum)."""
        if self.curriculum is None:
            return None
        level = self.curriculum.level
        review = rng.random(num_games) < self.config.review_fraction
        lower = rng.integers(1, max(level, 2), size=num_games)
        return [int(lower[k]) if review[k] and level > 1 else level for k in range(num_games)]

    def update(self, table: EpisodeTable) -> dict[str, Any]:
        """Move on with a round's episodes (played at ``level`` with ``threshold``); their metrics."""
        out: dict[str, Any] = {"difficulty": self.level}
        scores = episode_scores(table)
        if scores:
            out["mean_score"] = float(np.mean(scores))
        if self.curriculum is not None:
            at_level = (table.outcomes[table.difficulties == self.level] == OUTCOMES.index("success")).tolist()
            out["success_rate_at_level"] = float(np.mean(at_level)) if at_level else 0.0
            out["next_difficulty"] = self.curriculum.update(at_level)
        if self.ranked is not None:
            out["ranked_threshold"] = self.ranked.threshold
            self.ranked.add(scores)
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"curriculum": self.curriculum.state_dict() if self.curriculum is not None else None,
                "ranked_reward": self.ranked.state_dict() if self.ranked is not None else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.curriculum is not None:
            self.curriculum.load_state_dict(state["curriculum"])
        if self.ranked is not None:
            self.ranked.load_state_dict(state["ranked_reward"])
