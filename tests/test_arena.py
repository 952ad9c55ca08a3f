"""Matches between players and the perfect-play check, on tic-tac-toe where the truth is known."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from zeroforge.arena.evaluation import perfect_play_check
from zeroforge.arena.match import MatchResult, PerfectPlayer, RandomPlayer, SearchPlayer, play_match
from zeroforge.config import MCTSConfig
from zeroforge.search import UniformEvaluator
from zeroforge.tasks.base import State, Task, frozen_array
from zeroforge.tasks.games.solver import NegamaxSolver
from zeroforge.tasks.registry import make_task

TTT = make_task("tictactoe")


@pytest.fixture(scope="module")
def perfect() -> PerfectPlayer:
    return PerfectPlayer(TTT)


@pytest.fixture(scope="module")
def solver() -> NegamaxSolver:
    return NegamaxSolver(TTT)


def search_player(sims: int) -> SearchPlayer:
    return SearchPlayer(f"uniform{sims}", TTT, UniformEvaluator(), MCTSConfig(num_simulations=sims), sims)


class _Recording:
    """Wraps a player and records every state it is asked about."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.name = f"rec-{inner.name}"  # type: ignore[attr-defined]
        self.states: list[State] = []
        self.calls = 0

    def act(self, states: Sequence[State], rng: np.random.Generator) -> list[int]:
        self.calls += 1
        self.states += list(states)
        return self.inner.act(states, rng)  # type: ignore[attr-defined,no-any-return]


# -- MatchResult -----------------------------------------------------------------------------------


def test_match_result_arithmetic() -> None:
    r = MatchResult("a", "b", wins=3, draws=2, losses=5)
    assert r.games == 10
    assert r.score == pytest.approx(0.4)
    assert MatchResult("a", "b", 4, 0, 0).score == 1.0
    assert MatchResult("a", "b", 0, 0, 4).score == 0.0
    assert MatchResult("a", "b", 0, 6, 0).score == 0.5
    assert MatchResult("a", "b", 0, 0, 0).score == 0.0  # no games: no division by zero


# -- play_match ------------------------------------------------------------------------------------


def test_perfect_vs_perfect_always_draws(perfect: PerfectPlayer) -> None:
    r = play_match(TTT, perfect, perfect, 10, np.random.default_rng(0), opening_random_moves=0)
    assert (r.wins, r.draws, r.losses) == (0, 10, 0)
    assert r.score == 0.5
    assert (r.player_a, r.player_b) == ("perfect", "perfect")


def test_games_round_up_to_pairs_with_colours_swapped(perfect: PerfectPlayer) -> None:
    # each random opening is played twice with colours swapped: between perfect players the opening's
    # game-theoretic result comes out once for a and once against, so wins and losses balance exactly
    r = play_match(TTT, perfect, perfect, 15, np.random.default_rng(0), opening_random_moves=2)
    assert r.games == 16
    assert r.wins == r.losses
    rec_a = _Recording(RandomPlayer())
    assert play_match(TTT, rec_a, RandomPlayer(), 1, np.random.default_rng(0)).games == 2
    # one pair: player a moves first in one game and second in the other
    assert [s.step_count for s in rec_a.states if s.step_count < 2] == [0, 1]


def test_perfect_vs_random_never_loses(perfect: PerfectPlayer) -> None:
    r = play_match(TTT, perfect, RandomPlayer(), 20, np.random.default_rng(1))
    assert r.games == 20
    assert r.losses == 0
    assert r.wins >= 14, r
    flipped = play_match(TTT, RandomPlayer(), perfect, 20, np.random.default_rng(2))
    assert flipped.wins == 0 and flipped.losses >= 14, flipped
    assert (flipped.player_a, flipped.player_b) == ("random", "perfect")


def test_players_are_called_once_per_ply_for_all_games() -> None:
    rec = _Recording(RandomPlayer())
    r = play_match(TTT, rec, RandomPlayer(), 8, np.random.default_rng(3))
    assert r.games == 8
    # a moves at most 5 times in a game; batched over the 8 games, it is called at most 5 times
    assert rec.calls <= 5 < len(rec.states)
    assert all(not s.terminal and s.current_player in (0, 1) for s in rec.states)


def test_same_rng_same_result() -> None:
    r1 = play_match(TTT, RandomPlayer(), RandomPlayer(), 30, np.random.default_rng(7), opening_random_moves=1)
    r2 = play_match(TTT, RandomPlayer(), RandomPlayer(), 30, np.random.default_rng(7), opening_random_moves=1)
    assert r1 == r2
    assert r1.games == 30


