"""Ranked reward: the threshold of recent scores and the wrapped task's terminal rewards."""

from __future__ import annotations

import numpy as np
import pytest

from zeroforge.tasks import State, Task, make_task
from zeroforge.tasks.ranked import RankedReward, RankedRewardTask, ranked_reward

# capacity 10: optimum 90 = items 1 and 3 (w4 v40 + w3 v50)
INSTANCE = '{"capacity": 10, "weights": [5, 4, 6, 3], "values": [10, 40, 30, 50]}'


def _play(task: Task, decisions: list[int]) -> State:
    state = task.parse(INSTANCE)
    for d in decisions:
        state = task.step(state, d)
    return state


def test_ranked_reward_against_the_threshold() -> None:
    assert ranked_reward(0.7, 0.6) == 1.0
    assert ranked_reward(0.5, 0.6) == -1.0
    assert ranked_reward(1.0, 1.0) == 1.0, "an optimal solution always wins"
    ties = [ranked_reward(0.6, 0.6, k) for k in range(64)]
    assert set(ties) == {1.0, -1.0}, "ties are coin flips"
    assert ties == [ranked_reward(0.6, 0.6, k) for k in range(64)], "... decided by the key, deterministically"


def test_threshold_is_the_alpha_quantile_of_the_window() -> None:
    rr = RankedReward(alpha=0.75, window=8)
    assert rr.threshold is None
    rr.add([0.1, 0.2, 0.3, 0.4])
    assert rr.threshold == pytest.approx(0.3)  # "lower" quantile of 4 values at 0.75: index floor(2.25) = 2
    rr.add([0.9] * 8)  # the window keeps the last 8 only
    assert list(rr.scores) == [0.9] * 8 and rr.threshold == pytest.approx(0.9)
    again = RankedReward(0.75, 8)
    again.load_state_dict(rr.state_dict())
    assert list(again.scores) == list(rr.scores)
    with pytest.raises(ValueError, match="scores must be in"):
        rr.add([1.5])
    with pytest.raises(ValueError, match="alpha"):
        RankedReward(alpha=1.5)
    with pytest.raises(ValueError, match="window"):
        RankedReward(window=0)


def test_wrapped_knapsack_rewards_rank_the_score_but_success_stays_the_optimum() -> None:
    inner = make_task("knapsack", num_items=4)
    task = RankedRewardTask(inner, threshold=0.8)
    # take items 2 and 3: w9, value 80 -> score 80/90 = 0.889 > 0.8: a ranked win, but not optimal
    good = _play(task, [0, 0, 1, 1])
    assert inner.score(good) == pytest.approx(80 / 90)
    assert good.rewards.tolist() == [1.0] and task.outcome(good) == "failure"
    # take item 0 only: value 10 -> a ranked loss
    bad = _play(task, [1, 0, 0, 0])
    assert bad.rewards.tolist() == [-1.0] and task.outcome(bad) == "failure"
    best = _play(task, [0, 1, 0, 1])
    assert best.rewards.tolist() == [1.0] and task.outcome(best) == "success" and task.score(best) == 1.0
    # without the wrapper the suboptimal packing is a plain failure (-1)
    assert _play(inner, [0, 0, 1, 1]).rewards.tolist() == [-1.0]
    # states, shapes and texts are the inner task's
    assert task.initial_state(5) == inner.initial_state(5)
    assert (task.num_actions, task.seq_len, task.vocab_size) == (inner.num_actions, inner.seq_len, inner.vocab_size)
    assert task.action_to_text(task.parse(INSTANCE), 1) == inner.action_to_text(inner.parse(INSTANCE), 1)


def test_ranked_reward_needs_a_single_agent_task() -> None:
    with pytest.raises(ValueError, match="single-agent"):
        RankedRewardTask(make_task("tictactoe"), 0.5)
    mask = RankedRewardTask(make_task("knapsack"), 0.5).initial_state(0).legal_action_mask
    assert mask.dtype == np.bool_
