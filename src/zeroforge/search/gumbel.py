"""Gumbel MuZero search math (Danihelka et al. 2022, "Policy improvement by planning with Gumbel").

Pure numpy functions over a batch of nodes: rows are nodes (``B``), columns actions (``A``); every value
is from the perspective of the player to move at the node. ``search.policies.Gumbel`` uses them when
``MCTSConfig.root_policy == "gumbel"``:

- **Root.** Gumbel-top-k: draw ``g(a) ~ Gumbel(0, 1)`` per legal action and consider the ``m`` actions with
  the highest ``g(a) + logits(a)``. Sequential halving (Karnin et al. 2013) splits the simulations over
  ``log2(m)`` phases, halving the considered actions after each phase and keeping those with the highest
  ``g(a) + logits(a) + sigma(q_hat(a))``. It is driven by ``considered_visit_table``: at simulation ``k`` the
  root may only pick among actions whose visit count equals ``table[m, k]`` (as mctx does). The action
  played is the best such action among the most visited ones.
- **Below the root** the deterministic "full Gumbel" rule ``argmax_a pi'(a) - N(a) / (1 + sum_b N(b))``,
  whose visit frequencies follow the improved policy ``pi'``.
- **Improved policy** (the policy training target): ``pi' = softmax(logits + sigma(q_hat))`` over legal
  actions, where ``q_hat`` is the completed Q (visited actions keep their Q, unvisited ones get the mixed
  value ``v_mix`` of Appendix D), min-max rescaled to [0, 1] over the legal actions, and
  ``sigma(q) = (c_visit + max_b N(b)) * c_scale * q``.

Logits are ``log(prior)``: they differ from a net's logits by a constant per row, which neither a softmax nor
an argmax sees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from zeroforge.search.evaluator import masked_softmax

__all__ = [
    "GumbelRoot",
    "completed_q",
    "considered_visit_sequence",
    "considered_visit_table",
    "final_actions",
    "improved_policy",
    "interior_scores",
    "mixed_value",
    "prior_logits",
    "rescale_q",
    "root_scores",
    "sigma",
    "transformed_q",
]

_TINY = float(np.finfo(np.float32).tiny)


def considered_visit_sequence(max_considered: int, num_simulations: int) -> tuple[int, ...]:
    """Sequential halving as a sequence of ``num_simulations`` visit counts.

    Entry ``k`` is the visit count an action must have to be chosen at the root by simulation ``k``.
    A phase gives each of its ``c`` considered actions ``max(1, n // (ceil(log2 m) * c))`` more visits, then
    ``c`` halves (never below 2). With ``m <= 1`` the single action takes every simulation.
    """
    if max_considered <= 1:
        return tuple(range(num_simulations))
    phases = math.ceil(math.log2(max_considered))
    sequence: list[int] = []
    considered, level = max_considered, 0
    while len(sequence) < num_simulations:
        rounds = max(1, num_simulations // (phases * considered))
        for _ in range(rounds):
            sequence.extend([level] * considered)
            level += 1
        considered = max(2, considered // 2)
    return tuple(sequence[:num_simulations])


def considered_visit_table(max_considered: int, num_simulations: int) -> np.ndarray:
    """``int32[max_considered + 1, num_simulations]``: row ``m`` is ``considered_visit_sequence(m, n)``,
    so a root with fewer legal actions than ``max_considered`` reads the row of its own count."""
    return np.array([considered_visit_sequence(m, num_simulations) for m in range(max_considered + 1)],
                    np.int32).reshape(max_considered + 1, num_simulations)


def prior_logits(priors: np.ndarray) -> np.ndarray:
    """``log(prior)`` as ``float64[..., A]``; a zero prior becomes ``log(tiny)`` (about -87), not ``-inf``."""
    return np.log(np.maximum(priors.astype(np.float64), _TINY))


def mixed_value(raw_value: np.ndarray, q: np.ndarray, visits: np.ndarray, priors: np.ndarray) -> np.ndarray:
    """``v_mix float64[B]`` (Appendix D): ``(v_hat + sum_b N(b) * sum_{a visited} p(a) q(a) / sum_{a visited}
    p(a)) / (1 + sum_b N(b))``, the net's value ``v_hat`` when nothing was visited."""
    visited = visits > 0
    total = visits.sum(axis=-1).astype(np.float64)
    p = np.where(visited, np.maximum(priors.astype(np.float64), _TINY), 0.0)
    p_sum = p.sum(axis=-1)
    weighted_q = (p * q).sum(axis=-1) / np.where(p_sum > 0, p_sum, 1.0)
    return (raw_value + total * weighted_q) / (total + 1.0)


def completed_q(q: np.ndarray, visits: np.ndarray, value: np.ndarray) -> np.ndarray:
    """``q_hat float64[B, A]``: ``Q(a)`` where ``N(a) > 0``, else ``value[B]`` (the mixed value)."""
    return np.where(visits > 0, q, np.asarray(value, np.float64)[..., None])


def rescale_q(q: np.ndarray, legal: np.ndarray, epsilon: float = 1e-8) -> np.ndarray:
    """Min-max rescale ``q[B, A]`` to [0, 1] over each row's legal actions (0 on illegal ones).

    mctx takes the min and max over all actions, illegal ones completed by the mixed value too; the two
    differ only when every legal action was visited and ``v_mix`` lies outside their Q range.
    """
    lo = np.min(np.where(legal, q, np.inf), axis=-1, keepdims=True)
    hi = np.max(np.where(legal, q, -np.inf), axis=-1, keepdims=True)
    return np.where(legal, (q - lo) / np.maximum(hi - lo, epsilon), 0.0)


def sigma(q: np.ndarray, visits: np.ndarray, c_visit: float, c_scale: float) -> np.ndarray:
    """The monotone transform ``sigma(q) = (c_visit + max_b N(b)) * c_scale * q`` (eq. 8), row by row."""
    return (c_visit + visits.max(axis=-1, keepdims=True)) * c_scale * q


def transformed_q(q: np.ndarray, visits: np.ndarray, raw_value: np.ndarray, priors: np.ndarray,
                  legal: np.ndarray, c_visit: float, c_scale: float) -> np.ndarray:
    """``sigma(rescaled q_hat) float64[B, A]`` of nodes with ``Q q[B, A]``, ``N visits[B, A]``, net value
    ``raw_value[B]`` and ``priors[B, A]`` (mctx's ``qtransform_completed_by_mix_value``)."""
    q_hat = completed_q(q, visits, mixed_value(raw_value, q, visits, priors))
    return sigma(rescale_q(q_hat, legal), visits, c_visit, c_scale)


def improved_policy(logits: np.ndarray, sigma_q: np.ndarray, legal: np.ndarray) -> np.ndarray:
    """``pi' = softmax(logits + sigma(q_hat))`` over legal actions, ``float32[B, A]`` (0 on illegal)."""
    return masked_softmax(logits + sigma_q, legal)


def interior_scores(logits: np.ndarray, sigma_q: np.ndarray, visits: np.ndarray, legal: np.ndarray) -> np.ndarray:
    """The full-Gumbel rule's argmax input ``pi'(a) - N(a) / (1 + sum_b N(b))`` (section 5); ``-inf`` on
    illegal actions."""
    pi = improved_policy(logits, sigma_q, legal).astype(np.float64)
    share = visits / (1.0 + visits.sum(axis=-1, keepdims=True))
    return np.where(legal, pi - share, -np.inf)


def root_scores(considered_visit: np.ndarray, gumbel: np.ndarray, logits: np.ndarray, sigma_q: np.ndarray,
                visits: np.ndarray, legal: np.ndarray) -> np.ndarray:
    """``g(a) + logits(a) + sigma(q_hat(a))`` for legal actions with ``N(a) == considered_visit[B]``; ``-inf``
    for the others (sequential halving's candidates)."""
    ok = legal & (visits == np.asarray(considered_visit)[..., None])
    return np.where(ok, gumbel + logits + sigma_q, -np.inf)


def final_actions(gumbel: np.ndarray, logits: np.ndarray, sigma_q: np.ndarray, visits: np.ndarray,
                  legal: np.ndarray) -> np.ndarray:
    """The action played, ``int64[B]``: the best ``g + logits + sigma(q_hat)`` among the most visited."""
    return np.argmax(root_scores(visits.max(axis=-1), gumbel, logits, sigma_q, visits, legal), axis=-1)


@dataclass(frozen=True)
class GumbelRoot:
    """The root data of one batched Gumbel search.

    ``gumbel float64[B, A]`` (0 on illegal actions, all 0 without noise), ``logits float64[B, A]`` (the
    evaluator's root priors as logits), ``table int32[m + 1, n]`` (``considered_visit_table``) and
    ``num_considered int64[B]`` (``min(m, number of legal actions)``).
    """

    gumbel: np.ndarray
    logits: np.ndarray
    table: np.ndarray
    num_considered: np.ndarray

    @classmethod
    def make(cls, priors: np.ndarray, legal: np.ndarray, max_considered: int, num_simulations: int,
             rng: np.random.Generator | None) -> GumbelRoot:
        """Draw ``Gumbel(0, 1)`` per action from ``rng`` (``None``: zeros, a deterministic search)."""
        gumbel = np.zeros(priors.shape, np.float64) if rng is None else rng.gumbel(size=priors.shape)
        return cls(
            gumbel=np.where(legal, gumbel, 0.0),
            logits=prior_logits(priors),
            table=considered_visit_table(max_considered, num_simulations),
            num_considered=np.minimum(max_considered, legal.sum(axis=-1)).astype(np.int64),
        )

    def considered_visit(self, trees: np.ndarray, simulation: np.ndarray) -> np.ndarray:
        """``int[k]``: the visit count sequential halving allows at simulation ``simulation[k]`` of tree
        ``trees[k]``."""
        return self.table[self.num_considered[trees], simulation]
