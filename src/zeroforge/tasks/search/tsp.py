"""Small Euclidean travelling salesman built city by city, as a single-player MDP with an exact
Held–Karp verifier.

An instance is ``n`` distinct cities in the plane (``3 <= n <= 20``, the bound ``TSP.bounds["cities"]``). The tour
starts at city ``0`` (already visited). Action ``c`` (``0..19``: ``num_actions = 20`` whatever the instance) travels
to city ``c``; it is legal iff ``c < n`` and ``c`` is not yet visited. Once the last city is visited the tour
closes back to city ``0`` by itself and the state is terminal, so an episode has exactly ``n - 1`` steps
(``max_episode_steps = 19``). Lengths are Euclidean (``math.dist``), as floats.

Rewards ``float32[1]``: ``0`` until the end; then ``+1`` (``success``) iff the closed tour's length is at
most ``optimal_length * (1 + 1e-9)``, else ``-1`` (``failure``). ``optimal_length`` comes from the
Held–Karp bitmask DP (:func:`optimal_tour`), computed once per instance and kept in the state with one optimal
tour (``best_tour``). ``score`` is ``optimal_length / tour_length`` in ``(0, 1]`` (exactly ``1.0`` within the
tolerance); ``answer`` is the tour as city indices starting with ``0`` (``0`` is not repeated at the end).
:meth:`TSP.demonstration` is the rest of an optimal tour: ``best_tour`` while the tour so far follows it, else the
Held–Karp shortest completion (:func:`shortest_path_through`). Held–Karp costs ``O(2^n * n^2)`` (vectorised over
subsets: about 1 ms at 10 cities, 15 ms at 15, 0.8 s and 100 MB at 20).

Bounds (``bounds = {"cities": 20}``): one task object, whatever its ``num_cities``, plays and ``parse``\\ s every
instance of ``3..20`` cities; 21 or more are refused as ``"tsp: an instance of 21 cities is beyond the bound 20
cities"``.

Generation (``initial_state(seed, difficulty)``, deterministic through ``np.random.default_rng(seed)``):
``n`` distinct integer points with coordinates in ``0..99``. There are ``difficulty_levels =
num_cities - 2`` levels; level ``k`` draws ``n = k + 2`` cities (the top level, the default, draws
``num_cities``, ``3..12``).

Observation (structured, :mod:`zeroforge.tasks.structured`): ``n + 1`` tokens ``(type, a, b, row, col)``
(``seq_len = 21``, the most tokens of an instance within the bounds). ``T = TOKEN_TYPE_BASE["tsp"]``,
``B = coord_buckets`` (``2..1024``, default 64):

- tokens ``0 .. n - 1``, city ``i``: type ``T + 0`` START (city ``0`` while the salesman is elsewhere: the tour
  returns to it), ``T + 1`` CURRENT (where the salesman stands: city ``0`` at the start and again once the tour
  has closed), ``T + 2`` UNVISITED, ``T + 3`` VISITED. ``a``, ``b`` = ``x``, ``y`` on a ``B x B`` grid over the
  instance's bounding box, both scaled by its longer side so that the shape is kept (distances on the grid are
  proportional to the real ones): ``round((B - 1) * (x - min_x) / side)``. ``row`` = the egocentric distance
  from the current city, ``min(8, floor(8 * dist(current, i) / diagonal))`` (``diagonal`` of the bounding box;
  ``0`` for the current city itself), ``col = 0``: the cities are a set without positional identity, and the
  net's relative position bias reads ``row`` differences, so the current city attends to the others by how far
  they are (rings of an eighth of the diagonal; offsets up to 8 are what the pointer net distinguishes).
- token ``n``, type ``T + 4`` GLOBAL: ``a`` = the length travelled so far in 32nds of the diagonal,
  ``min(1023, round(32 * length / diagonal))`` (two tours with the same visited set and current city but a
  different order differ here, as do their values); ``b`` = the number of cities still unvisited; ``row = col =
  0``.

``action_pointers()``: going to city ``j`` is ``(K, current + 1, j + 1)`` with ``K = POINTER_KIND_BASE["tsp"]``:
its logit is read from the current city's and city ``j``'s tokens; rows of illegal actions (visited cities,
``j >= n``, everything once terminal) are zero.

State identity (``key()``): the coordinates and the visited order.

Instances as text (``TSP.parse``): JSON ``{"coords": [[0, 0], [0, 1], [1, 1], [1, 0]]}`` with ``3 .. 20``
pairs of finite numbers (int or float, absolute value at most ``1e6``) and no duplicate
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
from zeroforge.tasks.structured import (
    FEATURE_A,
    FEATURE_B,
    FEATURE_VOCAB,
    POINTER_KIND_BASE,
    ROW,
    TOKEN_TYPE_BASE,
    TOKEN_VOCAB,
    TYPE,
    out_of_bounds,
    token_rows,
)

__all__ = ["TSP", "TSPState", "optimal_tour", "shortest_path_through", "tour_length"]

#: cities of an instance: at least ``MIN_CITIES``, at most ``MAX_CITIES`` (``TSP.bounds["cities"]``)
MIN_CITIES, MAX_CITIES = 3, 20
#: the most cities the generator draws (``num_cities``): Held–Karp at every drawn instance stays in milliseconds
MAX_GENERATED_CITIES = 12
MIN_BUCKETS, MAX_BUCKETS = 2, FEATURE_VOCAB
MAX_ABS_COORD = 1e6
#: Held–Karp needs ``O(2^n * n)`` memory; ``optimal_tour`` refuses more cities than this
MAX_HELD_KARP_CITIES = 20
#: a tour is optimal iff its length is at most ``optimal_length * (1 + REL_TOL)``
REL_TOL = 1e-9
_GRID = 100  # generated coordinates are integers in 0..99

# token types
_BASE = TOKEN_TYPE_BASE["tsp"]
START, CURRENT, UNVISITED, VISITED, GLOBAL = (_BASE + k for k in range(5))
#: pointer kind of "go to city j"
KIND_GO = POINTER_KIND_BASE["tsp"]
#: egocentric distance rings per diagonal (the ``row`` of a city token)
RINGS = 8
#: length steps per diagonal (the ``a`` of the global token)
LENGTH_STEPS = 32

Point = tuple[float, float]


def tour_length(coords: Sequence[Sequence[float]], tour: Sequence[int]) -> float:
    """Length of the closed tour visiting ``coords`` in the order ``tour`` (back to ``tour[0]`` at the end),
    summed edge by edge from the start, the same order the task and :func:`optimal_tour` add them."""
    total = 0.0
    for a, b in zip(tour, [*tour[1:], tour[0]], strict=True):
        total += math.dist(coords[a], coords[b])
    return total


def _distances(coords: Sequence[Sequence[float]]) -> np.ndarray:
    """``float64[n, n]`` Euclidean distances (``math.dist``, the same floats the task adds)."""
    pts = [(float(p[0]), float(p[1])) for p in coords]
    return np.array([[math.dist(p, q) for q in pts] for p in pts], dtype=np.float64).reshape(len(pts), len(pts))


def _subset_layers(m: int) -> list[np.ndarray]:
    """The bitmasks over ``m`` elements grouped by size: ``layers[s]`` is ``int32[C(m, s)]``."""
    masks = np.arange(1 << m, dtype=np.int32)
    sizes = np.zeros(1 << m, dtype=np.int64)
    for j in range(m):
        sizes += (masks >> j) & 1
    order = np.argsort(sizes, kind="stable")
    return np.split(masks[order], np.cumsum(np.bincount(sizes, minlength=m + 1))[:-1])


def shortest_path_through(dist: np.ndarray, start: int, targets: Sequence[int], end: int) -> tuple[float, list[int]]:
    """Held–Karp: the shortest path from ``start`` through every city of ``targets`` (any order) to ``end`` over
    the distances ``dist float64[n, n]``: ``(length, targets in visiting order)``.

    ``best[S, j]`` (``float64[2^m, m]``, ``m = len(targets)``) is the shortest path from ``start`` through the
    subset ``S`` ending at its member ``j``, filled layer by layer (subsets of equal size), each ``(layer, j)`` one
    vectorised minimum over the previous city; the path is read back by recomputing those minima. Lengths are
    summed edge by edge from ``start``, as the task adds them. ``O(2^m * m^2)`` time, ``O(2^m * m)`` memory.
    """
    m = len(targets)
    if m == 0:
        return float(dist[start, end]), []
    if m > MAX_HELD_KARP_CITIES:
        raise ValueError(f"tsp: Held–Karp takes at most {MAX_HELD_KARP_CITIES} cities to visit, got {m}")
    t = np.asarray(targets, dtype=np.int64)
    inner = dist[np.ix_(t, t)]  # inner[k, j]: from target k to target j
    full = 1 << m
    best = np.full((full, m), np.inf)
    best[1 << np.arange(m), np.arange(m)] = dist[start, t]
    for layer in _subset_layers(m)[2:]:
        for j in range(m):
            sel = layer[((layer >> j) & 1) == 1]
            best[sel, j] = (best[sel ^ (1 << j)] + inner[:, j]).min(axis=1)
    closing = best[full - 1] + dist[t, end]
    j = int(closing.argmin())
    length = float(closing[j])
    backwards, mask = [j], full - 1
    while mask != 1 << j:
        mask ^= 1 << j
        j = int((best[mask] + inner[:, j]).argmin())
        backwards.append(j)
    return length, [int(t[k]) for k in reversed(backwards)]


def optimal_tour(coords: Sequence[Sequence[float]]) -> tuple[float, list[int]]:
    """Exact shortest closed tour by the Held–Karp bitmask DP (:func:`shortest_path_through` from city ``0``
    through all others back to ``0``): ``(length, tour)`` with ``tour`` starting at city ``0`` (not repeated at
    the end). ``O(2^n * n^2)`` time, vectorised over subsets of equal size."""
    n = len(coords)
    if not 1 <= n <= MAX_HELD_KARP_CITIES:
        raise ValueError(f"tsp: optimal_tour needs 1..{MAX_HELD_KARP_CITIES} cities, got {n}")
    if n == 1:
        return 0.0, [0]
    length, order = shortest_path_through(_distances(coords), 0, range(1, n), 0)
    return length, [0, *order]


@dataclass(frozen=True, eq=False)
class TSPState(State):
    """A partial tour: the instance ``coords`` (``n`` real cities), its Held–Karp ``optimal_length`` and one
    optimal tour ``best_tour``, the ``tour`` so far (visited cities in order, starting with ``0``) and its
    ``length`` so far (including the closing edge back to ``0`` once terminal); ``rings int64[n, n]`` (the
    egocentric distance ring of city ``j`` seen from city ``i``) and the action ``pointers int64[20, 3]``."""

    coords: tuple[Point, ...]
    optimal_length: float
    best_tour: tuple[int, ...]
    tour: tuple[int, ...]
    length: float
    rings: np.ndarray
    pointers: np.ndarray

    def key(self) -> tuple[Any, ...]:
        """``(coords, tour)``."""
        return (self.coords, self.tour)

    def action_pointers(self) -> np.ndarray:
        """``int64[20, 3]``: ``(KIND_GO, current + 1, j + 1)`` for every legal city ``j``, other rows zero."""
        return self.pointers

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


def _read_points(coords: Any) -> list[Point]:
    """The validated points of ``coords`` (3..20 distinct ``[x, y]`` pairs; one-line ``ValueError`` otherwise)."""
    if not isinstance(coords, list | tuple):
        raise ValueError(f"tsp: 'coords' must be a list of [x, y] pairs, got {type(coords).__name__}")
    if len(coords) > MAX_CITIES:
        raise out_of_bounds("tsp", "an instance of", f"{len(coords)} cities", f"{MAX_CITIES} cities")
    if len(coords) < MIN_CITIES:
        raise ValueError(f"tsp: expected {MIN_CITIES}..{MAX_CITIES} cities, got {len(coords)}")
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
    return points


def _box_corners(points: Sequence[Point]) -> tuple[Point, Point]:
    """The bounding box's lower-left and upper-right corners ``((min x, min y), (max x, max y))``."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (min(xs), min(ys)), (max(xs), max(ys))


