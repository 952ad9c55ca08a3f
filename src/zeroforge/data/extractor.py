"""``TrainingDataExtractor``: the spec's four kinds of training examples from recorded episodes.

- **policy**: ``(observation, legal mask, policy target)`` at every position searched in full (the visit
  distribution, or a Gumbel search's improved policy; the fast moves of playout-cap randomisation are
  left out).
- **value**: ``(observation, G_t)``, the discounted return of the player to move (the game result for
  two-player games with discount 1).
- **reasoning**: ``(query, reasoning_chain)`` from successful episodes: the task as text, then each step
  as the action played and the state it led to.
- **negative**: ``(observation, bad action)`` for every move of a player whose episode return was
  negative (the loser of a game) and every move of a failed or timed-out episode.

Policy and value examples come from *every* episode (AlphaZero trains on won and lost games alike: a
value net that never sees a loss cannot predict one); the spec's success/failure split applies to the
reasoning and negative kinds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zeroforge.selfplay.episode import SelfPlayEpisode, returns_to_go

__all__ = ["PolicyValueArrays", "TrainingDataExtractor", "TrainingExample", "value_targets"]

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


@dataclass(frozen=True, eq=False)
class PolicyValueArrays:
    """Columnar policy/value training data: ``observations int64[M, L]``, ``masks bool[M, A]``,
    ``policies float32[M, A]`` (policy targets), ``values float32[M]`` (returns of the mover).

    A row whose policy is all zeros has no policy target (a fast playout-cap move: KataGo trains the value
    there but not the policy); ``alphazero_loss`` averages the policy loss over the other rows only.
    """

    observations: np.ndarray
    masks: np.ndarray
    policies: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    @property
    def has_policy(self) -> np.ndarray:
        """``bool[M]``: which rows carry a policy target (a policy that is not all zeros)."""
        return np.asarray(self.policies.sum(axis=1) > 0)


def value_targets(rewards: Sequence[float], players: Sequence[int], outcome: str, num_players: int,
                  discount: float) -> np.ndarray:
    """Value targets ``float32[T]`` of one episode: the return from step ``t`` for the player who moved there
    (``returns_to_go`` of ``rewards[t]``, what ``players[t]`` received for move ``t``).

    A single-agent episode cut off unfinished (``outcome == "timeout"``: the generator's move limit) counts
    as a failure: its last move is charged the failure reward ``-1``, as a task's own step budget would.
    """
    charged = [float(r) for r in rewards]
    moved = [int(p) for p in players]
    if outcome == "timeout" and charged and set(moved) == {0} and num_players == 1:
        charged[-1] = -1.0
    return returns_to_go(charged, moved, discount)


class TrainingDataExtractor:
    """Turns episodes into training examples; ``discount`` is the return's discount (1 for games).

    ``self_imitation`` (``w`` in [0, 1]): in a successful single-agent episode the policy target of each fully
    searched move is ``(1 - w) * search target + w * one-hot(played action)`` (self-imitation learning).
    """

    def __init__(self, discount: float = 1.0, self_imitation: float = 0.0) -> None:
        if not 0.0 < discount <= 1.0:
            raise ValueError(f"discount must be in (0, 1], got {discount}")
        if not 0.0 <= self_imitation <= 1.0:
            raise ValueError(f"self_imitation must be in [0, 1], got {self_imitation}")
        self.discount = discount
        self.self_imitation = self_imitation

    def policy_target(self, episode: SelfPlayEpisode, t: int) -> np.ndarray:
        """The policy target ``float32[A]`` of move ``t`` (all zeros for a move without a full search)."""
        trace = episode.mcts_traces[t]
        if not trace.full_search:
            return np.zeros_like(trace.policy)
        w = self.self_imitation
        if w == 0.0 or episode.outcome != "success" or len(episode.initial_state.rewards) != 1:
            return trace.policy
        target = (1.0 - w) * trace.policy
        target[episode.actions[t].action_id] += w
        return target.astype(np.float32)

    def values(self, episode: SelfPlayEpisode) -> np.ndarray:
        """Value targets ``float32[T]`` of ``episode`` (``value_targets``)."""
        return value_targets(episode.rewards, [a.player for a in episode.actions], episode.outcome,
                             len(episode.initial_state.rewards), self.discount)

    def policy_value_arrays(self, episodes: Sequence[SelfPlayEpisode]) -> PolicyValueArrays:
        """All searched positions of all episodes as arrays (what the learner consumes); the policy row of a
        move without a full search (``trace.full_search`` false) is all zeros: no policy target."""
        obs, masks, pis, zs = [], [], [], []
        for ep in episodes:
            if ep.outcome == "error" or not ep.actions:
                continue
            z = self.values(ep)
            for t in range(len(ep.mcts_traces)):
                obs.append(ep.states[t].observation)
                masks.append(ep.states[t].legal_action_mask)
                pis.append(self.policy_target(ep, t))
                zs.append(z[t])
        if not obs:
            raise ValueError("no training positions: every episode was empty or ended in error")
        return PolicyValueArrays(
            observations=np.stack(obs).astype(np.int64),
            masks=np.stack(masks).astype(bool),
            policies=np.stack(pis).astype(np.float32),
            values=np.asarray(zs, np.float32),
        )

    def extract(self, episodes: Sequence[SelfPlayEpisode]) -> dict[str, list[TrainingExample]]:
        """The four kinds, keyed ``policy``, ``value``, ``reasoning``, ``negative``."""
        out: dict[str, list[TrainingExample]] = {k: [] for k in KINDS}
        for ep in episodes:
            if ep.outcome == "error" or not ep.actions:
                continue
            z = self.values(ep)
            returns = ep.metadata.get("returns", [ep.total_reward])
            for t, trace in enumerate(ep.mcts_traces):
                state = ep.states[t]
                if trace.full_search:
                    out["policy"].append(TrainingExample(
                        "policy", ep.task_id, t, state.observation, state.legal_action_mask,
                        policy_target=self.policy_target(ep, t)))
                out["value"].append(TrainingExample(
                    "value", ep.task_id, t, state.observation, state.legal_action_mask, value_target=float(z[t])))
                mover = ep.actions[t].player
                if float(returns[mover]) < 0 or ep.outcome in ("failure", "timeout"):
                    out["negative"].append(TrainingExample(
                        "negative", ep.task_id, t, state.observation, state.legal_action_mask,
                        action=ep.actions[t].action_id))
            if ep.outcome == "success":
                chain = tuple(
                    f"step {t + 1}: player {a.player} plays {a.text}\n{ep.states[t + 1].to_text()}"
                    for t, a in enumerate(ep.actions)
                )
                out["reasoning"].append(TrainingExample(
                    "reasoning", ep.task_id, 0, query=ep.initial_state.to_text(), reasoning_chain=chain))
        return out
