"""Batched Monte-Carlo tree search (AlphaZero PUCT or Gumbel MuZero) over ``B`` roots at once.

One simulation step advances every tree by one simulation: a vectorised selection down each tree,
one expansion per tree, **one** evaluator call for all new leaves of all trees, and a vectorised backup.

PUCT (Silver et al. 2018, ``config.root_policy == "puct"``):
``a* = argmax_a Q(s, a) + c_puct * P(s, a) * sqrt(N(s)) / (1 + N(s, a))``, with Q of an unvisited action
taken as 0 and ``N(s)`` the node's visit count (its own expansion counts one, so the first selection at a
node follows its prior). At the root, Dirichlet(alpha) noise is mixed into the priors with weight epsilon
when ``add_noise``; the action is drawn from the visit counts at the root's temperature.

Gumbel MuZero (Danihelka et al. 2022, ``config.root_policy == "gumbel"``; the math is in ``search.gumbel``):
Gumbel-top-k and sequential halving at the root (Gumbel noise only when ``add_noise``, no Dirichlet noise),
the deterministic full-Gumbel rule below it; the action played is the sequential-halving winner
(temperatures are not used) and the trace carries the improved policy as its policy target.

Values are backed up with the sign of the player to move at each node (negated across a change of player)
and discounted by ``config.discount``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from zeroforge.config import MCTSConfig
from zeroforge.search import gumbel as gz
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
    """Batched PUCT or Gumbel search (``config.root_policy``) for one task and one evaluator.

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
        tree, root_priors, gumbel = self._search_tree(roots, rng, add_noise, sims)
        chosen = None if gumbel is None else self._gumbel_results(tree, gumbel)
        elapsed = time.perf_counter() - start
        return self._traces(roots, tree, root_priors, rng, temps, sims, elapsed / len(roots), chosen)

    # -- the search itself ---------------------------------------------------------------------------

    def _search_tree(self, roots: Sequence[State], rng: np.random.Generator, add_noise: bool,
                     sims: int) -> tuple[Tree, np.ndarray, gz.GumbelRoot | None]:
        """Build the trees; also returns the evaluator's root priors ``float32[B, A]`` before noise and,
        for a Gumbel search, its root data."""
        batch = len(roots)
        tree = Tree.empty(batch, sims + 1, self.task.num_actions)
        all_trees = np.arange(batch)
        tree.add_nodes(all_trees, np.full(batch, -1, np.int32), np.full(batch, -1, np.int32), list(roots))
        root_priors, gumbel = self._evaluate_roots(tree, roots, rng, add_noise, sims)
        for _ in range(sims):
            self._simulate(tree, gumbel)
        return tree, root_priors, gumbel

    def _evaluate_roots(self, tree: Tree, roots: Sequence[State], rng: np.random.Generator, add_noise: bool,
                        sims: int) -> tuple[np.ndarray, gz.GumbelRoot | None]:
        """Evaluate the roots (their ``legal`` rows already set) and give them their priors (with Dirichlet
        noise, or the Gumbel root data), values and one visit; returns the priors before noise."""
        root_priors, values = self.evaluator.evaluate_states(self.task, roots)
        priors = root_priors
        gumbel = None
        if self.config.root_policy == "gumbel":
            gumbel = gz.GumbelRoot.make(root_priors, tree.legal[:, ROOT], self.config.gumbel_num_considered,
                                        sims, rng if add_noise else None)
        elif add_noise and self.config.dirichlet_epsilon > 0:
            priors = self._add_dirichlet(root_priors, tree.legal[:, ROOT], rng)
        tree.children_prior[:, ROOT] = priors
        tree.raw_values[:, ROOT] = values
        tree.node_values[:, ROOT] = values
        tree.node_visits[:, ROOT] = 1
        return root_priors, gumbel

    def _add_dirichlet(self, priors: np.ndarray, legal: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``(1 - eps) * P + eps * Dir(alpha)`` over each root's legal actions (``float32[B, A]``).

        Dirichlet noise is drawn as normalised Gamma(alpha, 1) variates, one ``[B, A]`` draw for the whole
        batch; a row whose legal draws all underflow to 0 (tiny alpha) takes ``rng.dirichlet`` instead."""
        eps, alpha = self.config.dirichlet_epsilon, self.config.dirichlet_alpha
        gammas = np.where(legal, rng.gamma(alpha, 1.0, size=priors.shape), 0.0)
        totals = gammas.sum(axis=1, keepdims=True)
        noise = gammas / np.where(totals > 0, totals, 1.0)
        for b in np.flatnonzero(totals[:, 0] <= 0):
            idx = np.flatnonzero(legal[b])
            noise[b, idx] = rng.dirichlet(np.full(len(idx), alpha))
        return np.where(legal, (1.0 - eps) * priors + eps * noise, priors).astype(np.float32)

    def _select(self, tree: Tree, gumbel: gz.GumbelRoot | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Descend every tree by PUCT, or by the Gumbel rules when ``gumbel`` is given. Returns per tree
        the node where the descent stopped, the action chosen there (or -1 when it stopped on an already
        expanded terminal node), as ``int[B]`` each, and ``bool[B]`` telling which trees need an expansion."""
        batch = tree.batch_size
        node = np.zeros(batch, np.int64)
        action = np.full(batch, -1, np.int64)
        expand = np.zeros(batch, bool)
        active = np.arange(batch)
        at_root = True
        while active.size:
            n = node[active]
            if gumbel is None:
                a = self._puct_actions(tree, active, n)
            elif at_root:
                a = self._gumbel_root_actions(tree, gumbel, active)
            else:
                a = self._gumbel_interior_actions(tree, active, n)
            at_root = False
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

    def _puct_actions(self, tree: Tree, active: np.ndarray, n: np.ndarray) -> np.ndarray:
        """PUCT's choice ``int[k]`` at node ``n[k]`` of tree ``active[k]``."""
        visits = tree.children_visits[active, n]
        q = np.where(visits > 0, tree.children_values[active, n], 0.0)
        sqrt_n = np.sqrt(tree.node_visits[active, n].astype(np.float32))[:, None]
        score = q + self.config.c_puct * tree.children_prior[active, n] * sqrt_n / (1.0 + visits)
        score = np.where(tree.legal[active, n], score, -np.inf)
        return np.argmax(score, axis=1)

    def _sigma_q(self, tree: Tree, active: np.ndarray, n: np.ndarray) -> np.ndarray:
        """``sigma(completed Q) float64[k, A]`` at node ``n[k]`` of tree ``active[k]``."""
        return gz.transformed_q(
            tree.children_values[active, n], tree.children_visits[active, n], tree.raw_values[active, n],
            tree.children_prior[active, n], tree.legal[active, n],
            self.config.gumbel_c_visit, self.config.gumbel_c_scale)

    def _gumbel_root_actions(self, tree: Tree, gumbel: gz.GumbelRoot, active: np.ndarray) -> np.ndarray:
        """Sequential halving at the roots of trees ``active``: the best ``g + logits + sigma(q_hat)``
        among the actions whose visit count is the one the schedule allows at this simulation."""
        root = np.zeros(len(active), np.int64)
        visits = tree.children_visits[active, ROOT]
        considered = gumbel.considered_visit(active, visits.sum(axis=1))
        scores = gz.root_scores(considered, gumbel.gumbel[active], gumbel.logits[active],
                                self._sigma_q(tree, active, root), visits, tree.legal[active, ROOT])
        return np.argmax(scores, axis=1)

    def _gumbel_interior_actions(self, tree: Tree, active: np.ndarray, n: np.ndarray) -> np.ndarray:
        """The full-Gumbel deterministic rule ``argmax pi'(a) - N(a) / (1 + sum N)`` below the roots."""
        scores = gz.interior_scores(gz.prior_logits(tree.children_prior[active, n]), self._sigma_q(tree, active, n),
                                    tree.children_visits[active, n], tree.legal[active, n])
        return np.argmax(scores, axis=1)

    def _gumbel_results(self, tree: Tree, gumbel: gz.GumbelRoot) -> tuple[np.ndarray, np.ndarray]:
        """After a Gumbel search: the actions played ``int64[B]`` and the improved policies
        ``float32[B, A]`` (``softmax(logits + sigma(completed Q))`` over legal actions)."""
        trees = np.arange(tree.batch_size)
        root = np.zeros(tree.batch_size, np.int64)
        sigma_q = self._sigma_q(tree, trees, root)
        visits, legal = tree.children_visits[:, ROOT], tree.legal[:, ROOT]
        actions = gz.final_actions(gumbel.gumbel, gumbel.logits, sigma_q, visits, legal)
        return actions, gz.improved_policy(gumbel.logits, sigma_q, legal)

    def _simulate(self, tree: Tree, gumbel: gz.GumbelRoot | None) -> None:
        node, action, expand = self._select(tree, gumbel)
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
                temps: np.ndarray, sims: int, seconds_each: float,
                chosen: tuple[np.ndarray, np.ndarray] | None) -> list[MCTSTrace]:
        """One trace per root; ``chosen`` (Gumbel) gives the actions played and the policy targets, else the
        action is drawn from the visit counts at the root's temperature."""
        gamma = np.float32(self.config.discount)
        rows = np.arange(tree.batch_size)
        visits = tree.children_visits[:, ROOT].copy()
        q = np.where(visits > 0, tree.children_values[:, ROOT], 0.0).astype(np.float32)
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
        traces = []
        for b, root in enumerate(roots):
            if chosen is None:
                selected, target = select_from_visits(visits[b], q[b], float(temps[b]), rng), None
            else:
                selected, target = int(chosen[0][b]), chosen[1][b].copy()
            traces.append(MCTSTrace(
                root_state_id=root.state_id,
                num_simulations=sims,
                visit_counts=visits[b],
                q_values=q[b],
                prior_probs=priors[b],
                value_estimates=estimates[b],
                legal_action_mask=legal[b],
                root_value=root_values[b],
                root_prior_value=root_raw[b],
                selected_action=selected,
                tree_depth=depths[b],
                search_time=seconds_each,
                policy_target=target,
            ))
        return traces
