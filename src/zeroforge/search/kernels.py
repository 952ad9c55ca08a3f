"""The hot loops of batched search, written once: PUCT selection, the descent, expansion and backup over ``B``
trees.

They work on the arrays of :class:`zeroforge.search.tree.Tree` (``[B, N]`` and ``[B, N, A]``; every value from
the perspective of the player to move at its node). Each is compiled with numba (``zeroforge.jit``);
:func:`kernels` hands a search either those compiled functions or the very same functions uncompiled (plain
Python calling plain Python: ``mcts.backend: numpy``, or numba absent / ``ZEROFORGE_NUMBA=0``). Arithmetic:
float32 statistics, the PUCT score finished in float64, first maximum wins.

- :func:`_puct_action` is the one PUCT rule (Silver et al. 2018), with virtual visits as an argument.
- :func:`puct_actions` applies it at ``k`` (tree, node) pairs and :func:`follow` steps those trees down: the
  two halves of one level of the search's descent loop (``MCTS._descend_levels``), which takes any root and
  interior selection function (PUCT, or the numpy Gumbel rules of :mod:`zeroforge.search.policies`).
- :func:`descend` is that loop with both functions PUCT, fused into one compiled loop per tree
  (:func:`_descend_tree`, also the descent of :func:`select_expand`): the compiled PUCT search takes it, as a
  loop of kernel calls per tree level costs ~20 us per simulation (+20 % on one-root searches of deep trees).
- :func:`select_expand` (and ``_parallel``, ``_virtual``) is the whole descent and expansion of tasks with
  array kernels, PUCT inlined: the task's compiled ``step`` (:mod:`zeroforge.tasks.kernels`) on the
  ``int8[B, N, S]`` state array writes each new leaf's observation and legal mask for the evaluator.
- :func:`set_leaf` stores the evaluator's priors and values of new leaves; :func:`backup` backs a value (from
  the mover at each leaf) up to the roots.

The ``*_parallel`` variants are the same per-tree helpers under ``prange`` (``mcts.search_threads`` > 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from zeroforge.jit import NUMBA_AVAILABLE, get_threads, jit, jit_inline, jit_parallel, prange, uncompiled
from zeroforge.tasks.array_step import array_step

__all__ = [
    "PARALLEL_MIN_TREES",
    "Kernels",
    "backup",
    "backup_parallel",
    "descend",
    "follow",
    "kernels",
    "puct_actions",
    "select_expand",
    "select_expand_parallel",
    "select_expand_virtual",
    "set_leaf",
    "use_parallel",
]

#: batches of at least this many trees take the ``*_parallel`` kernels: below it, waking numba's threads costs
#: more than it saves (measured: one root, 800 simulations, 27 ms parallel vs 18-22 ms on one thread; 1024
#: roots: 1.0 vs 1.3 us per simulation)
PARALLEL_MIN_TREES = 32


def use_parallel(num_trees: int) -> bool:
    """Whether a batch of ``num_trees`` trees takes the ``*_parallel`` kernels: numba has more than one thread
    in this process (``mcts.search_threads``; see ``zeroforge.threads``) and the batch is big enough."""
    return num_trees >= PARALLEL_MIN_TREES and get_threads() > 1


@jit
def _puct_action(prior: np.ndarray, visits: np.ndarray, values: np.ndarray, legal: np.ndarray,
                 node_visits: int, c_puct: np.float32, virtual: np.ndarray, node_virtual: int) -> int:
    """PUCT at one node: ``argmax_a Q(s, a) + c_puct * P(s, a) * sqrt(N(s)) / (1 + N(s, a))`` over legal ``a``
    (first maximum; Q = 0 where unvisited). Row arrays ``[A]``; ``Q`` is from the node's mover.

    Virtual loss (several descents of one tree per evaluator call): each of the ``virtual[a]`` pending
    descents through ``a`` (``node_virtual`` through the node) counts as a visit that lost (value -1), so
    ``N(s, a) = visits + virtual`` and ``Q = (values * visits - virtual) / N(s, a)``. With no pending descents
    (zeros) that ``Q`` is ``values[a]`` exactly (a float32 times an int32 is exact in float64)."""
    sqrt_n = np.sqrt(np.float32(node_visits + node_virtual))
    best, best_score = -1, -np.inf
    for a in range(prior.shape[0]):
        if not legal[a]:
            continue
        pending = virtual[a]
        n_a = visits[a] + pending
        q = 0.0
        if pending == 0:
            if n_a > 0:
                q = np.float64(values[a])
        else:
            q = (np.float64(values[a]) * visits[a] - pending) / n_a
        u = np.float32(np.float32(c_puct * prior[a]) * sqrt_n)
        score = q + np.float64(u) / (1.0 + np.float64(n_a))
        if score > best_score:
            best, best_score = a, score
    return best


@jit
def puct_actions(children_prior: np.ndarray, children_visits: np.ndarray, children_values: np.ndarray,
                 legal: np.ndarray, node_visits: np.ndarray, c_puct: float, trees: np.ndarray,
                 nodes: np.ndarray) -> np.ndarray:
    """PUCT's action ``int64[k]`` at node ``nodes[i]`` of tree ``trees[i]``."""
    c32 = np.float32(c_puct)
    no_virtual = np.zeros(children_prior.shape[2], np.int32)
    out = np.empty(trees.shape[0], np.int64)
    for i in range(trees.shape[0]):
        b, n = trees[i], nodes[i]
        out[i] = _puct_action(children_prior[b, n], children_visits[b, n], children_values[b, n], legal[b, n],
                              node_visits[b, n], c32, no_virtual, 0)
    return out