def test_openings_vary_and_are_shared_by_a_pair() -> None:
    rec_a, rec_b = _Recording(RandomPlayer()), _Recording(RandomPlayer())
    play_match(TTT, rec_a, rec_b, 12, np.random.default_rng(4), opening_random_moves=1)
    # one random ply opens each of the 6 pairs, so o moves first: a in one game of the pair, b in the other
    a_openings = sorted(s.board for s in rec_a.states if s.step_count == 1)  # type: ignore[attr-defined]
    b_openings = sorted(s.board for s in rec_b.states if s.step_count == 1)  # type: ignore[attr-defined]
    assert len(a_openings) == 6
    assert a_openings == b_openings
    assert len(set(a_openings)) > 1
    assert all(s.step_count >= 1 for s in rec_a.states + rec_b.states)


def test_search_player_beats_random() -> None:
    r = play_match(TTT, search_player(200), RandomPlayer(), 10, np.random.default_rng(5))
    assert r.losses <= 1, r
    assert r.wins >= 7, r


@dataclass(frozen=True, eq=False)
class _SoloState(State):
    pass


class _Solo(Task):
    """A one-player task that ends after one move."""

    name = "test_solo"
    num_actions = 2
    num_players = 1
    seq_len = 1
    vocab_size = 2
    max_episode_steps = 1

    def _initial_state(self, seed: int, difficulty: int) -> State:
        return _SoloState(0, frozen_array([True, True], bool), False, frozen_array([0.0], np.float32),
                          frozen_array([0], np.int64), 0)

    def _step(self, state: State, action: int) -> State:
        return _SoloState(0, frozen_array([False, False], bool), True, frozen_array([1.0], np.float32),
                          frozen_array([1], np.int64), 1)


def test_play_match_rejects_single_player_tasks_and_no_games() -> None:
    with pytest.raises(ValueError, match="two-player"):
        play_match(_Solo(), RandomPlayer(), RandomPlayer(), 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="num_games"):
        play_match(TTT, RandomPlayer(), RandomPlayer(), 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="two-player"):
        perfect_play_check(_Solo(), RandomPlayer())


# -- perfect_play_check ----------------------------------------------------------------------------


def test_perfect_player_passes_the_check(perfect: PerfectPlayer) -> None:
    rep = perfect_play_check(TTT, perfect, np.random.default_rng(0))
    assert rep.perfect and rep.losses == 0
    assert rep.losing_lines == ()
    assert rep.draws > 0
    assert rep.agent_positions > 0


def _assert_is_lost_line(line: Sequence[int], solver: NegamaxSolver) -> None:
    """Replay ``line``: it ends in a won game whose loser is the checked agent, every move of the winner
    (the perfect side) being optimal."""
    s = TTT.initial_state(0)
    states = [s]
    for a in line:
        s = TTT.step(s, a)
        states.append(s)
    final = states[-1]
    assert final.terminal
    winner = 1 - final.current_player  # tic-tac-toe: the player after the last mover is the loser
    agent = 1 - winner
    assert float(final.rewards[agent]) == -1.0 and float(final.rewards[winner]) == 1.0
    for st, a in zip(states[:-1], line, strict=True):
        if st.current_player == winner:
            assert a in solver.optimal_actions(st), (line, st.to_text(), a)


def test_random_player_fails_the_check(solver: NegamaxSolver) -> None:
    rep = perfect_play_check(TTT, RandomPlayer(), np.random.default_rng(0), max_lines=5)
    assert not rep.perfect and rep.losses > 0
    assert 0 < len(rep.losing_lines) <= 5
    assert rep.wins == 0  # a perfect opponent is never beaten
    for line in rep.losing_lines:
        _assert_is_lost_line(line, solver)


def test_weak_search_player_is_caught(solver: NegamaxSolver) -> None:
    rep = perfect_play_check(TTT, search_player(2))
    assert not rep.perfect and rep.losses > 0
    assert rep.wins == 0
    for line in rep.losing_lines:
        _assert_is_lost_line(line, solver)


def test_check_is_batched_per_ply_and_covers_both_seats(perfect: PerfectPlayer) -> None:
    rec = _Recording(perfect)
    rep = perfect_play_check(TTT, rec, np.random.default_rng(0))
    assert rep.agent_positions == len(rec.states)
    # seat 0: plies 0, 2, 4, 6, 8; seat 1: plies 1, 3, 5, 7 -> at most 9 calls
    assert rec.calls <= 9
    assert {s.current_player for s in rec.states} == {0, 1}
    assert any(s.step_count == 0 for s in rec.states)  # it opened the game as player 0
