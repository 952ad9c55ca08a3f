"""Gymnasium view of a single-agent zeroforge task (``TaskEnv``; the ``gym`` extra).

- ``action_space``: ``Discrete(num_actions)``; the legal actions of the current state are ``info["action_mask"]``
  (``int8[num_actions]``, 1 = legal), in the info of ``reset`` and of every ``step``
  (``action_space.sample(mask=info["action_mask"])`` draws a legal one). An illegal action ends the episode as a
  failure: reward ``illegal_reward`` (default -1), ``terminated``, ``info["outcome"] = "illegal"`` (as PettingZoo's
  classic games end a game on one); ``strict=True`` makes it a one-line ``ValueError`` instead.
- ``observation_space``: ``Dict(tokens=Box(0, vocab_size - 1, (seq_len, F), int64), length=Box(0, seq_len, (),
  int64))``: the state's tokens (``F = 1`` for flat tasks, 5 typed fields for structured ones), padded with zeros
  to ``seq_len`` rows; ``length`` says how many rows are real.
- ``reset(seed=s)`` starts the instance ``task.initial_state(s, difficulty)`` (the generator's instance of that
  seed; ``options={"difficulty": k}`` or the constructor's ``difficulty``, default the top level); without a seed
  the env's own ``np_random`` draws one.
- ``step``: the reward is the task's reward for the move; ``terminated`` when the task's episode ends,
  ``truncated`` at ``max_episode_steps`` without an end; ``info["outcome"]`` is the verifier's verdict once it ends.
- ``render_mode="ansi"``: ``render()`` returns the state as the task draws it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    import gymnasium
    from gymnasium import spaces
except ImportError as exc:  # pragma: no cover - the gym extra is not installed
    raise ImportError("zeroforge.integrations.gym needs gymnasium: pip install 'zeroforge[gym]'") from exc

from zeroforge.tasks.base import State, Task

__all__ = ["TaskEnv", "make_env", "register_envs"]


def _tokens(state: State) -> np.ndarray:
    obs = np.asarray(state.observation, np.int64)
    return obs.reshape(obs.shape[0], -1)


class TaskEnv(gymnasium.Env):
    """A single-agent ``task`` as a Gymnasium environment (module docstring)."""

    metadata = {"render_modes": ["ansi"]}  # noqa: RUF012  (gymnasium declares it so)

    def __init__(self, task: Task, difficulty: int | None = None, render_mode: str | None = None,
                 illegal_reward: float = -1.0, strict: bool = False) -> None:
        if task.num_players != 1:
            raise ValueError(f"TaskEnv is for single-agent tasks; {task.name!r} has {task.num_players} players "
                             f"(zeroforge.integrations.pettingzoo.GameEnv for games)")
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.task = task
        self.illegal_reward, self.strict = float(illegal_reward), strict
        self._ended = False
        self.difficulty = task.check_difficulty(difficulty)
        self.render_mode = render_mode
        probe = _tokens(task.initial_state(0, self.difficulty))
        self._fields = probe.shape[1]
        self._rows = max(task.seq_len, probe.shape[0])
        self.action_space = spaces.Discrete(task.num_actions)
        self.observation_space = spaces.Dict({
            "tokens": spaces.Box(0, task.vocab_size - 1, (self._rows, self._fields), np.int64),
            "length": spaces.Box(0, self._rows, (), np.int64),
        })
        self.state: State | None = None

    def _obs(self) -> dict[str, np.ndarray]:
        assert self.state is not None
        tok = _tokens(self.state)
        if tok.shape[0] > self._rows or tok.shape[1] != self._fields:
            raise ValueError(f"{self.task.name}: an observation of shape {tok.shape} does not fit the env's "
                             f"({self._rows}, {self._fields})")
        out = np.zeros((self._rows, self._fields), np.int64)
        out[: tok.shape[0]] = tok
        return {"tokens": out, "length": np.array(tok.shape[0], np.int64)}

    def _info(self) -> dict[str, Any]:
        assert self.state is not None
        info: dict[str, Any] = {"action_mask": self.state.legal_action_mask.astype(np.int8)}
        if self.state.terminal:
            info["outcome"] = self.task.outcome(self.state)
        return info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        level = self.task.check_difficulty((options or {}).get("difficulty", self.difficulty))
        instance = int(seed) if seed is not None else int(self.np_random.integers(2**31 - 1))
        self.state = self.task.initial_state(instance, level)
        self._ended = False
        return self._obs(), self._info()

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if self.state is None:
            raise ValueError("call reset() before step()")
        if self.state.terminal or self._ended:
            raise ValueError("the episode has ended; call reset()")
        a = int(action)
        if not 0 <= a < self.task.num_actions or not self.state.legal_action_mask[a]:
            if self.strict:
                raise ValueError(f"action {a} is illegal here (info['action_mask'] lists the legal ones)")
            self._ended = True
            info = {**self._info(), "outcome": "illegal", "illegal_action": a}
            return self._obs(), self.illegal_reward, True, False, info
        self.state = self.task.step(self.state, a)
        reward = float(self.state.rewards[0])
        terminated = bool(self.state.terminal)
        truncated = not terminated and self.state.step_count >= self.task.max_episode_steps
        info = self._info()
        if truncated:
            info["outcome"] = "timeout"
        return self._obs(), reward, terminated, truncated, info

    def render(self) -> str | None:
        if self.render_mode != "ansi" or self.state is None:
            return None
        return self.state.to_text()


def make_env(name: str, difficulty: int | None = None, render_mode: str | None = None, **params: Any) -> TaskEnv:
    """``TaskEnv`` of ``make_task(name, **params)``."""
    from zeroforge.tasks import make_task

    return TaskEnv(make_task(name, **params), difficulty, render_mode)


def register_envs() -> list[str]:
    """Register every single-agent task with Gymnasium as ``zeroforge/<task>-v0`` (``gymnasium.make`` then builds
    it, keyword arguments as ``make_env``'s); the ids registered."""
    from zeroforge.tasks import available_tasks, make_task

    ids = []
    for name in available_tasks():
        if make_task(name).num_players != 1:
            continue
        env_id = f"zeroforge/{name}-v0"
        if env_id not in gymnasium.registry:
            gymnasium.register(env_id, entry_point="zeroforge.integrations.gym:make_env", kwargs={"name": name})
        ids.append(env_id)
    return ids
