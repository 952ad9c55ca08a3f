"""Blocksworld planning as a single-agent pure MDP.

``m`` blocks named ``A``, ``B``, ``C``, ... stand in stacks on a table with unlimited space. A
configuration is the tuple ``on`` of length ``m``: ``on[x]`` is the index of the block that block ``x``
sits on, or ``m`` for the table. An instance is an initial configuration and a goal configuration; the
agent moves one clear block at a time until the current configuration equals the goal. A task has
``n = num_blocks`` block slots; an instance uses the first ``m`` of them (``2 <= m <= n``), the other
blocks do not exist.

Generation (``initial_state(seed)``, deterministic through ``np.random.default_rng(seed)``): a
configuration is a random permutation of the blocks cut into stacks at random gaps (each gap cut with
probability 1/2; not uniform over configurations, which does not matter here). The goal is drawn the
same way, redrawn until it differs from the initial configuration.

Difficulty levels ``1..n - 1``: level ``k`` draws an instance of ``m = k + 1`` blocks exactly as above
(with ``m`` for ``n``); the missing blocks are ABSENT padding in the observation and every action
that names them is illegal. The top level (the default) has all ``n`` blocks, drawn exactly as before
levels existed.

Actions: ``move X Y`` is action ``X * (n + 1) + Y`` with ``Y = n`` meaning the table (whatever ``m``), so
``num_actions = n * (n + 1)``. It is legal iff ``X`` is a clear block of the instance, ``X != Y``, and ``Y``
is a clear block of the instance or the table with ``X`` not already on the table (every legal move
changes the configuration).

Rewards ``float32[1]``: ``+1`` on reaching the goal (terminal, ``success``); ``-1`` when the step budget
``ceil(step_budget_factor * optimal_length)`` is used up without reaching it (terminal, ``failure``);
``0`` otherwise. Reaching the goal on the last step of the budget is a success. ``optimal_length`` is
the length of a shortest plan, computed once per instance (``optimal_plan_length``); ``_step`` does no
search. ``max_episode_steps = ceil(step_budget_factor * 2 * n)`` bounds every budget, since putting every
block on the table and then building the goal towers takes at most ``2 * m <= 2 * n`` moves.

Score (``Blocksworld.score``): a success scores ``optimal_length / step_count`` (``1.0`` iff the plan is
a shortest one), a failure ``0.0``; a state that is not terminal has no score (``None``).

Optimal plan length: A* over configurations with the admissible and consistent heuristic "number of
blocks not yet in their final position" (a block is in its final position when it and every block below
it sit as in the goal; each other block must move at least once, and one move changes that count by at
most one). With a consistent heuristic A* returns the same length as breadth-first search, and it stays
fast up to the maximum of 8 blocks (the full state space for 8 blocks has 394,353 configurations, which
plain BFS would enumerate in several seconds of Python).

Observation: ``seq_len = 2 * n + 1`` tokens: for each block slot ``x < n`` in order the token for
``on[x]`` of the current configuration (block index ``0..m-1``, or ``n`` for the table; ``n + 9`` ABSENT
for a slot ``x >= m`` the instance has no block in), then the same for the goal, then one token
``n + 1 + b`` for the remaining-budget bucket ``b = min(7, 8 * remaining // budget)``;
``vocab_size = n + 10``.

Text: ``to_text`` reads ``state: [A C] [B] | goal: [C B A] | step 0/6``, each stack listed bottom to top
(stacks ordered by their bottom block). ``Blocksworld.parse`` reads the JSON instance format
``{"initial": [["A", "C"], ["B"]], "goal": [["C", "B", "A"]]}`` (each inner list bottom to top) and
returns a fresh instance (``step_count = 0``); an instance of ``m < n`` blocks names ``A`` .. the ``m``-th
letter. ``BlocksworldState.to_json`` writes the current configuration and goal in that format.
"""

from __future__ import annotations

import heapq
import json
import math
import string
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from zeroforge.tasks.base import State, solo_rewards
from zeroforge.tasks.instances import read_json_instance, short_repr
from zeroforge.tasks.params import check_int_param
from zeroforge.tasks.path import PathTask
from zeroforge.tasks.registry import register_task
from zeroforge.tasks.tokens import BUDGET_BUCKETS, budget_bucket

__all__ = ["Blocksworld", "BlocksworldState", "optimal_plan_length"]

MIN_BLOCKS, MAX_BLOCKS = 2, 8
#: observation token of an absent block slot is ``num_blocks + _ABSENT_OFFSET`` (after table and budget buckets)
_ABSENT_OFFSET = 1 + BUDGET_BUCKETS
_NAMES = string.ascii_uppercase


