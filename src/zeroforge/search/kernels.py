"""The hot loops of batched PUCT search, compiled with numba: selection, expansion and backup over ``B`` trees.

They work on the arrays of :class:`zeroforge.search.tree.Tree` (``[B, N]`` and ``[B, N, A]``) and do exactly
the arithmetic of the vectorised numpy path in :mod:`zeroforge.search.mcts`, in the same floating-point
types and order (float32 statistics, the PUCT score finished in float64, first maximum wins), so both paths
give identical visit counts for the same evaluator and seed (a test checks it).

- :func:`select` descends every tree by PUCT (the generic path: the caller steps Python states).
- :func:`select_expand` descends and also expands, stepping the task's compiled ``step`` on the
  ``int8[B, N, S]`` state array (:mod:`zeroforge.tasks.kernels`), and writes each new leaf's observation and
  legal mask for the evaluator.
- :func:`set_leaf` stores the evaluator's priors and values of new leaves; :func:`backup` backs a value
  (from the mover at each leaf) up to the roots.
"""

from __future__ import annotations

import numpy as np

from zeroforge.jit import get_threads, jit, jit_inline, jit_parallel, prange
from zeroforge.tasks.array_step import array_step

__all__ = [
    "PARALLEL_MIN_TREES",
    "backup",
    "backup_parallel",
    "select",
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
                 node_visits: int, c_puct: np.float32) -> int:
    """``argmax_a Q + c_puct * P * sqrt(N) / (1 + N_a)`` over legal ``a`` (Q = 0 where unvisited), first max."""
    sqrt_n = np.sqrt(np.float32(node_visits))
    best, best_score = -1, -np.inf
    for a in range(prior.shape[0]):
        if not legal[a]:
            continue
        n_a = visits[a]
        q = values[a] if n_a > 0 else np.float32(0.0)
        u = np.float32(np.float32(c_puct * prior[a]) * sqrt_n)
        score = np.float64(q) + np.float64(u) / (1.0 + np.float64(n_a))
        if score > best_score:
            best, best_score = a, score
    return best


@jit_inline
def _descend(children_index: np.ndarray, children_prior: np.ndarray, children_visits: np.ndarray,
             children_values: np.ndarray, legal: np.ndarray, node_visits: np.ndarray, terminal: np.ndarray,
             c32: np.float32, b: int) -> tuple[int, int]:
    """PUCT descent of tree ``b`` from its root: ``(node, action)`` with ``action`` the unexpanded action
    chosen at ``node``, or ``(terminal node, -1)`` when the descent reached an expanded terminal node."""
    n = 0
    while True:
        a = _puct_action(children_prior[b, n], children_visits[b, n], children_values[b, n], legal[b, n],
                         node_visits[b, n], c32)
        child = children_index[b, n, a]
        if child < 0:
            return n, a
        if terminal[b, child]:
            return int(child), -1
        n = int(child)


