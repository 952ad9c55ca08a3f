"""Gymnasium and PettingZoo views of the tasks: every single-agent task passes Gymnasium's env checker, every game
PettingZoo's API test, and known episodes give known rewards through them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from zeroforge.tasks import available_tasks, make_task

gymnasium = pytest.importorskip("gymnasium")
pettingzoo = pytest.importorskip("pettingzoo")

from gymnasium.utils.env_checker import check_env  # noqa: E402
from pettingzoo.test import api_test  # noqa: E402

from zeroforge.integrations.gym import TaskEnv, make_env, register_envs  # noqa: E402
from zeroforge.integrations.pettingzoo import GameEnv, game_env  # noqa: E402

SINGLE = [n for n in available_tasks() if make_task(n).num_players == 1]
GAMES = [n for n in available_tasks() if make_task(n).num_players == 2]


@pytest.mark.parametrize("name", SINGLE)
def test_every_single_agent_task_passes_gymnasiums_env_checker(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the checker's advice on render modes of envs made without gymnasium.make
        check_env(make_env(name, render_mode="ansi"))


def test_registered_envs_build_with_gymnasium_make() -> None:
    ids = register_envs()
    assert set(ids) == {f"zeroforge/{n}-v0" for n in SINGLE}
    env = gymnasium.make("zeroforge/maze-v0", size=3)
    obs, info = env.reset(seed=4)
    assert env.unwrapped.task.name == "maze" and obs["length"] > 0 and info["action_mask"].dtype == np.int8


def test_a_bfs_path_through_the_env_solves_the_maze() -> None:
    env = make_env("maze", size=4, render_mode="ansi")
    obs, info = env.reset(seed=11, options={"difficulty": 2})
    task = env.unwrapped.task if hasattr(env, "unwrapped") else env.task
    start = task.initial_state(11, 2)
    assert np.array_equal(obs["tokens"][: int(obs["length"])], np.asarray(start.observation).reshape(
        int(obs["length"]), -1))
    path = task.demonstration(start)
    total, terminated = 0.0, False
    for k, a in enumerate(path):
        assert info["action_mask"][a] == 1
        obs, reward, terminated, truncated, info = env.step(a)
        total += reward
        assert terminated == (k == len(path) - 1) and not truncated
    assert info["outcome"] == "success" and total > 0
    assert env.render() == env.state.to_text()
    with pytest.raises(ValueError, match="the episode has ended"):
        env.step(path[0])


def test_an_illegal_action_ends_the_episode_or_raises_when_strict() -> None:
    env = make_env("maze", size=3)
    _, info = env.reset(seed=0)
    illegal = int(np.flatnonzero(info["action_mask"] == 0)[0])
    _, reward, terminated, truncated, info = env.step(illegal)
    assert (reward, terminated, truncated, info["outcome"], info["illegal_action"]) == (-1.0, True, False,
                                                                                       "illegal", illegal)
    strict = TaskEnv(make_task("maze", size=3), strict=True)
    strict.reset(seed=0)
    with pytest.raises(ValueError, match=f"action {illegal} is illegal here"):
        strict.step(illegal)
    with pytest.raises(ValueError, match="TaskEnv is for single-agent tasks"):
        TaskEnv(make_task("tictactoe"))


@pytest.mark.parametrize("name", GAMES)
def test_every_game_passes_pettingzoos_api_test(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # advice: Dict observation spaces, all-zero first observations
        api_test(game_env(name), num_cycles=200)


def test_a_won_tictactoe_game_through_pettingzoo() -> None:
    env = game_env("tictactoe", render_mode="ansi")
    env.reset(seed=0)
    for a in (0, 3, 1, 4, 2):  # x takes the top row
        obs, _, term, _, _ = env.last()
        assert not term and obs["action_mask"][a] == 1
        env.step(a)
    assert env.rewards == {"player_0": 1.0, "player_1": -1.0}
    assert all(env.terminations.values())
    board = env.render()
    assert board.splitlines()[0] == "xxx"
    illegal = game_env("tictactoe")
    illegal.reset(seed=0)
    illegal.step(0)
    illegal.step(0)  # o plays an occupied cell: o loses
    assert illegal.rewards["player_1"] == -1 and all(illegal.terminations.values())
    with pytest.raises(ValueError, match="GameEnv is for two-player games"):
        GameEnv(make_task("maze"))
