"""Known-answer tests for tic-tac-toe (OpenSpiel conventions: cell = row * 3 + col, x first)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.games.tictactoe import TicTacToe, TicTacToeState


@pytest.fixture
def task() -> TicTacToe:
    t = make_task("tictactoe")
    assert isinstance(t, TicTacToe)
    return t


def play(task: TicTacToe, moves: Sequence[int]) -> TicTacToeState:
    """Play ``moves`` from the start, checking that the game only ends on the last one."""
    state = task.initial_state()
    for i, a in enumerate(moves):
        assert not state.terminal, f"game ended before move {i}"
        nxt = task.step(state, a)
        assert isinstance(nxt, TicTacToeState)
        if not nxt.terminal:
            assert not nxt.rewards.any()
        state = nxt
    return state


def test_declared_sizes(task: TicTacToe) -> None:
    assert (task.num_actions, task.num_players, task.seq_len, task.vocab_size) == (9, 2, 9, 3)
    assert task.max_episode_steps == 9
    assert task.name == "tictactoe"


def test_initial_state(task: TicTacToe) -> None:
    s = task.initial_state(123)  # the seed is ignored
    assert s == task.initial_state(0)
    assert s.current_player == 0 and not s.terminal and s.step_count == 0
    assert s.legal_action_mask.all() and not s.observation.any() and not s.rewards.any()
    assert s.board == bytes(9)
    assert s.to_text() == "...\n...\n..."


def test_action_numbering_is_row_major(task: TicTacToe) -> None:
    s = play(task, [5])
    assert s.to_text() == "...\n..x\n..."
    assert s.board[5] == 1
    assert s.grid[1, 2] == 1 and s.grid.sum() == 1
    assert task.action_to_text(task.initial_state(), 5) == "x(1,2)"
    assert task.action_to_text(s, 0) == "o(0,0)"
    s = play(task, [0, 2, 4, 8])
    assert s.to_text() == "x.o\n.x.\n..o"
    assert s.current_player == 0


@pytest.mark.parametrize(
    ("moves", "winner", "text"),
    [
        ([0, 3, 1, 4, 2], 0, "xxx\noo.\n..."),  # x: top row
        ([4, 0, 8, 3, 5, 6], 1, "o..\noxx\no.x"),  # o: left column
        ([0, 2, 4, 5, 3, 8], 1, "x.o\nxxo\n..o"),  # o: right column
        ([0, 1, 4, 2, 8], 0, "xoo\n.x.\n..x"),  # x: main diagonal
        ([0, 2, 1, 4, 8, 6], 1, "xxo\n.o.\no.x"),  # o: anti-diagonal
        ([6, 0, 7, 1, 8], 0, "oo.\n...\nxxx"),  # x: bottom row
    ],
)
def test_wins_are_detected_and_signed(task: TicTacToe, moves: list[int], winner: int, text: str) -> None:
    s = play(task, moves)
    assert s.terminal
    assert s.to_text() == text
    expected = np.array([1.0, -1.0] if winner == 0 else [-1.0, 1.0], dtype=np.float32)
    np.testing.assert_array_equal(s.rewards, expected)
    assert s.winner == winner
    assert s.current_player == 1 - winner  # the turn still passes
    assert not s.legal_action_mask.any()
    with pytest.raises(ValueError, match="terminal"):
        task.step(s, int(np.flatnonzero(np.frombuffer(s.board, np.uint8) == 0)[0]))


def test_full_board_draw(task: TicTacToe) -> None:
    s = play(task, [0, 1, 2, 4, 3, 5, 7, 6, 8])
    assert s.to_text() == "xox\nxoo\noxx"
    assert s.terminal and s.step_count == 9
    assert not s.rewards.any() and s.winner is None
    assert not s.legal_action_mask.any()


def test_win_on_the_last_cell_is_a_win_not_a_draw(task: TicTacToe) -> None:
    s = play(task, [0, 1, 2, 4, 3, 5, 7, 8, 6])  # x completes the left column with the 9th stone
    assert s.to_text() == "xox\nxoo\nxxo"
    assert s.terminal
    np.testing.assert_array_equal(s.rewards, [1.0, -1.0])


def test_observation_is_canonical(task: TicTacToe) -> None:
    s1 = play(task, [4])  # o to move: the x in the centre is the opponent's stone
    assert s1.current_player == 1
    np.testing.assert_array_equal(s1.observation, [0, 0, 0, 0, 2, 0, 0, 0, 0])
    s2 = task.step(s1, 0)  # x to move: the centre is now "mine", the o in the corner "theirs"
    assert s2.current_player == 0
    np.testing.assert_array_equal(s2.observation, [2, 0, 0, 0, 1, 0, 0, 0, 0])
    assert s2.observation.dtype == np.int64


def test_legal_mask_tracks_empty_cells(task: TicTacToe) -> None:
    s = play(task, [4, 0, 8])
    np.testing.assert_array_equal(s.legal_action_mask, np.frombuffer(s.board, np.uint8) == 0)
    with pytest.raises(ValueError, match="illegal"):
        task.step(s, 4)


def test_transpositions_are_the_same_state(task: TicTacToe) -> None:
    a = play(task, [0, 4, 8])
    b = play(task, [8, 4, 0])
    assert a == b and hash(a) == hash(b) and a.state_id == b.state_id
    assert a != play(task, [0, 4, 2])


def test_key_is_board_and_player(task: TicTacToe) -> None:
    assert task.initial_state().key() == (bytes(9), 0)
    assert play(task, [5, 0]).key() == (bytes([2, 0, 0, 0, 0, 1, 0, 0, 0]), 0)


def test_foreign_state_is_rejected(task: TicTacToe) -> None:
    c4 = make_task("connect_four", rows=3, cols=3, connect=3)
    with pytest.raises(ValueError, match="TicTacToeState"):
        task.step(c4.initial_state(), 0)
