"""Two-player games (OpenSpiel conventions) and an exact solver for small ones."""

from zeroforge.tasks.games.connect_four import ConnectFour, ConnectFourState
from zeroforge.tasks.games.nim import Nim, NimState
from zeroforge.tasks.games.openspiel import OpenSpielState, OpenSpielTask
from zeroforge.tasks.games.solver import NegamaxSolver, optimal_actions, solve
from zeroforge.tasks.games.tictactoe import TicTacToe, TicTacToeState

__all__ = [
    "ConnectFour",
    "ConnectFourState",
    "NegamaxSolver",
    "Nim",
    "NimState",
    "OpenSpielState",
    "OpenSpielTask",
    "TicTacToe",
    "TicTacToeState",
    "optimal_actions",
    "solve",
]
