"""Root policies: what a search does at its roots and which selection functions its one descent loop calls
(mctx's ``muzero_policy`` / ``gumbel_muzero_policy``: the same search, different ``root_action_selection_fn``
and ``interior_action_selection_fn``).

A :class:`RootPolicy` is chosen once from ``MCTSConfig.root_policy`` (:func:`make_root_policy`). Per search,
``begin`` gives the priors the roots keep in the tree and a :class:`Selection`: the two selection functions
(``(tree, trees int64[k], nodes int64[k]) -> actions int64[k]``, vectorised over the active trees of one level
of the descent; values from the perspective of the player to move at each node) and ``played`` (the action
each root plays and, for Gumbel, its improved-policy target).

- :class:`PUCT` (Silver et al. 2018): Dirichlet(alpha) noise mixed into the root priors with weight epsilon
  when ``add_noise``; PUCT at every node (the compiled kernel :func:`zeroforge.search.kernels.puct_actions`);
  the action drawn from the root visit counts at the root's temperature. ``fully_compiled``: tasks with array
  kernels run it inside the compiled ``select_expand`` loop.
- :class:`Gumbel` (Danihelka et al. 2022; the math is in :mod:`zeroforge.search.gumbel`, numpy): Gumbel-top-k
  and sequential halving at the root (Gumbel noise only when ``add_noise``), the deterministic full-Gumbel
  rule below it; the sequential-halving winner is played (temperatures are not used) and the improved policy
  is the policy target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np

from zeroforge.search import gumbel as gz
from zeroforge.search.kernels import Kernels
from zeroforge.search.params import MCTSConfig
from zeroforge.search.tree import ROOT, Tree

__all__ = [
    "PUCT",
    "Gumbel",
    "RootPolicy",
    "Selection",
    "SelectionFn",
    "add_dirichlet",
    "make_root_policy",
    "root_q",
    "select_from_visits",
]

#: ``(tree, trees int64[k], nodes int64[k]) -> actions int64[k]``: one level of the descent
SelectionFn = Callable[[Tree, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Selection:
    """One search's selection functions and how its roots play.

    ``played(tree, temperatures float64[B], rng) -> (actions int64[B], policy targets float32[B, A] or None)``
    """

    root_action_selection_fn: SelectionFn
    interior_action_selection_fn: SelectionFn
    played: Callable[[Tree, np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray | None]]


class RootPolicy(Protocol):
    """A root policy: ``begin`` one search over roots with evaluator priors ``float32[B, A]`` and legal masks
    ``bool[B, A]``; returns the priors the roots keep in the tree and the search's :class:`Selection`."""

    @property
    def fully_compiled(self) -> bool:
        """Whether the fully compiled strategy (``kernels.select_expand``, PUCT inlined) runs this policy."""

    def begin(self, priors: np.ndarray, legal: np.ndarray, num_simulations: int, rng: np.random.Generator,
              add_noise: bool) -> tuple[np.ndarray, Selection]: ...


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


def add_dirichlet(priors: np.ndarray, legal: np.ndarray, epsilon: float, alpha: float,
                  rng: np.random.Generator) -> np.ndarray:
    """``(1 - eps) * P + eps * Dir(alpha)`` over each root's legal actions (``float32[B, A]``).

    Dirichlet noise is drawn as normalised Gamma(alpha, 1) variates, one ``[B, A]`` draw for the whole
    batch; a row whose legal draws all underflow to 0 (tiny alpha) takes ``rng.dirichlet`` instead."""
    gammas = np.where(legal, rng.gamma(alpha, 1.0, size=priors.shape), 0.0)
    totals = gammas.sum(axis=1, keepdims=True)
    noise = gammas / np.where(totals > 0, totals, 1.0)
    for b in np.flatnonzero(totals[:, 0] <= 0):
        idx = np.flatnonzero(legal[b])
        noise[b, idx] = rng.dirichlet(np.full(len(idx), alpha))
    return np.where(legal, (1.0 - epsilon) * priors + epsilon * noise, priors).astype(np.float32)


def root_q(tree: Tree) -> np.ndarray:
    """``Q(root, a) float32[B, A]`` from the root's mover, 0 where unvisited."""
    visits = tree.children_visits[:, ROOT]
    return np.where(visits > 0, tree.children_values[:, ROOT], 0.0).astype(np.float32)