Config = tuple[int, ...]


def _stacks(on: Config) -> list[list[int]]:
    """The stacks of ``on``, each bottom to top, ordered by their bottom block."""
    n = len(on)
    above: dict[int, int] = {below: x for x, below in enumerate(on) if below != n}
    stacks = []
    for bottom in range(n):
        if on[bottom] == n:
            stack = [bottom]
            while stack[-1] in above:
                stack.append(above[stack[-1]])
            stacks.append(stack)
    return stacks


def _render(on: Config) -> str:
    return " ".join("[" + " ".join(_NAMES[x] for x in s) + "]" for s in _stacks(on))


def _clear(on: Config) -> list[bool]:
    n = len(on)
    clear = [True] * n
    for below in on:
        if below != n:
            clear[below] = False
    return clear


def _moves(on: Config) -> list[tuple[int, int]]:
    """Legal ``(x, y)`` moves from ``on`` (``y = n`` is the table)."""
    n = len(on)
    clear = _clear(on)
    out = []
    for x in range(n):
        if not clear[x]:
            continue
        for y in range(n):
            if y != x and clear[y]:
                out.append((x, y))
        if on[x] != n:
            out.append((x, n))
    return out


def _misplaced(on: Config, goal: Config) -> int:
    """Blocks not in their final position (they or a block below them differ from the goal)."""
    n = len(on)
    placed: dict[int, bool] = {}

    def ok(x: int) -> bool:
        if x not in placed:
            placed[x] = on[x] == goal[x] and (on[x] == n or ok(on[x]))
        return placed[x]

    return sum(not ok(x) for x in range(n))


def _shortest(start: Config, goal: Config) -> int:
    """Length of a shortest plan from ``start`` to ``goal`` (A*, consistent heuristic; always exists)."""
    if start == goal:
        return 0
    n = len(start)
    best = {start: 0}
    frontier = [(_misplaced(start, goal), 0, start)]
    while frontier:
        _, g, on = heapq.heappop(frontier)
        if on == goal:
            return g
        if g > best[on]:
            continue
        for x, y in _moves(on):
            nxt = (*on[:x], y, *on[x + 1 :])
            if g + 1 < best.get(nxt, n * n):
                best[nxt] = g + 1
                heapq.heappush(frontier, (g + 1 + _misplaced(nxt, goal), g + 1, nxt))
    raise AssertionError("blocksworld: goal unreachable")  # pragma: no cover - every configuration connects


@dataclass(frozen=True, eq=False)
class BlocksworldState(State):
    """A configuration within a blocksworld instance.

    ``on`` / ``goal``: what each block of the instance sits on (block index, or ``len(on)`` for the table)
    now and in the goal; they may have fewer blocks than the task's ``num_blocks`` (easier levels).
    ``budget``: the instance's step budget; ``optimal_length``: the shortest plan length from the instance's
    initial configuration.
    """

    on: Config
    goal: Config
    budget: int
    optimal_length: int

    def key(self) -> tuple[Config, Config, int, int]:
        """``(on, goal, step_count, budget)``."""
        return (self.on, self.goal, self.step_count, self.budget)

    @property
    def num_blocks(self) -> int:
        """The number of blocks of the instance."""
        return len(self.on)

    @property
    def remaining(self) -> int:
        """Steps left in the budget."""
        return self.budget - self.step_count

    def to_text(self) -> str:
        """``state: [A C] [B] | goal: [C B A] | step 0/6`` (stacks bottom to top)."""
        return f"state: {_render(self.on)} | goal: {_render(self.goal)} | step {self.step_count}/{self.budget}"

    def to_json(self) -> str:
        """The current configuration and the goal in the instance format ``parse`` reads."""
        return json.dumps(
            {
                "initial": [[_NAMES[x] for x in s] for s in _stacks(self.on)],
                "goal": [[_NAMES[x] for x in s] for s in _stacks(self.goal)],
            }
        )


def optimal_plan_length(state: BlocksworldState) -> int:
    """Length of a shortest plan from ``state``'s configuration to its goal."""
    return _shortest(state.on, state.goal)


