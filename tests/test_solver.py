"""Known-answer tests for the exact negamax solver (values for the player to move)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from zeroforge.tasks import State, Task, make_task
from zeroforge.tasks.games.solver import NegamaxSolver, optimal_actions, solve
from zeroforge.tasks.games.tictactoe import TicTacToe


def play(task: Task, moves: Sequence[int]) -> State:
    state = task.initial_state()
    for a in moves:
        assert not state.terminal
        state = task.step(state, a)
    return state


@pytest.fixture(scope="module")
def ttt() -> Task:
    return make_task("tictactoe")


def test_empty_board_is_a_draw_and_every_opening_draws(ttt: Task) -> None:
    s = ttt.initial_state()
    assert solve(ttt, s) == 0.0
    assert optimal_actions(ttt, s) == list(range(9))


def test_cold_solve_visits_each_reachable_state_once_and_warm_solves_are_lookups(
        ttt: Task, monkeypatch: pytest.MonkeyPatch) -> None:
    """What makes the solver fast, checked without a clock (the speed itself: benchmarks/solver_speed.py):
    a cold solve caches every one of tic-tac-toe's 5478 reachable states, and once ``solve`` has seen a
    task, further calls on it take no step of the game and give the cold solver's values."""
    solver = NegamaxSolver(ttt)
    assert solver.value(ttt.initial_state()) == 0.0
    assert len(solver.cache) == 5478
    lines = ([], [4], [4, 1], [0, 4, 1], [0, 3, 4, 8, 1])
    expected = [solver.value(play(ttt, moves)) for moves in lines]
    assert expected == [0.0, 0.0, 1.0, 0.0, -1.0]  # the known answers of the tests below
    solve(ttt, ttt.initial_state())  # warm the per-task cache
    steps = 0
    step = ttt.step

    def counting_step(state: State, action: int) -> State:
        nonlocal steps
        steps += 1
        return step(state, action)

    monkeypatch.setattr(ttt, "step", counting_step)
    assert [solve(ttt, play(ttt, moves)) for moves in lines] == expected
    assert steps == sum(len(moves) for moves in lines)  # only play() itself, stepping through the moves


def test_immediate_win(ttt: Task) -> None:
    s = play(ttt, [0, 3, 1, 4])  # xx. / oo. / ...  x to move; o also threatens 5
    assert s.current_player == 0
    assert solve(ttt, s) == 1.0
    assert 2 in optimal_actions(ttt, s)
    assert optimal_actions(ttt, s) == [2]  # anything else lets o win at 5 (or block and draw)
    qs = NegamaxSolver(ttt).action_values(s)
    assert qs[2] == 1.0 and qs[5] == 0.0 and qs[6] == -1.0


def test_must_block(ttt: Task) -> None:
    s = play(ttt, [0, 4, 1])  # xx. / .o. / ...  o to move must block at 2
    assert s.current_player == 1
    assert solve(ttt, s) == 0.0
    assert optimal_actions(ttt, s) == [2]


def test_forced_loss_against_a_double_threat(ttt: Task) -> None:
    s = play(ttt, [0, 3, 4, 8, 1])  # xx. / ox. / ..o  x threatens 2 and 7; o cannot block both
    assert s.current_player == 1
    assert solve(ttt, s) == -1.0
    assert optimal_actions(ttt, s) == [2, 5, 6, 7]  # all moves lose: all are "optimal"


def test_edge_reply_to_centre_opening_loses(ttt: Task) -> None:
    s = play(ttt, [4, 1])  # a known result: after x centre, o edge, x wins
    assert solve(ttt, s) == 1.0
    assert 7 not in optimal_actions(ttt, s)  # the opposite edge only draws


def test_terminal_state_has_value_zero(ttt: Task) -> None:
    s = play(ttt, [0, 3, 1, 4, 2])
    assert s.terminal
    assert solve(ttt, s) == 0.0
    assert optimal_actions(ttt, s) == []


def test_reachable_tictactoe_states_5478(ttt: Task) -> None:
    solver = NegamaxSolver(ttt)
    solver.value(ttt.initial_state())
    assert len(solver.cache) == 5478
    # independent count by breadth-first search
    frontier = [ttt.initial_state()]
    seen = {frontier[0].key()}
    while frontier:
        nxt = []
        for s in frontier:
            for a in np.flatnonzero(s.legal_action_mask).tolist():
                c = ttt.step(s, a)
                if c.key() not in seen:
                    seen.add(c.key())
                    nxt.append(c)
        frontier = nxt
    assert len(seen) == 5478


def _plain_minimax(task: Task, state: State) -> float:
    """Unmemoised reference for tiny games (two players alternate, reward only at the end)."""
    if state.terminal:
        return 0.0
    best = -np.inf
    for a in np.flatnonzero(state.legal_action_mask).tolist():
        child = task.step(state, a)
        q = float(child.rewards[state.current_player]) - _plain_minimax(task, child)
        best = max(best, q)
    return float(best)


@pytest.mark.parametrize(
    ("rows", "cols", "connect", "value"),
    [
        (2, 2, 2, 1.0),  # x threatens both a row and a column at once
        (1, 3, 2, 1.0),  # x in the middle threatens both sides
        (1, 4, 3, 0.0),
        (2, 3, 3, 0.0),
        (3, 3, 3, 0.0),
    ],
)
def test_tiny_connect_four_matches_plain_minimax(rows: int, cols: int, connect: int, value: float) -> None:
    task = make_task("connect_four", rows=rows, cols=cols, connect=connect)
    s = task.initial_state()
    assert solve(task, s) == value
    assert _plain_minimax(task, s) == value
    solver = NegamaxSolver(task)
    for a, q in solver.action_values(s).items():
        assert q == -_plain_minimax(task, task.step(s, a))


def test_connect_four_3x4_connect_3_is_a_first_player_win() -> None:
    task = make_task("connect_four", rows=3, cols=4, connect=3)
    assert solve(task, task.initial_state()) == 1.0
    s = play(task, [1])
    assert solve(task, s) == -1.0


def test_rejects_games_with_more_than_two_players() -> None:
    class ThreePlayers(TicTacToe):
        num_players = 3

    with pytest.raises(ValueError, match="3"):
        NegamaxSolver(ThreePlayers())
