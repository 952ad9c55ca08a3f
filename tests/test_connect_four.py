"""Known-answer tests for connect four (OpenSpiel conventions: action = column, x first).

Cells (board, observation) are row-major with row 0 at the top; ``to_text`` prints the top row first.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.games.connect_four import ConnectFour, ConnectFourState


def c4(**params: int) -> ConnectFour:
    t = make_task("connect_four", **params)
    assert isinstance(t, ConnectFour)
    return t


def play(task: ConnectFour, moves: Sequence[int]) -> ConnectFourState:
    """Play ``moves`` from the start, checking that the game only ends on the last one."""
    state = task.initial_state()
    for i, a in enumerate(moves):
        assert not state.terminal, f"game ended before move {i}"
        nxt = task.step(state, a)
        assert isinstance(nxt, ConnectFourState)
        state = nxt
    return state


def naive_winner(board: bytes, rows: int, cols: int, connect: int) -> int | None:
    """Independent referee: scan every line of every cell in every direction."""
    grid = np.frombuffer(board, np.uint8).reshape(rows, cols)
    found = set()
    for r in range(rows):
        for c in range(cols):
            v = int(grid[r, c])
            if not v:
                continue
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                cells = [(r + k * dr, c + k * dc) for k in range(connect)]
                if all(0 <= rr < rows and 0 <= cc < cols and grid[rr, cc] == v for rr, cc in cells):
                    found.add(v - 1)
    assert len(found) <= 1, "both players have a line"
    return found.pop() if found else None


def test_defaults_and_declared_sizes() -> None:
    t = c4()
    assert (t.rows, t.cols, t.connect) == (6, 7, 4)
    assert (t.num_actions, t.num_players, t.seq_len, t.vocab_size) == (7, 2, 42, 3)
    assert t.max_episode_steps == 42
    assert repr(t) == "ConnectFour(rows=6, cols=7, connect=4)"
    s = t.initial_state()
    assert s.to_text() == "\n".join(["......."] * 6)
    assert s.legal_action_mask.all() and s.heights == (0,) * 7


@pytest.mark.parametrize(
    "params",
    [
        {"rows": 0},
        {"cols": 0},
        {"rows": -3},
        {"connect": 0},
        {"rows": 3, "cols": 3, "connect": 4},
        {"connect": 8},
        {"rows": 2.5},
        {"rows": "6"},
        {"rows": True},
    ],
)
def test_bad_parameters_raise_value_error(params: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="connect_four"):
        make_task("connect_four", **params)


def test_unknown_parameter_is_a_value_error() -> None:
    expected = r"unknown parameter 'depth' for task 'connect_four' \(valid: rows, cols, connect\)"
    with pytest.raises(ValueError, match=expected):
        make_task("connect_four", depth=3)


def test_action_is_the_column_and_stones_fall() -> None:
    t = c4()
    s = play(t, [3])
    assert s.to_text().splitlines()[-1] == "...x..."
    assert s.board[5 * 7 + 3] == 1  # bottom row is row 5
    assert t.action_to_text(s, 3) == "col 3"
    # o to move: x's stone is the opponent's (token 2) at row 5, col 3
    expected = np.zeros(42, np.int64)
    expected[38] = 2
    np.testing.assert_array_equal(s.observation, expected)
    s = t.step(s, 3)  # x to move: o's stone on top of x's
    expected[38], expected[31] = 1, 2
    np.testing.assert_array_equal(s.observation, expected)


def test_stones_stack_bottom_up() -> None:
    s = play(c4(), [3, 3, 3, 3])
    assert s.to_text().splitlines() == [
        ".......",
        ".......",
        "...o...",
        "...x...",
        "...o...",
        "...x...",
    ]
    assert s.heights == (0, 0, 0, 4, 0, 0, 0)
    assert s.grid[:, 3].tolist() == [0, 0, 2, 1, 2, 1]


def test_full_column_becomes_illegal() -> None:
    t = c4()
    s = play(t, [0] * 6)  # x o x o x o: no four
    assert not s.terminal
    assert s.to_text().splitlines()[0] == "o......"
    np.testing.assert_array_equal(s.legal_action_mask, [False] + [True] * 6)
    with pytest.raises(ValueError, match="illegal"):
        t.step(s, 0)
    s = t.step(s, 1)
    assert not s.legal_action_mask[0] and s.legal_action_mask[1:].all()


@pytest.mark.parametrize(
    ("moves", "winner", "bottom_up"),
    [
        # horizontal: x on the bottom row, cols 0-3
        ([0, 0, 1, 1, 2, 2, 3], 0, ["xxxx...", "ooo...."]),
        # vertical: x in col 0
        ([0, 1, 0, 1, 0, 1, 0], 0, ["xo.....", "xo.....", "xo.....", "x......"]),
        # rising diagonal "/": x at (bottom, col 0) .. (4th row up, col 3)
        ([0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3], 0, ["xooo..o", ".xxo...", "..xx...", "...x..."]),
        # falling diagonal "\": mirror image
        ([6, 5, 5, 4, 4, 3, 4, 3, 3, 0, 3], 0, ["o..ooox", "...oxx.", "...xx..", "...x..."]),
        # o wins horizontally on the bottom row
        ([6, 1, 6, 2, 5, 3, 5, 4], 1, [".ooooxx", ".....xx"]),
        # o wins vertically in col 1
        ([0, 1, 0, 1, 2, 1, 2, 1], 1, ["xox....", "xox....", ".o.....", ".o....."]),
    ],
)
def test_wins_are_detected_and_signed(moves: list[int], winner: int, bottom_up: list[str]) -> None:
    t = c4()
    s = play(t, moves)
    lines = s.to_text().splitlines()[::-1]
    assert lines[: len(bottom_up)] == bottom_up
    assert s.terminal and s.winner == winner
    assert naive_winner(s.board, 6, 7, 4) == winner
    expected = [1.0, -1.0] if winner == 0 else [-1.0, 1.0]
    np.testing.assert_array_equal(s.rewards, np.array(expected, np.float32))
    assert not s.legal_action_mask.any()
    with pytest.raises(ValueError, match="terminal"):
        t.step(s, 5)


def test_draw_on_a_tiny_board() -> None:
    t = c4(rows=2, cols=3, connect=3)
    s = play(t, [0, 1, 2, 0, 1, 2])
    assert s.to_text() == "oxo\nxox"
    assert s.terminal and s.step_count == 6 == t.max_episode_steps
    assert not s.rewards.any() and s.winner is None
    assert not s.legal_action_mask.any()


def test_connect_one_wins_at_once() -> None:
    t = c4(rows=1, cols=1, connect=1)
    s = t.step(t.initial_state(), 0)
    assert s.terminal
    np.testing.assert_array_equal(s.rewards, [1.0, -1.0])


@pytest.mark.parametrize(("rows", "cols", "connect"), [(6, 7, 4), (4, 5, 3), (3, 3, 2), (5, 4, 5), (1, 6, 3)])
def test_random_games_agree_with_a_naive_referee(rows: int, cols: int, connect: int) -> None:
    t = c4(rows=rows, cols=cols, connect=connect)
    rng = np.random.default_rng(rows * 100 + cols * 10 + connect)
    for _ in range(30):
        s = t.initial_state()
        while not s.terminal:
            a = int(rng.choice(np.flatnonzero(s.legal_action_mask)))
            s2 = t.step(s, a)
            assert isinstance(s2, ConnectFourState)
            w = naive_winner(s2.board, rows, cols, connect)
            assert s2.winner == w
            assert s2.terminal == (w is not None or s2.step_count == rows * cols)
            # the canonical observation is the board seen by the player to move
            grid = np.frombuffer(s2.board, np.uint8).astype(np.int64)
            mine, theirs = s2.current_player + 1, 2 - s2.current_player
            np.testing.assert_array_equal(s2.observation == 1, grid == mine)
            np.testing.assert_array_equal(s2.observation == 2, grid == theirs)
            heights = [int((grid.reshape(rows, cols)[:, c] > 0).sum()) for c in range(cols)]
            assert list(s2.heights) == heights
            if not s2.terminal:
                np.testing.assert_array_equal(s2.legal_action_mask, np.array(heights) < rows)
            s = s2


def test_foreign_state_is_rejected() -> None:
    small, big = c4(rows=3, cols=4, connect=3), c4()
    with pytest.raises(ValueError, match="ConnectFourState"):
        big.step(small.initial_state(), 0)


def test_connect_n_variant_wins_with_its_own_n() -> None:
    """``connect_n`` (rows=4, cols=5, connect=3): three in a row on the bottom row wins for the first player."""
    task = make_task("connect_n", rows=4, cols=5, connect=3)
    assert task.name == "connect_n" and task.num_actions == 5 and task.seq_len == 20
    state = task.initial_state()
    for a in (0, 0, 1, 1, 2):
        state = task.step(state, a)
    assert state.terminal and state.rewards.tolist() == [1.0, -1.0]
    with pytest.raises(ValueError, match="connect_n: connect=6 cannot fit"):
        make_task("connect_n", rows=4, cols=5, connect=6)
    with pytest.raises(ValueError, match="connect_n: rows must be an integer"):
        make_task("connect_n", rows=2.5)
