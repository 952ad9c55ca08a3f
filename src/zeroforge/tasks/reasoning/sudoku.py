"""Sudoku of sides 4, 6, 8 and 9 as a single-agent pure MDP with size-free, structured observations.

A grid of side ``n`` is split into ``n`` boxes of ``h x w`` cells (:data:`BOX_SHAPES`: 4 -> 2 x 2, 6 -> 2 x 3, 8 ->
2 x 4, 9 -> 3 x 3; ``h`` rows by ``w`` columns). A solved grid holds the digits ``1..n`` once in every row, column
and box. Boxes are numbered row-major from ``0``; cells ``i = row * n + col``.

Bounds (``Sudoku.bounds = {"side": 9}``): one task object, whatever its ``sizes``, plays and ``parse``-s every
side of :data:`SIDES`; a larger grid gets a one-line ``ValueError`` naming the bound, another side (5, 7) one
naming the sides there are.

Actions (``num_actions = 729``, the same for every side): "place digit ``d`` in cell ``(r, c)``" is action
``(r * 9 + c) * 9 + (d - 1)``, the cell numbered over a 9 x 9 frame. It is legal iff the cell is empty and ``d``
(in ``1..n``) is not yet in the cell's row, column or box. After a placement the episode ends

- **solved** (reward ``+1``) when the grid is full: the verifier (:func:`is_solution`: every row, column and box
  a permutation of ``1..n``, every clue kept) decides, never the net;
- **failed** (reward ``-1``, a dead end) when some empty cell has no legal digit left.

A placement that leaves the grid without a solution but every empty cell with a legal digit does not end the
episode: the agent may fill on until a dead end. Every episode ends within the number of blanks of its instance
(``max_episode_steps = 81``); a solved one takes exactly that many steps, so ``score`` is ``1.0`` on success and
``0.0`` on failure.

Solver (bitmasks of the digits used per row, column and box, plain Python). :func:`rating` is the difficulty of
a puzzle: the number of backtracks (placements undone because no solution lay below them) of a *plain*
depth-first search that fills the most constrained empty cell first (fewest candidates, ties by cell index) with
its candidates in increasing order, up to the first solution. A puzzle solved by naked singles rates ``0``. The
other uses (solvability, uniqueness, demonstrations) run the same search with unit reasoning added: a digit with
no place left in a row, column or box is a dead end, a digit with one place is placed there (hidden single).
Both give up after :data:`MAX_NODES` nodes (a one-line ``ValueError`` from ``parse``; the unit search decides the
hardest published 9 x 9 puzzles in a few thousand nodes); a state records the rating capped at :data:`RATING_CAP`
(shown as ``20000+``), since the plain search explodes on some few-clue puzzles.

Generation (``initial_state(seed, difficulty)``, deterministic through ``np.random.default_rng(seed)``): draw a
side from ``sizes``, a full grid by randomised backtracking (most constrained cell first, candidates in an order
drawn per cell and digit), a blank count uniformly from ``ceil(low * n^2) .. floor(high * n^2)`` of
``blank_fraction = [low, high]``, then visit the cells in a random order and blank each while the puzzle keeps a
unique solution, until the drawn count is reached (fewer when no further clue can go: one pass is enough, since
blanking more cells never restores uniqueness). Uniqueness after blanking cell ``c`` of digit ``v`` holds when
``v`` is ``c``'s only candidate (naked single), the only place of ``v`` in one of ``c``'s units (hidden single),
or else when no solution has a digit other than ``v`` in ``c`` (one search). With ``max_rating``, clues are then
put back (last blanked first) until the puzzle rates at most ``max_rating``. Difficulty levels ``1..len(sizes)``:
level ``k`` draws its side from the ``k`` smallest sides of ``sizes``; the top level (the default) from all.

Observation (structured, :mod:`zeroforge.tasks.structured`; ``T = TOKEN_TYPE_BASE["sudoku"]``): one token per
cell, row-major, ``(type, a, b, row, col)`` at the cell's ``(row, col)``: type ``T + 0`` a clue, ``T + 1`` a
placed digit, ``T + 2`` an empty cell; ``a`` the digit (``0`` if empty); ``b`` the box index ``+ 1``.
``seq_len = 81``; ``vocab_size = TOKEN_VOCAB``.

Pointers (``K = POINTER_KIND_BASE["sudoku"]``): legal action "``d`` in cell ``c``" is ``(K + d - 1, t + 1, t + 1)``
with ``t`` the token of cell ``c``; rows of illegal actions are zero.

Text. ``parse`` reads the grid one row a line, digits and ``.`` (or ``0``) for blanks; spaces, tabs and ``|`` are
ignored, so are lines of only ``-``, ``+`` and ``|`` (box separators, as ``to_text`` draws them) and blank lines at
the ends. The side is the number of lines; every line must hold that many cells. A clue out of ``1..n``, two equal
digits in a row, column or box, a full grid and a puzzle without a solution are refused; a puzzle with several
solutions is read (any valid completion solves it). ``instance_text`` writes the clues in that format, ``answer``
the solved grid (digits, one row a line), ``to_text`` the grid with box separators and a status line (side,
rating, step, outcome).

Demonstration (``Sudoku.demonstration``): the rest of a solution from the current grid: the most constrained empty
cell first (fewest legal digits, ties by cell index), filled with its digit in a solution of the current grid (the
instance's stored solution while the placements agree with it, else the solver's first); ``None`` when the current
grid has no solution (or the solver gives up).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from zeroforge.tasks.base import State, frozen_array, solo_rewards
from zeroforge.tasks.params import check_int_param
from zeroforge.tasks.path import PathTask
from zeroforge.tasks.registry import register_task
from zeroforge.tasks.structured import POINTER_KIND_BASE, TOKEN_TYPE_BASE, TOKEN_VOCAB, out_of_bounds, token_rows

__all__ = [
    "BOX_SHAPES",
    "MAX_NODES",
    "RATING_CAP",
    "SIDES",
    "Sudoku",
    "SudokuState",
    "count_solutions",
    "is_solution",
    "rating",
    "solve_grid",
]

#: box shape ``(rows, cols)`` of each side
BOX_SHAPES: dict[int, tuple[int, int]] = {4: (2, 2), 6: (2, 3), 8: (2, 4), 9: (3, 3)}
SIDES: tuple[int, ...] = tuple(sorted(BOX_SHAPES))
#: the largest side (``Sudoku.bounds``) and the side of the action frame
FRAME = 9
NUM_ACTIONS = FRAME * FRAME * FRAME
#: search nodes after which the solver gives up
MAX_NODES = 200_000
#: the highest rating a state records (the plain search behind it stops there; ~0.1 s)
RATING_CAP = 20_000
#: the most characters ``parse`` looks at: a 9 x 9 grid with spaces, separators and CRLF line ends is ~250
MAX_TEXT = 4096
#: token types and the pointer kind of digit 1
CLUE, PLACED, EMPTY = (TOKEN_TYPE_BASE["sudoku"] + k for k in range(3))
PLACE_KIND = POINTER_KIND_BASE["sudoku"]

_BLANKS = frozenset(".0")
_IGNORED = str.maketrans("", "", " \t|")
_SEPARATOR = frozenset("-+|= \t")
#: ``_DIGIT_BITS[m, k]``: bit ``k`` (digit ``k + 1``) is set in mask ``m``
_DIGIT_BITS = frozen_array((np.arange(1 << FRAME)[:, None] >> np.arange(FRAME)) & 1, np.bool_)
#: ``_BIT_OF[d]``: the mask of digit ``d`` (``0`` for a blank)
_BIT_OF = frozen_array([0] + [1 << k for k in range(FRAME)], np.int64)
_NO_ACTIONS = frozen_array(np.zeros(NUM_ACTIONS), np.bool_)
_NO_POINTERS = frozen_array(np.zeros((NUM_ACTIONS, 3)), np.int64)

Cells = Sequence[int]  # a grid row-major, 0 for a blank


class _GaveUp(Exception):
    """The search went past its node (or backtrack) budget."""


# ---------------------------------------------------------------------------------------------------- geometry
@dataclass(frozen=True, eq=False)
class _Geometry:
    """What every grid of one side shares: ``row`` / ``col`` / ``box`` of each cell, ``units`` (the cells of each
    row, column and box), ``cell_units`` (the indices in ``units`` of each cell's three), ``tokens``
    ``int64[n * n, 5]`` with ``b``, ``row``, ``col`` filled in, ``frame`` ``int64[n * n]`` each cell's index in the
    9 x 9 frame."""

    side: int
    box_rows: int
    box_cols: int
    full: int
    row: tuple[int, ...]
    col: tuple[int, ...]
    box: tuple[int, ...]
    units: tuple[tuple[int, ...], ...]
    cell_units: tuple[tuple[int, int, int], ...]
    tokens: np.ndarray
    frame: np.ndarray


@lru_cache(maxsize=len(SIDES))
def _geometry(side: int) -> _Geometry:
    h, w = BOX_SHAPES[side]
    cells = range(side * side)
    row = tuple(i // side for i in cells)
    col = tuple(i % side for i in cells)
    box = tuple((r // h) * (side // w) + c // w for r, c in zip(row, col, strict=True))
    units = tuple(
        [tuple(i for i in cells if row[i] == k) for k in range(side)]
        + [tuple(i for i in cells if col[i] == k) for k in range(side)]
        + [tuple(i for i in cells if box[i] == k) for k in range(side)]
    )
    cell_units = tuple((row[i], side + col[i], 2 * side + box[i]) for i in cells)
    tokens = np.zeros((side * side, 5), np.int64)
    tokens[:, 2], tokens[:, 3], tokens[:, 4] = np.array(box) + 1, row, col
    tokens.flags.writeable = False
    frame = frozen_array([r * FRAME + c for r, c in zip(row, col, strict=True)], np.int64)
    return _Geometry(side, h, w, (1 << side) - 1, row, col, box, units, cell_units, tokens, frame)


def _flatten(grid: Any) -> tuple[int, tuple[int, ...]]:
    """``(side, cells)`` of a grid given as rows of digits (lists, tuples or a 2-D array; ``0`` for a blank); a
    one-line ``ValueError`` unless it is square, of a side in :data:`SIDES`, with digits in ``0..side``."""
    try:
        rows = [np.asarray(r, np.int64).reshape(-1).tolist() for r in grid]
    except (TypeError, ValueError):
        raise ValueError("sudoku: a grid must be rows of integer digits") from None
    side = len(rows)
    if side not in BOX_SHAPES or any(len(r) != side for r in rows):
        raise ValueError(f"sudoku: a grid must be square with a side in {SIDES}, got {side} rows")
    cells = tuple(int(v) for r in rows for v in r)
    if any(not 0 <= v <= side for v in cells):
        raise ValueError(f"sudoku: digits of a side-{side} grid are 0 (blank) .. {side}")
    return side, cells


# ------------------------------------------------------------------------------------------------------ solver
def _masks(geo: _Geometry, cells: Cells) -> tuple[list[int], list[int], list[int]] | None:
    """The digit masks used per row, column and box, ``None`` if a digit repeats in one of them."""
    rows, cols, boxes = [0] * geo.side, [0] * geo.side, [0] * geo.side
    for i, v in enumerate(cells):
        if v:
            bit = 1 << (v - 1)
            r, c, b = geo.row[i], geo.col[i], geo.box[i]
            if (rows[r] | cols[c] | boxes[b]) & bit:
                return None
            rows[r] |= bit
            cols[c] |= bit
            boxes[b] |= bit
    return rows, cols, boxes


@dataclass(frozen=True)
class _Result:
    """What a search found: ``solutions`` (each a tuple of cells), ``backtracks``, ``nodes`` visited."""

    solutions: tuple[tuple[int, ...], ...]
    backtracks: int
    nodes: int


def _search(geo: _Geometry, cells: Cells, limit: int, units: bool, ban: tuple[int, int] = (-1, 0),
            max_nodes: int = MAX_NODES, max_backtracks: int | None = None) -> _Result:
    """Depth-first search for up to ``limit`` solutions of ``cells``: the most constrained empty cell first (ties
    by index), its candidates in increasing order. With ``units``, unit reasoning too (:func:`_unit_options`): a
    digit without a place in a row, column or box is a dead end, one with a single place is placed there, one with
    two places is branched on when every cell has three candidates or more. ``ban = (cell, mask)`` removes digits
    from one cell's candidates. Raises ``_GaveUp`` past ``max_nodes`` nodes or at ``max_backtracks`` backtracks."""
    masks = _masks(geo, cells)
    if masks is None:
        return _Result((), 0, 0)
    rows, cols, boxes = masks
    grid = list(cells)
    banned = [0] * len(grid)
    if ban[0] >= 0:
        banned[ban[0]] = ban[1]
    row, col, box, full = geo.row, geo.col, geo.box, geo.full
    solutions: list[tuple[int, ...]] = []
    count = [0, 0]  # backtracks, nodes

    def options(todo: list[int]) -> list[tuple[int, int]]:
        """The placements ``(cell, digit mask)`` to branch on, exhaustive and exclusive; ``[]`` at a dead end."""
        best_i, best_n, best_c = -1, FRAME + 1, 0
        cand_of: dict[int, int] = {}
        for i in todo:
            cand = full & ~(rows[row[i]] | cols[col[i]] | boxes[box[i]] | banned[i])
            n = cand.bit_count()
            if n < best_n:
                best_i, best_n, best_c = i, n, cand
                if n == 0:
                    return []
            if units:
                cand_of[i] = cand
        if units and best_n > 1:
            forced = _unit_options(geo, cand_of, grid, best_n)
            if forced is not None:
                return forced
        return [(best_i, bit) for bit in _bits(best_c)]

    def rec(todo: list[int]) -> bool:
        if not todo:
            solutions.append(tuple(grid))
            return len(solutions) >= limit
        count[1] += 1
        if count[1] > max_nodes:
            raise _GaveUp
        for i, bit in options(todo):
            rest = todo.copy()
            rest.remove(i)
            r, c, b = row[i], col[i], box[i]
            rows[r] |= bit
            cols[c] |= bit
            boxes[b] |= bit
            grid[i] = bit.bit_length()
            found = len(solutions)
            if rec(rest):
                return True
            rows[r] ^= bit
            cols[c] ^= bit
            boxes[b] ^= bit
            grid[i] = 0
            if len(solutions) == found:
                count[0] += 1
                if count[0] == max_backtracks:
                    raise _GaveUp
        return False

    rec([i for i, v in enumerate(grid) if v == 0])
    return _Result(tuple(solutions), count[0], count[1])


def _bits(mask: int) -> list[int]:
    """The set bits of ``mask``, lowest first."""
    out = []
    while mask:
        bit = mask & -mask
        out.append(bit)
        mask ^= bit
    return out


def _unit_options(geo: _Geometry, cand_of: dict[int, int], grid: list[int],
                  best_n: int) -> list[tuple[int, int]] | None:
    """Unit reasoning when no cell has a single candidate (``best_n`` the fewest): ``[]`` when a unit misses a digit
    that has no place left (a dead end), the one placement of a hidden single (a digit with one place in a unit),
    the two placements of a digit with two places in a unit when ``best_n > 2``; else ``None``."""
    pair: tuple[tuple[int, ...], int] | None = None
    for unit in geo.units:
        once = twice = thrice = placed = 0
        for i in unit:
            v = grid[i]
            if v:
                placed |= 1 << (v - 1)
            else:
                cand = cand_of[i]
                thrice |= twice & cand
                twice |= once & cand
                once |= cand
        missing = geo.full & ~placed
        if missing & ~once:
            return []
        single = missing & once & ~twice
        if single:
            bit = single & -single
            return [(next(i for i in unit if not grid[i] and cand_of[i] & bit), bit)]
        double = missing & twice & ~thrice
        if double and pair is None and best_n > 2:
            pair = (unit, double & -double)
    if pair is None:
        return None
    unit, bit = pair
    return [(i, bit) for i in unit if not grid[i] and cand_of[i] & bit]


def _first_solution(geo: _Geometry, cells: Cells) -> tuple[int, ...] | None:
    """The first solution of the search with unit reasoning, ``None`` if there is none (``_GaveUp`` past the
    budget)."""
    found = _search(geo, cells, 1, units=True).solutions
    return found[0] if found else None


def rating(grid: Any) -> int:
    """The difficulty of a puzzle (rows of digits, ``0`` for a blank): the backtracks of the plain depth-first
    search (most constrained cell first, ties by cell index, candidates in increasing order) up to its first
    solution, or over the whole search when there is none. ``0`` for a puzzle solved by naked singles. A one-line
    ``ValueError`` for a malformed grid or past :data:`MAX_NODES` nodes."""
    side, cells = _flatten(grid)
    return _rating(_geometry(side), cells)


def _rating(geo: _Geometry, cells: Cells, cap: int | None = None) -> int:
    """:func:`rating` of ``cells``; with ``cap``, ``min(rating, cap)`` (the search stops at ``cap`` backtracks)."""
    try:
        return _search(geo, cells, 1, units=False, max_backtracks=cap).backtracks
    except _GaveUp:  # at the cap, or past MAX_NODES (then more than MAX_NODES - 82 backtracks)
        if cap is not None:
            return cap
        raise ValueError(f"sudoku: the rating search gave up after {MAX_NODES} nodes") from None


def count_solutions(grid: Any, limit: int = 2) -> int:
    """The number of solutions of a puzzle (rows of digits, ``0`` for a blank), counted up to ``limit`` (``2``:
    ``1`` means unique). A one-line ``ValueError`` past :data:`MAX_NODES` nodes."""
    side, cells = _flatten(grid)
    try:
        return len(_search(_geometry(side), cells, limit, units=True).solutions)
    except _GaveUp:
        raise ValueError(f"sudoku: the solver gave up after {MAX_NODES} nodes") from None


def solve_grid(grid: Any) -> list[list[int]] | None:
    """A solution of a puzzle (rows of digits, ``0`` for a blank) as rows of digits, ``None`` if it has none."""
    side, cells = _flatten(grid)
    try:
        found = _first_solution(_geometry(side), cells)
    except _GaveUp:
        raise ValueError(f"sudoku: the solver gave up after {MAX_NODES} nodes") from None
    return None if found is None else [list(found[r * side : (r + 1) * side]) for r in range(side)]


def is_solution(puzzle: Any, grid: Any) -> bool:
    """The verifier: ``grid`` is full, every row, column and box a permutation of ``1..side``, and it keeps every
    clue of ``puzzle`` (both rows of digits, ``0`` for a blank)."""
    side, clues = _flatten(puzzle)
    side2, cells = _flatten(grid)
    return side == side2 and _verify(_geometry(side), clues, cells)


def _verify(geo: _Geometry, clues: Cells, cells: Cells) -> bool:
    if any(c and c != v for c, v in zip(clues, cells, strict=True)):
        return False
    digits = set(range(1, geo.side + 1))
    return all({cells[i] for i in unit} == digits for unit in geo.units)


def _unique_without(geo: _Geometry, puzzle: list[int], cell: int, digit: int) -> bool:
    """Whether ``puzzle`` (uniquely solvable with ``digit`` in ``cell``, now blank there) still has one solution:
    a naked or hidden single, else no solution with another digit in ``cell``."""
    masks = _masks(geo, puzzle)
    assert masks is not None
    rows, cols, boxes = masks

    def cand(i: int) -> int:
        return geo.full & ~(rows[geo.row[i]] | cols[geo.col[i]] | boxes[geo.box[i]])

    bit = 1 << (digit - 1)
    if cand(cell) == bit:
        return True
    for u in geo.cell_units[cell]:
        if not any(i != cell and not puzzle[i] and cand(i) & bit for i in geo.units[u]):
            return True
    try:
        return not _search(geo, puzzle, 1, units=True, ban=(cell, bit)).solutions
    except _GaveUp:  # pragma: no cover - generated puzzles keep far more clues than such a search needs
        return False


def _random_full_grid(geo: _Geometry, rng: np.random.Generator) -> tuple[int, ...]:
    """A random full grid: depth-first search, most constrained cell first, each cell's candidates in the order of
    priorities drawn once per cell and digit."""
    n = geo.side * geo.side
    order = np.argsort(rng.random((n, geo.side)), axis=1).tolist()  # digit indices by priority, per cell
    rows, cols, boxes = [0] * geo.side, [0] * geo.side, [0] * geo.side
    grid = [0] * n
    row, col, box, full = geo.row, geo.col, geo.box, geo.full

    def rec(todo: list[int]) -> bool:
        if not todo:
            return True
        best_j, best_n, best_c = 0, FRAME + 1, 0
        for j, i in enumerate(todo):
            cand = full & ~(rows[row[i]] | cols[col[i]] | boxes[box[i]])
            k = cand.bit_count()
            if k < best_n:
                best_j, best_n, best_c = j, k, cand
                if k == 0:
                    return False
        i = todo[best_j]
        rest = todo[:best_j] + todo[best_j + 1 :]
        r, c, b = row[i], col[i], box[i]
        for k in order[i]:
            bit = 1 << k
            if not best_c & bit:
                continue
            rows[r] |= bit
            cols[c] |= bit
            boxes[b] |= bit
            grid[i] = k + 1
            if rec(rest):
                return True
            rows[r] ^= bit
            cols[c] ^= bit
            boxes[b] ^= bit
            grid[i] = 0
        return False

    if not rec(list(range(n))):  # pragma: no cover - an empty grid always fills
        raise AssertionError("sudoku: no full grid found")
    return tuple(grid)


def _fill_order(geo: _Geometry, cells: Cells, solution: Cells) -> list[int]:
    """Actions filling the blanks of ``cells`` from ``solution``: the most constrained empty cell first (fewest
    candidates, ties by index)."""
    masks = _masks(geo, cells)
    assert masks is not None
    rows, cols, boxes = masks
    row, col, box, full = geo.row, geo.col, geo.box, geo.full
    todo = [i for i, v in enumerate(cells) if v == 0]
    actions: list[int] = []
    while todo:
        counts = [(full & ~(rows[row[i]] | cols[col[i]] | boxes[box[i]])).bit_count() for i in todo]
        i = todo.pop(counts.index(min(counts)))
        d = solution[i]
        bit = 1 << (d - 1)
        rows[row[i]] |= bit
        cols[col[i]] |= bit
        boxes[box[i]] |= bit
        actions.append(int(geo.frame[i]) * FRAME + d - 1)
    return actions


# ------------------------------------------------------------------------------------------------------- state
@dataclass(frozen=True, eq=False)
class SudokuState(State):
    """A point in a sudoku episode.

    ``side``: the grid's side; ``clues`` / ``grid``: ``bytes`` of ``side * side`` digits row-major (``0`` blank),
    the instance's clues and the current grid (clues plus placed digits); ``solution``: a solution of the instance
    (the solver's first; the only one of a generated instance); ``rating``: the instance's :func:`rating`, at most
    :data:`RATING_CAP`;
    ``blanks``: the instance's blank count; ``pointers``: ``int64[729, 3]`` action pointers.
    """

    side: int
    clues: bytes
    grid: bytes
    solution: bytes
    rating: int
    blanks: int
    pointers: np.ndarray

    def key(self) -> tuple[bytes, bytes]:
        """``(clues, grid)``: the instance and the digits placed (the side and step count follow)."""
        return self.clues, self.grid

    def action_pointers(self) -> np.ndarray:
        """``int64[729, 3]``: ``(PLACE_KIND + d - 1, t + 1, t + 1)`` per legal action, ``t`` the cell's token."""
        return self.pointers

    @property
    def rows(self) -> list[list[int]]:
        """The current grid as rows of digits (``0`` blank)."""
        n = self.side
        return [list(self.grid[r * n : (r + 1) * n]) for r in range(n)]

    @property
    def full(self) -> bool:
        """No blank is left."""
        return 0 not in self.grid

    def to_text(self) -> str:
        """The grid with ``.`` for blanks and box separators, then ``9 x 9 sudoku, rating 3, step 12/51`` (and
        ``solved`` / ``dead end`` at the end of an episode)."""
        h, w = BOX_SHAPES[self.side]
        lines = []
        for r, cells in enumerate(self.rows):
            if r and r % h == 0:
                k = self.side // w
                lines.append("+".join("-" * (2 * w - 1 + (b > 0) + (b < k - 1)) for b in range(k)))
            chunks = [" ".join(str(v) if v else "." for v in cells[k : k + w]) for k in range(0, self.side, w)]
            lines.append(" | ".join(chunks))
        rated = f"{self.rating}{'+' if self.rating >= RATING_CAP else ''}"
        status = f"{self.side} x {self.side} sudoku, rating {rated}, step {self.step_count}/{self.blanks}"
        if self.terminal:
            status += ", solved" if self.full else ", dead end"
        return "\n".join([*lines, status])


def _grid_text(side: int, cells: bytes, blank: str = ".") -> str:
    """``cells`` one row a line, digits and ``blank``."""
    chars = "".join(str(v) if v else blank for v in cells)
    return "\n".join(chars[r * side : (r + 1) * side] for r in range(side))


# -------------------------------------------------------------------------------------------------------- task
@register_task("sudoku")
class Sudoku(PathTask):
    """Sudoku: place digits until the grid is full (``+1``) or an empty cell has no legal digit (``-1``).

    ``sizes``: the sides generated instances draw from (distinct, of 4, 6, 8, 9); ``blank_fraction``: ``[low,
    high]`` with ``0 < low <= high < 1``, the range of the share of blank cells; ``max_rating``: ``None`` or the
    highest :func:`rating` of a generated puzzle. ``difficulty_levels = len(sizes)``: level ``k`` draws from the
    ``k`` smallest sides. ``parse`` reads any side of 4, 6, 8, 9 whatever ``sizes`` (``bounds = {"side": 9}``).
    """

    name: ClassVar[str] = "sudoku"
    path_state = SudokuState
    structured: ClassVar[bool] = True
    bounds: ClassVar[dict[str, int]] = {"side": FRAME}
    num_actions = NUM_ACTIONS
    vocab_size = TOKEN_VOCAB
    seq_len = FRAME * FRAME
    max_episode_steps = FRAME * FRAME
    #: a solved episode takes exactly as many steps as there are blanks
    step_budget_factor = 1.0

    def __init__(self, sizes: Sequence[int] = (4, 6, 9), blank_fraction: Sequence[float] = (0.35, 0.55),
                 max_rating: int | None = None) -> None:
        self.sizes = _check_sizes(sizes)
        self.blank_fraction = _check_fraction(blank_fraction)
        self.max_rating = None if max_rating is None else check_int_param("sudoku", "max_rating", max_rating, 0,
                                                                          RATING_CAP)
        self.difficulty_levels = len(self.sizes)

    # ----------------------------------------------------------------- generation

    def generate(self, seed: int, level: int | None = None) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
        """``(side, clues, solution)`` of the puzzle drawn with ``seed`` at ``level`` (default the top)."""
        level = self.check_difficulty(level)
        rng = np.random.default_rng(seed)
        side = self.sizes[int(rng.integers(level))]
        geo = _geometry(side)
        solution = _random_full_grid(geo, rng)
        n = side * side
        low, high = self.blank_fraction
        lo, hi = max(1, math.ceil(low * n)), min(n - 1, math.floor(high * n))
        target = int(rng.integers(lo, hi + 1)) if lo <= hi else max(1, round(low * n))
        puzzle, removed = list(solution), list[int]()
        for i in rng.permutation(n).tolist():
            if len(removed) == target:
                break
            digit, puzzle[i] = puzzle[i], 0
            if _unique_without(geo, puzzle, i, digit):
                removed.append(i)
            else:
                puzzle[i] = digit
        if self.max_rating is not None:
            while removed and _rating(geo, puzzle, RATING_CAP) > self.max_rating:
                i = removed.pop()
                puzzle[i] = solution[i]
        return side, tuple(puzzle), solution

    def _initial_state(self, seed: int, difficulty: int) -> SudokuState:
        side, clues, solution = self.generate(seed, difficulty)
        geo = _geometry(side)
        return self._fresh(geo, bytes(clues), bytes(solution), _rating(geo, clues, RATING_CAP))

    def _fresh(self, geo: _Geometry, clues: bytes, solution: bytes, rated: int) -> SudokuState:
        return self._state(geo, clues, clues, solution, rated, clues.count(0), 0)

    # ----------------------------------------------------------------- dynamics

    @staticmethod
    def _candidates(geo: _Geometry, grid: np.ndarray) -> np.ndarray:
        """``int64[side, side]``: the legal digits of each empty cell as a mask (``0`` for a filled cell)."""
        h, w, n = geo.box_rows, geo.box_cols, geo.side
        bits = _BIT_OF[grid]
        rows = np.bitwise_or.reduce(bits, axis=1)
        cols = np.bitwise_or.reduce(bits, axis=0)
        boxes = np.bitwise_or.reduce(np.bitwise_or.reduce(bits.reshape(n // h, h, n // w, w), axis=3), axis=1)
        used = rows[:, None] | cols[None, :] | np.repeat(np.repeat(boxes, h, axis=0), w, axis=1)
        return np.where(grid == 0, geo.full & ~used, 0)

    @staticmethod
    def _observation(geo: _Geometry, clues: np.ndarray, grid: np.ndarray) -> np.ndarray:
        obs = geo.tokens.copy()
        obs[:, 0] = np.where(clues > 0, CLUE, np.where(grid > 0, PLACED, EMPTY))
        obs[:, 1] = grid
        return token_rows(obs)

    @staticmethod
    def _actions(geo: _Geometry, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The legal mask ``bool[729]`` and pointers ``int64[729, 3]`` of the candidate masks ``cand``."""
        frame = np.zeros((FRAME * FRAME, FRAME), np.bool_)
        frame[geo.frame] = _DIGIT_BITS[cand.ravel()]
        mask = frame.reshape(NUM_ACTIONS)
        legal = np.flatnonzero(mask)
        cell = legal // FRAME
        token = (cell // FRAME) * geo.side + cell % FRAME
        pointers = np.zeros((NUM_ACTIONS, 3), np.int64)
        pointers[legal, 0] = PLACE_KIND + legal % FRAME
        pointers[legal, 1] = pointers[legal, 2] = token + 1
        mask.flags.writeable = False
        pointers.flags.writeable = False
        return mask, pointers

    def _state(self, geo: _Geometry, clues: bytes, grid: bytes, solution: bytes, rated: int, blanks: int,
               steps: int) -> SudokuState:
        g = np.frombuffer(grid, np.uint8).astype(np.int64)
        cand = self._candidates(geo, g.reshape(geo.side, geo.side)).ravel()
        full = bool(g.all())
        dead = bool(((g == 0) & (cand == 0)).any())
        solved = full and _verify(geo, clues, grid)
        terminal = full or dead
        mask, pointers = (_NO_ACTIONS, _NO_POINTERS) if terminal else self._actions(geo, cand)
        return SudokuState(
            current_player=0,
            legal_action_mask=mask,
            terminal=terminal,
            rewards=solo_rewards(terminal, solved),
            observation=self._observation(geo, np.frombuffer(clues, np.uint8), g),
            step_count=steps,
            side=geo.side,
            clues=clues,
            grid=grid,
            solution=solution,
            rating=rated,
            blanks=blanks,
            pointers=pointers,
        )

    def _step(self, state: State, action: int) -> SudokuState:
        if type(state) is not SudokuState:
            raise ValueError(f"{self.name}: expected a SudokuState, got {type(state).__name__}")
        cell, digit = divmod(action, FRAME)
        r, c = divmod(cell, FRAME)
        grid = bytearray(state.grid)
        grid[r * state.side + c] = digit + 1
        s = state
        return self._state(_geometry(s.side), s.clues, bytes(grid), s.solution, s.rating, s.blanks, s.step_count + 1)

    # ----------------------------------------------------------------- verdicts

    def is_solved(self, state: State) -> bool:
        """The verifier: the grid is full, every row, column and box a permutation, every clue kept."""
        assert isinstance(state, SudokuState)
        return _verify(_geometry(state.side), state.clues, state.grid)

    def optimal_steps(self, state: State) -> int:
        """The instance's blank count (every solved episode takes exactly that many steps)."""
        assert isinstance(state, SudokuState)
        return state.blanks

    def demonstration(self, state: State) -> list[int] | None:
        """The rest of a solution from ``state`` (module docstring): ``[]`` once solved, ``None`` after a dead end
        or when the current grid has no solution (or the solver gives up)."""
        if not isinstance(state, SudokuState):
            raise ValueError(f"{self.name}: expected a SudokuState, got {type(state).__name__}")
        if state.terminal:
            return [] if self.is_solved(state) else None
        geo = _geometry(state.side)
        solution: Cells | None = state.solution
        if any(v and v != s for v, s in zip(state.grid, state.solution, strict=True)):
            try:
                solution = _first_solution(geo, state.grid)
            except _GaveUp:
                return None
        return None if solution is None else _fill_order(geo, state.grid, solution)

    def answer(self, state: State) -> str | None:
        """The solved grid (digits, one row a line) of a solved episode, else ``None``."""
        if not isinstance(state, SudokuState) or not state.terminal or not self.is_solved(state):
            return None
        return _grid_text(state.side, state.grid)

    def action_to_text(self, state: State, action: int) -> str:
        """``"place 5 at row 1, column 3"`` (rows and columns from 1)."""
        cell, digit = divmod(int(action), FRAME)
        r, c = divmod(cell, FRAME)
        return f"place {digit + 1} at row {r + 1}, column {c + 1}"

    # ----------------------------------------------------------------- text

    def instance_text(self, state: State) -> str:
        """The clues in the format :meth:`parse` reads (digits and ``.``, one row a line)."""
        if not isinstance(state, SudokuState):
            raise ValueError(f"{self.name}: expected a SudokuState, got {type(state).__name__}")
        return _grid_text(state.side, state.clues) + "\n"

    def parse(self, text: str) -> SudokuState:
        """The puzzle in ``text`` (module docstring: digits and ``.`` or ``0``, one row a line); a one-line
        ``ValueError`` naming what is wrong otherwise."""
        side, cells = _read_grid(text)
        geo = _geometry(side)
        _check_clues(geo, cells)
        if 0 not in cells:
            raise ValueError("sudoku: the grid is already full; there is nothing to solve")
        try:
            solution = _first_solution(geo, cells)
        except _GaveUp:
            raise ValueError(f"sudoku: the solver gave up after {MAX_NODES} nodes; cannot tell whether the puzzle "
                             f"has a solution") from None
        if solution is None:
            raise ValueError("sudoku: no solution: the clues admit no valid completion")
        return self._fresh(geo, bytes(cells), bytes(solution), _rating(geo, cells, RATING_CAP))

    def __repr__(self) -> str:
        return f"Sudoku(sizes={list(self.sizes)}, blank_fraction={list(self.blank_fraction)}, " \
               f"max_rating={self.max_rating})"


# ----------------------------------------------------------------------------------------------------- checks
def _check_sizes(sizes: Any) -> tuple[int, ...]:
    """``sizes``: a non-empty list of distinct sides of :data:`SIDES`, returned sorted."""
    ok = isinstance(sizes, list | tuple) and sizes and all(
        isinstance(s, int | np.integer) and not isinstance(s, bool) and int(s) in BOX_SHAPES for s in sizes)
    if not ok:
        raise ValueError(f"sudoku: sizes must be a non-empty list of sides from {list(SIDES)}, got {sizes!r}")
    if len(set(sizes)) < len(sizes):
        raise ValueError(f"sudoku: sizes must be distinct, got {list(sizes)!r}")
    return tuple(sorted(int(s) for s in sizes))


def _check_fraction(fraction: Any) -> tuple[float, float]:
    """``blank_fraction``: ``[low, high]`` with ``0 < low <= high < 1``."""
    numeric = isinstance(fraction, list | tuple) and len(fraction) == 2 and all(
        isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool) for x in fraction)
    if not numeric or not 0 < fraction[0] <= fraction[1] < 1:
        raise ValueError(f"sudoku: blank_fraction must be a [low, high] range with 0 < low <= high < 1, "
                         f"got {fraction!r}")
    return float(fraction[0]), float(fraction[1])


def _read_grid(text: Any) -> tuple[int, tuple[int, ...]]:
    """``(side, cells)`` of a grid text: the characters, the row lengths and the side checked, not the rules."""
    if not isinstance(text, str):
        raise ValueError(f"sudoku: an instance must be a string, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise ValueError(f"sudoku: text has {len(text)} characters, at most {MAX_TEXT} (grids up to 9 x 9)")
    lines = [line.translate(_IGNORED) for line in text.splitlines() if not _is_separator(line)]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise ValueError("sudoku: empty text")
    if "" in lines:
        raise ValueError(f"sudoku: row {lines.index('') + 1} is blank (one grid row a line, no blank lines between)")
    for r, line in enumerate(lines):
        bad = next((c for c, ch in enumerate(line) if not (ch.isascii() and ch.isdigit()) and ch not in _BLANKS), None)
        if bad is not None:
            raise ValueError(f"sudoku: row {r + 1} column {bad + 1} has unknown character {line[bad]!r} (allowed: "
                             f"digits, '.' or '0' for a blank; spaces and '|' are ignored)")
    side = len(lines)
    if side > FRAME:
        raise out_of_bounds("sudoku", "a grid of", f"{side} rows", f"{FRAME} x {FRAME}")
    for r, line in enumerate(lines):
        if len(line) > FRAME:
            raise out_of_bounds("sudoku", f"row {r + 1} of", f"{len(line)} cells", f"{FRAME} x {FRAME}")
        if len(line) != side:
            raise ValueError(f"sudoku: row {r + 1} has {len(line)} cells, expected {side} (as many as there are rows)")
    if side not in BOX_SHAPES:
        raise ValueError(f"sudoku: a {side} x {side} grid has no box shape; sides are 4, 6, 8 or 9")
    return side, tuple(0 if ch in _BLANKS else int(ch) for line in lines for ch in line)


def _is_separator(line: str) -> bool:
    """A box separator line: only ``-``, ``=``, ``+``, ``|`` and spaces, at least one ``-`` or ``=``."""
    return _SEPARATOR.issuperset(line) and ("-" in line or "=" in line)


def _check_clues(geo: _Geometry, cells: tuple[int, ...]) -> None:
    """A one-line ``ValueError`` for a digit beyond the side or a digit twice in a row, column or box."""
    n = geo.side
    for i, v in enumerate(cells):
        if v > n:
            raise ValueError(f"sudoku: row {i // n + 1} column {i % n + 1} has digit {v}; a {n} x {n} grid holds "
                             f"1..{n}")
    names = ("row", "column", "box")
    for u, unit in enumerate(geo.units):
        seen = [cells[i] for i in unit if cells[i]]
        twice = next((d for d in seen if seen.count(d) > 1), None)
        if twice is not None:
            raise ValueError(f"sudoku: digit {twice} appears twice in {names[u // n]} {u % n + 1}")
