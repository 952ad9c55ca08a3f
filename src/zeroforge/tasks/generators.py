"""Task generators: seeded streams of task instances over sub-types and difficulties, with a curriculum.

The spec's ``MCTSSearchTaskGenerator`` (games, optimisation, path finding), ``MultiStepReasoningGenerator``
(logic, planning, sudoku), ``MathProblemGenerator`` (arithmetic, algebra, quadratics, systems) and
``CodeGenerationTaskGenerator`` (functions, algorithms, classes) draw ``GeneratedTask`` records: a sub-type
(a registered task), a difficulty level, an instance seed and the instance's initial state. Drawing is deterministic:
item ``k`` of a generator with seed ``s`` depends only on ``(s, k)`` (and the curriculum level when it is
progressive), never on how many items were drawn before in one call.

Difficulty is a task's level ``1..task.difficulty_levels`` (``Task.initial_state(seed, difficulty)``): easier
levels are smaller instances inside the same observation shape. A sub-type with fewer levels than the drawn
difficulty plays its own top level (games have a single level).

``Curriculum`` is progressive complexity: it raises the level when the recent success rate at the current
level reaches ``raise_at`` and lowers it when the rate falls to ``lower_at``; the trainer consults it once per
iteration and logs the level it used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from zeroforge.tasks.base import State, Task
from zeroforge.tasks.registry import make_task

__all__ = [
    "CodeGenerationTaskGenerator",
    "Curriculum",
    "GeneratedTask",
    "MCTSSearchTaskGenerator",
    "MathProblemGenerator",
    "MultiStepReasoningGenerator",
    "TaskGenerator",
]


class Curriculum:
    """Progressive complexity over levels ``min_level..max_level``.

    ``update(successes)`` takes the outcomes (``True`` = success) of episodes played at the current level and
    moves the level: up by one when their success rate is ``>= raise_at`` (and there were at least
    ``min_episodes``), down by one when it is ``<= lower_at``. ``history`` keeps ``(level, success_rate)``
    per update.
    """

    def __init__(self, min_level: int = 1, max_level: int = 1, start_level: int | None = None,
                 raise_at: float = 0.8, lower_at: float = 0.2, min_episodes: int = 1) -> None:
        for name, v in (("min_level", min_level), ("max_level", max_level), ("min_episodes", min_episodes)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"curriculum: {name} must be an integer >= 1, got {v!r}")
        if min_level > max_level:
            raise ValueError(f"curriculum: min_level {min_level} is above max_level {max_level}")
        start = min_level if start_level is None else start_level
        if isinstance(start, bool) or not isinstance(start, int) or not min_level <= start <= max_level:
            raise ValueError(f"curriculum: start_level must be an integer in {min_level}..{max_level}, got {start!r}")
        if not 0.0 <= lower_at < raise_at <= 1.0:
            raise ValueError(f"curriculum: need 0 <= lower_at < raise_at <= 1, got lower_at={lower_at!r}, "
                             f"raise_at={raise_at!r}")
        self.min_level = min_level
        self.max_level = max_level
        self.level = start
        self.raise_at = float(raise_at)
        self.lower_at = float(lower_at)
        self.min_episodes = min_episodes
        self.history: list[tuple[int, float]] = []

    def update(self, successes: Sequence[bool]) -> int:
        """Record episodes played at the current level; returns the (possibly changed) level."""
        if not successes:
            return self.level
        rate = float(np.mean(np.asarray(successes, dtype=np.float64)))
        self.history.append((self.level, rate))
        if len(successes) >= self.min_episodes:
            if rate >= self.raise_at and self.level < self.max_level:
                self.level += 1
            elif rate <= self.lower_at and self.level > self.min_level:
                self.level -= 1
        return self.level

    def state_dict(self) -> dict[str, Any]:
        return {"level": self.level, "history": [list(h) for h in self.history]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        level = int(state["level"])
        if not self.min_level <= level <= self.max_level:
            raise ValueError(f"curriculum: saved level {level} is outside {self.min_level}..{self.max_level}")
        self.level = level
        self.history = [(int(lv), float(rate)) for lv, rate in state["history"]]


@dataclass(frozen=True)
class GeneratedTask:
    """One drawn instance: ``task`` (the sub-type's task object), ``state`` its initial state at
    ``difficulty`` (the level actually played) from instance ``seed``."""

    sub_type: str
    difficulty: int
    seed: int
    task: Task
    state: State

    @property
    def query(self) -> str:
        """The instance as text (the "query" of a reasoning chain)."""
        return self.state.to_text()


class TaskGenerator:
    """Draws seeded instances of the generator's sub-types at difficulties in ``difficulty_range``.

    ``sub_types``: names from ``SUB_TYPES`` (default all); ``task_params`` overrides a sub-type's task
    parameters (``{"maze": {"size": 6}}``); ``progressive=True`` draws every item at the curriculum's
    level instead of uniformly from ``difficulty_range`` (``report`` feeds it outcomes).
    """

    #: sub-type name -> (registered task name, default parameters)
    SUB_TYPES: ClassVar[dict[str, tuple[str, dict[str, Any]]]] = {}

    def __init__(self, difficulty_range: tuple[int, int] = (1, 3), seed: int = 0,
                 sub_types: Sequence[str] | None = None,
                 task_params: Mapping[str, Mapping[str, Any]] | None = None,
                 progressive: bool = False, raise_at: float = 0.8, lower_at: float = 0.2) -> None:
        kind = type(self).__name__
        names = list(self.SUB_TYPES) if sub_types is None else list(sub_types)
        if not names:
            raise ValueError(f"{kind}: sub_types is empty")
        for name in names:
            if name not in self.SUB_TYPES:
                raise ValueError(f"{kind}: unknown sub-type {name!r} (available: {', '.join(self.SUB_TYPES)})")
        for name in task_params or {}:
            if name not in names:
                raise ValueError(f"{kind}: task_params for {name!r}, which is not among sub_types {names}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"{kind}: seed must be an integer >= 0, got {seed!r}")
        self.sub_types = tuple(names)
        self.tasks: dict[str, Task] = {}
        for name in names:
            task_name, defaults = self.SUB_TYPES[name]
            self.tasks[name] = make_task(task_name, **{**defaults, **dict((task_params or {}).get(name, {}))})
        top = max(t.difficulty_levels for t in self.tasks.values())
        try:
            lo, hi = (int(x) for x in difficulty_range)
        except (TypeError, ValueError):
            raise ValueError(f"{kind}: difficulty_range must be two integers (low, high), "
                             f"got {difficulty_range!r}") from None
        if not 1 <= lo <= hi <= top:
            raise ValueError(f"{kind}: difficulty_range {difficulty_range!r} must satisfy 1 <= low <= high <= {top} "
                             f"(the most levels among {names})")
        self.difficulty_range = (lo, hi)
        self.seed = seed
        self.curriculum = Curriculum(lo, hi, lo, raise_at, lower_at) if progressive else None

    def sample(self, index: int) -> GeneratedTask:
        """Item ``index`` of this generator's stream."""
        rng = np.random.default_rng([self.seed, int(index)])
        sub_type = self.sub_types[int(rng.integers(len(self.sub_types)))]
        lo, hi = self.difficulty_range
        drawn = self.curriculum.level if self.curriculum is not None else int(rng.integers(lo, hi + 1))
        task = self.tasks[sub_type]
        level = min(drawn, task.difficulty_levels)
        seed = int(rng.integers(2**31))
        return GeneratedTask(sub_type, level, seed, task, task.initial_state(seed, level))

    def generate(self, num_tasks: int, start: int = 0) -> list[GeneratedTask]:
        """Items ``start .. start + num_tasks - 1``."""
        if num_tasks < 0:
            raise ValueError(f"{type(self).__name__}: num_tasks must be >= 0, got {num_tasks}")
        return [self.sample(k) for k in range(start, start + num_tasks)]

    def report(self, successes: Sequence[bool]) -> int:
        """Outcomes of episodes at the current level (progressive generators); returns the next level."""
        if self.curriculum is None:
            raise ValueError(f"{type(self).__name__}: report() needs progressive=True")
        return self.curriculum.update(successes)


class MCTSSearchTaskGenerator(TaskGenerator):
    """Games, optimisation and path finding: ``maze``, ``knapsack``, ``tsp``, ``countdown``, ``nim``,
    ``connect_n``."""

    SUB_TYPES: ClassVar[dict[str, tuple[str, dict[str, Any]]]] = {
        "maze": ("maze", {"size": 5}),
        "knapsack": ("knapsack", {"num_items": 8}),
        "tsp": ("tsp", {"num_cities": 6}),
        "countdown": ("countdown", {"num_numbers": 4, "target": None}),
        "nim": ("nim", {}),
        "connect_n": ("connect_n", {}),
    }


class MultiStepReasoningGenerator(TaskGenerator):
    """Logic, planning and constraint satisfaction: ``logic`` (ProntoQA-style deduction), ``blocksworld`` and
    ``sudoku``."""

    SUB_TYPES: ClassVar[dict[str, tuple[str, dict[str, Any]]]] = {
        "logic": ("logic", {}),
        "blocksworld": ("blocksworld", {"num_blocks": 4}),
        "sudoku": ("sudoku", {}),
    }


class MathProblemGenerator(TaskGenerator):
    """Step-by-step math: ``arithmetic`` (order of operations), ``algebra`` (linear equations), ``quadratic``
    and ``systems`` (2 x 2 and 3 x 3 linear systems, inconsistent and dependent ones included)."""

    SUB_TYPES: ClassVar[dict[str, tuple[str, dict[str, Any]]]] = {
        "arithmetic": ("arithmetic", {}),
        "algebra": ("linear_equation", {}),
        "quadratic": ("quadratic", {}),
        "systems": ("linear_system", {}),
    }


class CodeGenerationTaskGenerator(TaskGenerator):
    """Program synthesis in zeroforge's stack language: ``functions`` (from input / output examples),
    ``algorithms`` (sorting networks of compare-and-swap) and ``classes`` (stateful objects)."""

    SUB_TYPES: ClassVar[dict[str, tuple[str, dict[str, Any]]]] = {
        "functions": ("code_function", {}),
        "algorithms": ("code_sort", {}),
        "classes": ("code_class", {}),
    }
