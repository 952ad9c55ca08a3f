"""A task of your own: "double or add one", defined, registered, verified, trained and solved.

Start at 1 and reach the target exactly with the moves ``+1`` and ``*2`` within the step budget: the fewest moves
the target needs (no slack, so the agent must find a shortest solution; overshooting or running out of moves
fails). The task follows the ``zeroforge.Task`` contract (``docs/integration.md``): immutable states, the class
attributes, ``_initial_state`` / ``_step``, ``@register_task`` so that ``make_task("double_or_add")`` builds it; it
adds ``outcome`` (the verifier), ``answer`` (the expression), ``demonstration`` (a shortest solution: the solver),
``parse`` / ``instance_text`` (instances as JSON text) and ``action_to_text``. ``verify`` checks a solution
independently of the task's own stepping.

The script trains the task briefly: a supervised phase on the solver's demonstrations, then self-play; it prints
the held-out solve rate per iteration, then solves an instance of its own (``{"target": 89}``) with the trained
agent and prints the solution and the verifier's verdict.

Run from the repository root:

    python examples/04_custom_task.py [--out DIR]      # default DIR: runs/examples/04_custom_task

Small settings (about 10 s of CPU on 2 cores): targets 2..100 (at most 12 moves); 2 supervised iterations of 500
demonstrations and 100 optimiser steps, then 3 self-play iterations of 64 games with 16 simulations per move and 60
optimiser steps of batch 64; 32 held-out instances per evaluation.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import zeroforge
from zeroforge.tasks import State, Task, frozen_array, register_task
from zeroforge.tasks.base import solo_rewards

ADD, DOUBLE = 0, 1
MOVES = {ADD: "+1", DOUBLE: "*2"}


def fewest_moves(target: int) -> int:
    """The length of a shortest solution: a doubling per binary digit after the first, an addition per 1 bit
    after the leading one."""
    return (target.bit_length() - 1) + (bin(target).count("1") - 1)


def shortest_solution(target: int) -> list[int]:
    """A shortest solution, found backwards: halve an even number, subtract one from an odd one."""
    moves = []
    while target > 1:
        moves.append(DOUBLE if target % 2 == 0 else ADD)
        target = target // 2 if target % 2 == 0 else target - 1
    return moves[::-1]


def verify(target: int, moves: list[int]) -> bool:
    """The verifier, independent of the task: the moves, replayed from 1, land exactly on ``target`` within the
    budget (the fewest moves ``target`` needs)."""
    value = 1
    for move in moves:
        value = value + 1 if move == ADD else value * 2
    return value == target and len(moves) <= fewest_moves(target)


@dataclass(frozen=True, eq=False)  # states are immutable; arrays are compared through State.key()
class DoubleOrAddState(State):
    value: int = 1
    target: int = 2
    moves: tuple[int, ...] = ()


@register_task("double_or_add")
class DoubleOrAdd(Task):
    """Reach ``target`` (2..``max_target``) from 1 with ``+1`` (action 0) and ``*2`` (action 1) in at most the
    fewest moves it needs. The observation is ``(value, target, moves left)``."""

    name = "double_or_add"
    num_actions = 2
    num_players = 1
    seq_len = 3

    def __init__(self, max_target: int = 100) -> None:
        if not 2 <= max_target <= 10_000:
            raise ValueError(f"double_or_add: max_target must be in 2..10000, got {max_target}")
        self.max_target = max_target
        self.vocab_size = 2 * max_target + 1  # a doubling can overshoot to at most 2 * (target - 1)
        self.max_episode_steps = max(fewest_moves(t) for t in range(2, max_target + 1))

    def _state(self, value: int, target: int, moves: tuple[int, ...]) -> DoubleOrAddState:
        left = fewest_moves(target) - len(moves)
        terminal = value >= target or left == 0
        return DoubleOrAddState(
            current_player=0, legal_action_mask=frozen_array([not terminal] * 2, bool), terminal=terminal,
            rewards=solo_rewards(terminal, success=value == target),
            observation=frozen_array([value, target, left], np.int64), step_count=len(moves),
            value=value, target=target, moves=moves)

    def _initial_state(self, seed: int, difficulty: int) -> DoubleOrAddState:
        return self._state(1, int(np.random.default_rng(seed).integers(2, self.max_target + 1)), ())

    def _step(self, state: State, action: int) -> DoubleOrAddState:
        assert isinstance(state, DoubleOrAddState)
        value = state.value + 1 if action == ADD else state.value * 2
        return self._state(value, state.target, (*state.moves, action))

    def outcome(self, state: State) -> str:
        """The verifier's verdict on the moves played (``timeout`` while the episode runs)."""
        if not state.terminal:
            return "timeout"
        assert isinstance(state, DoubleOrAddState)
        return "success" if verify(state.target, list(state.moves)) else "failure"

    def answer(self, state: State) -> str | None:
        """The solution as an expression, e.g. ``(1*2*2+1)*2`` for 10; ``None`` unless solved."""
        if not isinstance(state, DoubleOrAddState) or self.outcome(state) != "success":
            return None
        expr = "1"
        for move in state.moves:
            expr = f"{expr}+1" if move == ADD else f"({expr})*2" if expr.endswith("+1") else f"{expr}*2"
        return expr

    def demonstration(self, state: State) -> list[int] | None:
        assert isinstance(state, DoubleOrAddState)
        if state.terminal:
            return None
        rest = shortest_solution(state.target)
        return rest[len(state.moves):] if list(state.moves) == rest[:len(state.moves)] else None

    def action_to_text(self, state: State, action: int) -> str:
        return MOVES[int(action)]

    def instance_text(self, state: State) -> str:
        assert isinstance(state, DoubleOrAddState)
        return json.dumps({"target": state.target})

    def parse(self, text: str) -> DoubleOrAddState:
        try:
            target = json.loads(text)["target"]
        except (ValueError, KeyError, TypeError):
            raise ValueError('double_or_add: an instance is {"target": N}') from None
        if not isinstance(target, int) or not 2 <= target <= self.max_target:
            raise ValueError(f"double_or_add: target must be an integer in 2..{self.max_target}, got {target!r}")
        return self._state(1, target, ())


