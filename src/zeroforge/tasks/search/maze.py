"""Grid-maze path finding as a single-agent pure MDP with size-free, structured observations.

A maze is a rectangle of ``W x H`` grid squares (``W`` wide, ``H`` high), each a wall or free. The agent
moves **one grid square** per action; it starts on one free square and must reach another (the goal).

Bounds (``Maze.bounds``): ``3 <= W, H <= 31`` (``{"width": 31, "height": 31}``). One task object, whatever
its ``size``, plays and ``parse``-s every instance within them: odd or even sides, non-square grids, start
and goal on any free square.

Generation (``initial_state(seed)``, deterministic through ``np.random.default_rng(seed)``): ``size`` cells
per side (``2 <= size <= 15``) on a square grid of ``2 * size + 1`` squares: cell ``(i, j)`` sits at square
``(2i + 1, 2j + 1)``, the squares between two adjacent cells are walls or passages, the outer border is
wall. A perfect maze (a spanning tree of the cells) is carved by the randomized depth-first backtracker,
then a fraction ``imperfect`` of the remaining interior walls between adjacent cells is removed, which adds
loops. The start is the top-left cell, the goal the bottom-right cell.

Difficulty levels ``1..size - 1``: level ``k`` draws a maze of ``m = k + 1`` cells per side on **its own
grid** of ``2m + 1 = 2k + 3`` squares per side, generated exactly as above with side ``m`` (the same random
draws as the ``m``-cell sub-maze the earlier versions walled in at the top-left of the full grid, cropped to
it). Level 1 is a ``2 x 2``-cell maze on a ``5 x 5`` grid (4 moves from start to goal); the top level (the
default) is the full maze, drawn exactly as before levels existed.

Actions: ``0`` up, ``1`` down, ``2`` left, ``3`` right (``num_actions = 4``); a move is legal iff the target
square is on the grid and not a wall. Rewards ``float32[1]``: ``+1`` on reaching the goal (terminal,
``success``); ``-1`` when the instance's step budget ``ceil(step_budget_factor * optimal_length)`` is used up
without reaching the goal (terminal, ``failure``); ``0`` otherwise. ``optimal_length`` is the BFS distance
from the start, computed once per instance; ``_step`` does no search. ``max_episode_steps =
ceil(step_budget_factor * 31 * 31)`` bounds the budget of every instance within the bounds.

Score (``Maze.score``): a success scores ``optimal_length / step_count`` (``1.0`` iff the path taken is a
shortest one), a failure ``0.0``; a state that is not terminal has no score (``None``).

Demonstration (``Maze.demonstration``): a shortest path from the agent to the goal by BFS, ties broken by
action order (the lexicographically first shortest action sequence); ``None`` when the remaining budget is
shorter than the path.

Observation (structured, :mod:`zeroforge.tasks.structured`): ``int64[F + 1, 5]`` tokens ``(type, a, b, row,
col)``, with ``t0 = TOKEN_TYPE_BASE["maze"]``:

- one token per **free** square, in row-major order, at its square ``(row, col)``: type ``t0 + 0`` (FREE),
  ``t0 + 1`` (AGENT: the agent's square) or ``t0 + 2`` (GOAL: the goal square; once the agent stands on it,
  the square is AGENT); ``a = b = 0``. Walls have no token: a wall is the absence of a free square (as is
  the outside of the grid, which plays alike), so a net sees the walls from the positions of the free
  tokens without doubling the number of tokens.
- one global token, last: type ``t0 + 3`` (BUDGET), ``a = budget_bucket(remaining, budget)`` in ``0..7``,
  ``b = 0``, placed on the agent's square (positions are read relative to each other: a global token pinned
  to a grid corner would break the translation invariance of the maze; on the agent's square it sits where
  the budget is spent).

``seq_len = 31 * 31 + 1`` (the largest instance's token count, informational); ``vocab_size = TOKEN_VOCAB``.

Action pointers (``MazeState.action_pointers()``, ``int64[4, 3]``): legal action ``d`` is
``(POINTER_KIND_BASE["maze"] + d, agent token + 1, target square's token + 1)``; rows of illegal actions are
zero.

Text (``to_text`` / ``Maze.parse``): ``H`` rows of ``W`` characters, ``#`` wall, ``.`` free, ``S`` the
agent's current square, ``G`` the goal. ``parse`` reads any rectangle within the bounds with exactly one
``S`` and one ``G`` reachable from it and returns a fresh instance (``step_count = 0``) starting at ``S``.
Once the agent stands on the goal (terminal success) the square renders as ``S`` and the text has no ``G``,
so it does not parse.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np

from zeroforge.tasks.base import State, frozen_array, solo_rewards
from zeroforge.tasks.path import PathTask
from zeroforge.tasks.registry import register_task
from zeroforge.tasks.structured import (
    POINTER_KIND_BASE,
    TOKEN_TYPE_BASE,
    TOKEN_VOCAB,
    out_of_bounds,
    token_rows,
)
from zeroforge.tasks.tokens import budget_bucket

__all__ = ["Maze", "MazeState", "bfs_distance", "shortest_path"]

#: grid square values in ``MazeState.grid``
FREE, WALL = 0, 1
#: token types (``TOKEN_TYPE_BASE["maze"] + 0..3``)
FREE_TOKEN, AGENT_TOKEN, GOAL_TOKEN, BUDGET_TOKEN = (TOKEN_TYPE_BASE["maze"] + k for k in range(4))
#: pointer kind of action ``d`` is ``STEP_KIND + d``
STEP_KIND = POINTER_KIND_BASE["maze"]
#: the largest grid side (``Maze.bounds``) and the smallest one ``parse`` reads
MAX_SIDE = 31
MIN_SIDE = 3
#: the most characters ``parse`` looks at: far more than 31 rows of 31 squares, whatever the line ends
MAX_TEXT = 4 * MAX_SIDE * (MAX_SIDE + 2) + 1024

_ACTION_NAMES = ("up", "down", "left", "right")
_CHARS = {"#": WALL, ".": FREE, "S": FREE, "G": FREE}
_CHAR_SET = frozenset(_CHARS)

_NO_ACTIONS = frozen_array([False] * 4, np.bool_)
_NO_POINTERS = frozen_array(np.zeros((4, 3)), np.int64)


@dataclass(frozen=True, eq=False)
class _Layout:
    """What every state of one grid shares (cached per grid by :func:`_layout`).

    ``tokens``: ``int16[F, 5]`` FREE tokens of the ``F`` free squares, row-major; ``index``: ``int16[H * W]``
    the token of each square (``-1`` for walls); ``targets``: ``int16[H * W, 4]`` the square each action
    reaches from each square (``-1`` off the grid or into a wall). ``int16`` keeps a cached 31 x 31 layout
    near 20 kB.
    """

    tokens: np.ndarray
    index: np.ndarray
    targets: np.ndarray


@lru_cache(maxsize=1024)
def _layout(grid: bytes, width: int) -> _Layout:
    """The shared token layout and moves of the ``grid`` (``bytes`` of ``H * width`` squares, row-major)."""
    free = np.frombuffer(grid, dtype=np.int8).reshape(-1, width) == FREE
    height = free.shape[0]
    rows, cols = np.nonzero(free)
    tokens = np.zeros((len(rows), 5), np.int16)
    tokens[:, 0], tokens[:, 3], tokens[:, 4] = FREE_TOKEN, rows, cols
    index = np.full(height * width, -1, np.int16)
    index[free.ravel()] = np.arange(len(rows))
    square = np.arange(height * width).reshape(height, width)
    targets = np.full((height, width, 4), -1, np.int16)
    targets[1:, :, 0] = np.where(free[:-1], square[:-1], -1)  # up
    targets[:-1, :, 1] = np.where(free[1:], square[1:], -1)  # down
    targets[:, 1:, 2] = np.where(free[:, :-1], square[:, :-1], -1)  # left
    targets[:, :-1, 3] = np.where(free[:, 1:], square[:, 1:], -1)  # right
    targets = targets.reshape(-1, 4)
    for arr in (tokens, index, targets):
        arr.flags.writeable = False  # shared by every state of the grid
    return _Layout(tokens, index, targets)


@dataclass(frozen=True, eq=False)
class MazeState(State):
    """A position in a maze instance.

    ``grid``: ``bytes`` of ``height * width`` squares, row-major, ``0`` free / ``1`` wall (the agent and the
    goal are not in it). ``position`` / ``goal``: flat square indices ``row * width + col``. ``step_count``
    is the number of steps used; ``budget`` the instance's step budget; ``optimal_length`` the BFS distance
    from the instance's start to the goal; ``pointers`` the ``int64[4, 3]`` action pointers.
    """

    grid: bytes
    width: int
    height: int
    position: int
    goal: int
    budget: int
    optimal_length: int
    pointers: np.ndarray

    def key(self) -> tuple[object, ...]:
        """``(grid, position, step_count, goal, budget)``, and the ``width`` of a grid that is not square (a
        square grid's shape follows from its length): goal and budget are included because a parsed instance
        may place the goal anywhere and its budget depends on where it started."""
        base = (self.grid, self.position, self.step_count, self.goal, self.budget)
        return base if self.width == self.height else (*base, self.width)

    def action_pointers(self) -> np.ndarray:
        """``int64[4, 3]``: ``(STEP_KIND + d, agent token + 1, target token + 1)`` per legal action ``d``."""
        return self.pointers

    @property
    def row_col(self) -> tuple[int, int]:
        """The agent's ``(row, col)`` on the grid."""
        return divmod(self.position, self.width)

    @property
    def walls(self) -> np.ndarray:
        """The grid as a read-only ``int8[height, width]`` array (``1`` wall, ``0`` free)."""
        return frozen_array(np.frombuffer(self.grid, dtype=np.int8).reshape(self.height, self.width), np.int8)

    @property
    def remaining(self) -> int:
        """Steps left in the budget."""
        return self.budget - self.step_count

    def to_text(self) -> str:
        """Rows of ``#`` / ``.`` with ``S`` on the agent's square and ``G`` on the goal."""
        chars = ["#" if v else "." for v in self.grid]
        chars[self.goal] = "G"
        chars[self.position] = "S"
        w = self.width
        return "\n".join("".join(chars[r * w : (r + 1) * w]) for r in range(self.height))


def _distances(grid: bytes, width: int, source: int) -> dict[int, int]:
    """BFS distance from ``source`` to every free square reachable from it."""
    targets = _layout(grid, width).targets
    dist = {source: 0}
    queue = deque([source])
    while queue:
        p = queue.popleft()
        d = dist[p] + 1
        for q in targets[p].tolist():
            if q >= 0 and q not in dist:
                dist[q] = d
                queue.append(q)
    return dist


def _bfs(grid: bytes, width: int, start: int, goal: int) -> int | None:
    """Length of a shortest path from square ``start`` to square ``goal`` (``None`` if unreachable)."""
    return _distances(grid, width, start).get(goal)


def bfs_distance(state: MazeState) -> int | None:
    """Length of a shortest path from the agent to the goal (``None`` if the goal is unreachable)."""
    return _bfs(state.grid, state.width, state.position, state.goal)


def shortest_path(grid: bytes, width: int, start: int, goal: int) -> list[int] | None:
    """The lexicographically first (by action number) shortest action sequence from square ``start`` to
    ``goal`` (``None`` if unreachable): BFS from the goal, then the first action that gets one step closer."""
    dist = _distances(grid, width, goal)
    if start not in dist:
        return None
    targets = _layout(grid, width).targets
    path: list[int] = []
    here = start
    while here != goal:
        row = targets[here].tolist()
        action = next(a for a, q in enumerate(row) if q >= 0 and dist.get(q) == dist[here] - 1)
        path.append(action)
        here = row[action]
    return path


@register_task("maze")
class Maze(PathTask):
    """Grid-maze path finding: 4 actions (up, down, left, right), one player, structured observations.

    ``size`` cells per side of the generated mazes (grid ``2 * size + 1``, ``2 <= size <= 15``),
    ``imperfect`` the fraction of the extra interior walls removed after carving a perfect maze,
    ``step_budget_factor`` the budget as a multiple of the optimal path length. ``bounds``: any ``W x H`` grid
    with ``3 <= W, H <= 31``; ``max_episode_steps = ceil(step_budget_factor * 31 * 31)`` bounds every
    instance's budget. ``difficulty_levels = size - 1``: level ``k`` is a ``(k + 1) x (k + 1)``-cell maze on its
    own ``(2k + 3)``-square grid. An instance read by ``parse`` is any rectangle of ``#.SG`` within the bounds
    with one ``S`` and one ``G`` reachable from it (an unreachable goal is refused, not played). ``width``: the
    top level's grid side ``2 * size + 1``.
    """

    name: ClassVar[str] = "maze"
    path_state = MazeState
    structured: ClassVar[bool] = True
    bounds: ClassVar[dict[str, int]] = {"width": MAX_SIDE, "height": MAX_SIDE}
    num_actions = 4
    vocab_size = TOKEN_VOCAB
    seq_len = MAX_SIDE * MAX_SIDE + 1

    def __init__(self, size: int = 5, imperfect: float = 0.0, step_budget_factor: float = 2.0) -> None:
        max_cells = (MAX_SIDE - 1) // 2
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or not 2 <= size <= max_cells:
            raise ValueError(f"maze: size must be an integer >= 2 and <= {max_cells} (grids up to {MAX_SIDE} x "
                             f"{MAX_SIDE}), got {size!r}")
        imperfect = float(imperfect)
        if not 0.0 <= imperfect <= 1.0:
            raise ValueError(f"maze: imperfect must be in [0, 1], got {imperfect!r}")
        step_budget_factor = float(step_budget_factor)
        if not (math.isfinite(step_budget_factor) and step_budget_factor >= 1.0):
            raise ValueError(f"maze: step_budget_factor must be a finite number >= 1, got {step_budget_factor!r}")
        self.size = int(size)
        self.imperfect = imperfect
        self.step_budget_factor = step_budget_factor
        self.width = 2 * self.size + 1
        self.difficulty_levels = self.size - 1
        self.max_episode_steps = math.ceil(step_budget_factor * MAX_SIDE * MAX_SIDE)

    # ----------------------------------------------------------------- generation

    def generate_grid(self, seed: int, cells: int | None = None) -> bytes:
        """The wall grid of the instance drawn with ``seed`` (``0`` free, ``1`` wall, row-major): a maze of
        ``cells`` cells per side (default ``size``) on its own square grid of ``2 * cells + 1`` squares."""
        n = self.size if cells is None else int(cells)
        if not 2 <= n <= self.size:
            raise ValueError(f"maze: cells must be in 2..{self.size}, got {cells!r}")
        rng = np.random.default_rng(seed)
        w = 2 * n + 1
        grid = np.ones((w, w), dtype=np.int8)
        visited = np.zeros((n, n), dtype=bool)
        visited[0, 0] = True
        grid[1, 1] = FREE
        stack = [(0, 0)]
        while stack:
            i, j = stack[-1]
            options = [
                (i + di, j + dj)
                for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1))
                if 0 <= i + di < n and 0 <= j + dj < n and not visited[i + di, j + dj]
            ]
            if not options:
                stack.pop()
                continue
            ni, nj = options[int(rng.integers(len(options)))]
            visited[ni, nj] = True
            grid[2 * ni + 1, 2 * nj + 1] = FREE
            grid[i + ni + 1, j + nj + 1] = FREE  # the wall square between the two cells
            stack.append((ni, nj))
        if self.imperfect > 0.0:
            # interior walls between adjacent cells: squares with one odd and one even coordinate
            inner = range(1, w - 1)
            walls = [(r, c) for r in inner for c in inner if (r + c) % 2 == 1 and grid[r, c] == WALL]
            k = round(self.imperfect * len(walls))
            if k:
                for idx in rng.choice(len(walls), size=k, replace=False):
                    grid[walls[int(idx)]] = FREE
        return grid.tobytes()

    def _make_state(self, grid: bytes, width: int, start: int, goal: int) -> MazeState:
        optimum = _bfs(grid, width, start, goal)
        if optimum is None:  # pragma: no cover - parse checks, generation guarantees
            raise ValueError("maze: 'G' is not reachable from 'S'")
        return self._state(grid, width, start, goal, 0, self.step_budget(optimum), optimum)

    def initial_state(self, seed: int = 0, difficulty: int | None = None) -> MazeState:
        """The first state of the instance drawn with ``seed`` at ``difficulty`` (a ``MazeState``)."""
        state = super().initial_state(seed, difficulty)
        assert isinstance(state, MazeState)
        return state

    def _initial_state(self, seed: int, difficulty: int) -> MazeState:
        cells = difficulty + 1
        w = 2 * cells + 1
        return self._make_state(self.generate_grid(seed, cells), w, w + 1, (w - 2) * w + (w - 2))

    # ----------------------------------------------------------------- dynamics

    @staticmethod
    def _observation(layout: _Layout, position: int, goal: int, bucket: int) -> np.ndarray:
        """``int64[F + 1, 5]``: the free squares' tokens (goal, then agent marked) and the BUDGET token."""
        free = len(layout.tokens)
        obs = np.empty((free + 1, 5), np.int64)
        obs[:free] = layout.tokens
        obs[layout.index[goal], 0] = GOAL_TOKEN
        agent = layout.index[position]
        obs[agent, 0] = AGENT_TOKEN
        obs[free] = (BUDGET_TOKEN, bucket, 0, obs[agent, 3], obs[agent, 4])
        return token_rows(obs)

    @staticmethod
    def _pointers(layout: _Layout, position: int, targets: np.ndarray) -> np.ndarray:
        """``int64[4, 3]`` pointers of the moves from ``position`` to ``targets`` (``-1``: illegal, zero row)."""
        legal = targets >= 0
        out = np.zeros((4, 3), np.int64)
        out[legal, 0] = STEP_KIND + np.flatnonzero(legal)
        out[legal, 1] = layout.index[position] + 1
        out[legal, 2] = layout.index[targets[legal]] + 1
        out.flags.writeable = False
        return out

    def _state(self, grid: bytes, width: int, position: int, goal: int, steps: int, budget: int,
               optimum: int) -> MazeState:
        layout = _layout(grid, width)
        reached = position == goal
        terminal = reached or steps >= budget
        if terminal:
            mask, pointers = _NO_ACTIONS, _NO_POINTERS
        else:
            targets = layout.targets[position]
            mask = frozen_array(targets >= 0, np.bool_)
            pointers = self._pointers(layout, position, targets)
        return MazeState(
            current_player=0,
            legal_action_mask=mask,
            terminal=terminal,
            rewards=solo_rewards(terminal, reached),
            observation=self._observation(layout, position, goal, budget_bucket(budget - steps, budget)),
            step_count=steps,
            grid=grid,
            width=width,
            height=len(grid) // width,
            position=position,
            goal=goal,
            budget=budget,
            optimal_length=optimum,
            pointers=pointers,
        )

    def _step(self, state: State, action: int) -> MazeState:
        if type(state) is not MazeState:
            raise ValueError(f"{self.name}: expected a MazeState, got {type(state).__name__}")
        delta = (-state.width, state.width, -1, 1)[action]
        return self._state(
            state.grid,
            state.width,
            state.position + delta,
            state.goal,
            state.step_count + 1,
            state.budget,
            state.optimal_length,
        )

    def is_solved(self, state: State) -> bool:
        """The agent stands on the goal."""
        assert isinstance(state, MazeState)
        return state.position == state.goal

    def optimal_steps(self, state: State) -> int:
        """The BFS distance from the instance's start to the goal."""
        assert isinstance(state, MazeState)
        return state.optimal_length

    def demonstration(self, state: State) -> list[int] | None:
        """A shortest path from the agent to the goal (BFS; ties broken by action order): ``[]`` once the goal
        is reached, ``None`` after a failure or when the remaining budget is too short for it."""
        if not isinstance(state, MazeState):
            raise ValueError(f"{self.name}: expected a MazeState, got {type(state).__name__}")
        if state.terminal:
            return [] if state.position == state.goal else None
        path = shortest_path(state.grid, state.width, state.position, state.goal)
        return path if path is not None and len(path) <= state.remaining else None

    def action_to_text(self, state: State, action: int) -> str:
        """``"up"``, ``"down"``, ``"left"`` or ``"right"``."""
        return _ACTION_NAMES[int(action)]

    # ----------------------------------------------------------------- text

    def instance_text(self, state: State) -> str:
        """The instance in the format :meth:`parse` reads."""
        if not isinstance(state, MazeState):
            raise ValueError(f"{self.name}: expected a MazeState, got {type(state).__name__}")
        return state.to_text()

    def parse(self, text: str) -> MazeState:
        """The instance drawn in ``text`` (the ``to_text`` format), starting at ``S`` with ``step_count = 0``.

        The grid must be a rectangle of ``W x H`` squares with ``3 <= W, H <= 31`` (any ``size`` of this task),
        hold only ``#.SG``, exactly one ``S`` and one ``G``, and ``G`` must be reachable from ``S``; otherwise a
        one-line ``ValueError``.
        """
        if not isinstance(text, str):
            raise ValueError(f"maze: an instance must be a string, got {type(text).__name__}")
        if len(text) > MAX_TEXT:
            raise ValueError(f"maze: text has {len(text)} characters, at most {MAX_TEXT} (grids up to "
                             f"{MAX_SIDE} x {MAX_SIDE})")
        rows = text.strip().splitlines()
        if not rows or not rows[0]:
            raise ValueError("maze: empty text")
        _check_rows(rows)
        height, width = len(rows), len(rows[0])
        if width > MAX_SIDE or height > MAX_SIDE:
            raise out_of_bounds(self.name, "a grid of", f"{width} x {height} squares (width x height)",
                                f"{MAX_SIDE} x {MAX_SIDE}")
        if width < MIN_SIDE or height < MIN_SIDE:
            raise ValueError(f"maze: a grid of {width} x {height} squares (width x height) is below the minimum "
                             f"{MIN_SIDE} x {MIN_SIDE}")
        flat = "".join(rows)
        for mark in "SG":
            count = flat.count(mark)
            if count != 1:
                raise ValueError(f"maze: expected exactly one {mark!r}, found {count}")
        grid = bytes(_CHARS[ch] for ch in flat)
        start, goal = flat.index("S"), flat.index("G")
        if _bfs(grid, width, start, goal) is None:
            raise ValueError("maze: 'G' is not reachable from 'S'")
        return self._make_state(grid, width, start, goal)

    def __repr__(self) -> str:
        return f"Maze(size={self.size}, imperfect={self.imperfect}, step_budget_factor={self.step_budget_factor})"


def _check_rows(rows: list[str]) -> None:
    """Raise a one-line ``ValueError`` unless every row has the first row's length and only ``#.SG``."""
    expected = len(rows[0])
    for r, row in enumerate(rows):
        if len(row) != expected:
            raise ValueError(f"maze: row {r + 1} has {len(row)} characters, expected {expected}")
        if not _CHAR_SET.issuperset(row):
            c, ch = next((c, ch) for c, ch in enumerate(row) if ch not in _CHARS)
            raise ValueError(
                f"maze: row {r + 1} column {c + 1} has unknown character {ch!r} (allowed: '#', '.', 'S', 'G')"
            )