@jit
def follow(children_index: np.ndarray, terminal: np.ndarray, trees: np.ndarray, actions: np.ndarray,
           node: np.ndarray, action: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One level of the descent: tree ``trees[i]`` (at node ``node[trees[i]]``) takes ``actions[i]``. An
    unexpanded child ends the descent there (``action[b] = actions[i]``); an expanded one becomes ``node[b]``.
    Returns the trees still descending and their nodes, ``int64[k']`` each (those whose new node is not
    terminal)."""
    going = np.empty(trees.shape[0], np.int64)
    at = np.empty(trees.shape[0], np.int64)
    m = 0
    for i in range(trees.shape[0]):
        b, a = trees[i], actions[i]
        child = children_index[b, node[b], a]
        if child < 0:
            action[b] = a
            continue
        node[b] = child
        if not terminal[b, child]:
            going[m] = b
            at[m] = child
            m += 1
    return going[:m], at[:m]


@jit
def _expand(children_index: np.ndarray, children_rewards: np.ndarray, legal: np.ndarray, terminal: np.ndarray,
            parents: np.ndarray, action_from_parent: np.ndarray, to_play: np.ndarray, depth: np.ndarray,
            num_nodes: np.ndarray, states: np.ndarray, kind: int, b: int, n: int, a: int, obs: np.ndarray,
            mask: np.ndarray) -> int:
    """Add the child of node ``n`` of tree ``b`` by action ``a``: step its state with the compiled step of
    family ``kind`` (writing the child's tokens to ``obs`` and legal mask to ``mask``) and link it in.
    Returns the new node's id, ``-1`` when the tree is full."""
    new = num_nodes[b]
    if new >= states.shape[1]:
        return -1
    num_nodes[b] = new + 1
    player, done, reward = array_step(kind, states[b, n], a, states[b, new], obs, mask)
    parents[b, new] = n
    action_from_parent[b, new] = a
    to_play[b, new] = player
    terminal[b, new] = done
    legal[b, new] = mask
    depth[b, new] = depth[b, n] + 1
    children_index[b, n, a] = new
    children_rewards[b, n, a] = reward
    return int(new)


@jit_inline
def _descend_tree(children_index: np.ndarray, children_prior: np.ndarray, children_visits: np.ndarray,
                  children_values: np.ndarray, legal: np.ndarray, node_visits: np.ndarray, terminal: np.ndarray,
                  c32: np.float32, no_virtual: np.ndarray, b: int) -> tuple[int, int]:
    """The PUCT descent of tree ``b`` from its root, PUCT at the root and below (the descent loop of
    ``MCTS._descend_levels`` with both selection functions PUCT, fused): ``(node, action)`` with ``action`` the
    unexpanded action chosen at ``node``, or ``(terminal node, -1)`` when it reached an expanded terminal node."""
    n = 0
    while True:
        a = _puct_action(children_prior[b, n], children_visits[b, n], children_values[b, n], legal[b, n],
                         node_visits[b, n], c32, no_virtual, 0)
        child = children_index[b, n, a]
        if child < 0:
            return n, a
        if terminal[b, child]:
            return int(child), -1
        n = int(child)


@jit
def descend(children_index: np.ndarray, children_prior: np.ndarray, children_visits: np.ndarray,
            children_values: np.ndarray, legal: np.ndarray, node_visits: np.ndarray, terminal: np.ndarray,
            c_puct: float, node: np.ndarray, action: np.ndarray) -> None:
    """The PUCT descent of every tree: fills ``node int64[B]`` (where it stopped) and ``action int64[B]`` (the
    unexpanded action chosen there, ``-1`` when it stopped on an expanded terminal node)."""
    c32 = np.float32(c_puct)
    no_virtual = np.zeros(children_prior.shape[2], np.int32)
    for b in range(node.shape[0]):
        node[b], action[b] = _descend_tree(children_index, children_prior, children_visits, children_values, legal,
                                           node_visits, terminal, c32, no_virtual, b)


@jit_inline
def _select_expand_tree(children_index: np.ndarray, children_prior: np.ndarray, children_visits: np.ndarray,
                        children_values: np.ndarray, children_rewards: np.ndarray, legal: np.ndarray,
                        node_visits: np.ndarray, terminal: np.ndarray, parents: np.ndarray,
                        action_from_parent: np.ndarray, to_play: np.ndarray, depth: np.ndarray,
                        num_nodes: np.ndarray, states: np.ndarray, kind: int, c32: np.float32, leaf: np.ndarray,
                        evaluate: np.ndarray, obs: np.ndarray, masks: np.ndarray, no_virtual: np.ndarray,
                        b: int) -> bool:
    """:func:`select_expand` for tree ``b``; ``False`` when the tree is full."""
    n, a = _descend_tree(children_index, children_prior, children_visits, children_values, legal, node_visits,
                         terminal, c32, no_virtual, b)
    if a < 0:
        leaf[b] = n
        evaluate[b] = False
        return True
    new = _expand(children_index, children_rewards, legal, terminal, parents, action_from_parent, to_play, depth,
                  num_nodes, states, kind, b, n, a, obs[b], masks[b])
    if new < 0:
        return False
    leaf[b] = new
    evaluate[b] = not terminal[b, new]
    return True


@jit
def select_expand(children_index: np.ndarray, children_prior: np.ndarray, children_visits: np.ndarray,
                  children_values: np.ndarray, children_rewards: np.ndarray, legal: np.ndarray,
                  node_visits: np.ndarray, terminal: np.ndarray, parents: np.ndarray,
                  action_from_parent: np.ndarray, to_play: np.ndarray, depth: np.ndarray, num_nodes: np.ndarray,
                  states: np.ndarray, kind: int, c_puct: float, leaf: np.ndarray, evaluate: np.ndarray,
                  obs: np.ndarray, masks: np.ndarray) -> bool:
    """One simulation's PUCT descent and expansion in every tree, stepping ``states int8[B, N, S]`` with the
    compiled step of task family ``kind`` (``ArrayKernels.kind``). Fills ``leaf int64[B]`` (the new node,
    or the expanded terminal node the descent ended on) and ``evaluate bool[B]`` (the leaf is new and not
    terminal: its tokens are in ``obs[b]`` and its mask in ``masks[b]``). Returns ``False`` when a tree is
    full (more nodes than it was built for). One thread; :func:`select_expand_parallel` shares the trees
    among numba's threads."""
    c32 = np.float32(c_puct)
    no_virtual = np.zeros(children_prior.shape[2], np.int32)
    ok = True
    for b in range(leaf.shape[0]):
        ok &= _select_expand_tree(children_index, children_prior, children_visits, children_values,
                                  children_rewards, legal, node_visits, terminal, parents, action_from_parent,
                                  to_play, depth, num_nodes, states, kind, c32, leaf, evaluate, obs, masks,
                                  no_virtual, b)
    return ok


@jit_parallel
def select_expand_parallel(children_index: np.ndarray, children_prior: np.ndarray, children_visits: np.ndarray,
                           children_values: np.ndarray, children_rewards: np.ndarray, legal: np.ndarray,
                           node_visits: np.ndarray, terminal: np.ndarray, parents: np.ndarray,
                           action_from_parent: np.ndarray, to_play: np.ndarray, depth: np.ndarray,
                           num_nodes: np.ndarray, states: np.ndarray, kind: int, c_puct: float, leaf: np.ndarray,
                           evaluate: np.ndarray, obs: np.ndarray, masks: np.ndarray) -> bool:
    """:func:`select_expand` with the trees (independent) shared among numba's threads."""
    c32 = np.float32(c_puct)
    no_virtual = np.zeros(children_prior.shape[2], np.int32)
    ok = np.ones(leaf.shape[0], np.bool_)
    for b in prange(leaf.shape[0]):
        ok[b] = _select_expand_tree(children_index, children_prior, children_visits, children_values,
                                    children_rewards, legal, node_visits, terminal, parents, action_from_parent,
                                    to_play, depth, num_nodes, states, kind, c32, leaf, evaluate, obs, masks,
                                    no_virtual, b)
    return bool(ok.all())


@jit
def select_expand_virtual(children_index: np.ndarray, children_prior: np.ndarray, children_visits: np.ndarray,
                          children_values: np.ndarray, children_rewards: np.ndarray, legal: np.ndarray,
                          node_visits: np.ndarray, terminal: np.ndarray, parents: np.ndarray,
                          action_from_parent: np.ndarray, to_play: np.ndarray, depth: np.ndarray,
                          num_nodes: np.ndarray, states: np.ndarray, kind: int, c_puct: float, leaves: int,
                          virtual: np.ndarray, node_virtual: np.ndarray, pending: np.ndarray, leaf: np.ndarray,
                          evaluate: np.ndarray, repeat: np.ndarray, obs: np.ndarray, masks: np.ndarray) -> bool:
    """``leaves`` PUCT descents per tree under virtual loss (``virtual int32[B, N, A]``, ``node_virtual
    int32[B, N]``, zero on entry and on return), each ending in a new leaf, an expanded terminal node, or a
    leaf that an earlier descent of this step expanded (``repeat[b, k]``: its value is the one that leaf gets).
    Fills ``leaf / evaluate / repeat [B, K]`` (``K = leaf.shape[1]`` >= ``leaves``) and rows ``b * K + k`` of
    ``obs`` / ``masks``; ``pending bool[B, N]`` marks the leaves expanded in this step (the caller clears it
    after evaluation). ``False``: a tree is full.
    """
    c32 = np.float32(c_puct)
    for b in range(leaf.shape[0]):
        for k in range(leaves):
            row = b * leaf.shape[1] + k  # the row layout of the full width, also in a short last step
            evaluate[b, k] = False
            repeat[b, k] = False
            n = 0
            while True:
                a = _puct_action(children_prior[b, n], children_visits[b, n], children_values[b, n],
                                 legal[b, n], node_visits[b, n], c32, virtual[b, n], node_virtual[b, n])
                virtual[b, n, a] += 1
                node_virtual[b, n] += 1
                child = children_index[b, n, a]
                if child < 0:
                    new = _expand(children_index, children_rewards, legal, terminal, parents, action_from_parent,
                                  to_play, depth, num_nodes, states, kind, b, n, a, obs[row], masks[row])
                    if new < 0:
                        return False
                    done = terminal[b, new]
                    leaf[b, k] = new
                    evaluate[b, k] = not done
                    pending[b, new] = not done
                    break
                if terminal[b, child]:
                    leaf[b, k] = child
                    break
                if pending[b, child]:
                    leaf[b, k] = child
                    repeat[b, k] = True
                    break
                n = child
        virtual[b] = 0
        node_virtual[b] = 0
    return True


@jit
def set_leaf(children_prior: np.ndarray, raw_values: np.ndarray, trees: np.ndarray, nodes: np.ndarray,
             priors: np.ndarray, values: np.ndarray, leaf_value: np.ndarray) -> None:
    """Store the evaluator's ``priors float32[k, A]`` and ``values float32[k]`` at ``(trees[i], nodes[i])``;
    also ``leaf_value[trees[i]] = values[i]``."""
    for i in range(trees.shape[0]):
        b, n = trees[i], nodes[i]
        children_prior[b, n] = priors[i]
        raw_values[b, n] = values[i]
        leaf_value[b] = values[i]


@jit_inline
def _backup_tree(node_visits: np.ndarray, node_values: np.ndarray, parents: np.ndarray,
                 action_from_parent: np.ndarray, to_play: np.ndarray, children_rewards: np.ndarray,
                 children_visits: np.ndarray, children_values: np.ndarray, leaf: np.ndarray, value: np.ndarray,
                 gamma: np.float32, b: int) -> None:
    """The one backup, of tree ``b``: ``value[b]`` (from the mover at ``leaf[b]``) goes up the parent chain to
    the root, updating running means of ``N(s), V(s)`` and of ``N(s, a), Q(s, a) = r + gamma * v`` (``v``
    negated across a change of player)."""
    c = leaf[b]
    v = np.float32(value[b])
    while True:
        n = node_visits[b, c] + 1
        node_visits[b, c] = n
        old = node_values[b, c]
        node_values[b, c] = np.float32(np.float64(old) + np.float64(np.float32(v - old)) / np.float64(n))
        if c == 0:
            break
        p = parents[b, c]
        a = action_from_parent[b, c]
        signed = v if to_play[b, c] == to_play[b, p] else np.float32(-v)
        q = np.float32(children_rewards[b, p, a] + np.float32(gamma * signed))
        cn = children_visits[b, p, a] + 1
        children_visits[b, p, a] = cn
        old = children_values[b, p, a]
        children_values[b, p, a] = np.float32(np.float64(old) + np.float64(np.float32(q - old)) / np.float64(cn))
        v = q
        c = p


@jit
def backup(node_visits: np.ndarray, node_values: np.ndarray, parents: np.ndarray, action_from_parent: np.ndarray,
           to_play: np.ndarray, children_rewards: np.ndarray, children_visits: np.ndarray,
           children_values: np.ndarray, leaf: np.ndarray, value: np.ndarray, discount: float) -> None:
    """Back ``value[b]`` (from the mover at ``leaf[b]``) up to every root (:func:`_backup_tree`). One thread;
    :func:`backup_parallel` shares the trees among numba's threads."""
    gamma = np.float32(discount)
    for b in range(leaf.shape[0]):
        _backup_tree(node_visits, node_values, parents, action_from_parent, to_play, children_rewards,
                     children_visits, children_values, leaf, value, gamma, b)


@jit_parallel
def backup_parallel(node_visits: np.ndarray, node_values: np.ndarray, parents: np.ndarray,
                    action_from_parent: np.ndarray, to_play: np.ndarray, children_rewards: np.ndarray,
                    children_visits: np.ndarray, children_values: np.ndarray, leaf: np.ndarray, value: np.ndarray,
                    discount: float) -> None:
    """:func:`backup` with the trees (independent) shared among numba's threads."""
    gamma = np.float32(discount)
    for b in prange(leaf.shape[0]):
        _backup_tree(node_visits, node_values, parents, action_from_parent, to_play, children_rewards,
                     children_visits, children_values, leaf, value, gamma, b)


@dataclass(frozen=True)
class Kernels:
    """The kernels one search calls, all compiled or all plain Python (``compiled``); the same functions."""

    compiled: bool
    descend: Callable[..., None]
    puct_actions: Callable[..., np.ndarray]
    follow: Callable[..., tuple[np.ndarray, np.ndarray]]
    backup: Callable[..., None]
    backup_parallel: Callable[..., None]
    select_expand: Callable[..., bool]
    select_expand_parallel: Callable[..., bool]
    select_expand_virtual: Callable[..., bool]
    set_leaf: Callable[..., None]

    def backup_for(self, num_trees: int) -> Callable[..., None]:
        """:func:`backup`, or :func:`backup_parallel` when the batch takes numba's threads."""
        return self.backup_parallel if self.compiled and use_parallel(num_trees) else self.backup

    def select_expand_for(self, num_trees: int) -> Callable[..., bool]:
        """:func:`select_expand`, or :func:`select_expand_parallel` when the batch takes numba's threads."""
        return self.select_expand_parallel if self.compiled and use_parallel(num_trees) else self.select_expand


def _kernels(namespace: dict[str, Any], compiled: bool) -> Kernels:
    names = [f for f in Kernels.__dataclass_fields__ if f != "compiled"]
    return Kernels(compiled, **{name: namespace[name] for name in names})


_COMPILED = _kernels(globals(), True)
_PLAIN = _kernels(uncompiled(globals()), False)


def kernels(compiled: bool) -> Kernels:
    """The compiled kernels (numba; only when ``zeroforge.jit.NUMBA_AVAILABLE``) or the same functions run
    uncompiled, calling each other uncompiled."""
    return _COMPILED if compiled and NUMBA_AVAILABLE else _PLAIN
