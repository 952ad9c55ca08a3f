"""``SequenceTask``: a flat single-agent task (the math families, ``code_sort``, ``code_class``) shown in the
structured contract of :mod:`zeroforge.tasks.structured`, so the size-free ``PointerNet`` can read it beside the
structured families (``task: mix``, issue 13).

Tokens. The inner observation ``int64[L]`` (ids ``< inner.vocab_size``, padded with the family's pad id) becomes one
token per non-pad position ``i``: ``(T, id, 0, 0, i)`` with ``T = TOKEN_TYPE_BASE["sequence"] + slot``, in position
order (a sequence token sits at ``(0, i)``; ``i`` is the position in the inner sequence, so a pad inside the
sequence, such as an empty slot's padding, still shows as a gap between columns). ``N <= L = seq_len``. The pad id
is ``pad`` if given, else the inner task's ``Task.pad_token`` (10 for the math tasks, 82 for the code tasks); a flat
task that declares none keeps every position. An all-pad observation (no task makes one)
keeps its first position, as a state needs one token.

Actions. Action ``a`` of the inner task points at the summary token: ``(K + a, 0, 0)`` with ``K =
POINTER_KIND_BASE["sequence"] + 32 * slot``; rows of illegal actions are zero. ``slot`` (``0..15``) keeps two
wrapped families apart (their token types and pointer kinds never meet); an inner task has at most 32 actions.

Everything else (masks, rewards, budgets, verdicts, scores, answers, texts, demonstrations, difficulty levels) is
the inner task's, on the inner states the wrapper carries (``SequenceState.inner``). ``name`` is the inner task's,
so metrics and files keep the family name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from zeroforge.tasks.base import State, Task
from zeroforge.tasks.structured import (
    COL,
    FEATURE_A,
    FEATURE_VOCAB,
    MAX_POSITION,
    POINTER_KIND_BASE,
    TOKEN_FIELDS,
    TOKEN_TYPE_BASE,
    TOKEN_VOCAB,
    TYPE,
)

__all__ = ["MAX_SEQUENCE_ACTIONS", "NUM_SLOTS", "SequenceState", "SequenceTask", "known_pad"]

#: wrapped families that can sit side by side (token types ``base + 0 .. base + 15``)
NUM_SLOTS = 16
#: the most actions of a wrapped task (pointer kinds ``base + 32 * slot + 0 .. 31``)
MAX_SEQUENCE_ACTIONS = 32


def known_pad(inner: Task) -> int | None:
    """The pad id of a flat task's observations (its ``pad_token``); ``None`` where it declares none."""
    pad = inner.pad_token
    return None if pad is None else int(pad)


@dataclass(frozen=True, eq=False)
class SequenceState(State):
    """A state of the wrapped task ``inner`` with its tokens ``int64[N, 5]`` as ``observation`` and its action
    ``pointers`` ``int64[A, 3]``; mask, rewards, player, step count and ``terminal`` are the inner state's."""

    inner: State
    pointers: np.ndarray

    def key(self) -> Any:
        """The inner state's key."""
        return self.inner.key()

    def to_text(self) -> str:
        """The inner state's text."""
        return self.inner.to_text()

    def action_pointers(self) -> np.ndarray:
        """``int64[A, 3]``: ``(kind_a, 0, 0)`` per legal action ``a`` (read from the summary token), other rows zero."""
        return self.pointers


