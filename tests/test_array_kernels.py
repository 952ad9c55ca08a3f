"""The compiled stone-game step (``Task.array_kernels``) is the same game as ``Task.step``, move by move."""

from __future__ import annotations

import numpy as np
import pytest

from zeroforge.jit import NUMBA_AVAILABLE
from zeroforge.tasks import make_task
from zeroforge.tasks.games.mnk_kernel import HEADER, encode_stone_state

pytestmark = pytest.mark.skipif(not NUMBA_AVAILABLE, reason="numba is not installed")

GAMES = [("tictactoe", {}), ("connect_four", {}), ("connect_n", {"rows": 5, "cols": 5, "connect": 4}),
         ("connect_n", {"rows": 3, "cols": 4, "connect": 3})]


@pytest.mark.parametrize(("name", "params"), GAMES)
def test_compiled_step_matches_python_step_on_random_games(name: str, params: dict[str, int]) -> None:
    task = make_task(name, **params)
    kernels = task.array_kernels()
    assert kernels is not None
    rng = np.random.default_rng(7)
    for _ in range(60):
        state = task.initial_state(0)
        vec = kernels.encode(state)
        assert vec.shape == (kernels.state_size,)
        while not state.terminal:
            action = int(rng.choice(np.flatnonzero(state.legal_action_mask)))
            dst = np.full_like(vec, 99)
            obs = np.full(task.seq_len, -1, np.int64)
            mask = np.zeros(task.num_actions, bool)
            to_play, terminal, reward = kernels.step(vec, action, dst, obs, mask)
            mover = state.current_player
            state = task.step(state, action)
            assert (to_play, terminal) == (state.current_player, state.terminal)
            assert np.float32(reward) == state.rewards[mover]
            np.testing.assert_array_equal(obs, state.observation)
            np.testing.assert_array_equal(mask, state.legal_action_mask)
            np.testing.assert_array_equal(dst, kernels.encode(state))
            vec = dst


def test_known_connect_four_win_and_encoding() -> None:
    """x plays column 0 four times while o plays column 1: x wins vertically on its 4th stone."""
    task = make_task("connect_four")
    k = task.array_kernels()
    assert k is not None
    vec = k.encode(task.initial_state(0))
    obs, mask = np.zeros(42, np.int64), np.zeros(7, bool)
    for action in (0, 1, 0, 1, 0, 1):
        nxt = np.zeros_like(vec)
        assert k.step(vec, action, nxt, obs, mask)[1] is False
        vec = nxt
    nxt = np.zeros_like(vec)
    to_play, terminal, reward = k.step(vec, 0, nxt, obs, mask)
    assert (to_play, terminal, float(reward)) == (1, True, 1.0)
    assert not mask.any()
    assert list(nxt[HEADER + 35 : HEADER + 42]) == [1, 2, 0, 0, 0, 0, 0]  # bottom row: x, o
    assert list(nxt[HEADER + 42 :]) == [4, 3, 0, 0, 0, 0, 0]  # column heights


def test_oversized_board_has_no_kernel() -> None:
    assert make_task("connect_n", rows=12, cols=12, connect=4).array_kernels() is None
    with pytest.raises(ValueError, match="127 cells"):
        encode_stone_state(make_task("connect_n", rows=12, cols=12, connect=4).initial_state(0), 12, 12, 4, True)
