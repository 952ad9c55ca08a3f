"""Known-answer tests of self-play: returns, episode records and the lockstep episode generator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from zeroforge.config import MCTSConfig
from zeroforge.search import MCTSTrace, UniformEvaluator
from zeroforge.selfplay import Action, SelfPlayEpisode, SelfPlayEpisodeGenerator, returns_to_go
from zeroforge.tasks.base import State, Task, frozen_array
from zeroforge.tasks.registry import make_task

TTT = make_task("tictactoe")
X_WINS = [0, 3, 1, 4, 2]  # x: 0, 1, 2 (top row); o: 3, 4
DRAW = [0, 1, 2, 4, 3, 5, 7, 6, 8]  # x o x / x o o / o x x


def play(task: Task, moves: Sequence[int]) -> list[State]:
    states = [task.initial_state(0)]
    for a in moves:
        states.append(task.step(states[-1], a))
    return states


def make_trace(state: State, action: int, played_visits: int, total: int = 10) -> MCTSTrace:
    """A trace of ``total`` visits: ``played_visits`` on ``action``, the rest on the lowest other legal cell."""
    legal = np.flatnonzero(state.legal_action_mask)
    visits = np.zeros(TTT.num_actions, np.int32)
    visits[action] = played_visits
    others = [a for a in legal if a != action]
    if total > played_visits:
        visits[others[0]] = total - played_visits
    zeros = np.zeros(TTT.num_actions, np.float32)
    return MCTSTrace(state.state_id, total, visits, zeros, state.legal_action_mask / len(legal), zeros,
                     state.legal_action_mask.copy(), 0.0, 0.0, action, 1, 0.0)


def hand_episode(moves: Sequence[int], played_visits: Sequence[int], outcome: str = "success",
                 task_id: str = "hand") -> SelfPlayEpisode:
    states = play(TTT, moves)
    actions = [Action(a, TTT.action_to_text(s, a), s.current_player) for s, a in zip(states, moves, strict=False)]
    traces = [make_trace(s, a, k) for s, a, k in zip(states[:-1], moves, played_visits, strict=True)]
    return SelfPlayEpisode.build(task_id, states, actions, traces, outcome, TTT.num_players, {"seed": 7})


# -- returns_to_go ---------------------------------------------------------------------------------


def test_returns_two_player_alternating_last_mover_wins() -> None:
    g = returns_to_go([0, 0, 0, 0, 1], [0, 1, 0, 1, 0], 1.0)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [1, -1, 1, -1, 1])
    g = returns_to_go([0, 0, 0, 1], [0, 1, 0, 1], 1.0)
    np.testing.assert_array_equal(g, [-1, 1, -1, 1])


def test_returns_two_player_draw_is_all_zero() -> None:
    np.testing.assert_array_equal(returns_to_go([0.0] * 9, [0, 1] * 4 + [0], 1.0), np.zeros(9))


def test_returns_single_player_discounted() -> None:
    np.testing.assert_allclose(returns_to_go([0, 0, 1], [0, 0, 0], 0.9), [0.81, 0.9, 1.0], rtol=1e-6)


def test_returns_single_player_failure_at_the_end() -> None:
    np.testing.assert_allclose(returns_to_go([0, 0, 0, -1], [0] * 4, 0.5), [-0.125, -0.25, -0.5, -1.0])
    np.testing.assert_array_equal(returns_to_go([0, 0, -1], [0, 0, 0], 1.0), [-1, -1, -1])


def test_returns_intermediate_rewards_and_same_player_twice() -> None:
    # player 0 moves twice in a row, then player 1: G2 = 2; G1 = 1 - 0.5*2 = 0; G0 = 0 + 0.5*0 = 0
    np.testing.assert_allclose(returns_to_go([0, 1, 2], [0, 0, 1], 0.5), [0.0, 0.0, 2.0])
    assert returns_to_go([], [], 1.0).shape == (0,)


# -- SelfPlayEpisode.build -------------------------------------------------------------------------


def test_build_rejects_length_mismatch_and_bad_outcome() -> None:
    states = play(TTT, X_WINS)
    actions = [Action(a, str(a), s.current_player) for s, a in zip(states, X_WINS, strict=False)]
    traces = [make_trace(s, a, 5) for s, a in zip(states, X_WINS, strict=False)]
    with pytest.raises(ValueError, match="len"):
        SelfPlayEpisode.build("t", states[:-1], actions, traces, "success", 2)
    with pytest.raises(ValueError, match="len"):
        SelfPlayEpisode.build("t", states, actions[:-1], traces[:-1], "success", 2)
    with pytest.raises(ValueError, match="outcome"):
        SelfPlayEpisode.build("t", states, actions, traces, "won", 2)
    SelfPlayEpisode.build("t", states, actions, traces, "success", 2)  # the valid one builds


def test_build_derives_fields_of_a_won_game() -> None:
    ep = hand_episode(X_WINS, [10, 5, 8, 2, 10])
    assert ep.episode_length == 5
    assert ep.states[0] is ep.initial_state
    assert len(ep.states) == 6 and ep.states[-1].terminal
    assert ep.rewards == (0.0, 0.0, 0.0, 0.0, 1.0)
    assert ep.total_reward == 1.0  # player 0 (x) won
    assert ep.metadata["returns"] == [1.0, -1.0]
    assert ep.metadata["winner"] == 0
    assert ep.metadata["seed"] == 7
    assert ep.solution_path == ("x(0,0)", "o(1,0)", "x(0,1)", "o(1,1)", "x(0,2)")
    assert [a.player for a in ep.actions] == [0, 1, 0, 1, 0]
    assert ep.search_efficiency == pytest.approx((1.0 + 0.5 + 0.8 + 0.2 + 1.0) / 5)
    assert 0.0 <= ep.search_efficiency <= 1.0
    assert ep.outcome == "success"


def test_build_draw_has_no_winner_and_o_win_is_negative_for_player_0() -> None:
    draw = hand_episode(DRAW, [5] * 8 + [10])  # the last move has one legal cell
    assert draw.states[-1].terminal
    assert draw.metadata["winner"] is None
    assert draw.metadata["returns"] == [0.0, 0.0]
    assert draw.total_reward == 0.0
    assert draw.search_efficiency == pytest.approx((8 * 0.5 + 1.0) / 9)

    o_wins = hand_episode([0, 3, 1, 4, 8, 5], [10] * 6)  # o: 3, 4, 5 (middle row)
    assert o_wins.metadata["winner"] == 1
    assert o_wins.total_reward == -1.0
    assert o_wins.rewards[-1] == 1.0  # the reward of the mover (o) for the winning move


def test_build_with_real_search_traces() -> None:
    from zeroforge.search import MCTS

    mcts = MCTS(TTT, UniformEvaluator(), MCTSConfig(num_simulations=16))
    states = play(TTT, X_WINS)
    traces = []
    for s, a in zip(states, X_WINS, strict=False):
        tr = mcts.search([s], np.random.default_rng(0))[0]
        # record the move actually played, as the generator does with the searched choice
        traces.append(MCTSTrace(**{**tr.__dict__, "selected_action": a}))
    actions = [Action(a, TTT.action_to_text(s, a), s.current_player) for s, a in zip(states, X_WINS, strict=False)]
    ep = SelfPlayEpisode.build("real", states, actions, traces, "success", 2)
    expected = np.mean([tr.visit_counts[a] / tr.visit_counts.sum() for tr, a in zip(traces, X_WINS, strict=True)])
    assert ep.search_efficiency == pytest.approx(expected)
    assert 0.0 <= ep.search_efficiency <= 1.0
    assert all(tr.visit_counts.sum() == 16 for tr in traces)


# -- SelfPlayEpisodeGenerator ----------------------------------------------------------------------


def _generator(sims: int = 16, **kw: object) -> SelfPlayEpisodeGenerator:
    cfg_keys = {"temperature_threshold", "temperature", "dirichlet_epsilon"}
    cfg = MCTSConfig(num_simulations=sims, **{k: v for k, v in kw.items() if k in cfg_keys})  # type: ignore[arg-type]
    rest = {k: v for k, v in kw.items() if k not in cfg_keys}
    return SelfPlayEpisodeGenerator(TTT, UniformEvaluator(), cfg, **rest)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def episodes() -> list[SelfPlayEpisode]:
    return _generator(parallel_batch_size=3).generate(list(range(10, 18)), np.random.default_rng(0))


def test_generator_one_episode_per_seed_in_order(episodes: list[SelfPlayEpisode]) -> None:
    assert len(episodes) == 8  # 8 seeds with only 3 in flight at a time
    assert [ep.metadata["seed"] for ep in episodes] == list(range(10, 18))
    assert [ep.task_id for ep in episodes] == [f"tictactoe-{s}" for s in range(10, 18)]


def test_generator_episodes_are_legal_games(episodes: list[SelfPlayEpisode]) -> None:
    for ep in episodes:
        assert ep.states[0].key() == TTT.initial_state(ep.metadata["seed"]).key()
        assert len(ep.states) == len(ep.actions) + 1
        assert len(ep.mcts_traces) == len(ep.actions) == ep.episode_length
        replay = play(TTT, [a.action_id for a in ep.actions])
        assert [s.key() for s in replay] == [s.key() for s in ep.states]
        assert ep.states[-1].terminal
        assert not any(s.terminal for s in ep.states[:-1])
        for t, (a, tr) in enumerate(zip(ep.actions, ep.mcts_traces, strict=True)):
            assert tr.selected_action == a.action_id
            assert a.player == ep.states[t].current_player
            assert tr.root_state_id == ep.states[t].state_id
            assert tr.visit_counts.sum() == 16
            assert a.text == TTT.action_to_text(ep.states[t], a.action_id)


def test_generator_outcomes_and_winners_match_rewards(episodes: list[SelfPlayEpisode]) -> None:
    for ep in episodes:
        assert ep.outcome == "success"
        winner = ep.metadata["winner"]
        if winner is None:
            assert ep.rewards == (0.0,) * ep.episode_length
            assert ep.metadata["returns"] == [0.0, 0.0]
        else:
            assert ep.actions[-1].player == winner
            assert ep.rewards[-1] == 1.0 and set(ep.rewards[:-1]) <= {0.0}
            assert ep.metadata["returns"][winner] == 1.0 and ep.metadata["returns"][1 - winner] == -1.0
            assert ep.states[-1].rewards[winner] == 1.0
        assert 0.0 < ep.search_efficiency <= 1.0


def test_generator_same_rng_seed_same_games() -> None:
    a = _generator(parallel_batch_size=4).generate([0, 1, 2, 3, 4], np.random.default_rng(5))
    b = _generator(parallel_batch_size=4).generate([0, 1, 2, 3, 4], np.random.default_rng(5))
    moves_a = [[x.action_id for x in ep.actions] for ep in a]
    assert moves_a == [[x.action_id for x in ep.actions] for ep in b]
    # with noise and temperature the games differ from one another
    assert len({tuple(m) for m in moves_a}) > 1


def test_generator_argmax_without_noise_is_deterministic() -> None:
    gen = _generator(parallel_batch_size=2, temperature_threshold=0, add_noise=False)
    eps = gen.generate([0, 1, 2, 3, 4], np.random.default_rng(1))
    moves = {tuple(a.action_id for a in ep.actions) for ep in eps}
    assert len(moves) == 1
    again = gen.generate([9], np.random.default_rng(123))
    assert {tuple(a.action_id for a in again[0].actions)} == moves


def test_generator_max_moves_gives_timeout_and_callback() -> None:
    seen: list[int] = []
    gen = _generator(parallel_batch_size=2, max_moves=3)
    eps = gen.generate([0, 1, 2], np.random.default_rng(0), on_episode=lambda ep: seen.append(ep.metadata["seed"]))
    assert sorted(seen) == [0, 1, 2]
    for ep in eps:
        assert ep.outcome == "timeout"
        assert ep.episode_length == 3 and len(ep.mcts_traces) == 3
        assert not ep.states[-1].terminal
        assert "winner" not in ep.metadata


def test_generator_rejects_bad_batch_size_and_handles_no_seeds() -> None:
    with pytest.raises(ValueError, match="parallel_batch_size"):
        _generator(parallel_batch_size=0)
    assert _generator().generate([], np.random.default_rng(0)) == []


# -- a task that breaks mid-episode: the episode ends as "error", the others go on --------------------


@dataclass(frozen=True, eq=False)
class _CountState(State):
    n: int = 0
    seed: int = 0

    def key(self) -> object:
        return (self.n, self.seed)


class _Brittle(Task):
    """One player counts up to 3 (either action adds one; reaching 3 pays +1). The instance of seed 1
    cannot describe its move from 2: ``action_to_text`` raises there, as a buggy task might."""

    name = "test_brittle"
    num_actions = 2
    num_players = 1
    seq_len = 1
    vocab_size = 4
    max_episode_steps = 10

    def _make(self, n: int, seed: int) -> _CountState:
        done = n >= 3
        return _CountState(0, frozen_array([not done, not done], bool), done,
                           frozen_array([1.0 if done else 0.0], np.float32), frozen_array([n], np.int64), n, n, seed)

    def _initial_state(self, seed: int, difficulty: int) -> State:
        return self._make(0, seed)

    def _step(self, state: State, action: int) -> State:
        assert isinstance(state, _CountState)
        return self._make(state.n + 1, state.seed)

    def action_to_text(self, state: State, action: int) -> str:
        assert isinstance(state, _CountState)
        if state.seed == 1 and state.n == 2:
            raise RuntimeError("broken instance")
        return f"+{action}"


def test_generator_records_task_errors_and_keeps_going() -> None:
    task = _Brittle()
    gen = SelfPlayEpisodeGenerator(task, UniformEvaluator(), MCTSConfig(num_simulations=4), parallel_batch_size=2)
    eps = gen.generate([0, 1, 2], np.random.default_rng(0))
    assert [ep.outcome for ep in eps] == ["success", "error", "success"]
    broken = eps[1]
    assert "RuntimeError: broken instance" in broken.metadata["error"]
    assert broken.episode_length == 2 == len(broken.mcts_traces)
    assert eps[0].episode_length == 3 and eps[0].total_reward == 1.0
    assert eps[2].metadata["seed"] == 2 and eps[2].episode_length == 3
    assert "winner" not in eps[0].metadata  # single-player


class _CountingUniform(UniformEvaluator):
    def __init__(self) -> None:
        self.batch_sizes: list[int] = []

    def evaluate(self, observations: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.batch_sizes.append(len(observations))
        return super().evaluate(observations, masks)


def test_generator_evaluates_in_flight_episodes_in_one_batch() -> None:
    ev = _CountingUniform()
    gen = SelfPlayEpisodeGenerator(TTT, ev, MCTSConfig(num_simulations=4), parallel_batch_size=4)
    eps = gen.generate(list(range(6)), np.random.default_rng(0))
    assert len(eps) == 6
    # the first move searches the 4 in-flight roots together: one root call, then one call per simulation
    assert ev.batch_sizes[0] == 4
    assert max(ev.batch_sizes) == 4
    # fewer evaluator calls than plies played x (1 + simulations), which one-root-at-a-time search would need
    plies = sum(ep.episode_length for ep in eps)
    assert len(ev.batch_sizes) < plies * 5 / 2


def test_round_metrics_split_a_single_agent_round_by_difficulty_level() -> None:
    from zeroforge.data.table import EpisodeTable
    from zeroforge.selfplay.source import SelfPlayRound, round_metrics

    task = make_task("maze", size=3)
    gen = SelfPlayEpisodeGenerator(task, UniformEvaluator(), MCTSConfig(num_simulations=8), 8,
                                   max_moves=6)  # a short cap: the harder level's longer paths time out
    levels = [1, 1, 1, 1, 2, 2, 2, 2]
    eps = gen.generate(range(len(levels)), np.random.default_rng(0), difficulties=levels)
    table = EpisodeTable.from_episodes(eps)
    m = round_metrics(SelfPlayRound(table, 1.0, 0, 0.0))
    for level in sorted(set(levels)):
        mine = [e for e, lv in zip(eps, levels, strict=True) if lv == level]
        assert m[f"episodes_level_{level}"] == len(mine)
        assert m[f"success_rate_level_{level}"] == pytest.approx(np.mean([e.outcome == "success" for e in mine]))
    assert sum(v for k, v in m.items() if k.startswith("episodes_level_")) == m["episodes"] == len(levels)
    assert m["success_rate_level_1"] > m["success_rate_level_2"]  # the split tells the levels apart
    games = EpisodeTable.from_episodes(SelfPlayEpisodeGenerator(TTT, UniformEvaluator(), MCTSConfig(num_simulations=4))
                                       .generate([0, 1], np.random.default_rng(0)))
    assert not any(k.endswith(("_level_1", "_level_2")) for k in round_metrics(SelfPlayRound(games, 1.0, 0, 0.0)))
