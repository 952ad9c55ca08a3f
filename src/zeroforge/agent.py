"""``Agent``: a trained net plus its search settings; ``load_agent`` rebuilds one from a checkpoint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zeroforge.config import ZeroforgeConfig
from zeroforge.search.evaluator import NetworkEvaluator
from zeroforge.search.mcts import make_mcts
from zeroforge.search.params import MCTSConfig
from zeroforge.search.trace import MCTSTrace
from zeroforge.tasks.base import State, Task

__all__ = ["Agent", "create_agent", "create_hrm_agent", "create_trm_agent", "family_agent", "load_agent",
           "untrained_agent"]


class Agent:
    """Plays ``task`` with PUCT search (``num_simulations``, no noise, most visited action) guided by ``net``.

    ``select_action`` is deterministic: the same state always gets the same action.
    """

    def __init__(self, task: Task, net: torch.nn.Module, mcts_config: MCTSConfig, num_simulations: int,
                 name: str = "agent", device: str = "cpu", config: ZeroforgeConfig | None = None) -> None:
        self.task = task
        self.config = config
        self.net = net
        self.name = name
        self.num_simulations = num_simulations
        self.evaluator = NetworkEvaluator(net, device)
        self.mcts = make_mcts(task, self.evaluator, mcts_config)

    def search(self, states: Sequence[State]) -> list[MCTSTrace]:
        """The search traces behind ``select_actions`` (one per state)."""
        return self.mcts.search(states, np.random.default_rng(0), add_noise=False, temperatures=0.0,
                                num_simulations=self.num_simulations)

    def select_actions(self, states: Sequence[State]) -> list[int]:
        """One action per state, all states searched together in one batch."""
        return [t.selected_action for t in self.search(states)]

    def select_action(self, state: State) -> int:
        """The action to play in ``state`` (which must not be terminal)."""
        return self.select_actions([state])[0]

    def act(self, states: Sequence[State], rng: np.random.Generator) -> list[int]:
        """The arena's ``Player`` interface (``rng`` is unused: the agent is deterministic)."""
        return self.select_actions(states)

    def solve(self, state: State) -> tuple[list[State], list[int]]:
        """Play a single-agent episode from ``state`` to its end (or ``task.max_episode_steps`` moves):
        the states visited (``state`` first) and the actions played."""
        states: list[State] = [state]
        actions: list[int] = []
        while not states[-1].terminal and len(actions) < self.task.max_episode_steps:
            a = self.select_action(states[-1])
            actions.append(a)
            states.append(self.task.step(states[-1], a))
        return states, actions

    def confidence(self, state: State) -> float | None:
        """A recursive net's (``TRMNet``, ``HRMNet``) own estimate that its answer in ``state`` is right: the
        halting head's probability after its last segment; ``None`` for the other nets."""
        from zeroforge.nets.recursive import recursive_core

        core = recursive_core(self.net)
        if core is None:
            return None
        self.evaluator.evaluate_states(self.task, [state])
        assert core.last_halt_probability is not None
        return float(core.last_halt_probability[0])

    def policy(self, state: State) -> np.ndarray:
        """The raw net's move probabilities ``float32[A]`` (no search)."""
        priors, _ = self.evaluator.evaluate_states(self.task, [state])
        return priors[0]


def load_agent(path: str | Path, num_simulations: int | None = None, device: str = "cpu",
               recurrence: int | None = None, adaptive_halting: bool | None = None) -> Agent:
    """The best net of a run directory's newest complete checkpoint, or of a checkpoint directory.

    ``recurrence`` overrides a recurrent size-free net's number of passes (``net.recurrence``): more passes carry
    information further across a larger instance than any trained (``PointerNet``); a one-line ``ValueError`` for
    a net without recurrence. ``adaptive_halting`` overrides a TRM / HRM net's ``net.trm.adaptive_halting``
    (``RecursiveNet``: each row stops thinking when its halting head says so); a ``ValueError`` for other nets."""
    from zeroforge.checkpoint import load_checkpoint
    from zeroforge.device import resolve_device
    from zeroforge.nets import build_net
    from zeroforge.nets.recursive import recursive_core
    from zeroforge.runstate import checkpoint_config, find_checkpoint
    from zeroforge.tasks import make_task

    p = find_checkpoint(path)
    ckpt = load_checkpoint(p)
    cfg = checkpoint_config(ckpt)
    task = make_task(cfg.task.name, **cfg.task.params)
    net = build_net(cfg.net, task)
    ckpt.load_weights(net, "best")
    if recurrence is not None:
        set_recurrence(net, recurrence)
    if adaptive_halting is not None:
        core = recursive_core(net)
        if core is None:
            raise ValueError(f"adaptive halting applies to the recursive nets (net.kind: trm, hrm), not to "
                             f"net kind {cfg.net.kind!r}")
        core.adaptive_halting = adaptive_halting
    net.to(resolve_device(device, "device"))
    sims = cfg.agent_simulations if num_simulations is None else num_simulations
    return Agent(task, net, cfg.mcts, sims, name=f"{cfg.task.name}@{p.name}", device=device, config=cfg)


