"""Grid-maze path finding as a single-agent pure MDP.

A maze of ``size x size`` free *cells* lives on a square grid of ``W = 2 * size + 1`` squares: cell
``(i, j)`` sits at grid square ``(2i + 1, 2j + 1)``, the squares between two adjacent cells are walls or
passages, and the outer border is wall. The agent moves **one grid square** per action (so passing from
one cell to the next takes two moves). It starts in the top-left cell and must reach the bottom-right
cell (the goal).

Generation (``initial_state(seed)``, deterministic through ``np.random.default_rng(seed)``): a perfect
maze (a spanning tree of the cells) by the randomized depth-first backtracker, then a fraction
``imperfect`` of the remaining interior walls between adjacent cells is removed, which adds loops.

Difficulty levels ``1..size - 1``: level ``k`` draws a maze of ``m = k + 1`` cells per side, generated
exactly as above but with side ``m``, in the top-left corner of the ``size x size`` cell grid; every
square outside it is wall. The start is its top-left cell, the goal its bottom-right cell. So level 1 is
a ``2 x 2``-cell maze (4 moves from start to goal) and the top level (the default) is the full maze,
drawn exactly as before levels existed. Every level has the same grid, observation and actions.

Actions: ``0`` up, ``1`` down, ``2`` left, ``3`` right; a move is legal iff the target square is on the
grid and not a wall. Rewards ``float32[1]``: ``+1`` on reaching the goal (terminal, ``success``); ``-1``
when the instance's step budget ``ceil(step_budget_factor * optimal_length)`` is used up without reaching
the goal (terminal, ``failure``); ``0`` otherwise. ``optimal_length`` is the BFS distance from the start,
computed once per instance; ``_step`` does no search.

Score (``Maze.score``): a success scores ``optimal_length / step_count`` (``1.0`` iff the path taken is a
shortest one), a failure ``0.0``; a state that is not terminal has no score (``None``).

Observation: ``seq_len = W * W + 1`` tokens, the grid in row-major order (``0`` free, ``1`` wall,
``2`` agent, ``3`` goal), then one token ``4 + b`` for the remaining-budget bucket
``b = min(7, 8 * remaining // budget)``; ``vocab_size = 12``.

Text (``to_text`` / ``Maze.parse``): ``W`` rows of ``W`` characters, ``#`` wall, ``.`` free, ``S`` the
agent's current square, ``G`` the goal. ``parse`` requires the grid to be ``W x W`` for the task's
``size`` (observations have a fixed length), returns a fresh instance (``step_count = 0``) whose start is
``S``, and accepts any placement of walls as long as ``G`` is reachable from ``S`` (so the texts of easier
levels, walled-in sub-mazes, read back too). Once the agent stands
on the goal (terminal success) the square renders as ``S`` and the text has no ``G``, so it does not parse.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from zeroforge.tasks.base import State, frozen_array, solo_rewards
from zeroforge.tasks.path import PathTask
from zeroforge.tasks.registry import register_task
from zeroforge.tasks.tokens import BUDGET_BUCKETS, budget_bucket

__all__ = ["Maze", "MazeState", "bfs_distance"]

FREE, WALL, AGENT, GOAL = 0, 1, 2, 3
_BUDGET_TOKEN0 = 4
_ACTION_NAMES = ("up", "down", "left", "right")
_CHARS = {"#": WALL, ".": FREE, "S": FREE, "G": FREE}
_CHAR_SET = frozenset(_CHARS)

_NO_ACTIONS = frozen_array([False] * 4, np.bool_)


@dataclass(frozen=True, eq=False)
class MazeState(State):
    """A position in a maze instance.

    ``grid``: ``bytes`` of ``width * width`` squares, row-major, ``0`` free / ``1`` wall (the agent and the
    goal are not in it). ``position`` / ``goal``: flat square indices ``row * width + col``. ``step_count``
    is the number of steps used; ``budget`` the instance's step budget; ``optimal_length`` the BFS distance
    from the instance's start to the goal.
    """

    grid: bytes
    width: int
    position: int
    goal: int
    budget: int
    optimal_length: int

    def key(self) -> tuple[bytes, int, int, int, int]:
        """``(grid, position, step_count, goal, budget)``: goal and budget are included because a parsed
        instance may place the goal anywhere and its budget depends on where it started."""
        return (self.grid, self.position, self.step_count, self.goal, self.budget)

    @property
    def row_col(self) -> tuple[int, int]:
        """The agent's ``(row, col)`` on the grid."""
        return divmod(self.position, self.width)

    @property
    def walls(self) -> np.ndarray:
        """The grid as a read-only ``int8[width, width]`` array (``1`` wall, ``0`` free)."""
        return frozen_array(np.frombuffer(self.grid, dtype=np.int8).reshape(self.width, self.width), np.int8)

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
        return "\n".join("".join(chars[r * w : (r + 1) * w]) for r in range(w))


