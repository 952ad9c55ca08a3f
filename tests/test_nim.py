"""Nim: OpenSpiel's action numbering, normal and misère rules, and the solver against nim-sum theory."""

from __future__ import annotations

import itertools
from functools import reduce

import numpy as np
import pytest

from zeroforge.tasks.games.nim import Nim, NimState
from zeroforge.tasks.games.solver import NegamaxSolver
from zeroforge.tasks.registry import make_task


def test_action_numbering_follows_openspiel() -> None:
    task = make_task("nim")  # piles 1 3 5 7
    s = task.initial_state(0)
    # action = (take - 1) * num_piles + pile: take 3 from the third pile (index 2) is 2 * 4 + 2 = 10
    s2 = task.step(s, 10)
    assert isinstance(s2, NimState) and s2.piles == (1, 3, 2, 7)
    assert task.action_to_text(s, 10) == "pile:3, take:3;"
    assert s.to_text() == "(0): 1 3 5 7" and s2.to_text() == "(1): 1 3 2 7"
    # legal: pile 0 allows take 1 only, pile 3 takes 1..7
    legal = set(np.flatnonzero(s.legal_action_mask).tolist())
    assert legal == {(t - 1) * 4 + i for i, p in enumerate((1, 3, 5, 7)) for t in range(1, p + 1)}
    with pytest.raises(ValueError, match="illegal"):
        task.step(s, 4)  # take 2 from the pile of 1


@pytest.mark.parametrize("misere", [False, True])
def test_taking_the_last_object(misere: bool) -> None:
    task = Nim(piles=(2,), misere=misere)
    end = task.step(task.initial_state(0), 1)  # player 0 takes both
    assert end.terminal
    assert end.rewards.tolist() == ([-1.0, 1.0] if misere else [1.0, -1.0])


def _nim_value(piles: tuple[int, ...], misere: bool) -> float:
    """Bouton's theorem: the mover wins normal Nim iff the nim-sum is non-zero. Misère: the same, except
    when every pile has at most one object, where the mover wins iff the number of objects is even."""
    xor = reduce(lambda a, b: a ^ b, piles, 0)
    if misere and max(piles) <= 1:
        return 1.0 if sum(piles) % 2 == 0 else -1.0
    return 1.0 if xor != 0 else -1.0


@pytest.mark.parametrize("misere", [False, True])
def test_solver_agrees_with_nim_sum_theory_on_every_position(misere: bool) -> None:
    task = Nim(piles=(1, 3, 5, 7), misere=misere)
    solver = NegamaxSolver(task)
    checked = 0
    for piles in itertools.product(range(2), range(4), range(6), range(8)):
        if sum(piles) == 0:
            continue
        state = task._state(tuple(piles), 0, 0, task.initial_state(0).rewards)
        assert solver.value(state) == _nim_value(tuple(piles), misere), piles
        checked += 1
    assert checked == 2 * 4 * 6 * 8 - 1
    # the start position 1 3 5 7 has nim-sum 0 and a pile > 1: a loss for the first player in both variants
    assert solver.value(task.initial_state(0)) == -1.0


@pytest.mark.parametrize("bad", [dict(piles=()), dict(piles=(0, 2)), dict(piles=(1, "3")), dict(misere="yes")])
def test_bad_parameters(bad: dict) -> None:
    with pytest.raises(ValueError, match="nim"):
        make_task("nim", **bad)


def test_perfect_play_check_counts_mistakes_not_forced_losses() -> None:
    """Nim 1-3-5-7 is lost for the first player: a perfect player loses every game as first player
    without a single mistake, while a random player makes mistakes."""
    from zeroforge.arena.evaluation import perfect_play_check
    from zeroforge.arena.match import PerfectPlayer, RandomPlayer

    task = make_task("nim")
    perfect = perfect_play_check(task, PerfectPlayer(task))
    assert perfect.losses > 0 and perfect.mistakes == 0 and perfect.perfect
    assert perfect.draws == 0  # Nim has no draws
    sloppy = perfect_play_check(task, RandomPlayer(), np.random.default_rng(0))
    assert sloppy.mistakes > 0 and not sloppy.perfect
