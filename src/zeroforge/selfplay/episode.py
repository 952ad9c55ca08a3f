"""Episode records: ``SelfPlayEpisode`` with one ``MCTSTrace`` per move (the spec's names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zeroforge.search.trace import MCTSTrace
from zeroforge.tasks.base import State

__all__ = ["OUTCOMES", "Action", "MCTSTrace", "SelfPlayEpisode", "returns_to_go"]

OUTCOMES = ("success", "failure", "timeout", "error")


@dataclass(frozen=True)
class Action:
    """One move: its id in the task's action space, how it reads, and who played it."""

    action_id: int
    text: str
    player: int


def returns_to_go(rewards: list[float] | tuple[float, ...], players: list[int] | tuple[int, ...],
                  discount: float) -> np.ndarray:
    """``G_t`` for the player who moved at step ``t`` (``float32[T]``).

    ``rewards[t]`` is what that player received for move ``t``. The recursion is
    ``G_t = r_t + discount * (G_{t+1} if players[t+1] == players[t] else -G_{t+1})``: zero-sum across a
    change of player, exactly the sign rule of the search's backup.
    """
    out = np.zeros(len(rewards), np.float32)
    g = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        if t + 1 < len(rewards):
            g = float(rewards[t]) + discount * (g if players[t + 1] == players[t] else -g)
        else:
            g = float(rewards[t])
        out[t] = g
    return out


@dataclass(frozen=True, eq=False)
class SelfPlayEpisode:
    """A whole episode: ``states[0]`` is the initial state and ``states[t + 1]`` follows ``actions[t]``.

    - ``rewards[t]``: reward received by ``actions[t].player`` for that move.
    - ``mcts_traces[t]``: the search that chose ``actions[t]``.
    - ``outcome``: ``success`` / ``failure`` / ``timeout`` / ``error`` (the task's verifier decides).
    - ``total_reward``: undiscounted return of player 0 (the only player of single-agent tasks).
    - ``search_efficiency``: mean share of root visits that went to the action finally played
      (1.0 = the search was unanimous).
    - ``solution_path``: the actions as text.
    - ``metadata``: ``returns`` (per player), ``winner`` (games; ``None`` for a draw), ``seed``,
      ``error`` (for ``error`` outcomes).
    """

    task_id: str
    initial_state: State
    actions: tuple[Action, ...]
    states: tuple[State, ...]
    rewards: tuple[float, ...]
    mcts_traces: tuple[MCTSTrace, ...]
    outcome: str
    metadata: dict[str, Any] = field(default_factory=dict)
    total_reward: float = 0.0
    episode_length: int = 0
    search_efficiency: float = 0.0
    solution_path: tuple[str, ...] = ()

    @classmethod
    def build(cls, task_id: str, states: list[State], actions: list[Action], traces: list[MCTSTrace],
              outcome: str, num_players: int, metadata: dict[str, Any] | None = None) -> SelfPlayEpisode:
        """Assemble an episode and compute its derived fields."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {outcome!r}")
        if len(states) != len(actions) + 1:
            raise ValueError(f"an episode needs len(states) == len(actions) + 1, got {len(states)}, "
                             f"{len(actions)}")
        if len(traces) != len(actions):
            raise ValueError(f"an episode needs one trace per action, got {len(traces)} traces for "
                             f"{len(actions)} actions")
        rewards = tuple(float(states[t + 1].rewards[a.player]) for t, a in enumerate(actions))
        returns = np.zeros(num_players, np.float64)
        for s in states[1:]:
            returns += s.rewards
        meta = dict(metadata or {})
        meta["returns"] = [float(r) for r in returns]
        if num_players > 1 and states[-1].terminal:
            best = float(returns.max())
            winners = np.flatnonzero(returns == best)
            meta["winner"] = int(winners[0]) if len(winners) == 1 else None
        efficiency = [
            float(tr.visit_counts[tr.selected_action]) / max(1, int(tr.visit_counts.sum())) for tr in traces
        ]
        return cls(
            task_id=task_id,
            initial_state=states[0],
            actions=tuple(actions),
            states=tuple(states),
            rewards=rewards,
            mcts_traces=tuple(traces),
            outcome=outcome,
            metadata=meta,
            total_reward=float(returns[0]),
            episode_length=len(actions),
            search_efficiency=float(np.mean(efficiency)) if efficiency else 0.0,
            solution_path=tuple(a.text for a in actions),
        )
