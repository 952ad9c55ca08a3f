"""Training targets, computed in one place from the episode table (``EpisodeTable``), whether its episodes were
just played, are held by the ``EpisodeBuffer`` or were read back from Parquet.

For move ``t`` of an episode (player ``p_t`` to move, ``r_t`` what ``p_t`` received for it):

- **value** ``z_t = G_t``: the discounted return of the mover (``returns_to_go``; zero-sum sign flip across a
  change of player, the rule of the search's backup). A single-agent episode cut off unfinished (``timeout``)
  charges its last move the failure reward ``-1``.
- **policy** ``pi_t``: the search's own policy target where it gave one (Gumbel's improved policy), else the
  root visit distribution, over the legal actions, renormalised to sum 1 after the table's float16; all zeros
  (no policy target: KataGo's playout-cap rule) for a move searched without a full budget.
- **self-imitation** (``w`` in [0, 1], Oh et al. 2018): in a successful single-agent episode the policy target of
  each fully searched move becomes ``(1 - w) * pi_t + w * one-hot(played action)``.

Moves of episodes that ended in ``error`` give no targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from zeroforge.data.table import EpisodeTable, segments
from zeroforge.nets.inputs import concat_inputs, trim_padding
from zeroforge.selfplay.episode import OUTCOMES, returns_to_go

__all__ = ["PolicyValueArrays", "TargetRule", "TrainingView", "targets", "trainable_lengths", "training_view",
           "value_targets"]

_ERROR, _SUCCESS = OUTCOMES.index("error"), OUTCOMES.index("success")


@dataclass(frozen=True, eq=False)
class PolicyValueArrays:
    """Columnar policy/value training data: ``observations int64[M, L]``, ``masks bool[M, A]``,
    ``policies float32[M, A]`` (policy targets), ``values float32[M]`` (returns of the mover). Structured tasks:
    ``observations int64[M, N, 5]`` padded with zero tokens and ``pointers int64[M, A, 3]``
    (``zeroforge.nets.inputs``); ``inputs()`` is what the net reads either way.

    A row whose policy is all zeros has no policy target (a fast playout-cap move: KataGo trains the value
    there but not the policy); ``alphazero_loss`` averages the policy loss over the other rows only.
    Like ``EpisodeBuffer`` it is a position source for ``Learner.train`` (``num_positions``, ``take``).
    """

    observations: np.ndarray
    masks: np.ndarray
    policies: np.ndarray
    values: np.ndarray
    pointers: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.values)

    @property
    def num_positions(self) -> int:
        return len(self.values)

    @property
    def has_policy(self) -> np.ndarray:
        """``bool[M]``: which rows carry a policy target (a policy that is not all zeros)."""
        return np.asarray(self.policies.sum(axis=1) > 0)

    def inputs(self) -> tuple[np.ndarray, ...]:
        """The net's inputs: ``(observations,)`` or, structured, ``(observations, pointers)``."""
        return (self.observations,) if self.pointers is None else (self.observations, self.pointers)

    def take(self, rows: np.ndarray | slice) -> PolicyValueArrays:
        """Rows ``rows int64[B]`` or a slice of them (views: a minibatch of a block); structured tokens lose the
        padding no taken row needs."""
        if self.pointers is None:
            return PolicyValueArrays(self.observations[rows], self.masks[rows], self.policies[rows], self.values[rows])
        return PolicyValueArrays(trim_padding(self.observations[rows]), self.masks[rows], self.policies[rows],
                                 self.values[rows], self.pointers[rows])

    @classmethod
    def concat(cls, parts: Sequence[PolicyValueArrays]) -> PolicyValueArrays:
        """The rows of ``parts`` in order (structured tokens padded to the longest)."""
        if parts[0].pointers is None:
            return cls(*(np.concatenate([getattr(p, f) for p in parts])
                         for f in ("observations", "masks", "policies", "values")))
        tokens, pointers = concat_inputs([p.inputs() for p in parts])
        masks, policies, values = (np.concatenate([getattr(p, f) for p in parts])
                                   for f in ("masks", "policies", "values"))
        return cls(tokens, masks, policies, values, pointers)


@dataclass(frozen=True)
class TargetRule:
    """How targets are made: ``discount`` of the value return (1 for games), ``self_imitation`` weight ``w``."""

    discount: float = 1.0
    self_imitation: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 < self.discount <= 1.0:
            raise ValueError(f"discount must be in (0, 1], got {self.discount}")
        if not 0.0 <= self.self_imitation <= 1.0:
            raise ValueError(f"self_imitation must be in [0, 1], got {self.self_imitation}")