@jit
def select(children_index: np.ndarray, children_prior: np.ndarray, children_visits: np.ndarray,
           children_values: np.ndarray, legal: np.ndarray, node_visits: np.ndarray, terminal: np.ndarray,
           c_puct: float, node: np.ndarray, action: np.ndarray, expand: np.ndarray) -> None:
    """Descend every tree from its root: fills ``node int64[B]`` (where the descent stopped), ``action
    int64[B]`` (the unexpanded action chosen there, ``-1`` when it stopped on an expanded terminal node) and
    ``expand bool[B]``."""
    c32 = np.float32(c_puct)
    for b in range(node.shape[0]):
        n, a = _descend(children_index, children_prior, children_visits, children_values, legal, node_visits,
                        terminal, c32, b)
        node[b], action[b], expand[b] = n, a, a >= 0


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
def _select_expand_tree(children_index: np.ndarray, children_prior: np.ndarray, children_visits: np.ndarray,
                        children_values: np.ndarray, children_rewards: np.ndarray, legal: np.ndarray,
                        node_visits: np.ndarray, terminal: np.ndarray, parents: np.ndarray,
                        action_from_parent: np.ndarray, to_play: np.ndarray, depth: np.ndarray,
                        num_nodes: np.ndarray, states: np.ndarray, kind: int, c32: np.float32, leaf: np.ndarray,
                        evaluate: np.ndarray, obs: np.ndarray, masks: np.ndarray, b: int) -> bool:
    """:func:`select_expand` for tree ``b``; ``False`` when the tree is full."""
    n, a = _descend(children_index, children_prior, children_visits, children_values, legal, node_visits,
                    terminal, c32, b)
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
    """One simulation's descent and expansion in every tree, stepping ``states int8[B, N, S]`` with the
    compiled step of task family ``kind`` (``ArrayKernels.kind``). Fills ``leaf int64[B]`` (the new node,
    or the expanded terminal node the descent ended on) and ``evaluate bool[B]`` (the leaf is new and not
    terminal: its tokens are in ``obs[b]`` and its mask in ``masks[b]``). Returns ``False`` when a tree is
    full (more nodes than it was built for). One thread; :func:`select_expand_parallel` shares the trees
    among numba's threads."""
    c32 = np.float32(c_puct)
    ok = True
    for b in range(leaf.shape[0]):
        ok &= _select_expand_tree(children_index, children_prior, children_visits, children_values,
                                  children_rewards, legal, node_visits, terminal, parents, action_from_parent,
                                  to_play, depth, num_nodes, states, kind, c32, leaf, evaluate, obs, masks, b)
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
    ok = np.ones(leaf.shape[0], np.bool_)
    for b in prange(leaf.shape[0]):
        ok[b] = _select_expand_tree(children_index, children_prior, children_visits, children_values,
                                    children_rewards, legal, node_visits, terminal, parents, action_from_parent,
                                    to_play, depth, num_nodes, states, kind, c32, leaf, evaluate, obs, masks, b)
    return bool(ok.all())


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
    """:func:`backup` for tree ``b``."""
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
    """Back ``value[b]`` (from the mover at ``leaf[b]``) up to every root: running means of visited nodes and
    of ``Q(s, a) = r + discount * v`` (``v`` negated across a change of player). One thread;
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


@jit
def _puct_action_virtual(prior: np.ndarray, visits: np.ndarray, values: np.ndarray, legal: np.ndarray,
                         node_visits: int, c_puct: np.float32, virtual: np.ndarray, node_virtual: int) -> int:
    """PUCT with virtual loss: each of ``virtual[a]`` pending descents through ``a`` counts as a visit that
    lost (value -1 for the mover), so that several descents of one tree spread over different leaves."""
    sqrt_n = np.sqrt(np.float32(node_visits + node_virtual))
    best, best_score = -1, -np.inf
    for a in range(prior.shape[0]):
        if not legal[a]:
            continue
        n_a = visits[a] + virtual[a]
        q = 0.0
        if n_a > 0:
            q = (np.float64(values[a]) * visits[a] - virtual[a]) / n_a
        score = q + np.float64(c_puct * prior[a] * sqrt_n) / (1.0 + n_a)
        if score > best_score:
            best, best_score = a, score
    return best


@jit
def select_expand_virtual(children_index: np.ndarray, children_prior: np.ndarray, children_visits: np.ndarray,
                          children_values: np.ndarray, children_rewards: np.ndarray, legal: np.ndarray,
                          node_visits: np.ndarray, terminal: np.ndarray, parents: np.ndarray,
                          action_from_parent: np.ndarray, to_play: np.ndarray, depth: np.ndarray,
                          num_nodes: np.ndarray, states: np.ndarray, kind: int, c_puct: float, leaves: int,
                          virtual: np.ndarray, node_virtual: np.ndarray, pending: np.ndarray, leaf: np.ndarray,
                          evaluate: np.ndarray, repeat: np.ndarray, obs: np.ndarray, masks: np.ndarray) -> bool:
    """``leaves`` descents per tree under virtual loss (``virtual int32[B, N, A]``, ``node_virtual int32[B, N]``,
    zero on entry and on return), each ending in a new leaf, an expanded terminal node, or a leaf that an
    earlier descent of this step expanded (``repeat[b, k]``: its value is the one that leaf gets). Fills
    ``leaf / evaluate / repeat [B, K]`` (``K = leaf.shape[1]`` >= ``leaves``) and rows ``b * K + k`` of
    ``obs`` / ``masks``; ``pending bool[B, N]``
    marks the leaves expanded in this step (the caller clears it after evaluation). ``False``: a tree is full.
    """
    c32 = np.float32(c_puct)
    for b in range(leaf.shape[0]):
        for k in range(leaves):
            row = b * leaf.shape[1] + k  # the row layout of the full width, also in a short last step
            evaluate[b, k] = False
            repeat[b, k] = False
            n = 0
            while True:
                a = _puct_action_virtual(children_prior[b, n], children_visits[b, n], children_values[b, n],
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