CONFIG = {
    "task": {"name": "double_or_add", "params": {"max_target": 100}},
    "iterations": 3,
    "agent_simulations": 32,
    "supervised": {"iterations": 2, "episodes_per_iteration": 500, "steps_per_iteration": 100},
    "selfplay": {"games_per_iteration": 64, "parallel_batch_size": 64},
    "mcts": {"num_simulations": 16, "temperature_threshold": 0},
    "train": {"batch_size": 64, "steps_per_iteration": 60, "augment_symmetries": False},
    "arena": {"heldout_episodes": 32, "num_simulations": 16},
}


def fresh_run_dir(path: Path) -> Path:
    """``path`` ready for a new run: a previous run of this example there is removed; anything else is refused."""
    if path.exists() and any(path.iterdir()):
        if not (path / "config.yaml").is_file():
            sys.exit(f"error: {path} exists and is not a zeroforge run directory; choose another --out")
        shutil.rmtree(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/examples/04_custom_task"),
                        help="run directory (default: %(default)s)")
    args = parser.parse_args()
    run_dir = fresh_run_dir(args.out)

    task = zeroforge.make_task("double_or_add", max_target=100)
    state = task.initial_state(seed=0)
    print(f"registered: {'double_or_add' in zeroforge.available_tasks()}; instance {task.instance_text(state)}, "
          f"observation {state.observation.tolist()}, solver's moves "
          f"{[task.action_to_text(state, a) for a in task.demonstration(state) or []]}")

    for m in zeroforge.SelfPlayTrainer(CONFIG, run_dir=run_dir).run():
        selfplay = f", self-play success {m['success_rate']:.2f}" if "success_rate" in m else ""
        print(f"iteration {m['iteration']} ({m['phase']}): held-out solve rate {m['heldout_solve_rate']:.2f}{selfplay}")

    agent = zeroforge.load_agent(run_dir)  # the task is registered in this process, so the checkpoint loads
    start = agent.task.parse('{"target": 89}')
    states, actions = agent.solve(start)
    final = states[-1]
    print(f"target 89: {' '.join(agent.task.action_to_text(s, a) for s, a in zip(states, actions, strict=False))} "
          f"= {agent.task.answer(final)}")
    print("solution: " + json.dumps({"target": 89, "moves": actions, "fewest_moves": fewest_moves(89),
                                     "outcome": agent.task.outcome(final), "verified": verify(89, actions)}))


if __name__ == "__main__":
    main()
