"""What the two-player stone games (tic-tac-toe, connect four) share: board encoding and outcomes.

Boards are ``bytes`` of cells: 0 empty, 1 = player 0's stone (x), 2 = player 1's stone (o).
"""

from __future__ import annotations

import numpy as np

from zeroforge.tasks.base import frozen_array

__all__ = ["MARKS", "NO_REWARD", "STONE", "WIN_REWARD", "canonical_observation", "outcome"]

MARKS = ".xo"  # board value -> character
STONE: tuple[bytes, bytes] = (b"\x01", b"\x02")  # stone of player 0 / player 1
# bytes.translate tables: absolute board values -> canonical tokens for the player to move
# (0 empty, 1 own stone, 2 opponent's stone).
_CANONICAL: tuple[bytes, bytes] = (
    bytes.maketrans(b"\x00\x01\x02", b"\x00\x01\x02"),
    bytes.maketrans(b"\x00\x01\x02", b"\x00\x02\x01"),
)
# Shared read-only arrays (states are immutable, so they can share them).
NO_REWARD = frozen_array([0.0, 0.0], np.float32)
WIN_REWARD = (frozen_array([1.0, -1.0], np.float32), frozen_array([-1.0, 1.0], np.float32))


def canonical_observation(board: bytes, player: int) -> np.ndarray:
    """Read-only ``int64[cells]`` tokens of ``board`` seen by ``player`` (the player to move)."""
    obs = np.frombuffer(board.translate(_CANONICAL[player]), dtype=np.uint8).astype(np.int64)
    obs.flags.writeable = False
    return obs


def outcome(won: bool, full: bool, mover: int) -> tuple[bool, np.ndarray]:
    """``(terminal, rewards float32[2])`` after ``mover`` placed a stone that ``won`` or filled the board."""
    if won:
        return True, WIN_REWARD[mover]
    return full, NO_REWARD