class SequenceTask(Task):
    """The flat single-agent task ``inner`` as a structured task (see the module docstring); ``slot`` in
    ``0..15`` picks its token type and pointer kinds, ``pad`` overrides the pad id found by :func:`known_pad`."""

    structured: ClassVar[bool] = True
    vocab_size = TOKEN_VOCAB

    def __init__(self, inner: Task, slot: int, pad: int | None = None) -> None:
        _check_inner(inner, slot)
        self.inner = inner
        self.slot = int(slot)
        self.pad = known_pad(inner) if pad is None else int(pad)
        self.token_type = TOKEN_TYPE_BASE["sequence"] + self.slot
        self.kind_base = POINTER_KIND_BASE["sequence"] + MAX_SEQUENCE_ACTIONS * self.slot
        self.name = inner.name  # type: ignore[misc]
        self.num_actions = inner.num_actions
        self.num_players = 1
        self.seq_len = inner.seq_len
        self.max_episode_steps = inner.max_episode_steps
        self.difficulty_levels = inner.difficulty_levels
        self.solvable = inner.solvable  # type: ignore[misc]
        self.bounds = inner.bounds  # type: ignore[misc]
        table = np.zeros((self.num_actions, 3), np.int64)
        table[:, 0] = self.kind_base + np.arange(self.num_actions)
        self._pointer_table = table

    # ------------------------------------------------------------------ wrapping
    def tokens(self, observation: np.ndarray) -> np.ndarray:
        """The read-only ``int64[N, 5]`` tokens of an inner observation ``int64[L]``: ``(T, id, 0, 0, i)`` per
        non-pad position ``i``, in order."""
        obs = np.asarray(observation, np.int64)
        positions = np.arange(len(obs)) if self.pad is None else np.flatnonzero(obs != self.pad)
        if len(positions) == 0:
            positions = np.arange(min(1, len(obs)))
        out = np.zeros((len(positions), TOKEN_FIELDS), np.int64)
        out[:, TYPE] = self.token_type
        out[:, FEATURE_A] = obs[positions]
        out[:, COL] = positions
        out.flags.writeable = False
        return out

    def pointers(self, mask: np.ndarray) -> np.ndarray:
        """The read-only ``int64[A, 3]`` pointers of a legal-action mask ``bool[A]`` (illegal rows zero)."""
        out = np.where(np.asarray(mask, np.bool_)[:, None], self._pointer_table, 0)
        out.flags.writeable = False
        return out

    def wrap(self, inner_state: State) -> SequenceState:
        """The structured state of an inner state."""
        return SequenceState(
            current_player=inner_state.current_player,
            legal_action_mask=inner_state.legal_action_mask,
            terminal=inner_state.terminal,
            rewards=inner_state.rewards,
            observation=self.tokens(inner_state.observation),
            step_count=inner_state.step_count,
            inner=inner_state,
            pointers=self.pointers(inner_state.legal_action_mask),
        )

    def unwrap(self, state: State) -> State:
        """The inner state of a ``SequenceState`` (a one-line ``ValueError`` for any other state)."""
        if not isinstance(state, SequenceState):
            raise ValueError(f"{self.name}: expected a SequenceState, got {type(state).__name__}")
        return state.inner

    # ------------------------------------------------------------------ the MDP
    def _initial_state(self, seed: int, difficulty: int) -> SequenceState:
        return self.wrap(self.inner.initial_state(seed, difficulty))

    def _step(self, state: State, action: int) -> SequenceState:
        return self.wrap(self.inner.step(self.unwrap(state), action))

    # ------------------------------------------------------------------ delegated
    def outcome(self, state: State) -> str:
        return self.inner.outcome(self.unwrap(state))

    def score(self, state: State) -> float | None:
        return self.inner.score(self.unwrap(state))

    def heldout_pass_rate(self, state: State) -> float | None:
        return self.inner.heldout_pass_rate(self.unwrap(state))

    def answer(self, state: State) -> Any:
        return self.inner.answer(self.unwrap(state))

    def demonstration(self, state: State) -> list[int] | None:
        return self.inner.demonstration(self.unwrap(state))

    def parse(self, text: str) -> SequenceState:
        return self.wrap(self.inner.parse(text))

    def instance_text(self, state: State) -> str:
        return self.inner.instance_text(self.unwrap(state))

    def action_to_text(self, state: State, action: int) -> str:
        inner = state.inner if isinstance(state, SequenceState) else state
        return self.inner.action_to_text(inner, action)

    def __repr__(self) -> str:
        return f"SequenceTask({self.inner!r}, slot={self.slot})"


def _check_inner(inner: Task, slot: Any) -> None:
    """One-line ``ValueError`` unless ``inner`` is a flat single-agent task that fits a slot and ``slot`` is in
    ``0..15``."""
    name = getattr(inner, "name", type(inner).__name__)
    if not isinstance(inner, Task):
        raise ValueError(f"sequence: expected a Task to wrap, got {type(inner).__name__}")
    if isinstance(slot, bool) or not isinstance(slot, int | np.integer) or not 0 <= slot < NUM_SLOTS:
        raise ValueError(f"sequence: slot must be an integer in 0..{NUM_SLOTS - 1}, got {slot!r}")
    if inner.structured:
        raise ValueError(f"sequence: {name} is already structured; use it as it is")
    if inner.num_players != 1:
        raise ValueError(f"sequence: {name} has {inner.num_players} players; only single-agent tasks are wrapped")
    if inner.num_actions > MAX_SEQUENCE_ACTIONS:
        raise ValueError(f"sequence: {name} has {inner.num_actions} actions, at most {MAX_SEQUENCE_ACTIONS}")
    if inner.vocab_size > FEATURE_VOCAB:
        raise ValueError(f"sequence: {name} has a vocabulary of {inner.vocab_size} tokens, at most {FEATURE_VOCAB}")
    if inner.seq_len > MAX_POSITION:
        raise ValueError(f"sequence: {name} has observations of {inner.seq_len} tokens, at most {MAX_POSITION}")
