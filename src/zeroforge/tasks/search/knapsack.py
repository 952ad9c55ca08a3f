"""0/1 knapsack built item by item, as a single-player MDP with an exact dynamic-programming verifier.

An instance is ``n`` items (``1 <= n <= 50``, the bound ``Knapsack.bounds["items"]``) with positive integer
weights (at most 1000) and values (at most 10**9) and a positive integer ``capacity`` (at most 10**9). Items are
decided in index order: at step ``t`` the agent decides item ``t`` with action ``0`` = skip or ``1`` = take (take
is legal only if the item fits the remaining capacity; skip is always legal). The episode lasts exactly ``n``
steps (``max_episode_steps = 50``, the bound). At the end the reward is ``+1`` (``success``) iff the packed value
equals the optimum found by exact DP (:func:`optimum`, computed once per instance and kept in the state), else
``-1`` (``failure``). The graded quality is :meth:`Knapsack.score`: ``packed_value / best_value`` on a finished
episode (``1.0`` iff optimal), ``None`` before the end. :meth:`Knapsack.demonstration` is the DP optimum of the
items still to decide, as skip / take actions.

Bounds (``bounds = {"items": 50}``): one task object, whatever its ``num_items``, plays and ``parse``\\ s every
instance of ``1..50`` items; 51 or more items are refused as ``"knapsack: an instance of 51 items is beyond the
bound 50 items"``. Weights, values and the capacity keep their own limits above (one-line errors naming them).

Generation: ``num_items`` (``1..50``) items, weights from ``1..max_weight``, values from ``1..max_value``, capacity
``max(1, floor(capacity_ratio * total weight))``. Difficulty levels ``1..num_items``: level ``k`` draws ``k``
items, drawn exactly as at the top level but for ``k`` items. The top level (the default) is ``num_items``
items, drawn exactly as before levels existed.

Observation (structured, :mod:`zeroforge.tasks.structured`): ``n + 1`` tokens ``(type, a, b, row, col)``
(``seq_len = 51``, the most tokens of an instance within the bounds). ``T = TOKEN_TYPE_BASE["knapsack"]``:

- tokens ``0 .. n - 1``, item ``i``: type ``T + 0`` UNDECIDED, ``T + 1`` CURRENT (the item decided now, ``t =
  step_count``), ``T + 2`` TAKEN or ``T + 3`` SKIPPED; ``a`` = the weight as a share of the capacity,
  ``round(1000 * weight / capacity)`` clipped to ``1023`` (``1000``: exactly the capacity); ``b`` = the value as
  a share of the instance's largest value, ``round(1000 * value / max value)`` (``0..1000``). The items are a
  set: ``row = col = 0`` (which item is next is the CURRENT type; the order of the undecided ones does not
  change what the rest can still pack).
- token ``n``, type ``T + 4`` GLOBAL: ``a`` = the remaining capacity on the weights' scale, ``round(1000 *
  remaining / capacity)`` (``0..1000``, so an item fits about when its ``a`` is at most this one); ``b`` = the
  packed value as a share of the total value, ``round(1000 * packed / total value)``; ``row = col = 0``.

The exact numbers stay in the state (the verifier and ``to_text`` read them). ``action_pointers()``: skip is
``(K + 0, t + 1, t + 1)`` and take ``(K + 1, t + 1, t + 1)`` with ``K = POINTER_KIND_BASE["knapsack"]``: both
read their logit from the current item's token; rows of illegal actions (take when the item does not fit, both
once terminal) are zero.

State identity (``key()``): the instance and the decisions so far.

Instances as text (``Knapsack.parse``): JSON ``{"capacity": 10, "weights": [5, 4, 6, 3], "values": [10,
40, 30, 50]}``. ``to_text()`` is a readable rendering whose *first line* is exactly that JSON instance (so
``task.parse(state.to_text().splitlines()[0])`` gives the episode's initial state), followed by the
decisions so far; ``parse`` reads only the pure JSON instance form.
"""

from __future__ import annotations

import json
import math
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
    TOKEN_TYPE_BASE,
    TOKEN_VOCAB,
    TYPE,
    out_of_bounds,
    token_rows,
)

