"""PettingZoo AEC view of a two-player zeroforge game (``GameEnv``, ``game_env``; the ``gym`` extra).

Laid out like PettingZoo's classic games: agents ``player_0`` (moves first) and ``player_1``; each observes
``{"observation": int64[seq_len], "action_mask": int8[num_actions]}`` — the game state's tokens as zeroforge's nets
see them, and the legal moves (all zero for the agent not to move). Rewards are the game's (+1 win, -1 loss, 0
draw) when it ends; an illegal move loses the game for its player (``game_env`` wraps the raw env in PettingZoo's
``TerminateIllegalWrapper``, as its classic games do). ``render_mode="ansi"`` renders the board as the game draws
it. ``reset(seed)`` seeds the opening state the game draws (``task.initial_state(seed)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    from gymnasium import spaces
    from pettingzoo import AECEnv
    from pettingzoo.utils import AgentSelector, wrappers
except ImportError as exc:  # pragma: no cover - the gym extra is not installed
    raise ImportError("zeroforge.integrations.pettingzoo needs pettingzoo: pip install 'zeroforge[gym]'") from exc

from zeroforge.tasks.base import State, Task

__all__ = ["GameEnv", "game_env"]


class GameEnv(AECEnv):
    """A two-player ``task`` as a PettingZoo AEC environment (module docstring); the raw env, without wrappers."""

    metadata = {"render_modes": ["ansi"], "name": "zeroforge_game_v0",  # noqa: RUF012  (as pettingzoo's)
                "is_parallelizable": False}

    def __init__(self, task: Task, render_mode: str | None = None) -> None:
        super().__init__()
        if task.num_players != 2:
            raise ValueError(f"GameEnv is for two-player games; {task.name!r} is single-agent "
                             f"(zeroforge.integrations.gym.TaskEnv)")
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.task, self.render_mode = task, render_mode
        self.metadata = {**self.metadata, "name": f"zeroforge_{task.name}_v0"}
        self.possible_agents = ["player_0", "player_1"]
        self.agents = self.possible_agents[:]
        obs = np.asarray(task.initial_state(0).observation)
        if obs.ndim != 1:
            raise ValueError(f"{task.name}: GameEnv needs flat observations, got shape {obs.shape}")
        self._obs_space = spaces.Dict({
            "observation": spaces.Box(0, task.vocab_size - 1, obs.shape, np.int64),
            "action_mask": spaces.Box(0, 1, (task.num_actions,), np.int8),
        })
        self._act_space = spaces.Discrete(task.num_actions)
        self.state_: State = task.initial_state(0)
        self._selector = AgentSelector(self.agents)

    def observation_space(self, agent: str) -> spaces.Space:
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Space:
        return self._act_space

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        mask = np.zeros(self.task.num_actions, np.int8)
        if agent == self.agent_selection and not self.state_.terminal:
            mask[:] = self.state_.legal_action_mask
        return {"observation": np.asarray(self.state_.observation, np.int64), "action_mask": mask}

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        self.state_ = self.task.initial_state(0 if seed is None else int(seed))
        self.agents = self.possible_agents[:]
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos: dict[str, dict[str, Any]] = {a: {} for a in self.agents}
        self.agent_selection = self.possible_agents[self.state_.current_player]

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        a = int(action)
        if not self.state_.legal_action_mask[a]:
            raise ValueError(f"action {a} is illegal here (the observation's action_mask lists the legal ones)")
        self._cumulative_rewards[agent] = 0.0
        self.state_ = self.task.step(self.state_, a)
        self.rewards = {p: float(self.state_.rewards[i]) for i, p in enumerate(self.possible_agents)}
        if self.state_.terminal:
            self.terminations = dict.fromkeys(self.agents, True)
        else:
            self.agent_selection = self.possible_agents[self.state_.current_player]
        self._accumulate_rewards()
        if self.state_.terminal:  # PettingZoo's convention: the next agent steps None out of the game
            self.agent_selection = self.possible_agents[1 - self.possible_agents.index(agent)]

    def render(self) -> str | None:
        return self.state_.to_text() if self.render_mode == "ansi" else None

    def close(self) -> None:
        pass


def game_env(name: str, render_mode: str | None = None, **params: Any) -> AECEnv:
    """``GameEnv`` of ``make_task(name, **params)`` in PettingZoo's classic wrappers: an illegal move loses the
    game (reward -1), an action out of range is an error, and the call order is enforced."""
    from zeroforge.tasks import make_task

    env = GameEnv(make_task(name, **params), render_mode)
    env = wrappers.TerminateIllegalWrapper(env, illegal_reward=-1)
    env = wrappers.AssertOutOfBoundsWrapper(env)
    return wrappers.OrderEnforcingWrapper(env)
