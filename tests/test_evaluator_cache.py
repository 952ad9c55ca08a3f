"""``CachingEvaluator``: same answers as the evaluator it fronts, fewer positions evaluated, LRU eviction."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zeroforge.config import MCTSConfig, NetConfig
from zeroforge.nets import build_net
from zeroforge.search.evaluator import CachingEvaluator, NetworkEvaluator
from zeroforge.search.mcts import MCTS
from zeroforge.tasks import make_task


def _net_evaluator() -> NetworkEvaluator:
    torch.manual_seed(0)
    task = make_task("tictactoe")
    return NetworkEvaluator(build_net(NetConfig(hidden=32), task))


def test_cached_answers_equal_uncached_and_repeats_are_hits() -> None:
    inner = _net_evaluator()
    cache = CachingEvaluator(inner, capacity=100)
    obs = np.array([[0] * 9, [1, 0, 0, 0, 0, 0, 0, 0, 0], [0] * 9], np.int64)
    masks = np.array([[True] * 9, [False] + [True] * 8, [True] * 9])
    want_p, want_v = inner.evaluate(obs, masks)
    inner.positions = 0
    p, v = cache.evaluate(obs, masks)
    np.testing.assert_array_equal(p, want_p)
    np.testing.assert_array_equal(v, want_v)
    assert (cache.hits, cache.misses, inner.positions) == (1, 2, 2)  # row 2 repeats row 0
    p2, v2 = cache.evaluate(obs[::-1], masks[::-1])
    np.testing.assert_array_equal(p2, want_p[::-1])
    np.testing.assert_array_equal(v2, want_v[::-1])
    assert (cache.hits, cache.misses, inner.positions) == (4, 2, 2)
    assert cache.hit_rate == pytest.approx(4 / 6)


def test_lru_evicts_the_least_recently_used() -> None:
    inner = _net_evaluator()
    cache = CachingEvaluator(inner, capacity=2)
    rows = np.eye(9, dtype=np.int64)[:3]
    masks = np.ones((1, 9), bool)
    cache.evaluate(rows[0:1], masks)
    cache.evaluate(rows[1:2], masks)
    cache.evaluate(rows[0:1], masks)  # touch 0: 1 is now the oldest
    cache.evaluate(rows[2:3], masks)  # evicts 1
    assert len(cache) == 2
    before = cache.misses
    cache.evaluate(rows[0:1], masks)
    assert cache.misses == before
    cache.evaluate(rows[1:2], masks)
    assert cache.misses == before + 1
    with pytest.raises(ValueError, match="capacity"):
        CachingEvaluator(inner, capacity=0)


def test_search_with_cache_gives_the_same_visits() -> None:
    task = make_task("tictactoe")
    inner = _net_evaluator()
    roots = [task.initial_state(0), task.step(task.initial_state(0), 4)]
    config = MCTSConfig(num_simulations=40)
    plain = MCTS(task, inner, config).search(roots, np.random.default_rng(3), add_noise=True)
    cache = CachingEvaluator(inner)
    cached = MCTS(task, cache, config).search(roots, np.random.default_rng(3), add_noise=True)
    again = MCTS(task, cache, config).search(roots, np.random.default_rng(3), add_noise=True)
    for a, b, c in zip(plain, cached, again, strict=True):
        np.testing.assert_array_equal(a.visit_counts, b.visit_counts)
        np.testing.assert_array_equal(a.visit_counts, c.visit_counts)
    assert cache.hit_rate > 0.5  # the second search found every position in the cache


def test_autocast_dtype_and_bad_dtype() -> None:
    inner = _net_evaluator()
    bf16 = NetworkEvaluator(inner.net, dtype="bfloat16")
    obs, masks = np.zeros((2, 9), np.int64), np.ones((2, 9), bool)
    p32, v32 = inner.evaluate(obs, masks)
    p16, v16 = bf16.evaluate(obs, masks)
    np.testing.assert_allclose(p16, p32, atol=0.02)
    np.testing.assert_allclose(v16, v32, atol=0.05)
    with pytest.raises(ValueError, match="dtype"):
        NetworkEvaluator(inner.net, dtype="int8")