def value_targets(rewards: Sequence[float], players: Sequence[int], outcome: str, num_players: int,
                  discount: float) -> np.ndarray:
    """Value targets ``float32[T]`` of one episode (the module docstring's rule)."""
    charged = [float(r) for r in rewards]
    moved = [int(p) for p in players]
    if outcome == "timeout" and charged and set(moved) == {0} and num_players == 1:
        charged[-1] = -1.0
    return returns_to_go(charged, moved, discount)


def trainable_lengths(table: EpisodeTable) -> np.ndarray:
    """``int64[E]``: the moves of each episode that have training targets (all of them, none after an ``error``)."""
    return np.where(table.outcomes != _ERROR, table.episode_lengths, 0)


@dataclass(frozen=True, eq=False)
class TrainingView:
    """What sampling needs besides the table, computed once per table: ``rows int32[M']``, the moves that have
    targets (``trainable_lengths``), and their value targets ``values float32[M']``."""

    #: bytes a trainable move costs in the view (its int32 row and float32 value target)
    BYTES_PER_MOVE: ClassVar[int] = 8

    rows: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def nbytes(self) -> int:
        return int(self.rows.nbytes + self.values.nbytes)


def training_view(table: EpisodeTable, discount: float) -> TrainingView:
    """The trainable moves of ``table`` and their value targets."""
    trainable = trainable_lengths(table)
    keep = np.repeat(trainable > 0, table.episode_lengths)
    offs = table.episode_offsets
    values = np.zeros(table.num_moves, np.float32)
    for e in np.flatnonzero(trainable):
        lo, hi = int(offs[e]), int(offs[e + 1])
        values[lo:hi] = value_targets(table.rewards[lo:hi].tolist(), table.players[lo:hi].tolist(),
                                      OUTCOMES[int(table.outcomes[e])], table.num_players, discount)
    rows = np.flatnonzero(keep)
    return TrainingView(rows.astype(np.int32), values[rows])


def targets(table: EpisodeTable, rule: TargetRule = TargetRule(), rows: np.ndarray | None = None, *,
            view: TrainingView | None = None, num_actions: int | None = None) -> PolicyValueArrays:
    """Targets of ``table``'s trainable moves: all of them, or those at positions ``rows int64[B]`` of the
    training view (``view``, default ``training_view(table, rule.discount)``). ``num_actions`` (default the
    table's) may be larger: the extra actions are illegal. Arrays ``[B, L]`` (structured: ``[B, N, 5]`` and
    pointers ``[B, A, 3]``), ``[B, A]``, ``[B, A]``, ``[B]``."""
    width = table.num_actions if num_actions is None else int(num_actions)
    if width < table.num_actions:
        raise ValueError(f"num_actions must be >= the table's {table.num_actions}, got {width}")
    view = training_view(table, rule.discount) if view is None else view
    picked = np.arange(len(view)) if rows is None else np.asarray(rows, np.int64)
    moves = view.rows[picked].astype(np.int64)
    batch_row, entry, _ = segments(table.legal_offsets, moves)
    cols = table.legal_actions[entry].astype(np.int64)
    masks = np.zeros((len(moves), width), bool)
    masks[batch_row, cols] = True
    own = table.has_policy_targets[moves][batch_row]
    policies = np.zeros((len(moves), width), np.float32)
    policies[batch_row, cols] = np.where(own, table.policy_targets[entry], table.visit_probs[entry])
    policies[~table.full_searches[moves]] = 0.0
    sums = policies.sum(axis=1, keepdims=True)
    policies /= np.where(sums > 0, sums, 1.0)
    if rule.self_imitation > 0 and table.num_players == 1:
        episode = np.searchsorted(table.episode_offsets, moves, side="right") - 1
        imitate = np.flatnonzero((table.outcomes[episode] == _SUCCESS) & table.full_searches[moves])
        w = np.float32(rule.self_imitation)
        policies[imitate] *= 1 - w
        policies[imitate, table.actions[moves[imitate]].astype(np.int64)] += w
    pointers = table.pointer_batch(moves, width) if table.structured else None
    return PolicyValueArrays(table.observation_batch(moves), masks, policies, view.values[picked].copy(), pointers)
