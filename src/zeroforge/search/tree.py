"""An array-backed batch of search trees (mctx style): ``B`` trees of at most ``N`` nodes each.

Node 0 of every tree is its root. Every value is stored from the perspective of the player to move
at the node it belongs to (``to_play``); a child's value is turned to its parent's perspective when it
is backed up (negated when the player changed, as in two-player zero-sum games).

Fields (``B`` trees, ``N`` nodes, ``A`` actions):

- ``node_visits int32[B, N]``, ``node_values float32[B, N]`` (mean backed-up value),
  ``raw_values float32[B, N]`` (the evaluator's value when the node was expanded, 0 for terminals),
  ``parents int32[B, N]`` (-1 at the root), ``action_from_parent int32[B, N]``,
  ``to_play int32[B, N]``, ``terminal bool[B, N]``, ``depth int32[B, N]``.
- ``children_index int32[B, N, A]`` (-1 = not expanded), ``children_prior float32[B, N, A]``,
  ``children_visits int32[B, N, A]``, ``children_values float32[B, N, A]`` (Q from the node's
  mover: reward + discount * value of the child), ``children_rewards float32[B, N, A]``,
  ``legal bool[B, N, A]``.
- ``states``: per tree, the task ``State`` of each node (the "embedding" of mctx).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from zeroforge.tasks.base import State

__all__ = ["ROOT", "UNEXPANDED", "Tree"]

ROOT = 0
UNEXPANDED = -1


@dataclass
class Tree:
    """Mutable arrays of ``B`` trees; built by ``Tree.empty`` and filled by the search."""

    node_visits: np.ndarray
    node_values: np.ndarray
    raw_values: np.ndarray
    parents: np.ndarray
    action_from_parent: np.ndarray
    to_play: np.ndarray
    terminal: np.ndarray
    depth: np.ndarray
    children_index: np.ndarray
    children_prior: np.ndarray
    children_visits: np.ndarray
    children_values: np.ndarray
    children_rewards: np.ndarray
    legal: np.ndarray
    num_nodes: np.ndarray
    states: list[list[State | None]] = field(default_factory=list)

    @classmethod
    def empty(cls, batch_size: int, num_nodes: int, num_actions: int, with_states: bool = True) -> Tree:
        """Trees with no nodes yet; ``with_states=False`` leaves ``states`` empty (the compiled search keeps
        node states in an array of its own)."""
        b, n, a = batch_size, num_nodes, num_actions
        return cls(
            node_visits=np.zeros((b, n), np.int32),
            node_values=np.zeros((b, n), np.float32),
            raw_values=np.zeros((b, n), np.float32),
            parents=np.full((b, n), -1, np.int32),
            action_from_parent=np.full((b, n), -1, np.int32),
            to_play=np.zeros((b, n), np.int32),
            terminal=np.zeros((b, n), bool),
            depth=np.zeros((b, n), np.int32),
            children_index=np.full((b, n, a), UNEXPANDED, np.int32),
            children_prior=np.zeros((b, n, a), np.float32),
            children_visits=np.zeros((b, n, a), np.int32),
            children_values=np.zeros((b, n, a), np.float32),
            children_rewards=np.zeros((b, n, a), np.float32),
            legal=np.zeros((b, n, a), bool),
            num_nodes=np.zeros(b, np.int32),
            states=[[None] * n for _ in range(b)] if with_states else [],
        )

    @property
    def batch_size(self) -> int:
        return int(self.node_visits.shape[0])

    def add_nodes(self, trees: np.ndarray, parents: np.ndarray, actions: np.ndarray,
                  states: list[State]) -> np.ndarray:
        """Append one node per tree in ``trees`` (children of ``parents`` via ``actions``; a parent of
        -1 makes a root). Returns the new node ids ``int32[k]``. Priors and values are set later."""
        ids = self.num_nodes[trees].copy()
        if np.any(ids >= self.node_visits.shape[1]):
            raise RuntimeError("search tree is full: more nodes than num_simulations + 1")
        self.num_nodes[trees] += 1
        self.parents[trees, ids] = parents
        self.action_from_parent[trees, ids] = actions
        self.to_play[trees, ids] = [s.current_player for s in states]
        self.terminal[trees, ids] = [s.terminal for s in states]
        self.legal[trees, ids] = np.stack([s.legal_action_mask for s in states])
        has_parent = parents >= 0
        if np.any(has_parent):
            t, p, a, c = trees[has_parent], parents[has_parent], actions[has_parent], ids[has_parent]
            self.children_index[t, p, a] = c
            self.depth[t, c] = self.depth[t, p] + 1
            movers = self.to_play[t, p]
            self.children_rewards[t, p, a] = [
                float(states[i].rewards[m]) for i, m in zip(np.flatnonzero(has_parent), movers, strict=True)
            ]
        for i, (t, n) in enumerate(zip(trees.tolist(), ids.tolist(), strict=True)):
            self.states[t][n] = states[i]
        return ids
