"""The compiled step of the stone games (tic-tac-toe, connect four, connect-N) over ``int8`` state vectors.

Layout of a state vector (``int8[8 + rows * cols + cols]``): a header ``[to_play, terminal, step_count,
rows, cols, connect, gravity, 0]``, then the board in cell order (``row * cols + col``, row 0 at the top;
``0`` empty, ``1`` player 0's stone, ``2`` player 1's), then the column heights (used when ``gravity``).
The board's shape travels in the header, so one compiled function serves every board.

Actions: with ``gravity`` the column (the stone falls to the lowest free row, connect four); without it the
cell (tic-tac-toe). Observation: the board canonical for the player to move (``0`` empty, ``1`` own stone,
``2`` the opponent's). Rewards: ``+1`` to the mover who completes ``connect`` in a row (the opponent gets
``-1``); a full board without a line is a draw (``0``). The same game as ``TicTacToe._step`` and
``ConnectFour._step``, which a test checks move by move.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from zeroforge.jit import NUMBA_AVAILABLE, jit
from zeroforge.tasks.base import State
from zeroforge.tasks.kernels import KIND_STONE_GAMES, ArrayKernels

__all__ = ["HEADER", "encode_stone_state", "mnk_step", "stone_kernels"]

HEADER = 8
_TO_PLAY, _TERMINAL, _STEP, _ROWS, _COLS, _CONNECT, _GRAVITY = range(7)


@jit
def _line_length(board: np.ndarray, rows: int, cols: int, r0: int, c0: int, dr: int, dc: int, v: int) -> int:
    """Stones ``v`` in a row through ``(r0, c0)`` along ``(dr, dc)`` (both ways, the cell itself counted)."""
    n = 1
    for sign in (1, -1):
        r, c = r0 + sign * dr, c0 + sign * dc
        while 0 <= r < rows and 0 <= c < cols and board[r * cols + c] == v:
            n += 1
            r += sign * dr
            c += sign * dc
    return n


@jit
def mnk_step(src: np.ndarray, action: int, dst: np.ndarray, obs: np.ndarray,
             mask: np.ndarray) -> tuple[int, bool, np.float32]:
    """``dst, obs, mask <- step(src, action)``; returns ``(to_play, terminal, reward of the mover)``."""
    dst[:] = src
    rows, cols, connect = int(src[_ROWS]), int(src[_COLS]), int(src[_CONNECT])
    cells = rows * cols
    board = dst[HEADER : HEADER + cells]
    heights = dst[HEADER + cells : HEADER + cells + cols]
    player = int(src[_TO_PLAY])
    if src[_GRAVITY] != 0:
        col = action
        row = rows - 1 - int(heights[col])
        heights[col] += 1
    else:
        row, col = action // cols, action % cols
    v = player + 1
    board[row * cols + col] = v
    won = bool(connect <= 1)
    if not won:
        for d in range(4):
            dr = 0 if d == 0 else 1
            dc = 1 if d == 0 else (0 if d == 1 else (1 if d == 2 else -1))
            if _line_length(board, rows, cols, row, col, dr, dc, v) >= connect:
                won = True
                break
    steps = int(src[_STEP]) + 1
    terminal = bool(won or steps == cells)
    nxt = 1 - player
    dst[_TO_PLAY] = nxt
    dst[_TERMINAL] = 1 if terminal else 0
    dst[_STEP] = steps
    for i in range(cells):
        b = board[i]
        obs[i] = 0 if b == 0 else (1 if b == nxt + 1 else 2)
    if src[_GRAVITY] != 0:
        for a in range(cols):
            mask[a] = (not terminal) and heights[a] < rows
    else:
        for a in range(cells):
            mask[a] = (not terminal) and board[a] == 0
    reward = np.float32(1.0) if won else np.float32(0.0)
    return nxt, terminal, reward


def encode_stone_state(state: State, rows: int, cols: int, connect: int, gravity: bool) -> np.ndarray:
    """The ``int8`` vector of a tic-tac-toe / connect-four ``state`` (which has ``board`` bytes)."""
    cells = rows * cols
    if cells > 127:
        raise ValueError(f"the compiled stone-game step holds at most 127 cells, got {rows}x{cols}")
    board = np.frombuffer(state.board, dtype=np.int8)  # type: ignore[attr-defined]
    out = np.zeros(HEADER + cells + cols, np.int8)
    out[:HEADER] = (state.current_player, int(state.terminal), state.step_count, rows, cols, connect,
                    int(gravity), 0)
    out[HEADER : HEADER + cells] = board
    if gravity:
        out[HEADER + cells :] = np.count_nonzero(board.reshape(rows, cols), axis=0)
    return out


def stone_kernels(rows: int, cols: int, connect: int, gravity: bool) -> ArrayKernels | None:
    """The ``ArrayKernels`` of a stone game, ``None`` without numba or above 127 cells."""
    if not NUMBA_AVAILABLE or rows * cols > 127:
        return None
    return ArrayKernels(KIND_STONE_GAMES, HEADER + rows * cols + cols, mnk_step,
                        partial(encode_stone_state, rows=rows, cols=cols, connect=connect, gravity=gravity))
