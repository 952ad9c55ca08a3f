"""Blocksworld planning as a single-agent pure MDP with size-free structured observations.

``m`` blocks named ``A``, ``B``, ``C``, ... stand in stacks on a table with unlimited space. A
configuration is the tuple ``on`` of length ``m``: ``on[x]`` is the index of the block that block ``x``
sits on, or ``m`` for the table. An instance is an initial configuration and a goal configuration; the
agent moves one clear block at a time until the current configuration equals the goal.

Bounds (``Blocksworld.bounds = {"blocks": 8}``): one task object plays and ``parse`` reads any instance of
``2 <= m <= 8`` blocks (``A`` .. ``H``), whatever its ``num_blocks``; ``num_blocks`` (2..8) is the size the
generator draws. A block named beyond ``H`` (``I`` .. ``Z``) is an instance beyond the bound (one-line
``ValueError`` naming it).

Generation (``initial_state(seed)``, deterministic through ``np.random.default_rng(seed)``): a
configuration is a random permutation of the blocks cut into stacks at random gaps (each gap cut with
probability 1/2; not uniform over configurations, which does not matter here). The goal is drawn the
same way, redrawn until it differs from the initial configuration. Difficulty levels ``1..n - 1``
(``n = num_blocks``): level ``k`` draws an instance of ``m = k + 1`` blocks exactly as above; the top level
(the default) has all ``n`` blocks.

Actions (sized by the bound, ``B = 8``): ``move X Y`` is action ``X * (B + 1) + Y`` with ``Y = B`` meaning the
table (whatever ``m``), so ``num_actions = B * (B + 1) = 72``. It is legal iff ``X`` is a clear block of the
instance, ``X != Y``, and ``Y`` is a clear block of the instance or the table with ``X`` not already on the
table (every legal move changes the configuration).

Rewards ``float32[1]``: ``+1`` on reaching the goal (terminal, ``success``); ``-1`` when the step budget
``ceil(step_budget_factor * optimal_length)`` is used up without reaching it (terminal, ``failure``);
``0`` otherwise. Reaching the goal on the last step of the budget is a success. ``optimal_length`` is
the length of a shortest plan, computed once per instance (``optimal_plan_length``); ``_step`` does no
search. ``max_episode_steps = ceil(step_budget_factor * 2 * B)`` bounds every budget, since putting every
block on the table and then building the goal towers takes at most ``2 * m <= 2 * B`` moves.

Score (``Blocksworld.score``): a success scores ``optimal_length / step_count`` (``1.0`` iff the plan is
a shortest one), a failure ``0.0``; a state that is not terminal has no score (``None``).

Optimal plans (``optimal_plan``, ``Blocksworld.demonstration``): A* over configurations with the admissible
and consistent heuristic "number of blocks not yet in their final position" (a block is in its final
position when it and every block below it sit as in the goal; each other block must move at least once,
and one move changes that count by at most one). With a consistent heuristic A* returns a plan as short as
breadth-first search finds, and it stays fast up to 8 blocks (the full state space for 8 blocks has 394,353
configurations, which plain BFS would enumerate in several seconds of Python).

Observation (structured, :mod:`zeroforge.tasks.structured`; ``T = TOKEN_TYPE_BASE["blocksworld"]``): ``2 * m +
2`` tokens ``(type, a, b, row, col)`` in this order (``seq_len = 2 * B + 2 = 18`` for the largest instance):

- token ``x < m``, type ``T`` (block ``x`` now, ``0`` = ``A``): ``a`` = its label ``L[x]``, ``b`` = ``1 +`` the
  label of the block it sits on (``0`` = the table), position ``(16 * (1 + s), 1 + h)``;
- token ``m + x``, type ``T + 1`` (a block in the goal): the same for the goal configuration, position
  ``(16 * (1 + B + s), 1 + h)``;
- token ``2 * m``, type ``T + 2`` (the table): ``a`` = number of stacks now, ``b`` = in the goal; ``(0, 0)``;
- token ``2 * m + 1``, type ``T + 3`` (global): ``a`` = remaining-budget bucket ``min(7, 8 * remaining //
  budget)``, ``b`` = remaining steps (clipped to 1023); ``(0, 0)``.

Labels: ``L`` (``BlocksworldState.labels``) maps the block indices ``0..m - 1`` one-to-one into ``0..B - 1``
(the first ``m`` entries of a permutation of ``0..7``), drawn once per instance from a stable hash
(``hashlib.blake2b``) of the goal configuration. Block names are arbitrary, and a net learns one embedding per
feature value: without the relabelling a net trained on ``m``-block instances would never see the labels
``m..7`` and could not play larger instances. With it every label ``0..7`` occurs at every size, while a block's
current and goal tokens share its label (the relation a net needs) and token ``x`` is still block ``x``. The
map depends on the goal only, which every state of an episode shares and ``key()`` holds, so observations stay a
function of the state (equal states, equal instances: equal observations); it does not touch the MDP, the
texts, the actions or the generator.

``s`` is the index of the block's stack among the stacks of its configuration ordered by their bottom block
and ``h`` its height in the stack (``0`` = on the table). Stacks have no identity: their rows are 16 apart so
that a relative-position bias (offsets clipped to a few squares) between blocks of different stacks, or
between a block now and one in the goal, reads only "another stack" (on one side or the other, by that
arbitrary stack order) and the difference in height, while blocks of one stack read exactly how far above or
below each other they sit (``(0, +1)``: directly on top).
The table and global tokens sit at ``(0, 0)``, far from every stack: a block reads its height from the
table. ``vocab_size = TOKEN_VOCAB``.

Pointers (``K = POINTER_KIND_BASE["blocksworld"]``): ``move X Y`` onto a block is ``(K, X + 1, Y + 1)`` (block
``X``'s current token and block ``Y``'s); ``move X table`` is ``(K + 1, X + 1, 2m + 1)`` (block ``X`` and the
table token). Rows of illegal actions are zero.

Text: ``to_text`` reads ``state: [A C] [B] | goal: [C B A] | step 0/6``, each stack listed bottom to top
(stacks ordered by their bottom block). ``Blocksworld.parse`` reads the JSON instance format
``{"initial": [["A", "C"], ["B"]], "goal": [["C", "B", "A"]]}`` (each inner list bottom to top) and
returns a fresh instance (``step_count = 0``); an instance of ``m`` blocks names ``A`` .. the ``m``-th letter.
``BlocksworldState.to_json`` writes the current configuration and goal in that format.
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
from zeroforge.tasks.structured import (
    FEATURE_VOCAB,
    POINTER_KIND_BASE,
    TOKEN_TYPE_BASE,
    TOKEN_VOCAB,
    instance_labels,
    out_of_bounds,
    pointer_rows,
    token_rows,
)
from zeroforge.tasks.tokens import budget_bucket

__all__ = ["Blocksworld", "BlocksworldState", "block_labels", "optimal_plan", "optimal_plan_length"]

MIN_BLOCKS, MAX_BLOCKS = 2, 8
_NAMES = string.ascii_uppercase
#: action ``move X Y`` is ``X * _SLOTS + Y``; ``Y = MAX_BLOCKS`` is the table
_SLOTS = MAX_BLOCKS + 1
_TABLE = MAX_BLOCKS
# token types and pointer kinds
_T = TOKEN_TYPE_BASE["blocksworld"]
BLOCK_NOW, BLOCK_GOAL, TABLE, GLOBAL = _T, _T + 1, _T + 2, _T + 3
MOVE_ONTO, MOVE_TO_TABLE = POINTER_KIND_BASE["blocksworld"], POINTER_KIND_BASE["blocksworld"] + 1
#: rows of two stacks differ by at least this (beyond any clipped relative offset)
STACK_ROWS = 16


Config = tuple[int, ...]
Token = tuple[int, int, int, int, int]
Move = tuple[int, int]


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


def _moves(on: Config) -> list[Move]:
    """Legal ``(x, y)`` moves from ``on`` (``y = len(on)`` is the table)."""
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


def _plan(start: Config, goal: Config) -> list[Move]:
    """A shortest plan from ``start`` to ``goal`` as ``(x, y)`` moves (``y = len(start)``: the table); A* with a
    consistent heuristic, ties broken towards deeper nodes. A plan always exists."""
    parent: dict[Config, tuple[Config, Move] | None] = {start: None}
    best = {start: 0}
    frontier = [(_misplaced(start, goal), 0, start)]
    while frontier:
        _, neg_g, on = heapq.heappop(frontier)
        g = -neg_g
        if on == goal:
            return _walk_back(parent, on)
        if g > best[on]:
            continue
        for x, y in _moves(on):
            nxt = (*on[:x], y, *on[x + 1 :])
            if nxt not in best or g + 1 < best[nxt]:
                best[nxt] = g + 1
                parent[nxt] = (on, (x, y))
                heapq.heappush(frontier, (g + 1 + _misplaced(nxt, goal), -(g + 1), nxt))
    raise AssertionError("blocksworld: goal unreachable")  # pragma: no cover - every configuration connects


def _walk_back(parent: dict[Config, tuple[Config, Move] | None], end: Config) -> list[Move]:
    """The moves that led from the search's start to ``end``, first to last."""
    moves: list[Move] = []
    link = parent[end]
    while link is not None:
        before, move = link
        moves.append(move)
        link = parent[before]
    return moves[::-1]


