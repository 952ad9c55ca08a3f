"""Any OpenSpiel board game as a zeroforge task (``make_task("openspiel", game="hex(board_size=5)")``; the
``openspiel`` extra).

The game must be a two-player, zero-sum, deterministic, sequential, perfect-information game whose observation
tensor is one-hot planes over board cells (``[planes, *cells]``, every cell in at most one plane): Hex,
Breakthrough, Clobber, Othello, Connect Four, Tic-tac-toe and most of OpenSpiel's board games. Anything else is
refused with one line naming what does not fit.

- observation: one token per cell, the index of its plane in ``observation_tensor(current player)`` (``planes``
  where no plane is set), then one token for the player to move (``planes + 1 + player``): ``seq_len = cells + 1``,
  ``vocab_size = planes + 3``;
- actions: OpenSpiel's distinct action ids (``num_actions = num_distinct_actions``), legal ones from
  ``legal_actions``; ``action_to_text`` is OpenSpiel's ``action_to_string``;
- rewards: OpenSpiel's returns at the end (+1 / -1 / 0 for these games), zero before;
- ``to_text``: OpenSpiel's board string.

States carry their action history (pickled and sent to worker processes as plain data); the OpenSpiel state is
rebuilt from it where a state arrives without one.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from zeroforge.tasks.base import State, Task, frozen_array
from zeroforge.tasks.registry import register_task

__all__ = ["OpenSpielState", "OpenSpielTask"]


@dataclass(frozen=True, eq=False)
class OpenSpielState(State):
    """A position of an OpenSpiel game: the actions played from its initial state (``history``) and the board as
    OpenSpiel draws it."""

    history: tuple[int, ...]
    board: str

    def key(self) -> tuple[int, ...]:
        return self.history

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_spiel", None)  # plain data across processes: the receiver rebuilds it from the history
        return state

    def to_text(self) -> str:
        return self.board


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """OpenSpiel's C++ prints its exceptions to stderr before Python sees them; the one-line error is ours."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _pyspiel() -> Any:
    try:
        import pyspiel
    except ImportError:
        raise ValueError("the openspiel task needs OpenSpiel: pip install 'zeroforge[openspiel]'") from None
    return pyspiel


@register_task("openspiel")
class OpenSpielTask(Task):
    """An OpenSpiel game (module docstring); ``game`` is OpenSpiel's game string, e.g. ``"hex(board_size=5)"``,
    ``"breakthrough(rows=6,columns=6)"``."""

    name = "openspiel"

    def __init__(self, game: str = "hex(board_size=5)") -> None:
        pyspiel = _pyspiel()
        if not isinstance(game, str) or not game.strip():
            raise ValueError(f"openspiel: game must be an OpenSpiel game string, got {game!r}")
        try:
            with _quiet_stderr():
                self.game = pyspiel.load_game(game)
        except pyspiel.SpielError as exc:
            raise ValueError(f"openspiel: cannot load {game!r}: {' '.join(str(exc).split())[:200]}") from None
        gt = self.game.get_type()
        problems = []
        if self.game.num_players() != 2:
            problems.append(f"{self.game.num_players()} players")
        if gt.utility != pyspiel.GameType.Utility.ZERO_SUM:
            problems.append("not zero-sum")
        if gt.chance_mode != pyspiel.GameType.ChanceMode.DETERMINISTIC:
            problems.append("chance moves")
        if gt.information != pyspiel.GameType.Information.PERFECT_INFORMATION:
            problems.append("imperfect information")
        if gt.dynamics != pyspiel.GameType.Dynamics.SEQUENTIAL:
            problems.append("simultaneous moves")
        if not gt.provides_observation_tensor:
            problems.append("no observation tensor")
        if problems:
            raise ValueError(f"openspiel: {game!r} does not fit (two-player zero-sum deterministic sequential "
                             f"perfect-information games only): {', '.join(problems)}")
        shape = tuple(self.game.observation_tensor_shape())
        if len(shape) < 2:
            raise ValueError(f"openspiel: {game!r} has a flat observation tensor {shape}; board planes needed")
        self.game_string = game
        self.planes, self.cells = shape[0], int(np.prod(shape[1:]))
        self.num_actions = self.game.num_distinct_actions()
        self.num_players = 2
        self.seq_len = self.cells + 1
        self.vocab_size = self.planes + 3
        self.max_episode_steps = self.game.max_game_length()
        self._root = self.game.new_initial_state()
        self._check_planes(self._root)

    def _check_planes(self, spiel: Any) -> None:
        t = np.asarray(spiel.observation_tensor(spiel.current_player()), np.float32).reshape(self.planes, self.cells)
        if not np.isin(t, (0.0, 1.0)).all() or (t.sum(axis=0) > 1).any():
            raise ValueError(f"openspiel: {self.game_string!r}: its observation tensor is not one-hot planes over "
                             f"cells")

    def _tokens(self, spiel: Any) -> np.ndarray:
        player = spiel.current_player() if not spiel.is_terminal() else 0
        t = np.asarray(spiel.observation_tensor(max(player, 0)), np.float32).reshape(self.planes, self.cells)
        cells = np.where(t.any(axis=0), t.argmax(axis=0), self.planes)
        return np.concatenate([cells, [self.planes + 1 + max(player, 0)]]).astype(np.int64)

    def _state(self, spiel: Any, history: tuple[int, ...]) -> OpenSpielState:
        terminal = bool(spiel.is_terminal())
        mask = np.zeros(self.num_actions, np.bool_)
        if not terminal:
            mask[spiel.legal_actions()] = True
        rewards = np.asarray(spiel.returns(), np.float32) if terminal else np.zeros(2, np.float32)
        state = OpenSpielState(
            current_player=0 if terminal else int(spiel.current_player()),
            legal_action_mask=frozen_array(mask, np.bool_), terminal=terminal,
            rewards=frozen_array(rewards, np.float32), observation=frozen_array(self._tokens(spiel), np.int64),
            step_count=len(history), history=history, board=str(spiel))
        object.__setattr__(state, "_spiel", spiel)  # not a field: a pickled state rebuilds it from its history
        return state

    def spiel_state(self, state: State) -> Any:
        """The OpenSpiel state of ``state`` (a clone: the caller may change it)."""
        spiel = getattr(state, "_spiel", None)
        if spiel is None:
            spiel = self._root.clone()
            for a in state.history:  # type: ignore[attr-defined]
                spiel.apply_action(a)
        return spiel.clone()

    def _initial_state(self, seed: int, difficulty: int) -> OpenSpielState:
        return self._state(self._root.clone(), ())

    def _step(self, state: State, action: int) -> OpenSpielState:
        spiel = self.spiel_state(state)
        spiel.apply_action(int(action))
        return self._state(spiel, (*state.history, int(action)))  # type: ignore[attr-defined]

    def action_to_text(self, state: State, action: int) -> str:
        spiel = getattr(state, "_spiel", None) or self.spiel_state(state)
        player = spiel.current_player() if not spiel.is_terminal() else 0
        return str(spiel.action_to_string(max(player, 0), int(action)))

    def __repr__(self) -> str:
        return f"OpenSpielTask(game={self.game_string!r})"
