"""Small Euclidean travelling salesman built city by city, as a single-player MDP with an exact
Held–Karp verifier.

An instance is ``n`` distinct cities in the plane (``3 <= n <= num_cities``). The tour starts at city
``0`` (already visited). Action ``c`` (``0..num_cities - 1``) travels to city ``c``; it is legal iff
``c < n`` and ``c`` is not yet visited. Once the last city is visited the tour closes back to city ``0``
by itself and the state is terminal, so an episode has exactly ``n - 1`` steps
(``max_episode_steps = num_cities - 1``). Lengths are Euclidean (``math.dist``), as floats.

Rewards ``float32[1]``: ``0`` until the end; then ``+1`` (``success``) iff the closed tour's length is at
most ``optimal_length * (1 + 1e-9)``, else ``-1`` (``failure``). ``optimal_length`` comes from the
Held–Karp bitmask DP (:func:`optimal_tour`), computed once per instance and kept in the state.
``score`` is ``optimal_length / tour_length`` in ``(0, 1]`` (exactly ``1.0`` within the tolerance);
``answer`` is the tour as city indices starting with ``0`` (``0`` is not repeated at the end).

Generation (``initial_state(seed, difficulty)``, deterministic through ``np.random.default_rng(seed)``):
``n`` distinct integer points with coordinates in ``0..99``. There are ``difficulty_levels =
num_cities - 2`` levels; level ``k`` draws ``n = k + 2`` cities (the top level, the default, draws
``num_cities``). The unused city slots are padding: their tokens are ABSENT and they are never legal.

Observation (``seq_len = 4 * num_cities + 1`` tokens, the single player's view), with ``B = coord_buckets``:

- tokens ``0 .. B - 1`` coordinate buckets; ``B`` UNVISITED, ``B + 1`` VISITED, ``B + 2`` CURRENT,
  ``B + 3`` ABSENT; ``B + 4 .. 2B + 3`` distance buckets; ``2B + 4 .. 4B + 3`` length buckets
  (``vocab_size = 4B + 4``).
- per city slot ``i`` four tokens ``[x bucket, y bucket, status, distance bucket]``. The coordinate buckets
  quantise each coordinate relative to the instance's bounding box, x and y separately:
  ``floor(B * (x - min_x) / (max_x - min_x))`` clipped to ``B - 1`` (a zero-width range gives bucket ``0``).
  The distance bucket is ``B + 4 + min(B - 1, floor(B * dist(current, i) / diagonal))``, the distance from
  where the salesman stands to city ``i`` relative to the bounding box's diagonal (an egocentric feature:
  a small net reads "near" and "far" directly instead of learning Euclid from coordinate tokens).
  CURRENT is where the salesman stands: city ``0`` at the start, the last city reached during the tour, and
  city ``0`` again once the tour has closed (every other city is then VISITED). Padding slots are
  ``[ABSENT] * 4``.
- a last token ``2B + 4 + min(2B - 1, floor(4 * length / diagonal))``: the length travelled so far in
  quarters of the diagonal. Without it two tours with the same visited set and the same current city but
  a different order would look the same although their lengths (and so their values) differ.

State identity (``key()``): the coordinates and the visited order.

Instances as text (``TSP.parse``): JSON ``{"coords": [[0, 0], [0, 1], [1, 1], [1, 0]]}`` with ``3 ..
num_cities`` pairs of finite numbers (int or float, absolute value at most ``1e6``) and no duplicate
points; a float with an integral value is read as that integer (so equal instances have equal ids).
``to_text()`` is that JSON on its first line, then the tour so far and its length.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from zeroforge.tasks.base import SOLO_NO_REWARD, State, Task, frozen_array, solo_rewards
from zeroforge.tasks.instances import read_json_instance, short_repr
from zeroforge.tasks.registry import register_task

__all__ = ["TSP", "TSPState", "optimal_tour", "tour_length"]

MIN_CITIES, MAX_CITIES = 3, 12
MIN_BUCKETS, MAX_BUCKETS = 2, 64
MAX_ABS_COORD = 1e6
#: Held–Karp needs ``O(2^n * n)`` memory; ``optimal_tour`` refuses more cities than this
MAX_HELD_KARP_CITIES = 20
#: a tour is optimal iff its length is at most ``optimal_length * (1 + REL_TOL)``
REL_TOL = 1e-9
_GRID = 100  # generated coordinates are integers in 0..99

# status tokens, as offsets from coord_buckets
_UNVISITED, _VISITED, _CURRENT, _ABSENT = 0, 1, 2, 3

Point = tuple[float, float]


def tour_length(coords: Sequence[Sequence[float]], tour: Sequence[int]) -> float:
    """Length of the closed tour visiting ``coords`` in the order ``tour`` (back to ``tour[0]`` at the end),
    summed edge by edge from the start, the same order the task and :func:`optimal_tour` add them."""
    total = 0.0
    for a, b in zip(tour, [*tour[1:], tour[0]], strict=True):
        total += math.dist(coords[a], coords[b])
    return total


def optimal_tour(coords: Sequence[Sequence[float]]) -> tuple[float, list[int]]:
    """Exact shortest closed tour by the Held–Karp bitmask DP: ``(length, tour)`` with ``tour`` starting at
    city ``0`` (not repeated at the end). ``O(2^n * n^2)`` time, vectorised over subsets of equal size."""
    pts = [(float(p[0]), float(p[1])) for p in coords]
    n = len(pts)
    if not 1 <= n <= MAX_HELD_KARP_CITIES:
        raise ValueError(f"tsp: optimal_tour needs 1..{MAX_HELD_KARP_CITIES} cities, got {n}")
    if n == 1:
        return 0.0, [0]
    dist = np.array([[math.dist(p, q) for q in pts] for p in pts], dtype=np.float64)
    m = n - 1  # cities 1..n-1 are bits 0..m-1
    full = 1 << m
    masks = np.arange(full, dtype=np.int64)
    sizes = np.zeros(full, dtype=np.int64)
    for j in range(m):
        sizes += (masks >> j) & 1
    inner = dist[1:, 1:]  # inner[k, j]: from city k + 1 to city j + 1
    best = np.full((full, m), np.inf)  # best[S, j]: shortest path 0 -> all of S, ending at j
    parent = np.full((full, m), -1, dtype=np.int64)
    for j in range(m):
        best[1 << j, j] = dist[0, j + 1]
    for size in range(2, m + 1):
        layer = masks[sizes == size]
        for j in range(m):
            sel = layer[((layer >> j) & 1) == 1]
            cand = best[sel ^ (1 << j)] + inner[:, j]  # entries for k outside the previous set stay inf
            arg = cand.argmin(axis=1)
            best[sel, j] = cand[np.arange(len(sel)), arg]
            parent[sel, j] = arg
    closing = best[full - 1] + dist[1:, 0]
    j = int(closing.argmin())
    length = float(closing[j])
    backwards: list[int] = []
    mask = full - 1
    while j >= 0:
        backwards.append(j + 1)
        prev = int(parent[mask, j])
        mask ^= 1 << j
        j = prev
    return length, [0, *reversed(backwards)]


@dataclass(frozen=True, eq=False)
class TSPState(State):
    """A partial tour: the instance ``coords`` (``n`` real cities), its Held–Karp ``optimal_length``, the
    ``tour`` so far (visited cities in order, starting with ``0``) and its ``length`` so far (including
    the closing edge back to ``0`` once terminal)."""

    coords: tuple[Point, ...]
    optimal_length: float
    tour: tuple[int, ...]
    length: float

    def key(self) -> tuple[Any, ...]:
        """``(coords, tour)``."""
        return (self.coords, self.tour)

    @property
    def optimal(self) -> bool:
        """Whether the closed tour is optimal (within the relative tolerance); ``False`` if not terminal."""
        return self.terminal and self.length <= self.optimal_length * (1 + REL_TOL)

    def instance_json(self) -> str:
        """The instance as the JSON that :meth:`TSP.parse` reads."""
        return json.dumps({"coords": [list(p) for p in self.coords]})

    def to_text(self) -> str:
        """First line the JSON instance, then the tour so far, e.g.::

        {"coords": [[0, 0], [0, 1], [1, 1], [1, 0]]}
        tour 0 -> 1 (2/4 cities), length so far 1.0000

        and once terminal ``tour 0 -> 1 -> 2 -> 3 -> 0 (closed), length 4.0000, optimum 4.0000``.
        """
        path = " -> ".join(str(c) for c in self.tour)
        if self.terminal:
            progress = f"tour {path} -> 0 (closed), length {self.length:.4f}, optimum {self.optimal_length:.4f}"
        else:
            progress = f"tour {path} ({len(self.tour)}/{len(self.coords)} cities), length so far {self.length:.4f}"
        return f"{self.instance_json()}\n{progress}"


def _check_int(name: str, x: Any, lo: int, hi: int) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or not lo <= x <= hi:
        raise ValueError(f"tsp: {name} must be an integer in {lo}..{hi}, got {x!r}")
    return x


def _coordinate(x: Any, i: int) -> float:
    """A validated coordinate of city ``i``; integral floats become ints (one canonical form per point)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise ValueError(f"tsp: city {i} coordinates must be numbers, got {short_repr(x)}")
    if not math.isfinite(x) or abs(x) > MAX_ABS_COORD:
        raise ValueError(f"tsp: city {i} coordinates must be finite with absolute value at most 1e6, got {x!r}")
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def _buckets(values: Sequence[float], buckets: int) -> list[int]:
    lo, hi = min(values), max(values)
    if hi <= lo:
        return [0] * len(values)
    return [min(buckets - 1, math.floor(buckets * (v - lo) / (hi - lo))) for v in values]


