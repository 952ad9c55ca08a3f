"""Nested frozen configuration of a zeroforge run, loaded from YAML with ``--set`` overrides.

Every knob of the loop lives in one typed dataclass tree (cleanrl style): ``ZeroforgeConfig`` holds a
``TaskConfig``, ``NetConfig``, ``MCTSConfig``, ``SelfPlayConfig``, ``TrainConfig`` and ``ArenaConfig``.
Unknown keys are rejected with the closest valid name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ArenaConfig",
    "MCTSConfig",
    "NetConfig",
    "SelfPlayConfig",
    "TaskConfig",
    "TrainConfig",
    "ZeroforgeConfig",
]


@dataclass(frozen=True)
class TaskConfig:
    """Which task to train on: ``make_task(name, **params)``."""

    name: str = "tictactoe"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MCTSConfig:
    """PUCT search settings (AlphaZero names and defaults).

    ``temperature`` applies to the first ``temperature_threshold`` moves of a self-play episode, after
    which the most visited action is played. Dirichlet noise is mixed into root priors in self-play only.
    """

    num_simulations: int = 64
    c_puct: float = 1.25
    dirichlet_epsilon: float = 0.25
    dirichlet_alpha: float = 0.3
    temperature: float = 1.0
    temperature_threshold: int = 4
    discount: float = 1.0


@dataclass(frozen=True)
class NetConfig:
    """Policy-value network over token observations: ``kind`` is ``mlp`` or ``resnet``."""

    kind: str = "mlp"
    embed_dim: int = 16
    hidden: int = 128
    num_layers: int = 2


@dataclass(frozen=True)
class SelfPlayConfig:
    """Self-play: episodes per iteration, advanced ``parallel_batch_size`` at a time in lockstep."""

    games_per_iteration: int = 128
    parallel_batch_size: int = 128


@dataclass(frozen=True)
class TrainConfig:
    """Learner: AdamW on policy cross-entropy + ``value_loss_weight`` * value MSE + ``l2_coef`` * L2."""

    batch_size: int = 256
    steps_per_iteration: int = 200
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    l2_coef: float = 1e-4
    value_loss_weight: float = 1.0
    grad_clip: float = 1.0
    replay_buffer_size: int = 50_000
    device: str = "cpu"


@dataclass(frozen=True)
class ArenaConfig:
    """Evaluation: candidate vs best (gating) and games against fixed anchors.

    With ``gating`` off the candidate always replaces the best (AlphaZero's continuous update).
    ``opening_random_moves`` random plies start each arena game so that deterministic players meet in
    varied positions. Anchors: ``random``, ``rollout`` (pure random-rollout MCTS with
    ``rollout_simulations``) and ``perfect`` (a minimax player; only for solvable games).
    """

    gating: bool = True
    games: int = 20
    win_threshold: float = 0.55
    num_simulations: int = 32
    opening_random_moves: int = 1
    anchors: tuple[str, ...] = ("random", "rollout", "perfect")
    anchor_games: int = 20
    rollout_simulations: int = 32
    eval_every: int = 1


@dataclass(frozen=True)
class ZeroforgeConfig:
    """The whole run. ``agent_simulations`` is the search budget of ``load_agent(...).select_action``."""

    seed: int = 0
    iterations: int = 10
    agent_simulations: int = 64
    task: TaskConfig = field(default_factory=TaskConfig)
    net: NetConfig = field(default_factory=NetConfig)
    mcts: MCTSConfig = field(default_factory=MCTSConfig)
    selfplay: SelfPlayConfig = field(default_factory=SelfPlayConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    arena: ArenaConfig = field(default_factory=ArenaConfig)