def create_agent(config: ZeroforgeConfig | Mapping[str, Any] | None = None, kind: str | None = None,
                 device: str = "cpu", num_simulations: int | None = None) -> Agent:
    """A new, untrained agent for ``config``'s task (a ``ZeroforgeConfig`` or its nested dict; default: the
    embedded default): its net of ``kind`` (default ``config.net.kind``) seeded by ``config.seed``, its search
    ``config.mcts`` with ``num_simulations`` (default ``config.agent_simulations``). Its ``config`` names the net it
    has, so ``SelfPlayTrainer(agent=...)`` trains exactly it."""
    from dataclasses import replace

    from zeroforge.config import config_from_dict
    from zeroforge.device import resolve_device
    from zeroforge.tasks import make_task

    cfg = config if isinstance(config, ZeroforgeConfig) else config_from_dict(ZeroforgeConfig, dict(config or {}))
    if kind is not None:
        cfg = replace(cfg, net=replace(cfg.net, kind=kind))
    task = make_task(cfg.task.name, **cfg.task.params)
    net = seeded_net(cfg, task)
    net.to(resolve_device(device, "device"))
    sims = cfg.agent_simulations if num_simulations is None else num_simulations
    return Agent(task, net, cfg.mcts, sims, name=f"{cfg.task.name}-{cfg.net.kind}", device=device, config=cfg)


def create_trm_agent(config: ZeroforgeConfig | Mapping[str, Any] | None = None, device: str = "cpu",
                     num_simulations: int | None = None) -> Agent:
    """A new Tiny Recursive Model agent (``net.kind: trm``, ``zeroforge.nets.trm``; ``config.net.trm`` sets its
    recursion) for ``config``'s task: ``create_agent`` with ``kind="trm"``."""
    return create_agent(config, "trm", device, num_simulations)


def create_hrm_agent(config: ZeroforgeConfig | Mapping[str, Any] | None = None, device: str = "cpu",
                     num_simulations: int | None = None) -> Agent:
    """A new Hierarchical Reasoning Model agent (``net.kind: hrm``, ``zeroforge.nets.hrm``; ``config.net.hrm``)
    for ``config``'s task: ``create_agent`` with ``kind="hrm"``."""
    return create_agent(config, "hrm", device, num_simulations)


def set_recurrence(net: torch.nn.Module, recurrence: int) -> None:
    """Give a recurrent net (``PointerNet``) ``recurrence`` passes; a one-line ``ValueError`` for any other net or a
    count below 1 (``PointerNet.recurrence`` checks the count)."""
    if not hasattr(net, "recurrence"):
        raise ValueError(f"recurrence applies to the size-free pointer net (net.kind: pointer), not to "
                         f"{type(net).__name__}")
    setattr(net, "recurrence", recurrence)  # noqa: B010 (nn.Module's attribute typing)


def seeded_net(cfg: ZeroforgeConfig, task: Task) -> torch.nn.Module:
    """The untrained net of ``cfg.net`` for ``task`` with the weights a run of ``cfg`` starts from (``cfg.seed``);
    the caller's torch RNG stream is left as it was."""
    from zeroforge.nets import build_net

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        return build_net(cfg.net, task)


def untrained_agent(agent: Agent) -> Agent:
    """The same task, net architecture and search as ``agent`` with the untrained weights its run started
    from (the run's seed): the "before training" reference of held-out evaluations."""

    if agent.config is None:
        raise ValueError("untrained_agent needs an agent loaded from a run (load_agent)")
    cfg = agent.config
    net = seeded_net(cfg, agent.task)
    if hasattr(agent.net, "recurrence"):  # the same passes as the agent it is compared with
        set_recurrence(net, int(getattr(agent.net, "recurrence")))  # noqa: B009
    device = str(next(agent.net.parameters()).device)
    return Agent(agent.task, net.to(device), cfg.mcts, agent.num_simulations, name=f"{agent.name}-untrained",
                 device=device, config=cfg)


def family_agent(agent: Agent, family: str) -> Agent:
    """``agent`` acting on task ``family``: itself when it was trained on that task, the same net and search on the
    member task when it was trained on a mix holding ``family`` (``zeroforge solve --task maze`` with a mixed
    agent); a one-line ``ValueError`` otherwise."""
    from zeroforge.tasks.mix import MixedTask

    if agent.task.name == family:
        return agent
    if isinstance(agent.task, MixedTask) and family in agent.task.members:
        device = str(next(agent.net.parameters()).device)
        mcts = agent.config.mcts if agent.config is not None else agent.mcts.config
        return Agent(agent.task.members[family], agent.net, mcts, agent.num_simulations, name=f"{agent.name}-{family}",
                     device=device, config=agent.config)
    held = f" (its families: {', '.join(agent.task.families)})" if isinstance(agent.task, MixedTask) else ""
    raise ValueError(f"the agent was trained on {agent.task.name!r}{held}, not {family!r}")