@register_task("tsp")
class TSP(Task):
    """Euclidean TSP on ``3..num_cities`` cities (``num_cities`` in 3..12): visit every city once from
    city 0 and reach the Held–Karp optimum; ``coord_buckets`` (2..64) quantisation levels per axis. An instance
    read by ``parse`` (a JSON text of at most 1,000,000 characters) has ``3..num_cities`` distinct points whose
    coordinates are finite numbers of absolute value at most 1e6."""

    name: ClassVar[str] = "tsp"
    num_players = 1

    def __init__(self, num_cities: int = 6, coord_buckets: int = 16) -> None:
        _check_int("num_cities", num_cities, MIN_CITIES, MAX_CITIES)
        _check_int("coord_buckets", coord_buckets, MIN_BUCKETS, MAX_BUCKETS)
        self.num_cities = num_cities
        self.coord_buckets = coord_buckets
        self.num_actions = num_cities
        self.seq_len = 4 * num_cities + 1
        self.vocab_size = 4 * coord_buckets + 4
        self.max_episode_steps = num_cities - 1
        self.difficulty_levels = num_cities - 2
        self._no_actions = frozen_array([False] * num_cities, np.bool_)

    # ------------------------------------------------------------------------------------------ states
    def _mask(self, n: int, tour: tuple[int, ...]) -> np.ndarray:
        if len(tour) == n:
            return self._no_actions
        mask = np.zeros(self.num_cities, dtype=np.bool_)
        mask[:n] = True
        mask[list(tour)] = False
        mask.flags.writeable = False
        return mask

    def make_state(self, coords: Sequence[Sequence[Any]]) -> TSPState:
        """The initial state of the instance ``coords`` (validated; raises a one-line ``ValueError``)."""
        if not isinstance(coords, list | tuple):
            raise ValueError(f"tsp: 'coords' must be a list of [x, y] pairs, got {type(coords).__name__}")
        if not MIN_CITIES <= len(coords) <= self.num_cities:
            raise ValueError(
                f"tsp: expected {MIN_CITIES}..{self.num_cities} cities (num_cities={self.num_cities}), "
                f"got {len(coords)}"
            )
        points: list[Point] = []
        seen: dict[Point, int] = {}
        for i, pair in enumerate(coords):
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise ValueError(f"tsp: city {i} must be an [x, y] pair, got {short_repr(pair)}")
            point = (_coordinate(pair[0], i), _coordinate(pair[1], i))
            if point in seen:
                raise ValueError(f"tsp: cities {seen[point]} and {i} are the same point {list(point)}")
            seen[point] = i
            points.append(point)
        optimum, _ = optimal_tour(points)
        n = len(points)
        return TSPState(
            current_player=0,
            legal_action_mask=self._mask(n, (0,)),
            terminal=False,
            rewards=SOLO_NO_REWARD,
            observation=self._observation(tuple(points), (0,), 0.0, terminal=False),
            step_count=0,
            coords=tuple(points),
            optimal_length=optimum,
            tour=(0,),
            length=0.0,
        )

    def _observation(self, coords: tuple[Point, ...], tour: tuple[int, ...], length: float,
                     terminal: bool) -> np.ndarray:
        """The tokens of the layout in the module docstring for the tour so far."""
        n, b = len(coords), self.coord_buckets
        raw_x, raw_y = [p[0] for p in coords], [p[1] for p in coords]
        xs, ys = _buckets(raw_x, b), _buckets(raw_y, b)
        diagonal = math.dist((min(raw_x), min(raw_y)), (max(raw_x), max(raw_y)))  # > 0: the points are distinct
        here = 0 if terminal else tour[-1]
        visited = set(tour)
        tokens = [b + _ABSENT] * self.seq_len
        for i in range(n):
            status = _CURRENT if i == here else _VISITED if i in visited else _UNVISITED
            near = min(b - 1, math.floor(b * math.dist(coords[here], coords[i]) / diagonal))
            tokens[4 * i : 4 * i + 4] = [xs[i], ys[i], b + status, b + 4 + near]
        tokens[-1] = 2 * b + 4 + min(2 * b - 1, math.floor(4 * length / diagonal))
        return frozen_array(tokens, np.int64)

    def _initial_state(self, seed: int, difficulty: int) -> TSPState:
        rng = np.random.default_rng(seed)
        n = difficulty + 2
        cells = rng.choice(_GRID * _GRID, size=n, replace=False)
        return self.make_state([(int(c) // _GRID, int(c) % _GRID) for c in cells])

    def _step(self, state: State, action: int) -> TSPState:
        if type(state) is not TSPState:
            raise ValueError(f"{self.name}: expected a TSPState, got {type(state).__name__}")
        n, here = len(state.coords), state.tour[-1]
        tour = (*state.tour, action)
        length = state.length + math.dist(state.coords[here], state.coords[action])
        terminal = len(tour) == n
        if terminal:
            length += math.dist(state.coords[action], state.coords[0])
        rewards = solo_rewards(terminal, length <= state.optimal_length * (1 + REL_TOL))
        obs = self._observation(state.coords, tour, length, terminal)
        return TSPState(
            current_player=0,
            legal_action_mask=self._mask(n, tour),
            terminal=terminal,
            rewards=rewards,
            observation=obs,
            step_count=state.step_count + 1,
            coords=state.coords,
            optimal_length=state.optimal_length,
            tour=tour,
            length=length,
        )

    def action_to_text(self, state: State, action: int) -> str:
        """``"go to city 3 (41, 7)"`` (without the coordinates for a padding slot)."""
        c = int(action)
        if isinstance(state, TSPState) and 0 <= c < len(state.coords):
            x, y = state.coords[c]
            return f"go to city {c} ({x}, {y})"
        return f"go to city {c}"

    # --------------------------------------------------------------------------------------- verdicts
    def outcome(self, state: State) -> str:
        """``success`` iff the closed tour is optimal within the tolerance; ``timeout`` if not terminal."""
        if not state.terminal:
            return "timeout"
        if not isinstance(state, TSPState):
            return super().outcome(state)
        return "success" if state.optimal else "failure"

    def score(self, state: State) -> float | None:
        """``optimal_length / tour_length`` of a finished tour (``1.0`` when optimal); else ``None``."""
        if not isinstance(state, TSPState) or not state.terminal:
            return None
        if state.optimal:
            return 1.0
        return min(1.0, state.optimal_length / state.length)

    def answer(self, state: State) -> list[int] | None:
        """On a finished episode, the tour (city indices from ``0``, ``0`` not repeated); else ``None``."""
        if not isinstance(state, TSPState) or not state.terminal:
            return None
        return list(state.tour)

    def instance_text(self, state: State) -> str:
        """The instance in the format :meth:`parse` reads."""
        if not isinstance(state, TSPState):
            raise ValueError(f"{self.name}: expected a TSPState, got {type(state).__name__}")
        return state.instance_json()

    def parse(self, text: str) -> TSPState:
        """The initial state of a JSON instance ``{"coords": [[x, y], ...]}``.

        ``3..num_cities`` distinct points of finite numbers (int or float, absolute value at most 1e6);
        malformed JSON, missing or unknown keys, wrong counts, non-numbers, NaN / infinity and duplicate
        points raise a one-line ``ValueError`` starting with ``tsp:``. (Only the first line of ``to_text()``
        is in this form.)
        """
        data = read_json_instance("tsp", text, ("coords",))
        if not isinstance(data["coords"], list):
            raise ValueError(f"tsp: 'coords' must be a list of [x, y] pairs, got {type(data['coords']).__name__}")
        return self.make_state(data["coords"])

    def __repr__(self) -> str:
        return f"TSP(num_cities={self.num_cities}, coord_buckets={self.coord_buckets})"
