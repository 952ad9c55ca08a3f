"""Batched Monte-Carlo tree search (AlphaZero PUCT or Gumbel MuZero) over ``B`` roots at once.

One simulation step advances every tree by one simulation: a descent of each tree, one expansion per tree,
**one** evaluator call for all new leaves of all trees, and a backup.

The descent (:meth:`MCTS._descend_levels`) is one loop for every root policy: level by level over the trees
still descending, the policy's root selection function picks the action at the roots and its interior
selection function below them (:mod:`zeroforge.search.policies`: PUCT, Silver et al. 2018, or Gumbel MuZero,
Danihelka et al. 2022), and the kernel :func:`~zeroforge.search.kernels.follow` steps down. When both functions
are compiled PUCT (``policy.fully_compiled`` on the compiled backend) the same loop runs fused in one compiled
call (``kernels.descend``). PUCT selection and the backup are the kernels of :mod:`zeroforge.search.kernels`,
compiled with numba (``mcts.backend``: ``auto`` or ``numba``) or run as the same functions uncompiled
(``numpy``; also when numba is absent).

Two strategies, chosen once per search object:

- every task: node states are task ``State`` objects, stepped in Python for the new leaves;
- tasks with array kernels (``Task.array_kernels()``, e.g. tic-tac-toe and connect four), a token evaluator,
  the compiled backend and a policy that is ``fully_compiled`` (PUCT): the whole simulation except the network
  runs compiled — node states live in one ``int8[B, N, S]`` array, the task's compiled ``step`` expands
  leaves (``kernels.select_expand``, PUCT inlined), optionally several leaves per tree per evaluator call
  under virtual loss (``mcts.leaves_per_step``).

Both strategies give the same visit counts for the same evaluator and seed (same arithmetic, same evaluator
batches, same random draws). Values are backed up with the sign of the player to move at each node (negated
across a change of player) and discounted by ``config.discount``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from zeroforge.jit import NUMBA_AVAILABLE
from zeroforge.search.evaluator import Evaluator, TokenEvaluator
from zeroforge.search.kernels import kernels
from zeroforge.search.params import MCTSConfig
from zeroforge.search.policies import Selection, make_root_policy, root_q, select_from_visits
from zeroforge.search.trace import MCTSTrace
from zeroforge.search.tree import ROOT, Tree
from zeroforge.tasks.base import State, Task
from zeroforge.tasks.kernels import ArrayKernels

__all__ = ["MCTS", "make_mcts", "select_from_visits"]


class MCTS:
    """Batched PUCT or Gumbel search (``config.root_policy``) for one task and one evaluator.

    ``search(roots, rng, ...)`` returns one ``MCTSTrace`` per root, in order. Roots must not be terminal.
    ``compiled`` (default: numba when available) picks the compiled kernels or the same kernels uncompiled.
    """

    def __init__(self, task: Task, evaluator: Evaluator, config: MCTSConfig, compiled: bool = True) -> None:
        self.task = task
        self.evaluator = evaluator
        self.config = config
        self.kernels = kernels(compiled)
        self.policy = make_root_policy(config, self.kernels)
        fused = self.policy.fully_compiled and self.kernels.compiled
        array = task.array_kernels() if fused and isinstance(evaluator, TokenEvaluator) else None
        #: the task's array kernels when the fully compiled strategy is taken, else ``None``
        self.array_kernels: ArrayKernels | None = array
        self._descend = self._descend_fused if fused else self._descend_levels

    def search(
        self,
        roots: Sequence[State],
        rng: np.random.Generator,
        *,
        add_noise: bool = False,
        temperatures: float | Sequence[float] = 0.0,
        num_simulations: int | None = None,
    ) -> list[MCTSTrace]:
        """Run ``num_simulations`` (default ``config.num_simulations``) simulations from every root.

        ``add_noise``: Dirichlet noise at the roots (PUCT) or Gumbel noise (Gumbel; without it the Gumbel
        search is deterministic). ``temperatures`` (one or one per root) pick the PUCT action from the
        visit counts; the Gumbel search ignores them and plays its sequential-halving winner.
        """
        if not roots:
            return []
        for i, root in enumerate(roots):
            if root.terminal:
                raise ValueError(f"cannot search from a terminal state (root {i})")
        sims = self.config.num_simulations if num_simulations is None else int(num_simulations)
        if sims < 1:
            raise ValueError(f"num_simulations must be >= 1, got {sims}")
        temps = np.broadcast_to(np.asarray(temperatures, np.float64), (len(roots),))
        start = time.perf_counter()
        if self.array_kernels is None:
            tree, root_priors, selection = self._search_states(roots, rng, add_noise, sims)
        else:
            tree, root_priors, selection = self._search_arrays(self.array_kernels, roots, rng, add_noise, sims)
        elapsed = time.perf_counter() - start
        actions, targets = selection.played(tree, temps, rng)
        return self._traces(roots, tree, root_priors, sims, elapsed / len(roots), actions, targets)

    # -- the parts every strategy shares -------------------------------------------------------------

    def _begin(self, tree: Tree, roots: Sequence[State], rng: np.random.Generator, add_noise: bool,
               sims: int) -> tuple[np.ndarray, Selection]:
        """Evaluate the roots (their ``legal`` rows already set) and give them their priors (after the root
        policy's noise), values and one visit; returns the priors before noise and the search's selection."""
        root_priors, values = self.evaluator.evaluate_states(self.task, roots)
        priors, selection = self.policy.begin(root_priors, tree.legal[:, ROOT], sims, rng, add_noise)
        tree.children_prior[:, ROOT] = priors
        tree.raw_values[:, ROOT] = values
        tree.node_values[:, ROOT] = values
        tree.node_visits[:, ROOT] = 1
        return root_priors, selection

    def _descend_levels(self, tree: Tree, selection: Selection) -> tuple[np.ndarray, np.ndarray]:
        """Descend every tree from its root: the root selection function at the roots, the interior one below.
        Returns per tree the node where the descent stopped and the unexpanded action chosen there (``-1``
        when it stopped on an already expanded terminal node), ``int64[B]`` each."""
        batch = tree.batch_size
        node = np.zeros(batch, np.int64)
        action = np.full(batch, -1, np.int64)
        trees = np.arange(batch, dtype=np.int64)
        chosen = selection.root_action_selection_fn(tree, trees, node)
        follow, interior = self.kernels.follow, selection.interior_action_selection_fn
        children_index, terminal = tree.children_index, tree.terminal
        while True:
            trees, nodes = follow(children_index, terminal, trees, chosen, node, action)
            if not trees.size:
                return node, action
            chosen = interior(tree, trees, nodes)

    def _descend_fused(self, tree: Tree, selection: Selection) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_descend_levels` with PUCT at the roots and below, in one compiled call."""
        node = np.zeros(tree.batch_size, np.int64)
        action = np.full(tree.batch_size, -1, np.int64)
        self.kernels.descend(tree.children_index, tree.children_prior, tree.children_visits, tree.children_values,
                             tree.legal, tree.node_visits, tree.terminal, self.config.c_puct, node, action)
        return node, action

    def _backup(self, tree: Tree, leaf: np.ndarray, value: np.ndarray) -> None:
        """Back ``value[b]`` (from the mover at ``leaf[b]``) up to every root along the parent chain."""
        self.kernels.backup_for(tree.batch_size)(
            tree.node_visits, tree.node_values, tree.parents, tree.action_from_parent, tree.to_play,
            tree.children_rewards, tree.children_visits, tree.children_values,
            np.ascontiguousarray(leaf, np.int64), np.ascontiguousarray(value, np.float32), self.config.discount)

    # -- strategy 1: task states stepped in Python ---------------------------------------------------

    def _search_states(self, roots: Sequence[State], rng: np.random.Generator, add_noise: bool,
                       sims: int) -> tuple[Tree, np.ndarray, Selection]:
        """Build the trees; also returns the evaluator's root priors ``float32[B, A]`` before noise."""
        batch = len(roots)
        tree = Tree.empty(batch, sims + 1, self.task.num_actions)
        tree.add_nodes(np.arange(batch), np.full(batch, -1, np.int32), np.full(batch, -1, np.int32), list(roots))
        root_priors, selection = self._begin(tree, roots, rng, add_noise, sims)
        for _ in range(sims):
            self._simulate(tree, selection)
        return tree, root_priors, selection

    def _simulate(self, tree: Tree, selection: Selection) -> None:
        node, action = self._descend(tree, selection)
        leaf = node.copy()
        leaf_value = np.zeros(tree.batch_size, np.float32)
        grow = np.flatnonzero(action >= 0)
        if grow.size:
            parents = node[grow]
            actions = action[grow]
            new_states = [
                self.task.step(tree.states[t][p], a)
                for t, p, a in zip(grow.tolist(), parents.tolist(), actions.tolist(), strict=True)
            ]
            ids = tree.add_nodes(grow, parents.astype(np.int32), actions.astype(np.int32), new_states)
            leaf[grow] = ids
            live = np.array([not s.terminal for s in new_states], bool)
            if np.any(live):
                t, c = grow[live], ids[live]
                priors, values = self.evaluator.evaluate_states(
                    self.task, [s for s, ok in zip(new_states, live, strict=True) if ok])
                tree.children_prior[t, c] = priors
                tree.raw_values[t, c] = values
                leaf_value[t] = values
        self._backup(tree, leaf, leaf_value)

    # -- strategy 2: the whole simulation compiled (array kernels) -----------------------------------

    def _search_arrays(self, kern: ArrayKernels, roots: Sequence[State], rng: np.random.Generator,
                       add_noise: bool, sims: int) -> tuple[Tree, np.ndarray, Selection]:
        batch, num_actions = len(roots), self.task.num_actions
        tree = Tree.empty(batch, sims + 1, num_actions, with_states=False)
        states = np.zeros((batch, sims + 1, kern.state_size), np.int8)
        states[:, ROOT] = np.stack([kern.encode(r) for r in roots])
        tree.num_nodes[:] = 1
        tree.to_play[:, ROOT] = [r.current_player for r in roots]
        tree.legal[:, ROOT] = np.stack([r.legal_action_mask for r in roots])
        root_priors, selection = self._begin(tree, roots, rng, add_noise, sims)
        if self.config.leaves_per_step > 1:
            self._simulate_virtual(tree, kern, states, sims)
            return tree, root_priors, selection
        evaluator = self.evaluator
        assert isinstance(evaluator, TokenEvaluator)
        leaf = np.zeros(batch, np.int64)
        evaluate = np.zeros(batch, bool)
        obs = np.zeros((batch, self.task.seq_len), np.int64)
        masks = np.zeros((batch, num_actions), bool)
        leaf_value = np.zeros(batch, np.float32)
        select_expand = self.kernels.select_expand_for(batch)
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
                self.kernels.set_leaf(tree.children_prior, tree.raw_values, idx, leaf[idx],
                                      np.ascontiguousarray(p, np.float32), np.ascontiguousarray(v, np.float32),
                                      leaf_value)
            self._backup(tree, leaf, leaf_value)
        return tree, root_priors, selection

    def _simulate_virtual(self, tree: Tree, kern: ArrayKernels, states: np.ndarray, sims: int) -> None:
        """``sims`` simulations per tree, ``config.leaves_per_step`` of them per evaluator call (virtual loss
        spreads one tree's descents over different leaves; a leaf reached twice in a step is evaluated once
        and backed up twice)."""
        evaluator = self.evaluator
        assert isinstance(evaluator, TokenEvaluator)
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
            if not self.kernels.select_expand_virtual(
                    tree.children_index, tree.children_prior, tree.children_visits, tree.children_values,
                    tree.children_rewards, tree.legal, tree.node_visits, tree.terminal, tree.parents,
                    tree.action_from_parent, tree.to_play, tree.depth, tree.num_nodes, states, kern.kind,
                    self.config.c_puct, k, virtual, node_virtual, pending, leaf, evaluate, repeat, obs, masks):
                raise RuntimeError("search tree is full: more nodes than num_simulations + 1")
            flat = np.flatnonzero(evaluate[:, :k].reshape(-1))
            trees, slots = np.divmod(flat, k)
            if flat.size:
                p, v = evaluator.evaluate(obs[trees * width + slots], masks[trees * width + slots])
                self.kernels.set_leaf(tree.children_prior, tree.raw_values, trees, leaf[trees, slots],
                                      np.ascontiguousarray(p, np.float32), np.ascontiguousarray(v, np.float32),
                                      scratch)
                pending[trees, leaf[trees, slots]] = False
            for j in range(k):
                nodes_j = leaf[:, j]
                value = np.where(evaluate[:, j] | repeat[:, j], tree.raw_values[rows, nodes_j], 0.0)
                self._backup(tree, nodes_j, value.astype(np.float32))
            done += k

    # -- results -------------------------------------------------------------------------------------

    def _traces(self, roots: Sequence[State], tree: Tree, root_priors: np.ndarray, sims: int, seconds_each: float,
                actions: np.ndarray, targets: np.ndarray | None) -> list[MCTSTrace]:
        """One trace per root, with the action each root plays and its policy target (Gumbel) or ``None``."""
        gamma = np.float32(self.config.discount)
        rows = np.arange(tree.batch_size)
        visits = tree.children_visits[:, ROOT].copy()
        q = root_q(tree)
        idx = tree.children_index[:, ROOT]
        expanded = idx >= 0
        child = np.where(expanded, idx, 0)
        same = tree.to_play[rows[:, None], child] == tree.to_play[:, ROOT, None]
        raw = tree.raw_values[rows[:, None], child]
        child_raw = np.where(same, raw, -raw)
        estimates = np.where(expanded, tree.children_rewards[:, ROOT] + gamma * child_raw, 0.0).astype(np.float32)
        priors = np.array(root_priors, np.float32)
        legal = tree.legal[:, ROOT].copy()
        root_values = tree.node_values[:, ROOT].tolist()
        root_raw = tree.raw_values[:, ROOT].tolist()
        depths = tree.depth.max(axis=1).tolist()  # unused nodes have depth 0
        return [
            MCTSTrace(
                root_state_id=root.state_id,
                num_simulations=sims,
                visit_counts=visits[b],
                q_values=q[b],
                prior_probs=priors[b],
                value_estimates=estimates[b],
                legal_action_mask=legal[b],
                root_value=root_values[b],
                root_prior_value=root_raw[b],
                selected_action=int(actions[b]),
                tree_depth=depths[b],
                search_time=seconds_each,
                policy_target=None if targets is None else targets[b].copy(),
            )
            for b, root in enumerate(roots)
        ]


def make_mcts(task: Task, evaluator: Evaluator, config: MCTSConfig) -> MCTS:
    """The search of ``config.backend``: compiled kernels for ``numba`` (and for ``auto`` when numba is
    installed), the same kernels uncompiled for ``numpy`` (and for ``auto`` without numba)."""
    if config.backend == "numba" and not NUMBA_AVAILABLE:
        raise ValueError("mcts.backend is 'numba' but numba is not installed (or ZEROFORGE_NUMBA=0); "
                         "use 'auto' or 'numpy'")
    return MCTS(task, evaluator, config, compiled=config.backend != "numpy" and NUMBA_AVAILABLE)