@dataclass(frozen=True)
class PUCT:
    """AlphaZero's root policy: PUCT everywhere, Dirichlet noise at the roots, play by visit counts."""

    config: MCTSConfig
    kernels: Kernels
    fully_compiled: ClassVar[bool] = True

    def begin(self, priors: np.ndarray, legal: np.ndarray, num_simulations: int, rng: np.random.Generator,
              add_noise: bool) -> tuple[np.ndarray, Selection]:
        if add_noise and self.config.dirichlet_epsilon > 0:
            priors = add_dirichlet(priors, legal, self.config.dirichlet_epsilon, self.config.dirichlet_alpha, rng)
        return priors, Selection(self.puct, self.puct, self.played)

    def puct(self, tree: Tree, trees: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        """PUCT's action at node ``nodes[k]`` of tree ``trees[k]``."""
        return self.kernels.puct_actions(tree.children_prior, tree.children_visits, tree.children_values,
                                         tree.legal, tree.node_visits, self.config.c_puct, trees, nodes)

    @staticmethod
    def played(tree: Tree, temperatures: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, None]:
        """The action drawn from each root's visit counts at its temperature; no policy target."""
        visits, q = tree.children_visits[:, ROOT], root_q(tree)
        actions = [select_from_visits(visits[b], q[b], float(temperatures[b]), rng) for b in range(len(visits))]
        return np.array(actions, np.int64), None


@dataclass(frozen=True)
class Gumbel:
    """Gumbel MuZero's root policy: sequential halving over Gumbel-top-k at the root, the full-Gumbel rule
    below it, the improved policy as the target."""

    config: MCTSConfig
    fully_compiled: ClassVar[bool] = False  # its selection functions are numpy

    def begin(self, priors: np.ndarray, legal: np.ndarray, num_simulations: int, rng: np.random.Generator,
              add_noise: bool) -> tuple[np.ndarray, Selection]:
        root = gz.GumbelRoot.make(priors, legal, self.config.gumbel_num_considered, num_simulations,
                                  rng if add_noise else None)
        search = _GumbelSearch(self.config, root)
        return priors, Selection(search.root_action, search.interior_action, search.played)


@dataclass(frozen=True)
class _GumbelSearch:
    """The selection functions of one Gumbel search, over its root data."""

    config: MCTSConfig
    root: gz.GumbelRoot

    def sigma_q(self, tree: Tree, trees: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        """``sigma(completed Q) float64[k, A]`` at node ``nodes[k]`` of tree ``trees[k]``."""
        return gz.transformed_q(
            tree.children_values[trees, nodes], tree.children_visits[trees, nodes], tree.raw_values[trees, nodes],
            tree.children_prior[trees, nodes], tree.legal[trees, nodes],
            self.config.gumbel_c_visit, self.config.gumbel_c_scale)

    def root_action(self, tree: Tree, trees: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        """Sequential halving at the roots of ``trees`` (``nodes`` are the roots): the best
        ``g + logits + sigma(q_hat)`` among the actions whose visit count the schedule allows now."""
        visits = tree.children_visits[trees, ROOT]
        considered = self.root.considered_visit(trees, visits.sum(axis=1))
        scores = gz.root_scores(considered, self.root.gumbel[trees], self.root.logits[trees],
                                self.sigma_q(tree, trees, nodes), visits, tree.legal[trees, ROOT])
        return np.argmax(scores, axis=1)

    def interior_action(self, tree: Tree, trees: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        """The full-Gumbel deterministic rule ``argmax pi'(a) - N(a) / (1 + sum N)``."""
        scores = gz.interior_scores(gz.prior_logits(tree.children_prior[trees, nodes]),
                                    self.sigma_q(tree, trees, nodes), tree.children_visits[trees, nodes],
                                    tree.legal[trees, nodes])
        return np.argmax(scores, axis=1)

    def played(self, tree: Tree, temperatures: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """The sequential-halving winners ``int64[B]`` and the improved policies ``float32[B, A]``
        (``softmax(logits + sigma(completed Q))`` over legal actions); temperatures are not used."""
        trees = np.arange(tree.batch_size)
        sigma_q = self.sigma_q(tree, trees, np.zeros(tree.batch_size, np.int64))
        visits, legal = tree.children_visits[:, ROOT], tree.legal[:, ROOT]
        actions = gz.final_actions(self.root.gumbel, self.root.logits, sigma_q, visits, legal)
        return actions, gz.improved_policy(self.root.logits, sigma_q, legal)


def make_root_policy(config: MCTSConfig, kernels: Kernels) -> RootPolicy:
    """:class:`PUCT` or :class:`Gumbel`, as ``config.root_policy`` says."""
    if config.root_policy == "gumbel":
        return Gumbel(config)
    return PUCT(config, kernels)
