"""Connect four (any ``rows x cols`` board, any ``connect`` length) as a pure MDP.

Actions follow OpenSpiel: the action is the column ``0 .. cols-1``; the stone falls to the lowest
free row of that column. Player 0 plays ``'x'`` and moves first, player 1 plays ``'o'``.

Cell order (``board`` and ``observation``): **row-major with row 0 at the top**, i.e.
``cell = row * cols + col`` and the bottom row is ``rows - 1``. (OpenSpiel stores row 0 at the
*bottom*; its text rendering, like ``to_text`` here, prints the top row first.)

State fields (see :mod:`zeroforge.tasks.base`):

- ``board``: ``bytes[rows * cols]`` in cell order; ``0`` empty, ``1`` an x (player 0's stone),
  ``2`` an o (player 1's stone). Absolute, not relative to the player to move.
- ``heights``: ``tuple[int, ...]`` of length ``cols``, the number of stones in each column.
- ``observation``: ``int64[rows * cols]`` in cell order, **canonical** for ``current_player``:
  ``0`` empty, ``1`` a stone of the player to move, ``2`` a stone of the opponent.
- ``legal_action_mask``: ``bool[cols]``, ``True`` on columns that are not full; all ``False`` once
  terminal.
- ``rewards``: ``float32[2]``; ``(+1, -1)`` / ``(-1, +1)`` on the move that makes ``connect`` in a
  row for player 0 / player 1, zeros otherwise (a full board without a line is a draw).
- ``current_player`` alternates and keeps alternating into the terminal state.
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

__all__ = ["ConnectFour", "ConnectFourState", "ConnectN"]

# Line directions as (d_row, d_col): horizontal, vertical, diagonal "\", anti-diagonal "/".
_DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))

Ray = tuple[int, ...]


@dataclass(frozen=True, eq=False)
class ConnectFourState(State):
    """A connect-four position: ``board`` bytes (row 0 = top) and the column ``heights``."""

    board: bytes
    heights: tuple[int, ...]

    def key(self) -> tuple[bytes, int]:
        """``(board bytes, current_player)``: identifies the position within its task."""
        return (self.board, self.current_player)

    @property
    def rows(self) -> int:
        return len(self.board) // len(self.heights)

    @property
    def cols(self) -> int:
        return len(self.heights)

    @property
    def grid(self) -> np.ndarray:
        """The board as a read-only ``int8[rows, cols]`` array (row 0 = top; 0 empty, 1 x, 2 o)."""
        return frozen_array(np.frombuffer(self.board, dtype=np.int8).reshape(self.rows, self.cols), np.int8)

    @property
    def winner(self) -> int | None:
        """The player who won on the move into this state, else ``None`` (nonterminal or draw)."""
        if self.rewards[0] > 0:
            return 0
        if self.rewards[1] > 0:
            return 1
        return None

    def to_text(self) -> str:
        """``rows`` lines, top row first, ``'x'`` / ``'o'`` / ``'.'``."""
        cols = self.cols
        marks = "".join(_MARKS[v] for v in self.board)
        return "\n".join(marks[r * cols : (r + 1) * cols] for r in range(self.rows))


def _check_size(task: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{task}: {name} must be an integer, got {value!r}")
    return int(value)


@register_task("connect_four")
class ConnectFour(Task):
    """Connect four on a ``rows x cols`` board, ``connect`` in a row wins (default 6 x 7, 4).

    ``num_actions = cols``, ``num_players = 2``, ``seq_len = rows * cols`` canonical tokens
    (0 empty, 1 mover's stone, 2 opponent's), ``vocab_size = 3``, ``max_episode_steps = rows * cols``.
    The seed of ``initial_state`` is ignored (there is one start).
    """

    name: ClassVar[str] = "connect_four"

    def __init__(self, rows: int = 6, cols: int = 7, connect: int = 4) -> None:
        rows = _check_size(self.name, "rows", rows)
        cols = _check_size(self.name, "cols", cols)
        connect = _check_size(self.name, "connect", connect)
        if rows < 1:
            raise ValueError(f"{self.name}: rows must be >= 1, got {rows}")
        if cols < 1:
            raise ValueError(f"{self.name}: cols must be >= 1, got {cols}")
        if connect < 1:
            raise ValueError(f"{self.name}: connect must be >= 1, got {connect}")
        if connect > max(rows, cols):
            raise ValueError(
                f"{self.name}: connect={connect} cannot fit on a {rows}x{cols} board "
                f"(must be <= max(rows, cols) = {max(rows, cols)})"
            )
        self.rows = rows
        self.cols = cols
        self.connect = connect
        self.num_actions = cols
        self.num_players = 2
        self.seq_len = rows * cols
        self.vocab_size = 3
        self.max_episode_steps = rows * cols
        self._no_actions = frozen_array([False] * cols, np.bool_)
        self._rays = self._build_rays()

    def _build_rays(self) -> tuple[tuple[tuple[Ray, Ray], ...], ...]:
        """For each cell and direction, the up-to ``connect - 1`` cells on each side, nearest first."""
        rows, cols, reach = self.rows, self.cols, self.connect - 1
        out = []
        for cell in range(rows * cols):
            r0, c0 = divmod(cell, cols)
            per_dir = []
            for dr, dc in _DIRECTIONS:
                sides = []
                for sign in (1, -1):
                    ray = []
                    for k in range(1, reach + 1):
                        r, c = r0 + sign * k * dr, c0 + sign * k * dc
                        if not (0 <= r < rows and 0 <= c < cols):
                            break
                        ray.append(r * cols + c)
                    sides.append(tuple(ray))
                # Skip directions where no line of `connect` can fit through this cell.
                if 1 + len(sides[0]) + len(sides[1]) >= self.connect:
                    per_dir.append((sides[0], sides[1]))
            out.append(tuple(per_dir))
        return tuple(out)

    def array_kernels(self) -> ArrayKernels | None:
        """The compiled step of :mod:`zeroforge.tasks.games.mnk_kernel` (``None`` without numba or for a
        board of more than 127 cells)."""
        if self.rows * self.cols > 127:
            return None
        return stone_kernels(self.rows, self.cols, self.connect, gravity=True)

    def _initial_state(self, seed: int, difficulty: int) -> ConnectFourState:
        n = self.rows * self.cols
        return ConnectFourState(
            current_player=0,
            legal_action_mask=frozen_array([True] * self.cols, np.bool_),
            terminal=False,
            rewards=_NO_REWARD,
            observation=frozen_array([0] * n, np.int64),
            step_count=0,
            board=bytes(n),
            heights=(0,) * self.cols,
        )

    def symmetries(self) -> tuple[np.ndarray, np.ndarray]:
        """Identity and the left-right mirror (cells row-major, actions = columns)."""
        cells = np.arange(self.rows * self.cols, dtype=np.int64).reshape(self.rows, self.cols)
        obs = np.stack([cells.ravel(), cells[:, ::-1].ravel()])
        cols = np.arange(self.cols, dtype=np.int64)
        return obs, np.stack([cols, cols[::-1]])

    def _step(self, state: State, action: int) -> ConnectFourState:
        if type(state) is not ConnectFourState or len(state.heights) != self.cols:
            raise ValueError(f"{self.name}: expected a ConnectFourState of a {self.rows}x{self.cols} board")
        player = state.current_player
        h = state.heights[action]
        cell = (self.rows - 1 - h) * self.cols + action
        old = state.board
        board = old[:cell] + _STONE[player] + old[cell + 1 :]
        heights = (*state.heights[:action], h + 1, *state.heights[action + 1 :])
        # Only lines through the new stone can have been completed.
        v = player + 1
        need = self.connect
        won = need == 1
        if not won:
            for fwd, bwd in self._rays[cell]:
                n = 1
                for i in fwd:
                    if board[i] != v:
                        break
                    n += 1
                for i in bwd:
                    if board[i] != v:
                        break
                    n += 1
                if n >= need:
                    won = True
                    break
        steps = state.step_count + 1
        nxt = 1 - player
        obs = canonical_observation(board, nxt)
        terminal, rewards = outcome(won, steps == self.max_episode_steps, player)
        if terminal:
            mask = self._no_actions
        else:
            mask = state.legal_action_mask
            if h + 1 == self.rows:  # the column is now full
                mask = mask.copy()
                mask[action] = False
                mask.flags.writeable = False
        return ConnectFourState(
            current_player=nxt,
            legal_action_mask=mask,
            terminal=terminal,
            rewards=rewards,
            observation=obs,
            step_count=steps,
            board=board,
            heights=heights,
        )

    def action_to_text(self, state: State, action: int) -> str:
        """``"col 3"`` for action 3 (the column the stone is dropped into)."""
        return f"col {int(action)}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rows={self.rows}, cols={self.cols}, connect={self.connect})"


@register_task("connect_n")
class ConnectN(ConnectFour):
    """Connect-N variants: the same game on any ``rows x cols`` board with ``connect`` in a row to win
    (default 5 x 5, connect 4: small enough to train in minutes). Same actions, tokens and texts as
    ``connect_four``; only the name and the defaults differ."""

    name: ClassVar[str] = "connect_n"

    def __init__(self, rows: int = 5, cols: int = 5, connect: int = 4) -> None:
        super().__init__(rows, cols, connect)
