"""``MCTSTrace``: what one search at one root saw and decided (one per move of an episode)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MCTSTrace"]


@dataclass(frozen=True, eq=False)
class MCTSTrace:
    """The statistics of one root after search. Arrays are indexed by action id (``A = num_actions``);
    all values are from the perspective of the player to move at the root.

    - ``visit_counts int32[A]``: N(root, a); they sum to the simulations that passed through the root.
    - ``q_values float32[A]``: mean backed-up value Q(root, a) = r + discount * V(child); 0 where unvisited.
    - ``prior_probs float32[A]``: the evaluator's prior at the root (before Dirichlet noise).
    - ``value_estimates float32[A]``: the evaluator's one-shot estimate of each expanded child
      (r + discount * v_child, turned to the root player's perspective); 0 where not expanded.
    - ``legal_action_mask bool[A]``.
    - ``root_value``: the search's value of the root (mean of all backed-up values);
      ``root_prior_value``: the evaluator's value of the root alone.
    - ``selected_action``: the action played (PUCT: by visit counts and temperature; Gumbel: the
      sequential-halving winner).
    - ``tree_depth``: deepest node reached (root = 0); ``num_simulations``: simulations run;
      ``search_time``: seconds, the batched search's wall time shared equally among its roots.
    - ``policy_target float32[A] | None``: the search's own policy target when it has one (Gumbel: the
      improved policy ``softmax(logits + sigma(completed Q))``, zero on illegal actions); ``None`` (PUCT)
      means the visit distribution.
    - ``full_search``: ``False`` for a fast move of playout-cap randomisation (KataGo), whose policy is
      not a training target (its value target still is).
    """

    root_state_id: str
    num_simulations: int
    visit_counts: np.ndarray
    q_values: np.ndarray
    prior_probs: np.ndarray
    value_estimates: np.ndarray
    legal_action_mask: np.ndarray
    root_value: float
    root_prior_value: float
    selected_action: int
    tree_depth: int
    search_time: float
    policy_target: np.ndarray | None = None
    full_search: bool = True

    @property
    def policy(self) -> np.ndarray:
        """The policy target ``float32[A]``: ``policy_target`` when the search gave one (Gumbel), else the
        visit distribution (AlphaZero)."""
        if self.policy_target is not None:
            return np.asarray(self.policy_target, np.float32)
        total = self.visit_counts.sum()
        if total == 0:
            return self.legal_action_mask.astype(np.float32) / max(1, int(self.legal_action_mask.sum()))
        return (self.visit_counts / total).astype(np.float32)

    def top_actions(self, k: int) -> list[int]:
        """Up to ``k`` searched actions, most visits first (ties: the lower action id)."""
        order = np.argsort(-self.visit_counts, kind="stable")[:k]
        return [int(a) for a in order if self.visit_counts[a] > 0]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able view with the spec's per-action dicts keyed by action id (legal actions only)."""
        legal = np.flatnonzero(self.legal_action_mask).tolist()
        return {
            "root_state_id": self.root_state_id,
            "num_simulations": self.num_simulations,
            "visit_counts": {str(a): int(self.visit_counts[a]) for a in legal},
            "q_values": {str(a): float(self.q_values[a]) for a in legal},
            "prior_probs": {str(a): float(self.prior_probs[a]) for a in legal},
            "value_estimates": {str(a): float(self.value_estimates[a]) for a in legal},
            "root_value": self.root_value,
            "root_prior_value": self.root_prior_value,
            "selected_action": self.selected_action,
            "tree_depth": self.tree_depth,
            "search_time": self.search_time,
            "policy_target": (None if self.policy_target is None
                              else {str(a): float(self.policy_target[a]) for a in legal}),
            "full_search": self.full_search,
        }