def _grid(values: Sequence[float], low: float, side: float, buckets: int) -> list[int]:
    """``round((buckets - 1) * (v - low) / side)`` per value: ``0 .. buckets - 1`` for values in the box."""
    return [math.floor((buckets - 1) * (v - low) / side + 0.5) for v in values]


@register_task("tsp")
class TSP(Task):
    """Euclidean TSP: visit every city once from city 0 and reach the Held–Karp optimum. The generator draws
    ``3..num_cities`` cities (``num_cities`` in 3..12); ``coord_buckets`` (2..1024) grid steps per axis of the
    coordinate features. An instance read by ``parse`` (a JSON text of at most 1,000,000 characters) has ``3..20``
    distinct points (``bounds``, whatever ``num_cities``) whose coordinates are finite numbers of absolute value at
    most 1e6."""

    name: ClassVar[str] = "tsp"
    num_players = 1
    structured: ClassVar[bool] = True
    bounds: ClassVar[dict[str, int]] = {"cities": MAX_CITIES}
    num_actions = MAX_CITIES
    vocab_size = TOKEN_VOCAB
    #: the most tokens: 20 cities and the global token
    seq_len = MAX_CITIES + 1
    max_episode_steps = MAX_CITIES - 1

    def __init__(self, num_cities: int = 6, coord_buckets: int = 64) -> None:
        _check_int("num_cities", num_cities, MIN_CITIES, MAX_GENERATED_CITIES)
        _check_int("coord_buckets", coord_buckets, MIN_BUCKETS, MAX_BUCKETS)
        self.num_cities = num_cities
        self.coord_buckets = coord_buckets
        self.difficulty_levels = num_cities - 2
        self._no_actions = frozen_array([False] * MAX_CITIES, np.bool_)
        self._no_pointers = np.zeros((MAX_CITIES, 3), np.int64)
        self._no_pointers.flags.writeable = False

    # ------------------------------------------------------------------------------------------ states
    def _mask(self, n: int, tour: tuple[int, ...]) -> np.ndarray:
        if len(tour) == n:
            return self._no_actions
        mask = np.zeros(MAX_CITIES, dtype=np.bool_)
        mask[:n] = True
        mask[list(tour)] = False
        mask.flags.writeable = False
        return mask

    def _pointers(self, here: int, mask: np.ndarray) -> np.ndarray:
        """``int64[20, 3]``: ``(KIND_GO, here + 1, j + 1)`` for the legal cities ``j`` of ``mask``."""
        if not mask.any():
            return self._no_pointers
        out = np.zeros((MAX_CITIES, 3), np.int64)
        legal = np.flatnonzero(mask)
        out[legal, 0] = KIND_GO
        out[legal, 1] = here + 1
        out[legal, 2] = legal + 1
        out.flags.writeable = False
        return out

    def _instance_tokens(self, points: list[Point]) -> tuple[np.ndarray, np.ndarray]:
        """The initial tokens ``int64[n + 1, 5]`` (city 0 CURRENT, the others UNVISITED, the global token) and
        the egocentric rings ``int64[n, n]``: ``min(RINGS, floor(RINGS * dist(i, j) / diagonal))``."""
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        low, high = _box_corners(points)
        side = max(high[0] - low[0], high[1] - low[1])  # > 0: the points are distinct
        diagonal = math.dist(low, high)
        rings = np.minimum(RINGS, np.floor(RINGS * _distances(points) / diagonal)).astype(np.int64)
        rings.flags.writeable = False
        gx = _grid(xs, low[0], side, self.coord_buckets)
        gy = _grid(ys, low[1], side, self.coord_buckets)
        n = len(points)
        rows = [(UNVISITED, gx[i], gy[i], int(rings[0, i]), 0) for i in range(n)]
        rows[0] = (CURRENT, *rows[0][1:])
        rows.append((GLOBAL, 0, n - 1, 0, 0))
        return token_rows(rows), rings

    def make_state(self, coords: Sequence[Sequence[Any]]) -> TSPState:
        """The initial state of the instance ``coords`` (validated; raises a one-line ``ValueError``)."""
        points = _read_points(coords)
        optimum, best_tour = optimal_tour(points)
        tokens, rings = self._instance_tokens(points)
        mask = self._mask(len(points), (0,))
        return TSPState(
            current_player=0,
            legal_action_mask=mask,
            terminal=False,
            rewards=SOLO_NO_REWARD,
            observation=tokens,
            step_count=0,
            coords=tuple(points),
            optimal_length=optimum,
            best_tour=tuple(best_tour),
            tour=(0,),
            length=0.0,
            rings=rings,
            pointers=self._pointers(0, mask),
        )

    def _initial_state(self, seed: int, difficulty: int) -> TSPState:
        rng = np.random.default_rng(seed)
        n = difficulty + 2
        cells = rng.choice(_GRID * _GRID, size=n, replace=False)
        return self.make_state([(int(c) // _GRID, int(c) % _GRID) for c in cells])

    @staticmethod
    def _next_tokens(state: TSPState, action: int, length: float, terminal: bool) -> np.ndarray:
        """The tokens after travelling to ``action``: the old current city VISITED (START for city 0), the new
        one CURRENT (city 0 again once the tour closes), rings from the new current city, the global token."""
        n, prev = len(state.coords), state.tour[-1]
        here = 0 if terminal else action
        obs = state.observation.copy()
        obs[prev, TYPE] = START if prev == 0 else VISITED
        obs[action, TYPE] = VISITED if terminal else CURRENT
        if terminal:
            obs[0, TYPE] = CURRENT
        obs[:n, ROW] = state.rings[here]
        diagonal = math.dist(*_box_corners(state.coords))
        obs[n, FEATURE_A] = min(FEATURE_VOCAB - 1, math.floor(LENGTH_STEPS * length / diagonal + 0.5))
        obs[n, FEATURE_B] = n - len(state.tour) - 1
        obs.flags.writeable = False
        return obs

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
        mask = self._mask(n, tour)
        return TSPState(
            current_player=0,
            legal_action_mask=mask,
            terminal=terminal,
            rewards=rewards,
            observation=self._next_tokens(state, action, length, terminal),
            step_count=state.step_count + 1,
            coords=state.coords,
            optimal_length=state.optimal_length,
            best_tour=state.best_tour,
            tour=tour,
            length=length,
            rings=state.rings,
            pointers=self._pointers(action, mask),
        )

    def action_to_text(self, state: State, action: int) -> str:
        """``"go to city 3 (41, 7)"`` (without the coordinates for a city the instance does not have)."""
        c = int(action)
        if isinstance(state, TSPState) and 0 <= c < len(state.coords):
            x, y = state.coords[c]
            return f"go to city {c} ({x}, {y})"
        return f"go to city {c}"

    def demonstration(self, state: State) -> list[int]:
        """The cities still to visit in the order of an optimal tour: the rest of ``best_tour`` while the tour so
        far follows it (no search), else the Held–Karp shortest path from the current city through the unvisited
        ones back to city ``0`` (the best completion; optimal overall only if the tour so far is a prefix of an
        optimal tour). ``[]`` for a terminal state."""
        if not isinstance(state, TSPState):
            raise ValueError(f"{self.name}: expected a TSPState, got {type(state).__name__}")
        if state.terminal:
            return []
        k = len(state.tour)
        if state.best_tour[:k] == state.tour:
            return list(state.best_tour[k:])
        visited = set(state.tour)
        rest = [c for c in range(len(state.coords)) if c not in visited]
        _, order = shortest_path_through(_distances(state.coords), state.tour[-1], rest, 0)
        return order

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

        ``3..20`` distinct points (the bound, whatever ``num_cities``) of finite numbers (int or float, absolute
        value at most 1e6); more cities raise ``out_of_bounds``; malformed JSON, missing or unknown keys, too few
        cities, non-numbers, NaN / infinity and duplicate points raise a one-line ``ValueError`` starting with
        ``tsp:``. (Only the first line of ``to_text()``
        is in this form.)
        """
        data = read_json_instance("tsp", text, ("coords",))
        if not isinstance(data["coords"], list):
            raise ValueError(f"tsp: 'coords' must be a list of [x, y] pairs, got {type(data['coords']).__name__}")
        return self.make_state(data["coords"])

    def __repr__(self) -> str:
        return f"TSP(num_cities={self.num_cities}, coord_buckets={self.coord_buckets})"
