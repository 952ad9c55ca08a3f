"""A toy structured task for the size-free pipeline's tests: pick the item of the largest value.

An instance is ``n`` items (``2 <= n <= MAX_ITEMS``) with values in ``0..99``; the single action takes item ``i``
(legal iff ``i < n``) and ends the episode: ``+1`` if no item is worth more, else ``-1``. Tokens: one per item,
``(ITEM, value, 0, 0, 0)`` (a set: no positions), then a global token ``(GLOBAL, n, 0, 0, 0)``; the action
"take item i" points at item ``i``'s token. A net that learns it on small instances must point at the maximum of
instances of any size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from zeroforge.tasks.base import State, Task, frozen_array, solo_rewards
from zeroforge.tasks.structured import TOKEN_VOCAB, pointer_rows, token_rows

MAX_ITEMS = 24
ITEM, GLOBAL = 240, 241  # token types outside every family's range
TAKE = 1000


@dataclass(frozen=True, eq=False)
class PickState(State):
    values: tuple[int, ...]
    pointers: np.ndarray

    def action_pointers(self) -> np.ndarray:
        return self.pointers


class PickMax(Task):
    """``num_items`` items per generated instance (any ``2..MAX_ITEMS`` via ``make``)."""

    name: ClassVar[str] = "pick_max"
    structured: ClassVar[bool] = True
    bounds: ClassVar[dict[str, int]] = {"items": MAX_ITEMS}
    num_actions = MAX_ITEMS
    num_players = 1
    vocab_size = TOKEN_VOCAB
    seq_len = MAX_ITEMS + 1
    max_episode_steps = 1

    def __init__(self, num_items: int = 5) -> None:
        self.num_items = num_items

    def make(self, values: list[int], done: int | None = None) -> PickState:
        n = len(values)
        tokens = token_rows([(ITEM, v, 0, 0, 0) for v in values] + [(GLOBAL, n, 0, 0, 0)])
        mask = np.zeros(MAX_ITEMS, bool)
        if done is None:
            mask[:n] = True
        won = done is not None and values[done] == max(values)
        return PickState(0, frozen_array(mask, bool), done is not None,
                         solo_rewards(done is not None, won), tokens, int(done is not None),
                         tuple(values), pointer_rows(MAX_ITEMS, {i: (TAKE, i + 1, i + 1) for i in range(n)}))

    def _initial_state(self, seed: int, difficulty: int) -> PickState:
        rng = np.random.default_rng(seed)
        return self.make(rng.permutation(100)[:self.num_items].tolist())

    def _step(self, state: State, action: int) -> PickState:
        assert isinstance(state, PickState)
        return self.make(list(state.values), action)

    def demonstration(self, state: State) -> list[int] | None:
        assert isinstance(state, PickState)
        return [int(np.argmax(state.values))]
