"""OpenSpiel as an independent referee of the two-player games: the same seeded random playouts in both
implementations side by side, action ids passed through unchanged (the README's claim that action numbering
follows OpenSpiel). At every step the board text, the legal action sets, the player to move, the terminal
flag and the rewards of the last move agree, and so do the final returns."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from zeroforge.tasks import make_task

pyspiel = pytest.importorskip("pyspiel")

PLAYOUTS = 200

#: (our task, its parameters, OpenSpiel game, its parameters)
GAMES = [
    ("tictactoe", {}, "tic_tac_toe", {}),
    ("connect_four", {}, "connect_four", {}),
    ("connect_n", {"rows": 4, "cols": 5, "connect": 3}, "connect_four", {"rows": 4, "columns": 5, "x_in_row": 3}),
    ("nim", {}, "nim", {"pile_sizes": "1;3;5;7", "is_misere": False}),  # OpenSpiel's nim defaults to misère
    ("nim", {"piles": [2, 3, 4], "misere": True}, "nim", {"pile_sizes": "2;3;4", "is_misere": True}),
]


@pytest.mark.parametrize(("name", "params", "spiel_name", "spiel_params"), GAMES,
                         ids=["tictactoe", "connect_four", "connect_n-4x5-3", "nim-normal", "nim-misere-2-3-4"])
def test_random_playouts_agree_with_openspiel(name: str, params: dict[str, Any], spiel_name: str,
                                              spiel_params: dict[str, Any]) -> None:
    task = make_task(name, **params)
    game = pyspiel.load_game(spiel_name, spiel_params)
    assert task.num_players == game.num_players() == 2
    rng = np.random.default_rng(0)
    results: Counter[tuple[float, float]] = Counter()
    lengths = []
    for playout in range(PLAYOUTS):
        ours = task.initial_state(playout)
        theirs = game.new_initial_state()
        total = np.zeros(2)
        while True:
            where = f"playout {playout}, after {theirs.history()}"
            assert ours.to_text().strip() == str(theirs).strip(), where
            assert ours.terminal == theirs.is_terminal(), where
            if ours.terminal:
                break
            assert ours.current_player == theirs.current_player(), where
            legal = theirs.legal_actions()
            assert np.flatnonzero(ours.legal_action_mask).tolist() == legal, where
            action = int(rng.choice(legal))
            ours = task.step(ours, action)
            theirs.apply_action(action)
            assert ours.rewards.tolist() == theirs.rewards(), where
            total += ours.rewards
        assert total.tolist() == theirs.returns(), where
        results[(float(total[0]), float(total[1]))] += 1
        lengths.append(len(theirs.history()))
    # the playouts reach both players' wins (and draws where the game has them), at varied lengths
    assert results[(1.0, -1.0)] >= 10 and results[(-1.0, 1.0)] >= 10, results
    if name == "tictactoe":
        assert results[(0.0, 0.0)] >= 10, results
    assert len(set(lengths)) >= 4, sorted(set(lengths))