def _neighbours(grid: bytes, width: int, pos: int) -> list[int | None]:
    """The square reached by each action from ``pos`` (``None`` when off the grid or a wall)."""
    r, c = divmod(pos, width)
    out: list[int | None] = [
        pos - width if r > 0 else None,
        pos + width if r < width - 1 else None,
        pos - 1 if c > 0 else None,
        pos + 1 if c < width - 1 else None,
    ]
    return [p if p is not None and grid[p] == FREE else None for p in out]


def _bfs(grid: bytes, width: int, start: int, goal: int) -> int | None:
    if start == goal:
        return 0
    dist = {start: 0}
    queue = deque([start])
    while queue:
        p = queue.popleft()
        d = dist[p] + 1
        for q in _neighbours(grid, width, p):
            if q is not None and q not in dist:
                if q == goal:
                    return d
                dist[q] = d
                queue.append(q)
    return None


def bfs_distance(state: MazeState) -> int | None:
    """Length of a shortest path from the agent to the goal (``None`` if the goal is unreachable)."""
    return _bfs(state.grid, state.width, state.position, state.goal)


@register_task("maze")
class Maze(PathTask):
    """Grid-maze path finding: 4 actions (up, down, left, right), one player.

    ``size`` cells per side (grid ``2 * size + 1``), ``imperfect`` the fraction of the extra interior
    walls removed after carving a perfect maze, ``step_budget_factor`` the budget as a multiple of the
    optimal path length. ``max_episode_steps = ceil(step_budget_factor * (2 * size + 1) ** 2)`` bounds
    every instance's budget (generated or parsed, any level). ``difficulty_levels = size - 1``: level ``k``
    is a ``(k + 1) x (k + 1)``-cell maze walled in at the top-left of the grid. An instance read by ``parse``
    is exactly ``2 * size + 1`` rows of ``2 * size + 1`` squares of ``#.SG`` with one ``S`` and one ``G``
    reachable from it (an unreachable goal is refused, not played).
    """

    name: ClassVar[str] = "maze"
    path_state = MazeState
    num_actions = 4
    vocab_size = _BUDGET_TOKEN0 + BUDGET_BUCKETS

    def __init__(self, size: int = 5, imperfect: float = 0.0, step_budget_factor: float = 2.0) -> None:
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 2:
            raise ValueError(f"maze: size must be an integer >= 2, got {size!r}")
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
        self.seq_len = self.width * self.width + 1
        self.difficulty_levels = self.size - 1
        self.max_episode_steps = math.ceil(step_budget_factor * self.width * self.width)
        self._start = self.width + 1

    # ----------------------------------------------------------------- generation

    def generate_grid(self, seed: int, cells: int | None = None) -> bytes:
        """The wall grid of the instance drawn with ``seed`` (``0`` free, ``1`` wall, row-major): a maze of
        ``cells`` cells per side (default ``size``) in the top-left corner, everything else wall."""
        n = self.size if cells is None else int(cells)
        if not 2 <= n <= self.size:
            raise ValueError(f"maze: cells must be in 2..{self.size}, got {cells!r}")
        rng = np.random.default_rng(seed)
        w = self.width
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
            inner = 2 * n  # squares 1..2n-1 hold the sub-maze's cells and the walls between them
            walls = [
                (r, c) for r in range(1, inner) for c in range(1, inner) if (r + c) % 2 == 1 and grid[r, c] == WALL
            ]
            k = round(self.imperfect * len(walls))
            if k:
                for idx in rng.choice(len(walls), size=k, replace=False):
                    grid[walls[int(idx)]] = FREE
        return grid.tobytes()

    def _make_state(self, grid: bytes, start: int, goal: int) -> MazeState:
        optimum = _bfs(grid, self.width, start, goal)
        if optimum is None:  # pragma: no cover - parse checks, generation guarantees
            raise ValueError("maze: 'G' is not reachable from 'S'")
        return self._state(grid, start, goal, 0, self.step_budget(optimum), optimum)

    def _initial_state(self, seed: int, difficulty: int) -> MazeState:
        cells = difficulty + 1
        corner = 2 * cells - 1  # grid row and column of the sub-maze's bottom-right cell
        return self._make_state(self.generate_grid(seed, cells), self._start, corner * self.width + corner)

    # ----------------------------------------------------------------- dynamics

    def _observation(self, grid: bytes, position: int, goal: int, remaining: int, budget: int) -> np.ndarray:
        obs = np.empty(self.seq_len, dtype=np.int64)
        obs[:-1] = np.frombuffer(grid, dtype=np.int8)
        obs[goal] = GOAL
        obs[position] = AGENT
        obs[-1] = _BUDGET_TOKEN0 + budget_bucket(remaining, budget)
        obs.flags.writeable = False
        return obs

    def _state(self, grid: bytes, position: int, goal: int, steps: int, budget: int, optimum: int) -> MazeState:
        reached = position == goal
        terminal = reached or steps >= budget
        if terminal:
            mask = _NO_ACTIONS
        else:
            mask = frozen_array([p is not None for p in _neighbours(grid, self.width, position)], np.bool_)
        return MazeState(
            current_player=0,
            legal_action_mask=mask,
            terminal=terminal,
            rewards=solo_rewards(terminal, reached),
            observation=self._observation(grid, position, goal, budget - steps, budget),
            step_count=steps,
            grid=grid,
            width=self.width,
            position=position,
            goal=goal,
            budget=budget,
            optimal_length=optimum,
        )

    def _step(self, state: State, action: int) -> MazeState:
        if type(state) is not MazeState:
            raise ValueError(f"{self.name}: expected a MazeState, got {type(state).__name__}")
        if state.width != self.width:
            raise ValueError(f"{self.name}: state grid is {state.width} wide, this task's is {self.width}")
        delta = (-state.width, state.width, -1, 1)[action]
        return self._state(
            state.grid,
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

        The grid must be ``W x W`` with ``W = 2 * size + 1`` of this task, hold only ``#.SG``, exactly one
        ``S`` and one ``G``, and ``G`` must be reachable from ``S``; otherwise a one-line ``ValueError``.
        """
        if not isinstance(text, str):
            raise ValueError(f"maze: an instance must be a string, got {type(text).__name__}")
        w = self.width
        if len(text) > 4 * w * (w + 2) + 1024:  # far more than W rows of W squares, whatever the line ends
            raise ValueError(f"maze: text has {len(text)} characters, but this task (size={self.size}) reads "
                             f"{w} rows of {w} squares")
        rows = text.strip().splitlines()
        if not rows or not rows[0]:
            raise ValueError("maze: empty text")
        expected = len(rows[0])
        for r, row in enumerate(rows):
            if len(row) != expected:
                raise ValueError(f"maze: row {r + 1} has {len(row)} characters, expected {expected}")
            if not _CHAR_SET.issuperset(row):
                c, ch = next((c, ch) for c, ch in enumerate(row) if ch not in _CHARS)
                raise ValueError(
                    f"maze: row {r + 1} column {c + 1} has unknown character {ch!r} (allowed: '#', '.', 'S', 'G')"
                )
        if len(rows) != w or expected != w:
            raise ValueError(f"maze: grid is {len(rows)}x{expected}, but this task (size={self.size}) needs {w}x{w}")
        flat = "".join(rows)
        for mark in "SG":
            count = flat.count(mark)
            if count != 1:
                raise ValueError(f"maze: expected exactly one {mark!r}, found {count}")
        grid = bytes(_CHARS[ch] for ch in flat)
        start, goal = flat.index("S"), flat.index("G")
        if _bfs(grid, w, start, goal) is None:
            raise ValueError("maze: 'G' is not reachable from 'S'")
        return self._make_state(grid, start, goal)

    def __repr__(self) -> str:
        return f"Maze(size={self.size}, imperfect={self.imperfect}, step_budget_factor={self.step_budget_factor})"