__all__ = ["Knapsack", "KnapsackState", "optimum"]

#: the most items of an instance (``Knapsack.bounds["items"]``)
MAX_ITEMS = 50
MAX_ITEM_WEIGHT = 1000  # bounds the DP table: num_items x min(capacity, total weight)
MAX_ITEM_VALUE = 10**9
MAX_CAPACITY = 10**9

SKIP, TAKE = 0, 1
# token types
_BASE = TOKEN_TYPE_BASE["knapsack"]
UNDECIDED, CURRENT, TAKEN, SKIPPED, GLOBAL = (_BASE + k for k in range(5))
_FLAG = {SKIP: SKIPPED, TAKE: TAKEN}
# pointer kinds: action a reads kind KIND_SKIP + a
KIND_SKIP, KIND_TAKE = POINTER_KIND_BASE["knapsack"], POINTER_KIND_BASE["knapsack"] + 1
#: a share ``x / whole`` as a feature: ``round(SHARE * x / whole)`` clipped to ``FEATURE_VOCAB - 1``
SHARE = 1000
_NO_POINTERS = np.zeros((2, 3), np.int64)
_NO_POINTERS.flags.writeable = False


def _share(x: int, whole: int) -> int:
    """``round(SHARE * x / whole)`` (halves up) clipped to ``FEATURE_VOCAB - 1``; exact integer arithmetic."""
    return min(FEATURE_VOCAB - 1, (2 * SHARE * x + whole) // (2 * whole))


def optimum(
    weights: list[int] | tuple[int, ...], values: list[int] | tuple[int, ...], capacity: int
) -> tuple[int, list[int]]:
    """Exact 0/1 knapsack by DP over capacities: ``(best value, sorted indices of one optimal set)``.

    Runs in ``O(n * min(capacity, sum(weights)))`` time and memory. Ties are broken deterministically (an item
    is taken only where it strictly improves on the items before it).
    """
    if len(weights) != len(values):
        raise ValueError("knapsack: weights and values must have the same length")
    cap = max(0, min(int(capacity), sum(int(w) for w in weights)))
    n = len(weights)
    best = np.zeros(cap + 1, dtype=np.int64)
    keep = np.zeros((n, cap + 1), dtype=np.bool_)
    for i, (w, v) in enumerate(zip(weights, values, strict=True)):
        w = int(w)
        if w > cap:
            continue
        cand = best[: cap + 1 - w] + int(v)
        improve = cand > best[w:]
        new = best.copy()
        new[w:][improve] = cand[improve]
        keep[i, w:] = improve
        best = new
    chosen: list[int] = []
    c = cap
    for i in range(n - 1, -1, -1):
        if keep[i, c]:
            chosen.append(i)
            c -= int(weights[i])
    return int(best[cap]), sorted(chosen)


@dataclass(frozen=True, eq=False)
class KnapsackState(State):
    """A knapsack position: the instance (``capacity``, ``weights``, ``values``), its DP optimum
    ``best_value``, the decisions so far (``0`` skip / ``1`` take, one per decided item), the
    ``remaining`` capacity, the ``packed_value`` and the action ``pointers`` ``int64[2, 3]``."""

    capacity: int
    weights: tuple[int, ...]
    values: tuple[int, ...]
    best_value: int
    decisions: tuple[int, ...]
    remaining: int
    packed_value: int
    pointers: np.ndarray

    @property
    def chosen(self) -> list[int]:
        """Indices of the items taken so far."""
        return [i for i, d in enumerate(self.decisions) if d == TAKE]

    def key(self) -> tuple[Any, ...]:
        """``(capacity, weights, values, decisions)``."""
        return (self.capacity, self.weights, self.values, self.decisions)

    def action_pointers(self) -> np.ndarray:
        """``int64[2, 3]``: skip ``(KIND_SKIP, t + 1, t + 1)``, take ``(KIND_TAKE, t + 1, t + 1)`` for the current
        item ``t``; rows of illegal actions zero."""
        return self.pointers

    def instance_json(self) -> str:
        """The instance as the JSON that :meth:`Knapsack.parse` reads."""
        return json.dumps({"capacity": self.capacity, "weights": list(self.weights), "values": list(self.values)})

    def to_text(self) -> str:
        """First line the JSON instance, then the decisions so far, e.g.::

        {"capacity": 10, "weights": [5, 4, 6, 3], "values": [10, 40, 30, 50]}
        decided 2/4: skip #0 (w5 v10), take #1 (w4 v40)
        packed value 40, remaining capacity 6
        """
        n = len(self.weights)
        parts = [
            f"{'take' if d == TAKE else 'skip'} #{i} (w{self.weights[i]} v{self.values[i]})"
            for i, d in enumerate(self.decisions)
        ]
        decided = ", ".join(parts) if parts else "nothing yet"
        return (
            f"{self.instance_json()}\n"
            f"decided {len(self.decisions)}/{n}: {decided}\n"
            f"packed value {self.packed_value}, remaining capacity {self.remaining}"
        )


def _check_int(name: str, x: Any, lo: int, hi: int) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or not lo <= x <= hi:
        raise ValueError(f"knapsack: {name} must be an integer in {lo}..{hi}, got {short_repr(x)}")
    return x


def _check_items(weights: Any, values: Any) -> None:
    """One-line errors for item lists that are not lists, beyond the bound, empty, of unequal lengths or that
    hold something else than integers in their ranges."""
    for key, items in (("weights", weights), ("values", values)):
        if not isinstance(items, list | tuple):
            raise ValueError(f"knapsack: {key!r} must be a list, got {type(items).__name__}")
    count = max(len(weights), len(values))
    if count > MAX_ITEMS:
        raise out_of_bounds("knapsack", "an instance of", f"{count} items", f"{MAX_ITEMS} items")
    for key, items in (("weights", weights), ("values", values)):
        if not items:
            raise ValueError(f"knapsack: expected 1..{MAX_ITEMS} {key}, got 0")
    if len(weights) != len(values):
        raise ValueError(
            f"knapsack: weights and values must have the same length, got {len(weights)} and {len(values)}"
        )
    for key, items, hi in (("weights", weights, MAX_ITEM_WEIGHT), ("values", values, MAX_ITEM_VALUE)):
        for x in items:
            if isinstance(x, bool) or not isinstance(x, int) or not 1 <= x <= hi:
                raise ValueError(f"knapsack: {key} must be positive integers at most {hi}, got {short_repr(x)}")


def _pointers(t: int, mask: np.ndarray) -> np.ndarray:
    """``int64[2, 3]`` pointers of skip / take at item ``t`` (its token is ``t``, so ``t + 1``); illegal rows 0."""
    if not mask.any():
        return _NO_POINTERS
    out = np.zeros((2, 3), np.int64)
    out[SKIP] = (KIND_SKIP, t + 1, t + 1)
    if mask[TAKE]:
        out[TAKE] = (KIND_TAKE, t + 1, t + 1)
    out.flags.writeable = False
    return out


@register_task("knapsack")
class Knapsack(Task):
    """0/1 knapsack: decide items in order (skip / take) to reach the DP optimum value.

    ``num_items`` in 1..50; weights drawn uniformly from ``1..max_weight`` (1..1000), values from ``1..max_value``
    (1..1000); capacity ``max(1, floor(capacity_ratio * total weight))`` with ``capacity_ratio`` in (0, 1].
    ``difficulty_levels = num_items``: level ``k`` has ``k`` items. An instance read by ``parse`` (a JSON text of at
    most 1,000,000 characters) has ``1..50`` items (``bounds``), whatever ``num_items``, weights in 1..1000, values
    in 1..10**9 and a capacity in 1..10**9; one where no item fits is valid (its optimum is 0, every play is
    optimal).
    """

    name: ClassVar[str] = "knapsack"
    num_players = 1
    num_actions = 2
    structured: ClassVar[bool] = True
    bounds: ClassVar[dict[str, int]] = {"items": MAX_ITEMS}
    vocab_size = TOKEN_VOCAB
    #: the most tokens: 50 items and the global token
    seq_len = MAX_ITEMS + 1
    #: an episode lasts as many steps as the instance has items, at most the bound
    max_episode_steps = MAX_ITEMS

    def __init__(
        self, num_items: int = 8, max_weight: int = 10, max_value: int = 10, capacity_ratio: float = 0.5
    ) -> None:
        _check_int("num_items", num_items, 1, MAX_ITEMS)
        _check_int("max_weight", max_weight, 1, MAX_ITEM_WEIGHT)
        _check_int("max_value", max_value, 1, 1000)
        if (
            isinstance(capacity_ratio, bool)
            or not isinstance(capacity_ratio, int | float)
            or not math.isfinite(capacity_ratio)
            or not 0 < capacity_ratio <= 1
        ):
            raise ValueError(f"knapsack: capacity_ratio must be a number in (0, 1], got {capacity_ratio!r}")
        self.num_items = num_items
        self.max_weight = max_weight
        self.max_value = max_value
        self.capacity_ratio = float(capacity_ratio)
        self.difficulty_levels = num_items
        self._no_actions = frozen_array([False, False], np.bool_)
        self._skip_only = frozen_array([True, False], np.bool_)
        self._both = frozen_array([True, True], np.bool_)

    # ------------------------------------------------------------------------------------------ states
    def _mask(self, weights: tuple[int, ...], t: int, remaining: int) -> np.ndarray:
        if t >= len(weights):
            return self._no_actions
        return self._both if weights[t] <= remaining else self._skip_only

    @staticmethod
    def _global(capacity: int, values: tuple[int, ...], remaining: int, packed: int) -> tuple[int, int]:
        """The global token's features ``(remaining capacity share, packed value share)``."""
        return _share(remaining, capacity), _share(packed, sum(values))

    def _initial_tokens(self, capacity: int, weights: tuple[int, ...], values: tuple[int, ...]) -> np.ndarray:
        """``int64[n + 1, 5]``: the items (the first CURRENT, the others UNDECIDED) and the global token."""
        top = max(values)
        rows = [(UNDECIDED, _share(w, capacity), _share(v, top), 0, 0) for w, v in zip(weights, values, strict=True)]
        rows[0] = (CURRENT, *rows[0][1:])
        rows.append((GLOBAL, *self._global(capacity, values, capacity, 0), 0, 0))
        return token_rows(rows)

    def make_state(
        self, capacity: int, weights: list[int] | tuple[int, ...], values: list[int] | tuple[int, ...]
    ) -> KnapsackState:
        """The initial state of the instance, ``1..50`` items (validated; raises one-line ``ValueError``)."""
        _check_int("capacity", capacity, 1, MAX_CAPACITY)
        _check_items(weights, values)
        ws, vs = tuple(int(w) for w in weights), tuple(int(v) for v in values)
        best, _ = optimum(ws, vs, capacity)
        mask = self._mask(ws, 0, capacity)
        return KnapsackState(
            current_player=0,
            legal_action_mask=mask,
            terminal=False,
            rewards=SOLO_NO_REWARD,
            observation=self._initial_tokens(capacity, ws, vs),
            step_count=0,
            capacity=capacity,
            weights=ws,
            values=vs,
            best_value=best,
            decisions=(),
            remaining=capacity,
            packed_value=0,
            pointers=_pointers(0, mask),
        )

    def _initial_state(self, seed: int, difficulty: int) -> KnapsackState:
        rng = np.random.default_rng(seed)
        weights = [int(x) for x in rng.integers(1, self.max_weight + 1, size=difficulty)]
        values = [int(x) for x in rng.integers(1, self.max_value + 1, size=difficulty)]
        capacity = max(1, math.floor(self.capacity_ratio * sum(weights)))
        return self.make_state(capacity, weights, values)

    def _step(self, state: State, action: int) -> KnapsackState:
        if type(state) is not KnapsackState:
            raise ValueError(f"{self.name}: expected a KnapsackState, got {type(state).__name__}")
        t = state.step_count
        remaining, packed = state.remaining, state.packed_value
        if action == TAKE:
            remaining -= state.weights[t]
            packed += state.values[t]
        steps = t + 1
        terminal = steps == len(state.weights)
        obs = state.observation.copy()
        obs[t, TYPE] = _FLAG[action]
        if not terminal:
            obs[steps, TYPE] = CURRENT
        obs[-1, FEATURE_A : FEATURE_B + 1] = self._global(state.capacity, state.values, remaining, packed)
        obs.flags.writeable = False
        mask = self._mask(state.weights, steps, remaining)
        return KnapsackState(
            current_player=0,
            legal_action_mask=mask,
            terminal=terminal,
            rewards=solo_rewards(terminal, packed == state.best_value),
            observation=obs,
            step_count=steps,
            capacity=state.capacity,
            weights=state.weights,
            values=state.values,
            best_value=state.best_value,
            decisions=(*state.decisions, action),
            remaining=remaining,
            packed_value=packed,
            pointers=_pointers(steps, mask),
        )

    def action_to_text(self, state: State, action: int) -> str:
        """``"take #2 (w6 v30)"`` / ``"skip #2 (w6 v30)"``."""
        verb = "take" if int(action) == TAKE else "skip"
        if isinstance(state, KnapsackState) and state.step_count < len(state.weights):
            t = state.step_count
            return f"{verb} #{t} (w{state.weights[t]} v{state.values[t]})"
        return verb

    def demonstration(self, state: State) -> list[int]:
        """The skip / take actions of the DP optimum (:func:`optimum`) of the items still to decide within the
        remaining capacity: from an initial state it packs ``best_value`` (``success``, score ``1.0``); from a
        later state, the most that can still be packed. ``[]`` for a terminal state."""
        if not isinstance(state, KnapsackState):
            raise ValueError(f"{self.name}: expected a KnapsackState, got {type(state).__name__}")
        t = state.step_count
        _, chosen = optimum(state.weights[t:], state.values[t:], state.remaining)
        take = set(chosen)
        return [TAKE if i in take else SKIP for i in range(len(state.weights) - t)]

    # --------------------------------------------------------------------------------------- verdicts
    def outcome(self, state: State) -> str:
        """``success`` iff the packed value equals the DP optimum; ``timeout`` if not terminal."""
        if not state.terminal:
            return "timeout"
        if not isinstance(state, KnapsackState):
            return super().outcome(state)
        return "success" if state.packed_value == state.best_value else "failure"

    def score(self, state: State) -> float | None:
        """On a finished episode ``packed_value / best_value`` in ``[0, 1]`` (``1.0`` iff optimal); ``1.0`` when
        the optimum is 0 (no item fits, as in most level-1 draws: every play is optimal); ``None`` before the end."""
        if not state.terminal or not isinstance(state, KnapsackState):
            return None
        if state.best_value <= 0:
            return 1.0
        return state.packed_value / state.best_value

    def answer(self, state: State) -> list[int] | None:
        """On a finished episode, the chosen item indices (ascending), optimal or not; else ``None``."""
        if not isinstance(state, KnapsackState) or not state.terminal:
            return None
        return state.chosen

    def instance_text(self, state: State) -> str:
        """The instance in the format :meth:`parse` reads."""
        if not isinstance(state, KnapsackState):
            raise ValueError(f"{self.name}: expected a KnapsackState, got {type(state).__name__}")
        return state.instance_json()

    def parse(self, text: str) -> KnapsackState:
        """The initial state of a JSON instance ``{"capacity": C, "weights": [...], "values": [...]}``.

        Both lists must have the same length ``1..50`` (the bound, whatever ``num_items``) and hold positive
        integers (weights at most 1000, values at most 10**9), ``capacity`` an integer in 1..10**9; more than 50
        items raise ``out_of_bounds``; malformed JSON, missing or unknown keys, wrong types and lengths raise
        a one-line ``ValueError``. (Only the first line of ``to_text()`` is in this form.)
        """
        data = read_json_instance("knapsack", text, ("capacity", "weights", "values"))
        for key in ("weights", "values"):
            if not isinstance(data[key], list):
                raise ValueError(f"knapsack: {key!r} must be a list, got {type(data[key]).__name__}")
        return self.make_state(data["capacity"], data["weights"], data["values"])

    def __repr__(self) -> str:
        return (
            f"Knapsack(num_items={self.num_items}, max_weight={self.max_weight}, max_value={self.max_value}, "
            f"capacity_ratio={self.capacity_ratio})"
        )