def _shortest(start: Config, goal: Config) -> int:
    """Length of a shortest plan from ``start`` to ``goal``."""
    return 0 if start == goal else len(_plan(start, goal))


def block_labels(goal: Config) -> tuple[int, ...]:
    """The observed label of each block of the instance with goal configuration ``goal`` (``m`` blocks): the first
    ``m`` entries of a permutation of ``0..MAX_BLOCKS - 1`` seeded by a stable hash of ``goal`` (module docstring)."""
    return instance_labels(f"blocksworld labels {goal!r}", len(goal), MAX_BLOCKS)


def _config_tokens(on: Config, labels: tuple[int, ...], kind: int, first_row: int) -> list[Token]:
    """One token per block of configuration ``on``, in block order: ``(kind, labels[x], 1 + label below or 0 for
    the table, first_row + STACK_ROWS * stack, 1 + height)``."""
    m = len(on)
    tokens: list[Token] = [(kind, labels[x], 0, 0, 0) for x in range(m)]
    for s, stack in enumerate(_stacks(on)):
        for h, x in enumerate(stack):
            below = 0 if on[x] == m else 1 + labels[on[x]]
            tokens[x] = (kind, labels[x], below, first_row + STACK_ROWS * s, 1 + h)
    return tokens


def _action(x: int, y: int, m: int) -> int:
    """The action of move ``(x, y)`` in an instance of ``m`` blocks (``y = m``: the table)."""
    return x * _SLOTS + (_TABLE if y == m else y)


