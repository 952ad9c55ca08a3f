"""The openspiel task: any OpenSpiel board game as a zeroforge task, checked move for move against OpenSpiel."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

pyspiel = pytest.importorskip("pyspiel")

from zeroforge.tasks import make_task  # noqa: E402
from zeroforge.tasks.games.openspiel import OpenSpielTask  # noqa: E402

GAMES = ["hex(board_size=5)", "breakthrough(rows=6,columns=6)", "clobber(rows=4,columns=4)", "tic_tac_toe"]


@pytest.mark.parametrize("game", GAMES)
def test_random_games_agree_with_openspiel_move_for_move(game: str) -> None:
    task = make_task("openspiel", game=game)
    ref_game = pyspiel.load_game(game)
    rng = np.random.default_rng(0)
    for _ in range(5):
        state, ref = task.initial_state(0), ref_game.new_initial_state()
        while not ref.is_terminal():
            assert not state.terminal and state.current_player == ref.current_player()
            assert np.flatnonzero(state.legal_action_mask).tolist() == ref.legal_actions()
            assert state.to_text() == str(ref)
            a = int(rng.choice(ref.legal_actions()))
            assert task.action_to_text(state, a) == ref.action_to_string(ref.current_player(), a)
            state = task.step(state, a)
            ref.apply_action(a)
        assert state.terminal and state.rewards.tolist() == ref.returns()
        assert task.outcome(state) == "success" and len(state.history) == state.step_count


def test_a_known_hex_win_and_the_tokens() -> None:
    task = make_task("openspiel", game="hex(board_size=3)")
    # x (first) connects top and bottom down the first column; o plays in the last column
    state = task.initial_state(0)
    for a in (0, 2, 3, 5, 6):
        state = task.step(state, a)
    assert state.terminal and state.rewards.tolist() == [1.0, -1.0]
    t = task.initial_state(0)
    assert t.observation.shape == (task.seq_len,) == (10,) and t.observation[-1] == task.planes + 1  # x to move
    after = task.step(t, 4)
    assert after.observation[4] != t.observation[4] and after.observation[-1] == task.planes + 2  # o to move
    assert int(after.observation.max()) < task.vocab_size


def test_states_pickle_and_rebuild_their_openspiel_state() -> None:
    task = make_task("openspiel", game="hex(board_size=5)")
    s = task.step(task.step(task.initial_state(0), 12), 7)
    back = pickle.loads(pickle.dumps(s))
    assert back == s and not hasattr(back, "_spiel")
    nxt = task.step(back, 0)  # rebuilt from the history
    assert nxt.history == (12, 7, 0) and nxt == task.step(s, 0)


@pytest.mark.parametrize(("game", "message"), [
    ("kuhn_poker", "does not fit (two-player zero-sum deterministic sequential perfect-information games only): "
                   "chance moves, imperfect information"),
    ("no_such_game", "openspiel: cannot load 'no_such_game': Unknown game"),
    ("hex(board_size=x)", "cannot load 'hex(board_size=x)'"),
    ("", "game must be an OpenSpiel game string"),
])
def test_games_that_do_not_fit_are_one_line_errors(game: str, message: str) -> None:
    with pytest.raises(ValueError) as err:
        OpenSpielTask(game)
    assert message in str(err.value)