@register_task("blocksworld")
class Blocksworld(PathTask):
    """Blocksworld: ``num_blocks`` blocks (2..8), ``num_blocks * (num_blocks + 1)`` move actions, one player.

    ``step_budget_factor`` (>= 1) sets the budget as a multiple of the optimal plan length. ``difficulty_levels =
    num_blocks - 1``: level ``k`` has ``k + 1`` blocks. An instance read by ``parse`` (a JSON text of at most
    1,000,000 characters) has ``m`` blocks, ``2 <= m <= num_blocks``, named by the single letters ``A`` .. the
    ``m``-th, each exactly once in ``initial`` and in ``goal``, which differ (so every instance read is solvable).
    """

    name: ClassVar[str] = "blocksworld"
    path_state = BlocksworldState

    def __init__(self, num_blocks: int = 4, step_budget_factor: float = 2.0) -> None:
        n = check_int_param("blocksworld", "num_blocks", num_blocks, MIN_BLOCKS, MAX_BLOCKS)
        try:
            factor = float(step_budget_factor)
        except (TypeError, ValueError):
            raise ValueError(
                f"blocksworld: step_budget_factor must be a number >= 1, got {step_budget_factor!r}"
            ) from None
        if not (math.isfinite(factor) and factor >= 1.0):
            raise ValueError(
                f"blocksworld: step_budget_factor must be a finite number >= 1, got {step_budget_factor!r}"
            )
        self.num_blocks = n
        self.step_budget_factor = factor
        self.blocks = _NAMES[:n]
        self.num_actions = n * (n + 1)
        self.seq_len = 2 * n + 1
        self._absent = n + _ABSENT_OFFSET
        self.vocab_size = self._absent + 1
        self.max_episode_steps = math.ceil(factor * 2 * n)
        self.difficulty_levels = n - 1

    # ----------------------------------------------------------------- generation

    @staticmethod
    def _random_config(rng: np.random.Generator, n: int) -> Config:
        order = [int(x) for x in rng.permutation(n)]
        cuts = rng.random(n - 1) < 0.5
        on = [n] * n
        for i in range(1, n):
            if not cuts[i - 1]:
                on[order[i]] = order[i - 1]
        return tuple(on)

    def generate(self, seed: int, blocks: int | None = None) -> tuple[Config, Config]:
        """The ``(initial, goal)`` configurations of the instance drawn with ``seed``, with ``blocks`` blocks
        (``2..num_blocks``, default ``num_blocks``)."""
        m = self.num_blocks if blocks is None else int(blocks)
        if not MIN_BLOCKS <= m <= self.num_blocks:
            raise ValueError(f"blocksworld: blocks must be in {MIN_BLOCKS}..{self.num_blocks}, got {blocks!r}")
        rng = np.random.default_rng(seed)
        initial = self._random_config(rng, m)
        goal = self._random_config(rng, m)
        while goal == initial:
            goal = self._random_config(rng, m)
        return initial, goal

    def _make_state(self, initial: Config, goal: Config) -> BlocksworldState:
        optimum = _shortest(initial, goal)
        return self._state(initial, goal, 0, self.step_budget(optimum), optimum)

    def _initial_state(self, seed: int, difficulty: int) -> BlocksworldState:
        return self._make_state(*self.generate(seed, difficulty + 1))

    # ----------------------------------------------------------------- dynamics

    def _tokens(self, config: Config) -> list[int]:
        """Observation tokens of a configuration: per block slot the block it sits on, the table as
        ``num_blocks``, ABSENT past the instance's blocks."""
        n, m = self.num_blocks, len(config)
        return [n if below == m else below for below in config] + [self._absent] * (n - m)

    def _state(self, on: Config, goal: Config, steps: int, budget: int, optimum: int) -> BlocksworldState:
        n, m = self.num_blocks, len(on)
        reached = on == goal
        terminal = reached or steps >= budget
        mask = np.zeros(self.num_actions, dtype=np.bool_)
        if not terminal:
            for x, y in _moves(on):
                mask[x * (n + 1) + (n if y == m else y)] = True
        mask.flags.writeable = False
        remaining = budget - steps
        obs = np.empty(self.seq_len, dtype=np.int64)
        obs[:n] = self._tokens(on)
        obs[n : 2 * n] = self._tokens(goal)
        obs[-1] = n + 1 + budget_bucket(remaining, budget)
        obs.flags.writeable = False
        return BlocksworldState(
            current_player=0,
            legal_action_mask=mask,
            terminal=terminal,
            rewards=solo_rewards(terminal, reached),
            observation=obs,
            step_count=steps,
            on=on,
            goal=goal,
            budget=budget,
            optimal_length=optimum,
        )

    def _step(self, state: State, action: int) -> BlocksworldState:
        if type(state) is not BlocksworldState:
            raise ValueError(f"{self.name}: expected a BlocksworldState, got {type(state).__name__}")
        m = state.num_blocks
        if not MIN_BLOCKS <= m <= self.num_blocks:
            raise ValueError(f"{self.name}: state has {m} blocks, this task has {MIN_BLOCKS}..{self.num_blocks}")
        x, y = divmod(action, self.num_blocks + 1)
        on = (*state.on[:x], m if y == self.num_blocks else y, *state.on[x + 1 :])
        return self._state(on, state.goal, state.step_count + 1, state.budget, state.optimal_length)

    def is_solved(self, state: State) -> bool:
        """The goal configuration was reached."""
        assert isinstance(state, BlocksworldState)
        return state.on == state.goal

    def optimal_steps(self, state: State) -> int:
        """The shortest plan length from the instance's initial configuration."""
        assert isinstance(state, BlocksworldState)
        return state.optimal_length

    def action_to_text(self, state: State, action: int) -> str:
        """``"move A B"`` or ``"move A table"``."""
        x, y = divmod(int(action), self.num_blocks + 1)
        return f"move {_NAMES[x]} {'table' if y == self.num_blocks else _NAMES[y]}"

    def optimal_plan_length(self, state: BlocksworldState) -> int:
        """Length of a shortest plan from ``state``'s configuration to its goal."""
        return optimal_plan_length(state)

    # ----------------------------------------------------------------- text

    def _parse_stacks(self, field: str, value: Any) -> dict[int, int | None]:
        """The stacks in ``value`` as ``{block: block below it, or None for the table}`` (checked names)."""
        if not isinstance(value, list):
            raise ValueError(f"blocksworld: {field!r} must be a list of stacks, got {type(value).__name__}")
        below_of: dict[int, int | None] = {}
        for i, stack in enumerate(value):
            if not isinstance(stack, list) or not stack:
                raise ValueError(f"blocksworld: {field!r} stack {i + 1} must be a non-empty list of block names")
            below: int | None = None
            for name in stack:
                if not isinstance(name, str) or len(name) != 1 or name not in self.blocks:  # "AB" in "ABCD" too
                    got, known = short_repr(name), ", ".join(self.blocks)
                    raise ValueError(f"blocksworld: {field!r} has unknown block {got} (blocks are {known})")
                x = self.blocks.index(name)
                if x in below_of:
                    raise ValueError(f"blocksworld: {field!r} has block {name!r} more than once")
                below_of[x] = below
                below = x
        return below_of

    def _config(self, field: str, below_of: dict[int, int | None], m: int) -> Config:
        """The configuration of ``m`` blocks that ``below_of`` describes; it must hold each of them."""
        missing = [self.blocks[x] for x in range(m) if x not in below_of]
        if missing:
            raise ValueError(
                f"blocksworld: {field!r} is missing block(s) {', '.join(missing)} "
                f"(the instance has {m} blocks, {self.blocks[0]}..{self.blocks[m - 1]})"
            )
        on = []
        for x in range(m):
            below = below_of[x]
            on.append(m if below is None else below)
        return tuple(on)

    def instance_text(self, state: State) -> str:
        """The instance in the format :meth:`parse` reads."""
        if not isinstance(state, BlocksworldState):
            raise ValueError(f"{self.name}: expected a BlocksworldState, got {type(state).__name__}")
        return state.to_json()

    def parse(self, text: str) -> BlocksworldState:
        """The instance in ``text``: JSON ``{"initial": [[...], ...], "goal": [[...], ...]}``, stacks bottom to top.

        The instance has ``m`` blocks, ``A`` .. the latest letter named (``2 <= m <= num_blocks``; fewer than
        ``num_blocks`` is an easier instance, as a lower difficulty level draws). Each of ``initial`` and
        ``goal`` must hold every one of those ``m`` blocks exactly once, and they must differ; otherwise a
        one-line ``ValueError``.
        """
        data = read_json_instance("blocksworld", text, ("initial", "goal"))
        initial_stacks = self._parse_stacks("initial", data["initial"])
        goal_stacks = self._parse_stacks("goal", data["goal"])
        m = 1 + max([*initial_stacks, *goal_stacks], default=-1)
        if m < MIN_BLOCKS:
            raise ValueError(f"blocksworld: an instance needs at least {MIN_BLOCKS} blocks, got {m}")
        initial = self._config("initial", initial_stacks, m)
        goal = self._config("goal", goal_stacks, m)
        if initial == goal:
            raise ValueError("blocksworld: the initial configuration already equals the goal")
        return self._make_state(initial, goal)

    def __repr__(self) -> str:
        return f"Blocksworld(num_blocks={self.num_blocks}, step_budget_factor={self.step_budget_factor})"
