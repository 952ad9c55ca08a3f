"""Batched PUCT Monte-Carlo tree search (AlphaZero) over ``B`` roots at once.

One simulation step advances every tree by one simulation: a vectorised PUCT selection down each tree,
one expansion per tree, **one** evaluator call for all new leaves of all trees, and a vectorised backup.

PUCT (Silver et al. 2018): ``a* = argmax_a Q(s, a) + c_puct * P(s, a) * sqrt(N(s)) / (1 + N(s, a))``,
with Q of an unvisited action taken as 0 and ``N(s)`` the node's visit count (its own expansion counts
one, so the first selection at a node follows its prior). At the root, Dirichlet(alpha) noise is mixed
into the priors with weight epsilon when ``add_noise``. Values are backed up with the sign of the player
to move at each node (negated across a change of player) and discounted by ``config.discount``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from zeroforge.config import MCTSConfig
from zeroforge.search.evaluator import Evaluator
from zeroforge.search.trace import MCTSTrace
from zeroforge.search.tree import ROOT, Tree
from zeroforge.tasks.base import State, Task

__all__ = ["MCTS", "select_from_visits"]


def select_from_visits(visits: np.ndarray, q_values: np.ndarray, temperature: float,
                       rng: np.random.Generator) -> int:
    """Pick an action from root visit counts ``int[A]``.

    ``temperature == 0``: the most visited action (ties broken by higher Q, then lower id) — deterministic.
    Otherwise sample with probability proportional to ``visits ** (1 / temperature)``.
    """
    if temperature <= 0.0:
        best = np.flatnonzero(visits == visits.max())
        return int(best[np.argmax(q_values[best])])
    scaled = np.power(visits.astype(np.float64) / max(1, visits.max()), 1.0 / temperature)
    total = scaled.sum()
    if total <= 0:
        return int(np.argmax(visits))
    return int(rng.choice(len(visits), p=scaled / total))


class MCTS:
    """Batched PUCT search for one task and one evaluator.

    ``search(roots, rng, ...)`` returns one ``MCTSTrace`` per root, in order. Roots must not be terminal.
    """

    def __init__(self, task: Task, evaluator: Evaluator, config: MCTSConfig) -> None:
        self.task = task
        self.evaluator = evaluator
        self.config = config

    def search(
        self,
        roots: Sequence[State],
        rng: np.random.Generator,
        *,
        add_noise: bool = False,
        temperatures: float | Sequence[float] = 0.0,
        num_simulations: int | None = None,
    ) -> list[MCTSTrace]:
        """Run ``num_simulations`` (default ``config.num_simulations``) simulations from every root."""
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
        tree, root_priors = self._search_tree(roots, rng, add_noise, sims)
        elapsed = time.perf_counter() - start
        return self._traces(roots, tree, root_priors, rng, temps, sims, elapsed / len(roots))

    # -- the search itself ---------------------------------------------------------------------------

    def _search_tree(self, roots: Sequence[State], rng: np.random.Generator, add_noise: bool,
                     sims: int) -> tuple[Tree, np.ndarray]:
        """Build the trees; also returns the evaluator's root priors ``float32[B, A]`` before noise."""
        batch = len(roots)
        tree = Tree.empty(batch, sims + 1, self.task.num_actions)
        all_trees = np.arange(batch)
        tree.add_nodes(all_trees, np.full(batch, -1, np.int32), np.full(batch, -1, np.int32), list(roots))
        root_priors, values = self.evaluator.evaluate_states(self.task, roots)
        priors = root_priors
        if add_noise and self.config.dirichlet_epsilon > 0:
            priors = self._add_dirichlet(root_priors, tree.legal[:, ROOT], rng)
        tree.children_prior[:, ROOT] = priors
        tree.raw_values[:, ROOT] = values
        tree.node_values[:, ROOT] = values
        tree.node_visits[:, ROOT] = 1
        for _ in range(sims):
            self._simulate(tree)
        return tree, root_priors

    def _add_dirichlet(self, priors: np.ndarray, legal: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        eps, alpha = self.config.dirichlet_epsilon, self.config.dirichlet_alpha
        noisy = priors.copy()
        for b in range(len(priors)):
            idx = np.flatnonzero(legal[b])
            noise = rng.dirichlet(np.full(len(idx), alpha))
            noisy[b, idx] = (1.0 - eps) * priors[b, idx] + eps * noise
        return noisy

    def _select(self, tree: Tree) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Descend every tree by PUCT. Returns per tree the node where the descent stopped, the action
        chosen there (or -1 when it stopped on an already expanded terminal node), as ``int[B]`` each,
        and ``bool[B]`` telling which trees need an expansion."""
        batch = tree.batch_size
        node = np.zeros(batch, np.int64)
        action = np.full(batch, -1, np.int64)
        expand = np.zeros(batch, bool)
        active = np.arange(batch)
        c = self.config.c_puct
        while active.size:
            n = node[active]
            visits = tree.children_visits[active, n]
            q = np.where(visits > 0, tree.children_values[active, n], 0.0)
            sqrt_n = np.sqrt(tree.node_visits[active, n].astype(np.float32))[:, None]
            score = q + c * tree.children_prior[active, n] * sqrt_n / (1.0 + visits)
            score = np.where(tree.legal[active, n], score, -np.inf)
            a = np.argmax(score, axis=1)
            child = tree.children_index[active, n, a]
            new = child < 0
            action[active[new]] = a[new]
            expand[active[new]] = True
            deeper = ~new
            child_terminal = np.zeros_like(deeper)
            child_terminal[deeper] = tree.terminal[active[deeper], child[deeper]]
            node[active[deeper]] = child[deeper]
            active = active[deeper & ~child_terminal]
        return node, action, expand

    def _simulate(self, tree: Tree) -> None:
        node, action, expand = self._select(tree)
        leaf = node.copy()
        leaf_value = np.zeros(tree.batch_size, np.float32)
        grow = np.flatnonzero(expand)
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

    def _backup(self, tree: Tree, leaf: np.ndarray, value: np.ndarray) -> None:
        """Back ``value[b]`` (from the mover at ``leaf[b]``) up to every root along the parent chain."""
        gamma = np.float32(self.config.discount)
        active = np.arange(tree.batch_size)
        cur = leaf.astype(np.int64)
        v = value.astype(np.float32)
        while active.size:
            c = cur[active]
            n = tree.node_visits[active, c] + 1
            tree.node_visits[active, c] = n
            tree.node_values[active, c] += (v[active] - tree.node_values[active, c]) / n
            up = c != ROOT
            active, c = active[up], c[up]
            if not active.size:
                break
            p = tree.parents[active, c]
            a = tree.action_from_parent[active, c]
            same = tree.to_play[active, c] == tree.to_play[active, p]
            q = tree.children_rewards[active, p, a] + gamma * np.where(same, v[active], -v[active])
            cn = tree.children_visits[active, p, a] + 1
            tree.children_visits[active, p, a] = cn
            tree.children_values[active, p, a] += (q - tree.children_values[active, p, a]) / cn
            v[active] = q
            cur[active] = p

    # -- results -------------------------------------------------------------------------------------

    def _traces(self, roots: Sequence[State], tree: Tree, root_priors: np.ndarray, rng: np.random.Generator,
                temps: np.ndarray, sims: int, seconds_each: float) -> list[MCTSTrace]:
        gamma = np.float32(self.config.discount)
        traces = []
        for b, root in enumerate(roots):
            visits = tree.children_visits[b, ROOT].copy()
            q = np.where(visits > 0, tree.children_values[b, ROOT], 0.0).astype(np.float32)
            idx = tree.children_index[b, ROOT]
            expanded = idx >= 0
            child = np.where(expanded, idx, 0)
            same = tree.to_play[b, child] == tree.to_play[b, ROOT]
            child_raw = np.where(same, tree.raw_values[b, child], -tree.raw_values[b, child])
            estimates = np.where(expanded, tree.children_rewards[b, ROOT] + gamma * child_raw, 0.0)
            used = tree.num_nodes[b]
            traces.append(MCTSTrace(
                root_state_id=root.state_id,
                num_simulations=sims,
                visit_counts=visits,
                q_values=q,
                prior_probs=np.asarray(root_priors[b], np.float32).copy(),
                value_estimates=estimates.astype(np.float32),
                legal_action_mask=tree.legal[b, ROOT].copy(),
                root_value=float(tree.node_values[b, ROOT]),
                root_prior_value=float(tree.raw_values[b, ROOT]),
                selected_action=select_from_visits(visits, q, float(temps[b]), rng),
                tree_depth=int(tree.depth[b, :used].max()),
                search_time=seconds_each,
            ))
        return traces
