"""``TrainingDataExtractor``: the spec's four kinds of training examples from recorded episodes.

- **policy**: ``(observation, legal mask, policy target)`` at every position searched in full (the visit
  distribution, or a Gumbel search's improved policy; the fast moves of playout-cap randomisation are
  left out).
- **value**: ``(observation, G_t)``, the discounted return of the player to move (the game result for
  two-player games with discount 1).
- **reasoning**: ``(query, reasoning_chain)`` from successful episodes: the task as text, then each step
  as the action played and the state it led to.
- **negative**: ``(observation, bad action, reason)``: every move of a player whose episode return was negative
  (``lost``: the loser of a game) and every move of a failed or timed-out episode (``failed_episode``); and from
  the tree itself, at every fully searched position, each searched sibling of the played move whose Q is at
  least ``negative_margin`` below the played move's (``q_gap``) or, when ``extract`` is given the task, whose
  move ends the episode at once in a verified failure (``verified_failure``: the verifier's ``failure`` for a
  single-agent task, a loss for the mover in a game).

Every example carries the episode's provenance where it was recorded: ``family``, ``difficulty``, ``seed`` and the
``iteration`` passed to ``extract``; reasoning examples carry the ``answer`` and the verifier's verdict
(``verified``) when the task is given.

Policy and value examples come from *every* episode (AlphaZero trains on won and lost games alike: a
value net that never sees a loss cannot predict one); the spec's success/failure split applies to the
reasoning and negative kinds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from zeroforge.data.table import EpisodeTable
from zeroforge.data.targets import PolicyValueArrays, TargetRule, targets, value_targets
from zeroforge.selfplay.episode import SelfPlayEpisode

if TYPE_CHECKING:
    from zeroforge.tasks.base import Task

__all__ = ["TrainingDataExtractor", "TrainingExample"]

KINDS = ("policy", "value", "reasoning", "negative")


@dataclass(frozen=True, eq=False)
class TrainingExample:
    """One example of one ``kind``; the fields a kind does not use are ``None``."""

    kind: str
    task_id: str
    step: int
    observation: np.ndarray | None = None
    legal_action_mask: np.ndarray | None = None
    policy_target: np.ndarray | None = None
    value_target: float | None = None
    action: int | None = None
    query: str | None = None
    reasoning_chain: tuple[str, ...] | None = None
    reason: str | None = None
    family: str | None = None
    difficulty: int | None = None
    seed: int | None = None
    iteration: int | None = None
    verified: bool | None = None
    answer: Any = None


class TrainingDataExtractor:
    """Turns episodes into training examples; the policy and value targets are ``zeroforge.data.targets``'s
    (one rule for in-memory episodes, the replay buffer and Parquet files): ``discount`` is the return's
    discount (1 for games), ``self_imitation`` the weight of the played move in successful single-agent episodes.
    """

    def __init__(self, discount: float = 1.0, self_imitation: float = 0.0, negative_margin: float = 0.3) -> None:
        self.rule = TargetRule(discount, self_imitation)
        self.negative_margin = negative_margin

    @property
    def discount(self) -> float:
        return self.rule.discount

    @property
    def self_imitation(self) -> float:
        return self.rule.self_imitation

    def values(self, episode: SelfPlayEpisode) -> np.ndarray:
        """Value targets ``float32[T]`` of ``episode`` (``zeroforge.data.targets.value_targets``)."""
        return value_targets(episode.rewards, [a.player for a in episode.actions], episode.outcome,
                             len(episode.initial_state.rewards), self.rule.discount)

    def policy_value_arrays(self, episodes: Sequence[SelfPlayEpisode]) -> PolicyValueArrays:
        """All positions of all episodes not ended in ``error``, as arrays (``targets`` of their table)."""
        kept = [ep for ep in episodes if ep.outcome != "error" and ep.actions]
        if not kept:
            raise ValueError("no training positions: every episode was empty or ended in error")
        return targets(EpisodeTable.from_episodes(kept), self.rule)

    def extract(self, episodes: Sequence[SelfPlayEpisode], task: Task | None = None,
                iteration: int | None = None) -> dict[str, list[TrainingExample]]:
        """The four kinds, keyed ``policy``, ``value``, ``reasoning``, ``negative`` (module docstring); ``task``
        (the episodes' task) adds the verifier's verdicts, answers and ``verified_failure`` negatives."""
        out: dict[str, list[TrainingExample]] = {k: [] for k in KINDS}
        kept = [ep for ep in episodes if ep.outcome != "error" and ep.actions]
        arrays = self.policy_value_arrays(kept) if kept else None
        row = 0
        for ep in kept:
            assert arrays is not None
            prov = self._provenance(ep, task, iteration)
            returns = ep.metadata.get("returns", [ep.total_reward])
            for t, trace in enumerate(ep.mcts_traces):
                state = ep.states[t]
                if trace.full_search:
                    out["policy"].append(TrainingExample(
                        "policy", ep.task_id, t, state.observation, state.legal_action_mask,
                        policy_target=arrays.policies[row], **prov))
                out["value"].append(TrainingExample(
                    "value", ep.task_id, t, state.observation, state.legal_action_mask,
                    value_target=float(arrays.values[row]), **prov))
                row += 1
                mover = ep.actions[t].player
                played = ep.actions[t].action_id
                if float(returns[mover]) < 0 or ep.outcome in ("failure", "timeout"):
                    out["negative"].append(TrainingExample(
                        "negative", ep.task_id, t, state.observation, state.legal_action_mask, action=played,
                        reason="lost" if float(returns[mover]) < 0 and len(returns) > 1 else "failed_episode",
                        **prov))
                if trace.full_search:
                    for action, reason in self._tree_negatives(state, trace, played, task):
                        out["negative"].append(TrainingExample(
                            "negative", ep.task_id, t, state.observation, state.legal_action_mask, action=action,
                            reason=reason, **prov))
            if ep.outcome == "success":
                chain = tuple(
                    f"step {t + 1}: player {a.player} plays {a.text}\n{ep.states[t + 1].to_text()}"
                    for t, a in enumerate(ep.actions)
                )
                final = ep.states[-1]
                verified = (task.outcome(final) == "success") if task is not None else None
                answer = task.answer(final) if task is not None else None
                out["reasoning"].append(TrainingExample(
                    "reasoning", ep.task_id, 0, query=ep.initial_state.to_text(), reasoning_chain=chain,
                    answer=answer, **{**prov, "verified": verified}))
        return out

    @staticmethod
    def _provenance(ep: SelfPlayEpisode, task: Task | None, iteration: int | None) -> dict[str, Any]:
        meta = ep.metadata
        seed, level = meta.get("seed"), meta.get("difficulty")
        family = meta.get("family")
        if family is None and task is not None:
            from zeroforge.tasks.mix import MixedTask

            family = task.family_of(ep.initial_state) if isinstance(task, MixedTask) else task.name
        return {"family": family, "difficulty": int(level) if isinstance(level, int) and level > 0 else None,
                "seed": int(seed) if isinstance(seed, int) and seed >= 0 else None, "iteration": iteration}

    def _tree_negatives(self, state: Any, trace: Any, played: int, task: Task | None) -> list[tuple[int, str]]:
        """The searched siblings of ``played`` that the tree marks as bad (module docstring)."""
        out: list[tuple[int, str]] = []
        q_played = float(trace.q_values[played])
        for a in (int(x) for x in np.flatnonzero(trace.visit_counts > 0)):
            if a == played:
                continue
            if task is not None:
                nxt = task.step(state, a)
                mover = state.current_player
                failed = nxt.terminal and (task.outcome(nxt) == "failure" if task.num_players == 1
                                           else float(nxt.rewards[mover]) < 0)
                if failed:
                    out.append((a, "verified_failure"))
                    continue
            if q_played - float(trace.q_values[a]) >= self.negative_margin:
                out.append((a, "q_gap"))
        return out