@dataclass(frozen=True, eq=False)
class BlocksworldState(State):
    """A configuration within a blocksworld instance.

    ``on`` / ``goal``: what each block of the instance sits on (block index, or ``len(on)`` for the table)
    now and in the goal (2..8 blocks). ``budget``: the instance's step budget; ``optimal_length``: the shortest
    plan length from the instance's initial configuration. ``labels``: the observed label of each block
    (:func:`block_labels` of ``goal``, shared by every state of the episode). ``pointers``: ``int64[num_actions,
    3]`` action pointers (:meth:`action_pointers`).
    """

    on: Config
    goal: Config
    budget: int
    optimal_length: int
    labels: tuple[int, ...]
    pointers: np.ndarray

    def key(self) -> tuple[Config, Config, int, int]:
        """``(on, goal, step_count, budget)``."""
        return (self.on, self.goal, self.step_count, self.budget)

    def action_pointers(self) -> np.ndarray:
        """``int64[num_actions, 3]``: ``(MOVE_ONTO, X + 1, Y + 1)`` / ``(MOVE_TO_TABLE, X + 1, table + 1)`` per
        legal move, zero rows elsewhere (see the module docstring)."""
        return self.pointers

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


def optimal_plan(state: BlocksworldState) -> list[int]:
    """A shortest plan from ``state``'s configuration to its goal, as actions (``[]`` when it is reached)."""
    if state.on == state.goal:
        return []
    m = state.num_blocks
    return [_action(x, y, m) for x, y in _plan(state.on, state.goal)]


