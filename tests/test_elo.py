"""Elo fitting: known answers of the Bradley–Terry maximum likelihood."""

from __future__ import annotations

import math

import pytest

from zeroforge.arena.elo import GameRecord, expected_score, fit_elo


def _games(a: str, b: str, wins: int, draws: int = 0, losses: int = 0) -> list[GameRecord]:
    return [GameRecord(a, b, 1.0)] * wins + [GameRecord(a, b, 0.5)] * draws + [GameRecord(b, a, 1.0)] * losses


def test_expected_score() -> None:
    assert expected_score(0.0, 0.0) == 0.5
    assert expected_score(400.0, 0.0) == pytest.approx(10 / 11)
    assert expected_score(100.0, 250.0) + expected_score(250.0, 100.0) == pytest.approx(1.0)


def test_two_players_75_percent() -> None:
    ratings = fit_elo(_games("A", "B", wins=300, losses=100), anchor="B", prior_games=0)
    assert ratings["B"] == 0.0
    assert ratings["A"] - ratings["B"] == pytest.approx(400 * math.log10(3), abs=1e-6)  # 190.85
    # draws count half: 200 wins + 200 draws + 0 losses is also a 75% score
    with_draws = fit_elo(_games("A", "B", wins=200, draws=200), anchor="B", prior_games=0)
    assert with_draws["A"] == pytest.approx(400 * math.log10(3), abs=1e-6)


def test_anchor_rating_shifts_everything() -> None:
    games = _games("A", "B", wins=30, losses=10)
    base = fit_elo(games, anchor="B", prior_games=0)
    shifted = fit_elo(games, anchor="B", anchor_rating=1000.0, prior_games=0)
    assert shifted["B"] == 1000.0 and shifted["A"] == pytest.approx(base["A"] + 1000.0)


def test_symmetric_records_give_equal_ratings() -> None:
    games = _games("A", "B", wins=7, draws=2, losses=7) + _games("B", "C", wins=5, losses=5)
    games += _games("C", "A", wins=3, draws=4, losses=3)
    ratings = fit_elo(games, anchor="A")
    assert ratings["A"] == 0.0
    assert ratings["B"] == pytest.approx(0.0, abs=1e-6) and ratings["C"] == pytest.approx(0.0, abs=1e-6)


def test_transitive_chain_is_ordered() -> None:
    games = _games("A", "B", wins=8, losses=2) + _games("B", "C", wins=8, losses=2)
    games += _games("A", "C", wins=9, losses=1)
    ratings = fit_elo(games, anchor="C", prior_games=0)
    assert ratings["A"] > ratings["B"] > ratings["C"] == 0.0
    # games are consistent with the ratings: each pair's expected score lies on the right side of 1/2
    assert expected_score(ratings["A"], ratings["C"]) > expected_score(ratings["A"], ratings["B"]) > 0.5


def test_mle_matches_the_score_equations() -> None:
    games = _games("A", "B", wins=6, draws=1, losses=3) + _games("B", "C", wins=4, draws=3, losses=3)
    games += _games("A", "C", wins=5, draws=2, losses=2)
    ratings = fit_elo(games, anchor="A", prior_games=0)
    for player in ratings:  # at the MLE each player's expected total score equals its actual score
        actual = sum(g.score_a for g in games if g.player_a == player)
        actual += sum(1 - g.score_a for g in games if g.player_b == player)
        expected = sum(
            expected_score(ratings[player], ratings[g.player_b if g.player_a == player else g.player_a])
            for g in games
            if player in (g.player_a, g.player_b)
        )
        assert expected == pytest.approx(actual, abs=1e-8)


def test_all_wins_stay_finite_with_the_prior() -> None:
    ratings = fit_elo(_games("A", "B", wins=20), anchor="B")
    assert math.isfinite(ratings["A"]) and ratings["A"] > 0
    # one virtual draw: A scored 20.5 of 21 -> 400 log10(20.5 / 0.5)
    assert ratings["A"] == pytest.approx(400 * math.log10(41), abs=1e-6)
    losers = fit_elo(_games("A", "B", wins=20) + _games("C", "B", wins=20), anchor="A")
    assert math.isfinite(losers["B"]) and losers["B"] < 0
    with pytest.raises(ValueError, match="unbounded"):
        fit_elo(_games("A", "B", wins=20), anchor="B", prior_games=0)


def test_deterministic_and_order_independent() -> None:
    games = _games("A", "B", wins=6, losses=3) + _games("B", "C", wins=4, draws=3) + _games("C", "D", wins=2)
    first = fit_elo(games, anchor="A")
    assert fit_elo(list(reversed(games)), anchor="A") == pytest.approx(first, abs=1e-9)
    assert fit_elo(games, anchor="A") == first


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError, match="anchor 'Z'"):
        fit_elo(_games("A", "B", wins=1), anchor="Z")
    with pytest.raises(ValueError, match="anchor"):
        fit_elo([], anchor="A")
    with pytest.raises(ValueError, match="score_a"):
        GameRecord("A", "B", 0.7)
    with pytest.raises(ValueError, match="two different players"):
        GameRecord("A", "A", 1.0)
    with pytest.raises(ValueError, match="prior_games"):
        fit_elo(_games("A", "B", wins=1), anchor="A", prior_games=-1)
