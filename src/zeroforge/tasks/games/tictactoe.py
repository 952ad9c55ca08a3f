"""Tic-tac-toe as a pure MDP, with OpenSpiel's conventions (so OpenSpiel can referee).

Board: 3x3 cells, numbered ``cell = row * 3 + col`` with row 0 at the top; the action is the cell.
Player 0 plays ``'x'`` and moves first, player 1 plays ``'o'``.

State fields (see :mod:`zeroforge.tasks.base`):

- ``board``: ``bytes`` of length 9 in cell order; ``0`` empty, ``1`` an x (player 0's stone),
  ``2`` an o (player 1's stone). Absolute, not relative to the player to move.
- ``observation``: ``int64[9]`` in cell order, **canonical** for ``current_player``: ``0`` empty,
  ``1`` a stone of the player to move, ``2`` a stone of the opponent. ``vocab_size = 3``.
- ``legal_action_mask``: ``bool[9]``, ``True`` on empty cells; all ``False`` once terminal.
- ``rewards``: ``float32[2]``; ``(+1, -1)`` / ``(-1, +1)`` on the move that completes a line for
  player 0 / player 1, zeros otherwise (draws included).
- ``current_player``: alternates 0, 1, 0, ... and keeps alternating into the terminal state (so at a
  terminal state after a win, ``current_player`` is the loser).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from zeroforge.tasks.base import State, Task, frozen_array
from zeroforge.tasks.games.mnk_kernel import stone_kernels
from zeroforge.tasks.games.stones import MARKS as _MARKS
from zeroforge.tasks.games.stones import NO_REWARD as _NO_REWARD
from zeroforge.tasks.games.stones import STONE as _STONE
from zeroforge.tasks.games.stones import canonical_observation, outcome
from zeroforge.tasks.registry import register_task

if TYPE_CHECKING:
    from zeroforge.tasks.kernels import ArrayKernels

__all__ = ["TicTacToe", "TicTacToeState"]

_N = 9

_LINES: tuple[tuple[int, int, int], ...] = (
    (0, 1, 2),
    (3, 4, 5),
    (6, 7, 8),  # rows
    (0, 3, 6),
    (1, 4, 7),
    (2, 5, 8),  # columns
    (0, 4, 8),
    (2, 4, 6),  # diagonals
)


def _other_two(line: tuple[int, int, int], cell: int) -> tuple[int, int]:
    i, j = (c for c in line if c != cell)
    return (i, j)


# For each cell, the pairs of *other* cells that complete a line through it.
_LINES_THROUGH: tuple[tuple[tuple[int, int], ...], ...] = tuple(
    tuple(_other_two(line, cell) for line in _LINES if cell in line) for cell in range(_N)
)
_NO_ACTIONS = frozen_array([False] * _N, np.bool_)


@dataclass(frozen=True, eq=False)
class TicTacToeState(State):
    """A tic-tac-toe position. ``board`` is ``bytes[9]`` (0 empty, 1 x / player 0, 2 o / player 1)."""

    board: bytes

    def key(self) -> tuple[bytes, int]:
        """``(board bytes, current_player)``: identifies the position (step_count = stones played)."""
        return (self.board, self.current_player)

    @property
    def grid(self) -> np.ndarray:
        """The board as a read-only ``int8[3, 3]`` array (row 0 = top; 0 empty, 1 x, 2 o)."""
        return frozen_array(np.frombuffer(self.board, dtype=np.int8).reshape(3, 3), np.int8)

    @property
    def winner(self) -> int | None:
        """The player who won on the move into this state, else ``None`` (nonterminal or draw)."""
        if self.rewards[0] > 0:
            return 0
        if self.rewards[1] > 0:
            return 1
        return None

    def to_text(self) -> str:
        """Three lines, top row first, ``'x'`` / ``'o'`` / ``'.'``, e.g. ``"x.o\\n.x.\\n..o"``."""
        marks = [_MARKS[v] for v in self.board]
        return "\n".join("".join(marks[r * 3 : r * 3 + 3]) for r in range(3))


@register_task("tictactoe")
class TicTacToe(Task):
    """Tic-tac-toe: 9 actions (cells, ``row * 3 + col``), 2 players, x (player 0) first.

    ``seq_len = 9`` canonical tokens (0 empty, 1 mover's stone, 2 opponent's), ``vocab_size = 3``,
    ``max_episode_steps = 9``. The seed of ``initial_state`` is ignored (there is one start).
    """

    name: ClassVar[str] = "tictactoe"
    num_actions = _N
    num_players = 2
    seq_len = _N
    vocab_size = 3
    max_episode_steps = _N
    solvable = True

    def symmetries(self) -> tuple[np.ndarray, np.ndarray]:
        """The 8 symmetries of the square (identity first); cells and actions permute alike."""
        grid = np.arange(_N, dtype=np.int64).reshape(3, 3)
        perms = []
        for k in range(4):
            rot = np.rot90(grid, k)
            perms += [rot.ravel(), np.fliplr(rot).ravel()]
        table = np.stack(perms)
        return table, table.copy()

    def array_kernels(self) -> ArrayKernels | None:
        """The compiled step of :mod:`zeroforge.tasks.games.mnk_kernel` (``None`` without numba)."""
        return stone_kernels(3, 3, 3, gravity=False)

    def _initial_state(self, seed: int, difficulty: int) -> TicTacToeState:
        return TicTacToeState(
            current_player=0,
            legal_action_mask=frozen_array([True] * _N, np.bool_),
            terminal=False,
            rewards=_NO_REWARD,
            observation=frozen_array([0] * _N, np.int64),
            step_count=0,
            board=bytes(_N),
        )

    def _step(self, state: State, action: int) -> TicTacToeState:
        if type(state) is not TicTacToeState:
            raise ValueError(f"{self.name}: expected a TicTacToeState, got {type(state).__name__}")
        player = state.current_player
        old = state.board
        board = old[:action] + _STONE[player] + old[action + 1 :]
        v = player + 1
        won = False
        for i, j in _LINES_THROUGH[action]:
            if board[i] == v and board[j] == v:
                won = True
                break
        steps = state.step_count + 1
        nxt = 1 - player
        obs = canonical_observation(board, nxt)
        terminal, rewards = outcome(won, steps == _N, player)
        if terminal:
            mask = _NO_ACTIONS
        else:
            mask = state.legal_action_mask.copy()
            mask[action] = False
            mask.flags.writeable = False
        return TicTacToeState(
            current_player=nxt,
            legal_action_mask=mask,
            terminal=terminal,
            rewards=rewards,
            observation=obs,
            step_count=steps,
            board=board,
        )

    def action_to_text(self, state: State, action: int) -> str:
        """OpenSpiel style: the mover's mark and ``(row,col)``, e.g. ``"x(1,2)"`` for action 5."""
        a = int(action)
        return f"{_MARKS[state.current_player + 1]}({a // 3},{a % 3})"

    def __repr__(self) -> str:
        return "TicTacToe()"
