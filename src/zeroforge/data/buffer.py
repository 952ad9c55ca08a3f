"""``EpisodeBuffer``: the replay buffer. Self-play episodes held column-wise in ``EpisodeTable`` chunks, bounded
in bytes (and optionally in positions), sampled by the learner without copying the buffer (``take``), saved in
checkpoints and, as Parquet, in run directories (``zeroforge.data.parquet``)."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Sequence

import numpy as np

from zeroforge.data.table import EpisodeTable, check_compatible, upgrade_columns
from zeroforge.data.targets import (
    PolicyValueArrays,
    TargetRule,
    TrainingView,
    targets,
    trainable_lengths,
    training_view,
)
from zeroforge.search.trace import MCTSTrace
from zeroforge.selfplay.episode import SelfPlayEpisode

__all__ = ["EpisodeBuffer"]


class EpisodeBuffer:
    """Episodes held in ``EpisodeTable`` chunks (oldest first). After every ``add`` the oldest whole episodes are
    evicted until ``nbytes <= max_bytes`` and (if set) ``num_positions <= max_positions`` (an episode larger than
    the bound on its own is evicted too). All episodes share one shape (``num_actions``, ``vocab_size``,
    ``seq_len``, ``num_players``).

    ``rule`` makes the training targets (``zeroforge.data.targets``); each chunk keeps its ``TrainingView``
    (trainable moves and value targets, 8 bytes a move), counted in ``nbytes`` with the chunk's arrays.
    ``take(rows)`` gives the targets of trainable positions ``rows`` (``0 .. num_positions - 1``, oldest first).

    Chunks hold at most ``CHUNK_EPISODES`` episodes: a small table added is merged into the newest chunk, a
    large one split, so evicting part of a chunk copies a bounded amount and per-chunk overhead stays small.
    Tables passed to ``add`` are held as they are, so they must own their arrays (as ``from_episodes``,
    ``select`` and ``concat`` tables do).
    """

    CHUNK_EPISODES = 256

    def __init__(self, max_bytes: int, max_positions: int | None = None, rule: TargetRule | None = None) -> None:
        limits = {"max_bytes": max_bytes, **({} if max_positions is None else {"max_positions": max_positions})}
        for name, value in limits.items():
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        self.max_bytes = int(max_bytes)
        self.max_positions = None if max_positions is None else int(max_positions)
        self.rule = rule if rule is not None else TargetRule()
        self._chunks: deque[EpisodeTable] = deque()
        self._views: deque[TrainingView] = deque()
        self._nbytes = 0
        self._size = 0
        self._positions = 0
        self.total_added = 0
        self.total_evicted = 0

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        """Bytes of the numpy buffers held (always ``<= max_bytes`` after ``add``)."""
        return self._nbytes

    @property
    def num_positions(self) -> int:
        """Positions with training targets (moves of episodes not ended in ``error``)."""
        return self._positions

    @property
    def chunks(self) -> tuple[EpisodeTable, ...]:
        return tuple(self._chunks)

    # -- adding and evicting -------------------------------------------------------------------------------

    def add(self, table: EpisodeTable) -> None:
        """Append ``table``'s episodes (newest last), then evict the oldest down to the bounds."""
        if self._chunks:
            check_compatible(self._chunks[0], table)
        step = self.CHUNK_EPISODES
        pieces = [table] if len(table) <= step else [table.select(lo, min(lo + step, len(table)))
                                                   for lo in range(0, len(table), step)]
        for piece in pieces:
            self._append(piece)
        self.total_added += len(table)
        self._evict()

    def add_episodes(self, episodes: Sequence[SelfPlayEpisode], vocab_size: int) -> None:
        """``add(EpisodeTable.from_episodes(episodes, vocab_size))``."""
        self.add(EpisodeTable.from_episodes(episodes, vocab_size))

    def _push(self, table: EpisodeTable, left: bool = False) -> None:
        view = training_view(table, self.rule.discount)
        (self._chunks.appendleft if left else self._chunks.append)(table)
        (self._views.appendleft if left else self._views.append)(view)
        self._nbytes += table.nbytes + view.nbytes
        self._size += len(table)
        self._positions += len(view)

    def _pop(self, left: bool = False) -> EpisodeTable:
        table = self._chunks.popleft() if left else self._chunks.pop()
        view = self._views.popleft() if left else self._views.pop()
        self._nbytes -= table.nbytes + view.nbytes
        self._size -= len(table)
        self._positions -= len(view)
        return table

    def _append(self, table: EpisodeTable) -> None:
        if self._chunks and len(self._chunks[-1]) + len(table) <= self.CHUNK_EPISODES:
            table = EpisodeTable.concat([self._pop(), table])
        self._push(table)

    def _over(self) -> tuple[int, int]:
        """``(bytes, positions)`` above the bounds (0 when within)."""
        extra_positions = 0 if self.max_positions is None else max(0, self._positions - self.max_positions)
        return max(0, self._nbytes - self.max_bytes), extra_positions

    def _evict(self) -> None:
        while self._chunks and any(self._over()):
            excess_bytes, excess_positions = self._over()
            oldest = self._chunks[0]
            trainable = trainable_lengths(oldest)
            per_episode = oldest.episode_nbytes() + TrainingView.BYTES_PER_MOVE * trainable
            drop = max(int(np.searchsorted(np.cumsum(per_episode), excess_bytes)) + 1 if excess_bytes else 0,
                       int(np.searchsorted(np.cumsum(trainable), excess_positions)) + 1 if excess_positions else 0)
            self._pop(left=True)
            if drop < len(oldest):
                self._push(oldest.select(drop, len(oldest)), left=True)
            self.total_evicted += min(drop, len(oldest))

    # -- reading -------------------------------------------------------------------------------------------

    def _locate(self, i: int) -> tuple[EpisodeTable, int]:
        if not 0 <= i < len(self):
            raise IndexError(f"episode {i} is out of range 0..{len(self) - 1}")
        for chunk in self._chunks:
            if i < len(chunk):
                return chunk, i
            i -= len(chunk)
        raise AssertionError("unreachable")

    def traces(self, i: int) -> tuple[MCTSTrace, ...]:
        """The traces of the ``i``-th episode held (0 = oldest); see ``EpisodeTable.traces``."""
        chunk, j = self._locate(i)
        return chunk.traces(j)

    def table(self) -> EpisodeTable:
        """All episodes held, oldest first, in one table (a copy)."""
        if not self._chunks:
            raise ValueError("the episode buffer is empty")
        return EpisodeTable.concat(list(self._chunks))

    def take(self, rows: np.ndarray) -> PolicyValueArrays:
        """Targets of the trainable positions ``rows int64[B]`` (``0 .. num_positions - 1``, oldest first), in
        the order given: a minibatch, built from the chunks without copying the buffer."""
        rows = np.asarray(rows, np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= self._positions):
            raise IndexError(f"positions must be in 0..{self._positions - 1}")
        starts = np.cumsum([0, *(len(v) for v in self._views)])
        chunk_of = np.searchsorted(starts, rows, side="right") - 1
        parts, order = [], []
        for c in np.unique(chunk_of):
            sel = np.flatnonzero(chunk_of == c)
            parts.append(targets(self._chunks[c], self.rule, rows[sel] - starts[c], view=self._views[c]))
            order.append(sel)
        if not parts:
            raise ValueError("no training positions: the buffer holds none")
        out = PolicyValueArrays.concat(parts)
        return out.take(np.argsort(np.concatenate(order), kind="stable"))

    def policy_value_arrays(self, num_actions: int | None = None) -> PolicyValueArrays:
        """Targets of every trainable position held, oldest first (``num_actions``: pad to a larger action set)."""
        if self._positions == 0:
            raise ValueError("no training positions: every episode was empty or ended in error")
        return PolicyValueArrays.concat([targets(c, self.rule, view=v, num_actions=num_actions)
                                         for c, v in zip(self._chunks, self._views, strict=True)])

    # -- checkpoints ---------------------------------------------------------------------------------------

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The buffer as numpy arrays for a checkpoint: the table's columns, the chunk sizes and the counters."""
        out: dict[str, np.ndarray] = {
            "counters": np.array([self.total_added, self.total_evicted], np.int64),
            "chunk_episodes": np.array([len(c) for c in self._chunks], np.int64),
        }
        if self._chunks:
            whole = self.table()
            out.update({f"table.{name}": getattr(whole, name) for name in whole.array_names()})
            out["shape"] = np.array([whole.num_actions, whole.vocab_size], np.int64)
        return out

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore what ``state_arrays`` wrote: the same chunks, so the byte count and evictions go on exactly
        as in the run that saved it."""
        self._chunks.clear()
        self._views.clear()
        self._nbytes = self._size = self._positions = 0
        sizes = arrays["chunk_episodes"]
        if len(sizes):
            num_actions, vocab_size = (int(x) for x in arrays["shape"])
            columns = upgrade_columns({name[len("table."):]: value for name, value in arrays.items()
                                       if name.startswith("table.")})
            whole = EpisodeTable(num_actions=num_actions, vocab_size=vocab_size,
                                 **{name: columns[name] for name in EpisodeTable.array_names()})
            bounds = np.cumsum([0, *sizes.tolist()])
            for lo, hi in itertools.pairwise(bounds):
                self._push(whole.select(int(lo), int(hi)))
        self.total_added, self.total_evicted = (int(x) for x in arrays["counters"])