@register_task("blocksworld")
class Blocksworld(PathTask):
    """Blocksworld: instances of 2..8 blocks, ``72`` move actions, one player.

    ``num_blocks`` (2..8) is the size the generator draws; ``step_budget_factor`` (>= 1) sets the budget as a
    multiple of the optimal plan length. ``difficulty_levels = num_blocks - 1``: level ``k`` has ``k + 1``
    blocks. An instance read by ``parse`` (a JSON text of at most 1,000,000 characters) has ``m`` blocks, ``2 <=
    m <= 8`` (``bounds``), named by the single letters ``A`` .. the ``m``-th, each exactly once in ``initial``
    and in ``goal``, which differ (so every instance read is solvable).
    """

    name: ClassVar[str] = "blocksworld"
    path_state = BlocksworldState
    structured: ClassVar[bool] = True
    bounds: ClassVar[dict[str, int]] = {"blocks": MAX_BLOCKS}
    #: the names of the blocks an instance may have (``A`` .. ``H``)
    blocks: ClassVar[str] = _NAMES[:MAX_BLOCKS]

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
        self.num_actions = MAX_BLOCKS * _SLOTS
        self.seq_len = 2 * MAX_BLOCKS + 2
        self.vocab_size = TOKEN_VOCAB
        self.max_episode_steps = math.ceil(factor * 2 * MAX_BLOCKS)
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
        return self._state(initial, goal, 0, self.step_budget(optimum), optimum, block_labels(goal))

    def _initial_state(self, seed: int, difficulty: int) -> BlocksworldState:
        return self._make_state(*self.generate(seed, difficulty + 1))

    # ----------------------------------------------------------------- dynamics

    def _tokens(self, on: Config, goal: Config, steps: int, budget: int, labels: tuple[int, ...]) -> np.ndarray:
        """The observation ``int64[2 * m + 2, 5]``: blocks now, blocks in the goal, the table, the global token."""
        remaining = budget - steps
        rows = [
            *_config_tokens(on, labels, BLOCK_NOW, STACK_ROWS),
            *_config_tokens(goal, labels, BLOCK_GOAL, STACK_ROWS * (1 + MAX_BLOCKS)),
            (TABLE, len(_stacks(on)), len(_stacks(goal)), 0, 0),
            (GLOBAL, budget_bucket(remaining, budget), min(remaining, FEATURE_VOCAB - 1), 0, 0),
        ]
        return token_rows(rows)

    def _pointers(self, on: Config, legal: list[Move]) -> np.ndarray:
        """``int64[num_actions, 3]`` pointers of the ``legal`` moves (the table token is ``2 * m``: pointer
        ``2 * m + 1``)."""
        m = len(on)
        table = 2 * m + 1
        pointers = {
            _action(x, y, m): (MOVE_TO_TABLE, x + 1, table) if y == m else (MOVE_ONTO, x + 1, y + 1) for x, y in legal
        }
        return pointer_rows(self.num_actions, pointers)

    def _state(
        self, on: Config, goal: Config, steps: int, budget: int, optimum: int, labels: tuple[int, ...]
    ) -> BlocksworldState:
        m = len(on)
        reached = on == goal
        terminal = reached or steps >= budget
        legal = [] if terminal else _moves(on)
        mask = np.zeros(self.num_actions, dtype=np.bool_)
        for x, y in legal:
            mask[_action(x, y, m)] = True
        mask.flags.writeable = False
        return BlocksworldState(
            current_player=0,
            legal_action_mask=mask,
            terminal=terminal,
            rewards=solo_rewards(terminal, reached),
            observation=self._tokens(on, goal, steps, budget, labels),
            step_count=steps,
            on=on,
            goal=goal,
            budget=budget,
            optimal_length=optimum,
            labels=labels,
            pointers=self._pointers(on, legal),
        )

    def _step(self, state: State, action: int) -> BlocksworldState:
        if type(state) is not BlocksworldState:
            raise ValueError(f"{self.name}: expected a BlocksworldState, got {type(state).__name__}")
        m = state.num_blocks
        if not MIN_BLOCKS <= m <= MAX_BLOCKS:
            raise ValueError(f"{self.name}: state has {m} blocks, this task has {MIN_BLOCKS}..{MAX_BLOCKS}")
        x, y = divmod(action, _SLOTS)
        on = (*state.on[:x], m if y == _TABLE else y, *state.on[x + 1 :])
        return self._state(on, state.goal, state.step_count + 1, state.budget, state.optimal_length, state.labels)

    def is_solved(self, state: State) -> bool:
        """The goal configuration was reached."""
        assert isinstance(state, BlocksworldState)
        return state.on == state.goal

    def optimal_steps(self, state: State) -> int:
        """The shortest plan length from the instance's initial configuration."""
        assert isinstance(state, BlocksworldState)
        return state.optimal_length

    def demonstration(self, state: State) -> list[int] | None:
        """A shortest plan from ``state`` to the goal (A*, :func:`optimal_plan`); ``[]`` for a terminal state,
        ``None`` when the plan does not fit the remaining budget (only after detours)."""
        if not isinstance(state, BlocksworldState):
            raise ValueError(f"{self.name}: expected a BlocksworldState, got {type(state).__name__}")
        if state.terminal:
            return []
        plan = optimal_plan(state)
        return plan if len(plan) <= state.remaining else None

    def action_to_text(self, state: State, action: int) -> str:
        """``"move A B"`` or ``"move A table"``."""
        x, y = divmod(int(action), _SLOTS)
        return f"move {_NAMES[x]} {'table' if y == _TABLE else _NAMES[y]}"

    def optimal_plan_length(self, state: BlocksworldState) -> int:
        """Length of a shortest plan from ``state``'s configuration to its goal."""
        return optimal_plan_length(state)

    # ----------------------------------------------------------------- text

    def _block(self, field: str, name: Any) -> int:
        """The index of block ``name`` (a single letter ``A`` .. ``H``); a letter beyond is out of bounds."""
        if not isinstance(name, str) or len(name) != 1 or name not in _NAMES:  # "AB" in "ABCD" too
            got, known = short_repr(name), ", ".join(self.blocks)
            raise ValueError(f"blocksworld: {field!r} has unknown block {got} (blocks are {known})")
        if name not in self.blocks:
            raise out_of_bounds(self.name, f"{field!r} block", repr(name), f"of {MAX_BLOCKS} blocks (A..H)")
        return self.blocks.index(name)

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
                x = self._block(field, name)
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

        The instance has ``m`` blocks, ``A`` .. the latest letter named (``2 <= m <= 8``, whatever
        ``num_blocks``). Each of ``initial`` and ``goal`` must hold every one of those ``m`` blocks exactly
        once, and they must differ; otherwise a one-line ``ValueError`` (a block beyond ``H``: beyond the bound).
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
