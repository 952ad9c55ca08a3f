"""``CompiledMCTS``: the batched PUCT search of :class:`~zeroforge.search.mcts.MCTS` with numba hot loops.

Two levels, chosen per task:

- every task: PUCT selection and backup run in compiled loops (:mod:`zeroforge.search.kernels`); expansion
  steps Python ``State`` objects as the numpy path does;
- tasks with array kernels (``Task.array_kernels()``, e.g. tic-tac-toe and connect four) and a token
  evaluator: the whole simulation except the network runs compiled — node states live in one
  ``int8[B, N, S]`` array, the task's compiled ``step`` expands leaves, and each simulation step makes one
  evaluator call with the new leaves of all ``B`` trees.

The results are those of the numpy path, visit count for visit count (same arithmetic, same evaluator
batches, same random draws); only the speed differs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zeroforge.config import MCTSConfig
from zeroforge.jit import NUMBA_AVAILABLE
from zeroforge.search import gumbel as gz
from zeroforge.search import kernels
from zeroforge.search.evaluator import Evaluator, TokenEvaluator
from zeroforge.search.mcts import MCTS
from zeroforge.search.tree import ROOT, Tree
from zeroforge.tasks.base import State, Task

__all__ = ["CompiledMCTS", "make_mcts"]


class CompiledMCTS(MCTS):
    """``MCTS`` with compiled selection, backup and (for tasks with array kernels) expansion."""

    def __init__(self, task: Task, evaluator: Evaluator, config: MCTSConfig) -> None:
        super().__init__(task, evaluator, config)
        self.array_kernels = task.array_kernels() if isinstance(evaluator, TokenEvaluator) else None

    def _select(self, tree: Tree, gumbel: gz.GumbelRoot | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if gumbel is not None:  # the Gumbel rules run on the numpy path
            return super()._select(tree, gumbel)
        batch = tree.batch_size
        node = np.zeros(batch, np.int64)
        action = np.full(batch, -1, np.int64)
        expand = np.zeros(batch, bool)
        kernels.select(tree.children_index, tree.children_prior, tree.children_visits, tree.children_values,
                       tree.legal, tree.node_visits, tree.terminal, self.config.c_puct, node, action, expand)
        return node, action, expand

    def _backup(self, tree: Tree, leaf: np.ndarray, value: np.ndarray) -> None:
        backup = kernels.backup_parallel if kernels.use_parallel(tree.batch_size) else kernels.backup
        backup(tree.node_visits, tree.node_values, tree.parents, tree.action_from_parent, tree.to_play,
               tree.children_rewards, tree.children_visits, tree.children_values,
               np.ascontiguousarray(leaf, np.int64), np.ascontiguousarray(value, np.float32), self.config.discount)

    def _search_tree(self, roots: Sequence[State], rng: np.random.Generator, add_noise: bool,
                     sims: int) -> tuple[Tree, np.ndarray, gz.GumbelRoot | None]:
        if self.array_kernels is None or self.config.root_policy != "puct":
            return super()._search_tree(roots, rng, add_noise, sims)
        evaluator = self.evaluator
        assert isinstance(evaluator, TokenEvaluator)
        kern = self.array_kernels
        batch, num_actions = len(roots), self.task.num_actions
        tree = Tree.empty(batch, sims + 1, num_actions, with_states=False)
        states = np.zeros((batch, sims + 1, kern.state_size), np.int8)
        states[:, ROOT] = np.stack([kern.encode(r) for r in roots])
        tree.num_nodes[:] = 1
        tree.to_play[:, ROOT] = [r.current_player for r in roots]
        tree.legal[:, ROOT] = np.stack([r.legal_action_mask for r in roots])
        root_priors, _ = self._evaluate_roots(tree, roots, rng, add_noise, sims)  # PUCT here: no Gumbel data
        if self.config.leaves_per_step > 1:
            self._simulate_virtual(tree, states, sims)
            return tree, root_priors, None
        leaf = np.zeros(batch, np.int64)
        evaluate = np.zeros(batch, bool)
        obs = np.zeros((batch, self.task.seq_len), np.int64)
        masks = np.zeros((batch, num_actions), bool)
        leaf_value = np.zeros(batch, np.float32)
        select_expand = kernels.select_expand_parallel if kernels.use_parallel(batch) else kernels.select_expand
        for _ in range(sims):
            if not select_expand(
                    tree.children_index, tree.children_prior, tree.children_visits, tree.children_values,
                    tree.children_rewards, tree.legal, tree.node_visits, tree.terminal, tree.parents,
                    tree.action_from_parent, tree.to_play, tree.depth, tree.num_nodes, states, kern.kind,
                    self.config.c_puct, leaf, evaluate, obs, masks):
                raise RuntimeError("search tree is full: more nodes than num_simulations + 1")
            leaf_value[:] = 0.0
            idx = np.flatnonzero(evaluate)
            if idx.size:
                p, v = evaluator.evaluate(obs[idx], masks[idx])
                kernels.set_leaf(tree.children_prior, tree.raw_values, idx, leaf[idx],
                                 np.ascontiguousarray(p, np.float32), np.ascontiguousarray(v, np.float32),
                                 leaf_value)
            self._backup(tree, leaf, leaf_value)
        return tree, root_priors, None

    def _simulate_virtual(self, tree: Tree, states: np.ndarray, sims: int) -> None:
        """``sims`` simulations per tree, ``config.leaves_per_step`` of them per evaluator call (virtual loss
        spreads one tree's descents over different leaves; a leaf reached twice in a step is evaluated once
        and backed up twice)."""
        evaluator = self.evaluator
        assert isinstance(evaluator, TokenEvaluator) and self.array_kernels is not None
        batch, nodes, num_actions = tree.batch_size, tree.node_visits.shape[1], self.task.num_actions
        width = self.config.leaves_per_step
        virtual = np.zeros((batch, nodes, num_actions), np.int32)
        node_virtual = np.zeros((batch, nodes), np.int32)
        pending = np.zeros((batch, nodes), bool)
        leaf = np.zeros((batch, width), np.int64)
        evaluate = np.zeros((batch, width), bool)
        repeat = np.zeros((batch, width), bool)
        obs = np.zeros((batch * width, self.task.seq_len), np.int64)
        masks = np.zeros((batch * width, num_actions), bool)
        scratch = np.zeros(batch, np.float32)
        rows = np.arange(batch)
        done = 0
        while done < sims:
            k = min(width, sims - done)
            if not kernels.select_expand_virtual(
                    tree.children_index, tree.children_prior, tree.children_visits, tree.children_values,
                    tree.children_rewards, tree.legal, tree.node_visits, tree.terminal, tree.parents,
                    tree.action_from_parent, tree.to_play, tree.depth, tree.num_nodes, states,
                    self.array_kernels.kind, self.config.c_puct, k, virtual, node_virtual, pending, leaf, evaluate,
                    repeat, obs, masks):
                raise RuntimeError("search tree is full: more nodes than num_simulations + 1")
            flat = np.flatnonzero(evaluate[:, :k].reshape(-1))
            trees, slots = np.divmod(flat, k)
            if flat.size:
                p, v = evaluator.evaluate(obs[trees * width + slots], masks[trees * width + slots])
                kernels.set_leaf(tree.children_prior, tree.raw_values, trees, leaf[trees, slots],
                                 np.ascontiguousarray(p, np.float32), np.ascontiguousarray(v, np.float32), scratch)
                pending[trees, leaf[trees, slots]] = False
            for j in range(k):
                nodes_j = leaf[:, j]
                value = np.where(evaluate[:, j] | repeat[:, j], tree.raw_values[rows, nodes_j], 0.0)
                self._backup(tree, nodes_j, value.astype(np.float32))
            done += k


def make_mcts(task: Task, evaluator: Evaluator, config: MCTSConfig) -> MCTS:
    """The search of ``config.backend``: ``CompiledMCTS`` for ``numba`` (and for ``auto`` when numba is
    installed), the numpy ``MCTS`` otherwise."""
    if config.backend == "numba" and not NUMBA_AVAILABLE:
        raise ValueError("mcts.backend is 'numba' but numba is not installed (or ZEROFORGE_NUMBA=0); "
                         "use 'auto' or 'numpy'")
    if config.backend == "numpy" or not NUMBA_AVAILABLE:
        return MCTS(task, evaluator, config)
    return CompiledMCTS(task, evaluator, config)
