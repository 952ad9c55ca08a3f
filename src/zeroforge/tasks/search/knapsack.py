"""0/1 knapsack built item by item, as a single-player MDP with an exact dynamic-programming verifier.

An instance is ``n`` items (``1 <= n <= num_items``) with positive integer weights and values and a
positive integer ``capacity``. Items are decided in index order: at step ``t`` the agent decides item ``t``
with action ``0`` = skip or ``1`` = take (take is legal only if the item fits the remaining capacity; skip
is always legal). The episode lasts exactly ``n`` steps. At the end the reward is ``+1`` (``success``) iff
the packed value equals the optimum found by exact DP (:func:`optimum`, computed once per instance and
kept in the state), else ``-1`` (``failure``). The graded quality is :meth:`Knapsack.score`:
``packed_value / best_value`` on a finished episode (``1.0`` iff optimal), ``None`` before the end.

Difficulty levels ``1..num_items``: level ``k`` draws an instance of ``k`` items (weights, then values,
then the capacity, drawn exactly as at the top level but for ``k`` items); the other ``num_items - k``
item slots of the observation are ABSENT padding and are never decided. The top level (the default) is
``num_items`` items, drawn exactly as before levels existed.

Observation (``seq_len = 3 * num_items + D`` tokens, ``D`` = number of decimal digits of
``num_items * max_weight``, the largest capacity a drawn instance can have):

- tokens ``0..9`` decimal digits; ``10`` UNDECIDED, ``11`` TAKEN, ``12`` SKIPPED;
  ``13 .. 12 + max_weight`` weights ``1..max_weight``; then ``max_value`` tokens for values ``1..max_value``;
  then one ABSENT token ``13 + max_weight + max_value`` (``vocab_size = 14 + max_weight + max_value``).
- per item slot 3 tokens ``[weight, value, decided]``; a slot past the instance's ``n`` items is
  ``[ABSENT, ABSENT, ABSENT]``. Weights / values of parsed instances above ``max_weight`` / ``max_value``
  are clipped to those (the state and the verifier keep the exact numbers).
- then the remaining capacity as ``D`` decimal digits, most significant first, clipped to ``10**D - 1``.

The current item is implied: it is the first one whose flag is UNDECIDED (none left: the episode is over).

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
from zeroforge.tasks.tokens import digit_tokens

__all__ = ["Knapsack", "KnapsackState", "optimum"]

MAX_ITEMS = 64
MAX_ITEM_WEIGHT = 1000  # bounds the DP table: num_items x min(capacity, total weight)
MAX_ITEM_VALUE = 10**9
MAX_CAPACITY = 10**9

SKIP, TAKE = 0, 1
# observation tokens
_UNDECIDED, _TAKEN, _SKIPPED = 10, 11, 12
_FIRST_WEIGHT = 13
_FLAG = {SKIP: _SKIPPED, TAKE: _TAKEN}



def optimum(
    weights: list[int] | tuple[int, ...], values: list[int] | tuple[int, ...], capacity: int
) -> tuple[int, list[int]]:
    """Exact 0/1 knapsack by DP over capacities: ``(best value, sorted indices of one optimal set)``.

    Runs in ``O(n * min(capacity, sum(weights)))`` time and memory.
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
    ``remaining`` capacity and the ``packed_value``."""

    capacity: int
    weights: tuple[int, ...]
    values: tuple[int, ...]
    best_value: int
    decisions: tuple[int, ...]
    remaining: int
    packed_value: int

    @property
    def chosen(self) -> list[int]:
        """Indices of the items taken so far."""
        return [i for i, d in enumerate(self.decisions) if d == TAKE]

    def key(self) -> tuple[Any, ...]:
        """``(capacity, weights, values, decisions)``."""
        return (self.capacity, self.weights, self.values, self.decisions)

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


@register_task("knapsack")
class Knapsack(Task):
    """0/1 knapsack: decide items in order (skip / take) to reach the DP optimum value.

    ``num_items`` in 1..64; weights drawn uniformly from ``1..max_weight`` (1..1000), values from ``1..max_value``
    (1..1000); capacity ``max(1, floor(capacity_ratio * total weight))`` with ``capacity_ratio`` in (0, 1].
    ``difficulty_levels = num_items``: level ``k`` has ``k`` items. An instance read by ``parse`` (a JSON text of at
    most 1,000,000 characters) has ``1..num_items`` items, weights in 1..1000, values in 1..10**9 and a capacity in
    1..10**9; one where no item fits is valid (its optimum is 0, every play is optimal).
    """

    name: ClassVar[str] = "knapsack"
    num_players = 1
    num_actions = 2

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
        self.max_episode_steps = num_items
        self.difficulty_levels = num_items
        self._cap_digits = len(str(num_items * max_weight))
        self._cap_clip = 10**self._cap_digits - 1
        self._first_value = _FIRST_WEIGHT + max_weight
        self._absent = self._first_value + max_value
        self.vocab_size = self._absent + 1
        self.seq_len = 3 * num_items + self._cap_digits
        self._no_actions = frozen_array([False, False], np.bool_)
        self._skip_only = frozen_array([True, False], np.bool_)
        self._both = frozen_array([True, True], np.bool_)

    # ------------------------------------------------------------------------------------------ states
    def _cap_tokens(self, remaining: int) -> list[int]:
        return list(digit_tokens(min(remaining, self._cap_clip), self._cap_digits))

    def _mask(self, weights: tuple[int, ...], t: int, remaining: int) -> np.ndarray:
        if t >= len(weights):
            return self._no_actions
        return self._both if weights[t] <= remaining else self._skip_only

    def make_state(
        self, capacity: int, weights: list[int] | tuple[int, ...], values: list[int] | tuple[int, ...]
    ) -> KnapsackState:
        """The initial state of the instance, ``1..num_items`` items (validated; raises one-line ``ValueError``)."""
        _check_int("capacity", capacity, 1, MAX_CAPACITY)
        for key, items, hi in (("weights", weights, MAX_ITEM_WEIGHT), ("values", values, MAX_ITEM_VALUE)):
            if not isinstance(items, list | tuple):
                raise ValueError(f"knapsack: {key!r} must be a list, got {type(items).__name__}")
            if not 1 <= len(items) <= self.num_items:
                raise ValueError(
                    f"knapsack: expected 1..{self.num_items} {key} (num_items={self.num_items}), got {len(items)}"
                )
            for x in items:
                if isinstance(x, bool) or not isinstance(x, int) or not 1 <= x <= hi:
                    raise ValueError(f"knapsack: {key} must be positive integers at most {hi}, got {short_repr(x)}")
        if len(weights) != len(values):
            raise ValueError(
                f"knapsack: weights and values must have the same length, got {len(weights)} and {len(values)}"
            )
        ws, vs = tuple(int(w) for w in weights), tuple(int(v) for v in values)
        best, _ = optimum(ws, vs, capacity)
        tokens: list[int] = []
        for w, v in zip(ws, vs, strict=True):
            tokens += [
                _FIRST_WEIGHT + min(w, self.max_weight) - 1,
                self._first_value + min(v, self.max_value) - 1,
                _UNDECIDED,
            ]
        tokens += [self._absent] * (3 * (self.num_items - len(ws)))
        tokens += self._cap_tokens(capacity)
        return KnapsackState(
            current_player=0,
            legal_action_mask=self._mask(ws, 0, capacity),
            terminal=False,
            rewards=SOLO_NO_REWARD,
            observation=frozen_array(tokens, np.int64),
            step_count=0,
            capacity=capacity,
            weights=ws,
            values=vs,
            best_value=best,
            decisions=(),
            remaining=capacity,
            packed_value=0,
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
        if len(state.weights) > self.num_items:
            raise ValueError(f"{self.name}: state has {len(state.weights)} items, this task at most {self.num_items}")
        t = state.step_count
        remaining, packed = state.remaining, state.packed_value
        if action == TAKE:
            remaining -= state.weights[t]
            packed += state.values[t]
        steps = t + 1
        terminal = steps == len(state.weights)
        obs = state.observation.copy()
        obs[3 * t + 2] = _FLAG[action]
        obs[3 * self.num_items :] = self._cap_tokens(remaining)
        obs.flags.writeable = False
        return KnapsackState(
            current_player=0,
            legal_action_mask=self._mask(state.weights, steps, remaining),
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
        )

    def action_to_text(self, state: State, action: int) -> str:
        """``"take #2 (w6 v30)"`` / ``"skip #2 (w6 v30)"``."""
        verb = "take" if int(action) == TAKE else "skip"
        if isinstance(state, KnapsackState) and state.step_count < len(state.weights):
            t = state.step_count
            return f"{verb} #{t} (w{state.weights[t]} v{state.values[t]})"
        return verb

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

        Both lists must have the same length ``1..num_items`` (fewer items than ``num_items`` is an easier
        instance, as a lower difficulty level draws) and hold positive integers (weights at most 1000),
        ``capacity`` an integer >= 1; malformed JSON, missing or unknown keys, wrong types and lengths raise
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
