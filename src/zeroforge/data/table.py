"""``EpisodeTable``: a batch of self-play episodes as compact numpy columns (DESIGN §3 "Data"), the one episode
format from search to learner: what self-play sources return, what ``EpisodeBuffer`` holds, what the training
targets are computed from (``zeroforge.data.targets``) and what ``zeroforge.data.parquet`` writes to disk.

Layout of a table of ``E`` episodes, ``M`` moves (searched positions) and ``N`` legal actions summed
over the moves; ``A = num_actions``, ``L = seq_len``, ``P = num_players``:

- per episode ``[E]``: seed, difficulty, outcome, total reward, search efficiency, returns ``[E, P]``,
  winner, and two strings (task id, metadata JSON) as utf-8 bytes + offsets ``[E + 1]``. The moves of
  episode ``e`` are rows ``episode_offsets[e]:episode_offsets[e + 1]``.
- per move ``[M]``: player, action, reward, the observation's tokens (ragged: rows
  ``observation_offsets[m]:observation_offsets[m + 1]`` of ``observations [T, F]``, the smallest unsigned dtype
  that holds ``vocab_size``: ``uint8``, ``uint16`` or ``uint32``; ``F = 1`` for flat tasks, whose moves all have
  ``L = seq_len`` tokens, ``F = 5`` for structured tasks' typed tokens of any length), the action's text
  (utf-8 + offsets) and the search's scalars: visit total, simulations, root value, root prior value, selected action,
  tree depth, search time, root state id (``State.state_id`` as ``uint64``), whether the move had a full
  search (``False``: a fast playout-cap move) and whether its search gave a policy target of its own
  (Gumbel). The episode index and the step of a move are derived from ``episode_offsets``
  (``episode_index``, ``steps``) and cost no bytes.
- per legal action of each move ``[N]``, rows ``legal_offsets[m]:legal_offsets[m + 1]``: the legal
  action ids (ascending), their action pointers ``[N, K]`` (``uint16``; ``K = 3`` ``(kind, src, dst)`` for
  structured tasks, ``K = 0`` for flat ones) and the search's ``float16`` visit distribution, Q-values, priors,
  child value estimates and policy target over them (the policy target is 0 for moves without one).

Legal actions are stored as ids + offsets rather than a packed bitmask: the float16 trace arrays are
ragged over the legal actions anyway, so they need per-move offsets whichever way legality is kept;
given those, ids cost one byte per legal action (two past 256 actions) where a bitmask costs
``ceil(A / 8)`` bytes per move (a few bytes less on a 9-cell board, far more on tasks with hundreds of
actions and few legal ones), they index the trace arrays without a popcount, and pandas / HF datasets
read them as plain lists.

Visit counts are kept as the float16 distribution plus the int32 visit total; ``traces`` rebuilds the
counts by largest-remainder rounding, so they always sum to the total and are exact while a move's
visit total is at most 2048 (float16 keeps 11 significant bits; beyond, a count may be off by one or
so). Q-values, priors, value estimates and policy targets come back at float16 precision (about 3
significant digits, ``|x| <= 65504``).

Parquet (``zeroforge.data.parquet.save_parquet``) has one row per episode: scalar columns for the per-episode
fields, ``list<...>`` columns for the per-move fields and ``list<list<...>>`` for the per-legal-action
ones (see ``zeroforge.data.parquet.COLUMNS``), so ``pyarrow.parquet.read_table(path).to_pandas()`` reads
it directly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from zeroforge.search.trace import MCTSTrace
from zeroforge.selfplay.episode import OUTCOMES, Action, SelfPlayEpisode

if TYPE_CHECKING:
    from zeroforge.tasks.base import State, Task

__all__ = ["DRAW", "NO_WINNER", "EpisodeTable", "check_compatible", "segments", "upgrade_columns"]

#: winner codes of ``EpisodeTable.winners``: a draw (``metadata["winner"] is None``) and no winner recorded
DRAW, NO_WINNER = -1, -2
#: metadata keys kept in their own columns (the rest goes to the metadata JSON)
_META_COLUMNS = ("seed", "difficulty", "returns", "winner")

_EPISODE_ARRAYS = ("seeds", "difficulties", "outcomes", "total_rewards", "search_efficiency", "returns", "winners")
_ROW_ARRAYS = ("players", "actions", "rewards", "visit_totals", "num_simulations", "root_values",
               "root_prior_values", "selected_actions", "tree_depths", "search_times", "root_state_ids",
               "full_searches", "has_policy_targets")
_TRACE_ARRAYS = ("visit_probs", "q_values", "prior_probs", "value_estimates", "policy_targets")
#: ragged groups: offsets field -> (axis the offsets index, value fields)
_RAGGED: dict[str, tuple[str, tuple[str, ...]]] = {
    "task_id_offsets": ("episode", ("task_id_bytes",)),
    "metadata_offsets": ("episode", ("metadata_bytes",)),
    "text_offsets": ("row", ("text_bytes",)),
    "observation_offsets": ("row", ("observations",)),
    "legal_offsets": ("row", ("legal_actions", "action_pointers", *_TRACE_ARRAYS)),
}
#: the two-dimensional arrays (rows x a fixed width)
_MATRICES = ("returns", "observations", "action_pointers")
FIXED_DTYPES: dict[str, Any] = {
    "episode_offsets": np.int64, "seeds": np.int64, "difficulties": np.int32, "outcomes": np.uint8,
    "total_rewards": np.float32, "search_efficiency": np.float32, "returns": np.float32, "winners": np.int8,
    "players": np.uint8, "rewards": np.float32, "visit_totals": np.int32, "num_simulations": np.int32,
    "root_values": np.float32, "root_prior_values": np.float32, "tree_depths": np.uint16,
    "search_times": np.float32, "root_state_ids": np.uint64, "full_searches": np.bool_,
    "has_policy_targets": np.bool_, "task_id_bytes": np.uint8, "metadata_bytes": np.uint8,
    "text_bytes": np.uint8, "action_pointers": np.uint16, **{name: np.int64 for name in _RAGGED},
    **{name: np.float16 for name in _TRACE_ARRAYS},
}


def smallest_uint(limit: int) -> np.dtype:
    """The smallest unsigned dtype holding ``0..limit - 1`` (``uint8``, ``uint16`` or ``uint32``)."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if limit - 1 <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    raise ValueError(f"{limit} values do not fit in uint32")


def offsets_of(lengths: np.ndarray) -> np.ndarray:
    """``int64[n + 1]`` offsets of consecutive segments of ``lengths``."""
    out = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=out[1:])
    return out


def encode_strings(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(offsets int64[n + 1], utf-8 bytes uint8[K])`` of ``texts``."""
    encoded = [t.encode() for t in texts]
    data = np.frombuffer(b"".join(encoded), np.uint8).copy()
    return offsets_of(np.array([len(b) for b in encoded], np.int64)), data


def _to_f16(values: np.ndarray, name: str) -> np.ndarray:
    """``values`` as float16; a one-line ``ValueError`` where a finite value overflows it."""
    out = values.astype(np.float16)
    if not np.isfinite(out).all() and np.isfinite(values).all():
        raise ValueError(f"{name} has values beyond float16's range (|x| <= 65504)")
    return out


def _counts_from_probs(probs: np.ndarray, total: int) -> np.ndarray:
    """Integer counts ``int32[n]`` summing to ``total`` closest to ``probs * total`` (largest remainder)."""
    share = probs.astype(np.float64)
    norm = float(share.sum())
    if total <= 0 or norm <= 0:
        return np.zeros(len(probs), np.int32)
    share *= total / norm
    counts = np.floor(share).astype(np.int64)
    short = total - int(counts.sum())
    if short > 0:
        counts[np.argsort(counts - share, kind="stable")[:short]] += 1
    return counts.astype(np.int32)


def _winner_code(meta: dict[str, Any]) -> int:
    if "winner" not in meta:
        return NO_WINNER
    return DRAW if meta["winner"] is None else int(meta["winner"])


def _split_metadata(meta: dict[str, Any]) -> tuple[int, int, int, str]:
    """``(seed, difficulty, winner code, JSON of the other keys)``; a seed / difficulty / winner that is not a
    plain integer stays in the JSON (its column then reads ``-1`` / ``-1`` / ``NO_WINNER``)."""
    rest = {k: v for k, v in meta.items() if k not in _META_COLUMNS}
    seed, difficulty, winner = meta.get("seed"), meta.get("difficulty"), meta.get("winner")
    if not (isinstance(seed, int | np.integer) and not isinstance(seed, bool) and 0 <= seed < 2**63):
        seed = -1
        if "seed" in meta:
            rest["seed"] = meta["seed"]
    if not (isinstance(difficulty, int | np.integer) and not isinstance(difficulty, bool) and 0 < difficulty < 2**31):
        difficulty = -1
        if "difficulty" in meta:
            rest["difficulty"] = meta["difficulty"]
    if winner is not None and not (isinstance(winner, int | np.integer) and 0 <= winner < 127):
        rest["winner"] = winner
        meta = {k: v for k, v in meta.items() if k != "winner"}
    return int(seed), int(difficulty), _winner_code(meta), json.dumps(rest, sort_keys=True, default=str)


@dataclass(frozen=True, eq=False)
class EpisodeTable:
    """A batch of ``E`` episodes with ``M`` moves and ``N`` legal actions in all, as read-only numpy columns
    (layout in the module docstring). ``num_actions`` (``A``) and ``vocab_size`` fix the token and action
    dtypes: ``observations`` is ``smallest_uint(vocab_size)[T, F]``; ``actions``, ``selected_actions`` and
    ``legal_actions`` are ``smallest_uint(num_actions)``.

    Per episode: ``episode_offsets int64[E + 1]``, ``seeds int64[E]`` (-1: none), ``difficulties int32[E]``
    (-1: none), ``outcomes uint8[E]`` (index into ``OUTCOMES``), ``total_rewards float32[E]``,
    ``search_efficiency float32[E]``, ``returns float32[E, P]``, ``winners int8[E]`` (player; ``DRAW`` -1,
    ``NO_WINNER`` -2), ``task_id_offsets int64[E + 1]`` / ``task_id_bytes uint8``, ``metadata_offsets
    int64[E + 1]`` / ``metadata_bytes uint8`` (JSON of the metadata keys without a column).

    Per move: ``players uint8[M]``, ``actions [M]``, ``rewards float32[M]`` (what the mover received),
    ``observation_offsets int64[M + 1]`` / ``observations [T, F]`` (tokens; ``observation_batch`` pads them),
    ``text_offsets int64[M + 1]`` / ``text_bytes uint8`` (action texts),
    ``visit_totals int32[M]``, ``num_simulations int32[M]``, ``root_values float32[M]``,
    ``root_prior_values float32[M]``, ``selected_actions [M]``, ``tree_depths uint16[M]``,
    ``search_times float32[M]``, ``root_state_ids uint64[M]``, ``full_searches bool[M]``
    (``MCTSTrace.full_search``), ``has_policy_targets bool[M]`` (``MCTSTrace.policy_target is not None``).

    Per legal action: ``legal_offsets int64[M + 1]``, ``legal_actions [N]``, ``action_pointers uint16[N, K]``,
    ``visit_probs``, ``q_values``,
    ``prior_probs``, ``value_estimates``, ``policy_targets`` (``float16[N]``; ``policy_targets`` is 0 on the
    moves without one).
    """

    num_actions: int
    vocab_size: int
    episode_offsets: np.ndarray
    seeds: np.ndarray
    difficulties: np.ndarray
    outcomes: np.ndarray
    total_rewards: np.ndarray
    search_efficiency: np.ndarray
    returns: np.ndarray
    winners: np.ndarray
    task_id_offsets: np.ndarray
    task_id_bytes: np.ndarray
    metadata_offsets: np.ndarray
    metadata_bytes: np.ndarray
    players: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    observation_offsets: np.ndarray
    observations: np.ndarray
    text_offsets: np.ndarray
    text_bytes: np.ndarray
    visit_totals: np.ndarray
    num_simulations: np.ndarray
    root_values: np.ndarray
    root_prior_values: np.ndarray
    selected_actions: np.ndarray
    tree_depths: np.ndarray
    search_times: np.ndarray
    root_state_ids: np.ndarray
    full_searches: np.ndarray
    has_policy_targets: np.ndarray
    legal_offsets: np.ndarray
    legal_actions: np.ndarray
    action_pointers: np.ndarray
    visit_probs: np.ndarray
    q_values: np.ndarray
    prior_probs: np.ndarray
    value_estimates: np.ndarray
    policy_targets: np.ndarray

    def __post_init__(self) -> None:
        self._check_layout()
        for name in self.array_names():
            getattr(self, name).flags.writeable = False

    # -- layout ------------------------------------------------------------------------------------------

    @staticmethod
    def array_names() -> tuple[str, ...]:
        """Names of the numpy fields (everything but ``num_actions`` and ``vocab_size``)."""
        return ("episode_offsets", *_EPISODE_ARRAYS, *_ROW_ARRAYS,
                *(name for offs, (_, values) in _RAGGED.items() for name in (offs, *values)))

    def _dtype(self, name: str) -> np.dtype:
        if name == "observations":
            return smallest_uint(self.vocab_size)
        if name in ("actions", "selected_actions", "legal_actions"):
            return smallest_uint(self.num_actions)
        return np.dtype(FIXED_DTYPES[name])

    def _check_layout(self) -> None:
        """Dtypes, ranks and lengths agree with the layout (a one-line ``ValueError`` if not)."""
        if self.num_actions < 1 or self.vocab_size < 1:
            raise ValueError(f"num_actions and vocab_size must be >= 1, got {self.num_actions}, {self.vocab_size}")
        for name in self.array_names():
            arr = getattr(self, name)
            if not isinstance(arr, np.ndarray) or arr.dtype != self._dtype(name):
                raise ValueError(f"EpisodeTable.{name} must be a {self._dtype(name)} array, got "
                                 f"{getattr(arr, 'dtype', type(arr).__name__)}")
            if arr.ndim != (2 if name in _MATRICES else 1):
                raise ValueError(f"EpisodeTable.{name} has rank {arr.ndim}")
        moves = self._check_offsets("episode_offsets", len(self.players))
        sizes = {"episode": len(self.episode_offsets) - 1, "row": moves}
        for name in _EPISODE_ARRAYS:
            self._check_length(name, sizes["episode"])
        for name in _ROW_ARRAYS:
            self._check_length(name, sizes["row"])
        for offs, (axis, values) in _RAGGED.items():
            if len(getattr(self, offs)) != sizes[axis] + 1:
                raise ValueError(f"EpisodeTable.{offs} must have {sizes[axis] + 1} entries")
            for name in values:
                self._check_offsets(offs, len(getattr(self, name)))
        if self.action_pointers.shape[1] != (3 if self.structured else 0):
            raise ValueError(f"EpisodeTable.action_pointers must have {3 if self.structured else 0} columns "
                             f"with {self.token_fields}-field tokens")
        if not self.structured and len(np.unique(self.observation_lengths)) > 1:
            raise ValueError("EpisodeTable.observations of a flat table must all have the same length")

    def _check_length(self, name: str, n: int) -> None:
        if len(getattr(self, name)) != n:
            raise ValueError(f"EpisodeTable.{name} must have {n} rows, got {len(getattr(self, name))}")

    def _check_offsets(self, name: str, n_values: int) -> int:
        offs = getattr(self, name)
        if len(offs) < 1 or offs[0] != 0 or offs[-1] != n_values or (np.diff(offs) < 0).any():
            raise ValueError(f"EpisodeTable.{name} must rise from 0 to {n_values}")
        return n_values

    # -- sizes -------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.episode_offsets) - 1

    @property
    def num_moves(self) -> int:
        return len(self.players)

    @property
    def token_fields(self) -> int:
        """``F``: fields per token (``1`` flat, ``5`` structured)."""
        return int(self.observations.shape[1])

    @property
    def structured(self) -> bool:
        """Whether the moves' observations are structured typed tokens with action pointers."""
        return self.token_fields > 1

    @property
    def observation_lengths(self) -> np.ndarray:
        """``int64[M]``: the tokens of each move's observation."""
        return np.diff(self.observation_offsets)

    @property
    def seq_len(self) -> int:
        """Tokens per observation: ``L`` of a flat table, the longest observation of a structured one."""
        return int(self.observation_lengths.max(initial=0))

    def observation(self, r: int) -> np.ndarray:
        """Move ``r``'s observation as its state had it: ``int64[L]`` (flat) or ``int64[N, 5]`` (structured)."""
        tokens = self.observations[self.observation_offsets[r]:self.observation_offsets[r + 1]].astype(np.int64)
        return tokens if self.structured else tokens[:, 0]

    def observation_batch(self, moves: np.ndarray) -> np.ndarray:
        """The observations of ``moves int64[B]`` as net input: ``int64[B, L]`` (flat) or ``int64[B, N, 5]``
        (structured, padded with zero tokens to the longest of them)."""
        moves = np.asarray(moves, np.int64)
        if not self.structured:
            return self.observations[:, 0].reshape(self.num_moves, self.seq_len)[moves].astype(np.int64)
        rows, entries, positions = segments(self.observation_offsets, moves)
        out = np.zeros((len(moves), int(positions.max(initial=0)) + 1, self.token_fields), np.int64)
        out[rows, positions] = self.observations[entries]
        return out

    def pointer_batch(self, moves: np.ndarray, width: int | None = None) -> np.ndarray:
        """``int64[B, A, 3]``: the action pointers of ``moves`` (a structured table), zero rows for the illegal
        actions; ``width`` (default ``num_actions``) may be larger."""
        rows, entries, _ = segments(self.legal_offsets, np.asarray(moves, np.int64))
        out = np.zeros((len(moves), self.num_actions if width is None else width, 3), np.int64)
        out[rows, self.legal_actions[entries].astype(np.int64)] = self.action_pointers[entries]
        return out

    @property
    def num_players(self) -> int:
        return int(self.returns.shape[1])

    @property
    def episode_lengths(self) -> np.ndarray:
        """``int64[E]``: moves per episode."""
        return np.diff(self.episode_offsets)

    @property
    def episode_index(self) -> np.ndarray:
        """``int64[M]``: the episode of each move."""
        return np.repeat(np.arange(len(self)), self.episode_lengths)

    @property
    def steps(self) -> np.ndarray:
        """``int64[M]``: the step of each move within its episode."""
        return np.arange(self.num_moves) - self.episode_offsets[self.episode_index]

    @property
    def nbytes(self) -> int:
        """Bytes of the numpy buffers held."""
        return sum(getattr(self, name).nbytes for name in self.array_names())

    def episode_nbytes(self) -> np.ndarray:
        """``int64[E]``: each episode's share of ``nbytes`` (``nbytes`` = their sum + one offset entry per
        offsets array)."""
        row = np.zeros(self.num_moves, np.int64)
        for name in _ROW_ARRAYS:
            arr = getattr(self, name)
            row += arr.itemsize * (arr.size // max(1, len(arr)))
        ep = np.zeros(len(self), np.int64)
        for name in _EPISODE_ARRAYS:
            arr = getattr(self, name)
            ep += arr.itemsize * (arr.size // max(1, len(arr)))
        for offs, (axis, values) in _RAGGED.items():
            per_item = 8 + np.diff(getattr(self, offs)) * sum(_row_nbytes(getattr(self, v)) for v in values)
            if axis == "row":
                row += per_item
            else:
                ep += per_item
        row_cum = offsets_of(row)
        return ep + 8 + row_cum[self.episode_offsets[1:]] - row_cum[self.episode_offsets[:-1]]

    # -- reading one episode -----------------------------------------------------------------------------

    def _rows(self, i: int) -> range:
        if not 0 <= i < len(self):
            raise IndexError(f"episode {i} is out of range 0..{len(self) - 1}")
        return range(int(self.episode_offsets[i]), int(self.episode_offsets[i + 1]))

    def _string(self, offsets: str, data: str, i: int) -> str:
        offs = getattr(self, offsets)
        return bytes(getattr(self, data)[offs[i]:offs[i + 1]]).decode()

    def task_id(self, i: int) -> str:
        self._rows(i)
        return self._string("task_id_offsets", "task_id_bytes", i)

    def outcome(self, i: int) -> str:
        self._rows(i)
        return OUTCOMES[int(self.outcomes[i])]

    def action_texts(self, i: int) -> tuple[str, ...]:
        """The solution path of episode ``i``: its actions as text."""
        return tuple(self._string("text_offsets", "text_bytes", r) for r in self._rows(i))

    def actions_of(self, i: int) -> tuple[Action, ...]:
        """The ``Action`` records of episode ``i``."""
        pairs = zip(self._rows(i), self.action_texts(i), strict=True)
        return tuple(Action(int(self.actions[r]), text, int(self.players[r])) for r, text in pairs)

    def metadata(self, i: int) -> dict[str, Any]:
        """Episode ``i``'s metadata as ``SelfPlayEpisode.metadata`` had it (returns at float32 precision)."""
        self._rows(i)
        meta: dict[str, Any] = json.loads(self._string("metadata_offsets", "metadata_bytes", i))
        if self.seeds[i] >= 0:
            meta["seed"] = int(self.seeds[i])
        if self.difficulties[i] >= 0:
            meta["difficulty"] = int(self.difficulties[i])
        meta["returns"] = [float(r) for r in self.returns[i]]
        if self.winners[i] != NO_WINNER:
            meta["winner"] = None if self.winners[i] == DRAW else int(self.winners[i])
        return meta

    def traces(self, i: int) -> tuple[MCTSTrace, ...]:
        """The ``MCTSTrace`` of every move of episode ``i``: arrays over all ``A`` actions (0 off the legal
        ones), floats at float16 precision, visit counts rebuilt from the distribution and the total;
        ``policy_target`` ``None`` where the search gave none."""
        return tuple(self._trace(r) for r in self._rows(i))

    def _trace(self, r: int) -> MCTSTrace:
        lo, hi = int(self.legal_offsets[r]), int(self.legal_offsets[r + 1])
        ids = self.legal_actions[lo:hi].astype(np.int64)
        has_target = bool(self.has_policy_targets[r])

        def spread(values: Any, dtype: Any) -> np.ndarray:
            out = np.zeros(self.num_actions, dtype)
            out[ids] = values
            return out

        return MCTSTrace(
            root_state_id=f"{int(self.root_state_ids[r]):016x}",
            num_simulations=int(self.num_simulations[r]),
            visit_counts=spread(_counts_from_probs(self.visit_probs[lo:hi], int(self.visit_totals[r])), np.int32),
            q_values=spread(self.q_values[lo:hi], np.float32),
            prior_probs=spread(self.prior_probs[lo:hi], np.float32),
            value_estimates=spread(self.value_estimates[lo:hi], np.float32),
            legal_action_mask=spread(True, bool),
            root_value=float(self.root_values[r]),
            root_prior_value=float(self.root_prior_values[r]),
            selected_action=int(self.selected_actions[r]),
            tree_depth=int(self.tree_depths[r]),
            search_time=float(self.search_times[r]),
            policy_target=spread(self.policy_targets[lo:hi], np.float32) if has_target else None,
            full_search=bool(self.full_searches[r]),
        )

    def to_episode(self, i: int, task: Task) -> SelfPlayEpisode:
        """Episode ``i`` as a ``SelfPlayEpisode``, its states replayed with ``task`` from ``initial_state(seed,
        difficulty)``; a ``ValueError`` if it has no seed or the replay's observations differ from the stored ones."""
        rows = self._rows(i)
        if self.seeds[i] < 0:
            raise ValueError(f"episode {i} has no seed, so it cannot be replayed")
        difficulty = int(self.difficulties[i]) if self.difficulties[i] > 0 else None
        states = [task.initial_state(int(self.seeds[i]), difficulty)]
        for t, r in enumerate(rows):
            if not np.array_equal(states[-1].observation, self.observation(r)):
                raise ValueError(f"episode {i}: replaying it with task {task.name!r} diverges at step {t}")
            states.append(task.step(states[-1], int(self.actions[r])))
        return SelfPlayEpisode.build(self.task_id(i), states, list(self.actions_of(i)), list(self.traces(i)),
                                     self.outcome(i), self.num_players, self.metadata(i))

    # -- building ----------------------------------------------------------------------------------------

    @classmethod
    def from_episodes(cls, episodes: Sequence[SelfPlayEpisode], vocab_size: int | None = None) -> EpisodeTable:
        """Columns of ``episodes`` (all of one task: same ``num_actions``, ``seq_len``, ``num_players``);
        ``vocab_size`` is the task's (every observation token must be below it; default: the largest token + 1)."""
        if not episodes:
            raise ValueError("from_episodes needs at least one episode")
        first = episodes[0].initial_state
        num_actions = len(first.legal_action_mask)
        if vocab_size is None:
            vocab_size = 1 + max((int(s.observation.max()) for ep in episodes for s in ep.states if s.observation.size),
                                 default=0)
        rows = _row_columns(episodes, num_actions, first.observation, vocab_size)
        return cls(num_actions=num_actions, vocab_size=int(vocab_size), **_episode_columns(episodes), **rows)

    def select(self, lo: int, hi: int) -> EpisodeTable:
        """Episodes ``lo:hi`` as a new table (fresh copies of the arrays)."""
        if not 0 <= lo <= hi <= len(self):
            raise ValueError(f"cannot select episodes {lo}:{hi} of {len(self)}")
        r0, r1 = int(self.episode_offsets[lo]), int(self.episode_offsets[hi])
        bounds = {"episode": (lo, hi), "row": (r0, r1)}
        out: dict[str, Any] = {"episode_offsets": self.episode_offsets[lo:hi + 1] - r0}
        out.update({name: getattr(self, name)[lo:hi].copy() for name in _EPISODE_ARRAYS})
        out.update({name: getattr(self, name)[r0:r1].copy() for name in _ROW_ARRAYS})
        for offs, (axis, values) in _RAGGED.items():
            a, b = bounds[axis]
            o = getattr(self, offs)
            out[offs] = o[a:b + 1] - o[a]
            out.update({name: getattr(self, name)[o[a]:o[b]].copy() for name in values})
        return EpisodeTable(num_actions=self.num_actions, vocab_size=self.vocab_size, **out)

    @classmethod
    def concat(cls, tables: Sequence[EpisodeTable]) -> EpisodeTable:
        """The episodes of ``tables`` in order, in one table (fresh arrays)."""
        if not tables:
            raise ValueError("concat needs at least one table")
        for t in tables[1:]:
            check_compatible(tables[0], t)
        out: dict[str, Any] = {"episode_offsets": _cat_offsets([t.episode_offsets for t in tables])}
        for name in (*_EPISODE_ARRAYS, *_ROW_ARRAYS):
            out[name] = np.concatenate([getattr(t, name) for t in tables])
        for offs, (_, values) in _RAGGED.items():
            out[offs] = _cat_offsets([getattr(t, offs) for t in tables])
            out.update({name: np.concatenate([getattr(t, name) for t in tables]) for name in values})
        return cls(num_actions=tables[0].num_actions, vocab_size=tables[0].vocab_size, **out)


def segments(offsets: np.ndarray, picks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The items of the ragged segments ``picks int64[B]`` of ``offsets int64[S + 1]``, in order:
    ``(rows, entries, positions)``, each ``int64[K]`` for the ``K`` items: the pick each item belongs to, its
    index in the values array, its position within its segment."""
    lo = offsets[picks]
    counts = offsets[picks + 1] - lo
    positions = np.arange(int(counts.sum())) - np.repeat(offsets_of(counts)[:-1], counts)
    return np.repeat(np.arange(len(picks)), counts), np.repeat(lo, counts) + positions, positions


def upgrade_columns(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Columns saved before observations were ragged (checkpoints of earlier runs: flat ``observations [M, L]``, no
    ``observation_offsets`` / ``action_pointers``) in today's layout; today's columns pass unchanged."""
    if "observation_offsets" in columns:
        return columns
    obs = columns["observations"]
    moves, width = obs.shape
    return {**columns, "observation_offsets": np.arange(moves + 1, dtype=np.int64) * width,
            "observations": obs.reshape(-1, 1),
            "action_pointers": np.zeros((len(columns["legal_actions"]), 0), np.uint16)}


def _row_nbytes(arr: np.ndarray) -> int:
    """Bytes of one row of ``arr`` (one item of a vector, one row of a matrix)."""
    return int(arr.itemsize * (arr.shape[1] if arr.ndim == 2 else 1))


def _cat_offsets(parts: Sequence[np.ndarray]) -> np.ndarray:
    out, base = [parts[0]], int(parts[0][-1])
    for offs in parts[1:]:
        out.append(offs[1:] + base)
        base += int(offs[-1])
    return np.concatenate(out)


def check_compatible(a: EpisodeTable, b: EpisodeTable) -> None:
    """A one-line ``ValueError`` unless ``a`` and ``b`` hold episodes of one shape (a structured table's
    observations may have any length)."""
    shape_a = (a.num_actions, a.vocab_size, a.token_fields, a.num_players)
    shape_b = (b.num_actions, b.vocab_size, b.token_fields, b.num_players)
    if shape_a != shape_b:
        raise ValueError(f"episode tables of different shapes (num_actions, vocab_size, token fields, num_players): "
                         f"{shape_a} vs {shape_b}")
    if not a.structured and a.num_moves and b.num_moves and a.seq_len != b.seq_len:
        raise ValueError(f"episode tables of different observation lengths: {a.seq_len} vs {b.seq_len}")


def _episode_columns(episodes: Sequence[SelfPlayEpisode]) -> dict[str, np.ndarray]:
    """The per-episode columns of ``EpisodeTable`` for ``episodes``."""
    split = [_split_metadata(ep.metadata) for ep in episodes]
    returns = [list(ep.metadata.get("returns", [ep.total_reward])) for ep in episodes]
    if len({len(r) for r in returns}) != 1:
        raise ValueError("episodes have different numbers of players (metadata['returns'] lengths differ)")
    for ep in episodes:
        if ep.outcome not in OUTCOMES:
            raise ValueError(f"episode {ep.task_id!r} has outcome {ep.outcome!r}, not one of {OUTCOMES}")
        if not len(ep.actions) == len(ep.mcts_traces) == len(ep.states) - 1:
            raise ValueError(f"episode {ep.task_id!r} needs one trace per action and one state more")
    task_offsets, task_bytes = encode_strings([ep.task_id for ep in episodes])
    meta_offsets, meta_bytes = encode_strings([s[3] for s in split])
    return {
        "episode_offsets": offsets_of(np.array([len(ep.actions) for ep in episodes], np.int64)),
        "seeds": np.array([s[0] for s in split], np.int64),
        "difficulties": np.array([s[1] for s in split], np.int32),
        "outcomes": np.array([OUTCOMES.index(ep.outcome) for ep in episodes], np.uint8),
        "total_rewards": np.array([ep.total_reward for ep in episodes], np.float32),
        "search_efficiency": np.array([ep.search_efficiency for ep in episodes], np.float32),
        "returns": np.array(returns, np.float32),
        "winners": np.array([s[2] for s in split], np.int8),
        "task_id_offsets": task_offsets, "task_id_bytes": task_bytes,
        "metadata_offsets": meta_offsets, "metadata_bytes": meta_bytes,
    }


def _stack(arrays: list[np.ndarray], width: int, dtype: Any, what: str) -> np.ndarray:
    """``arrays`` stacked to ``dtype[len, width]``; a one-line ``ValueError`` if one has another length."""
    if any(len(a) != width for a in arrays):
        raise ValueError(f"episodes disagree on the length of {what} (expected {width})")
    return np.stack(arrays).astype(dtype) if arrays else np.zeros((0, width), dtype)


def _observation_columns(states: Sequence[State], mask: np.ndarray, first: np.ndarray,
                         vocab_size: int) -> dict[str, np.ndarray]:
    """``observation_offsets``, ``observations [T, F]`` and the legal actions' ``action_pointers [N, K]`` of
    ``states`` (their legal masks ``mask``), all shaped like ``first`` (flat ``[L]`` or structured ``[N, 5]``)."""
    structured = first.ndim == 2
    if structured:
        parts = [s.observation for s in states]
        if any(o.ndim != 2 or o.shape[1] != first.shape[1] for o in parts):
            raise ValueError("episodes mix flat and structured observations")
        pointers = [s.action_pointers() for s in states]
        if any(p is None or p.shape != (mask.shape[1], 3) for p in pointers):
            raise ValueError(f"a structured state's action_pointers() must be int64[{mask.shape[1]}, 3]")
        ptr = np.stack(pointers)[mask] if pointers else np.zeros((0, 3), np.int64)  # type: ignore[arg-type]
    else:
        parts = [_stack([s.observation for s in states], len(first), np.int64, "observations").reshape(-1, 1)]
        ptr = np.zeros((int(mask.sum()), 0), np.int64)
    obs = np.concatenate(parts) if parts else np.zeros((0, first.shape[1] if structured else 1), np.int64)
    if obs.size and (obs.min() < 0 or obs.max() >= vocab_size):
        raise ValueError(f"observation tokens must be in 0..{vocab_size - 1}, got {obs.min()}..{obs.max()}")
    lengths = np.array([len(s.observation) for s in states], np.int64)
    return {"observation_offsets": offsets_of(lengths), "observations": obs.astype(smallest_uint(vocab_size)),
            "action_pointers": _checked_uint(ptr, np.uint16, "action pointer")}


def _row_columns(episodes: Sequence[SelfPlayEpisode], num_actions: int, first: np.ndarray,
                 vocab_size: int) -> dict[str, np.ndarray]:
    """The per-move and per-legal-action columns of ``EpisodeTable`` for ``episodes`` (observations shaped like
    ``first``)."""
    traces = [tr for ep in episodes for tr in ep.mcts_traces]
    states = [s for ep in episodes for s in ep.states[:-1]]
    moves = [a for ep in episodes for a in ep.actions]
    mask = _stack([tr.legal_action_mask for tr in traces], num_actions, bool, "legal_action_mask")
    if not np.array_equal(mask, _stack([s.legal_action_mask for s in states], num_actions, bool, "masks")):
        raise ValueError("a trace's legal_action_mask differs from its root state's")
    counts = _stack([tr.visit_counts for tr in traces], num_actions, np.int64, "visit_counts")
    totals = counts.sum(axis=1)
    legal_count = mask.sum(axis=1, keepdims=True)
    probs = np.where(totals[:, None] > 0, counts / np.maximum(totals, 1)[:, None], mask / np.maximum(legal_count, 1))
    try:
        state_ids = np.array([int(tr.root_state_id, 16) for tr in traces], np.uint64)
    except (ValueError, OverflowError):
        raise ValueError("root_state_id must be a 16-digit hex State.state_id") from None
    has_target = np.array([tr.policy_target is not None for tr in traces], bool)
    targets = np.zeros((len(traces), num_actions), np.float32)
    targets[has_target] = _stack([tr.policy_target for tr in traces if tr.policy_target is not None], num_actions,
                                 np.float32, "policy_target")
    if (targets[~mask] != 0).any():
        raise ValueError("a trace's policy_target is not 0 on an illegal action")
    action_type = smallest_uint(num_actions)
    text_offsets, text_bytes = encode_strings([a.text for a in moves])
    return {
        "players": _checked_uint([a.player for a in moves], np.uint8, "player"),
        "actions": _checked_uint([a.action_id for a in moves], action_type, "action id"),
        "rewards": np.array([r for ep in episodes for r in ep.rewards], np.float32),
        **_observation_columns(states, mask, first, vocab_size),
        "text_offsets": text_offsets, "text_bytes": text_bytes,
        "visit_totals": _checked_uint(totals, np.int32, "visit total"),
        "num_simulations": _checked_uint([tr.num_simulations for tr in traces], np.int32, "num_simulations"),
        "root_values": np.array([tr.root_value for tr in traces], np.float32),
        "root_prior_values": np.array([tr.root_prior_value for tr in traces], np.float32),
        "selected_actions": _checked_uint([tr.selected_action for tr in traces], action_type, "selected_action"),
        "tree_depths": _checked_uint([tr.tree_depth for tr in traces], np.uint16, "tree_depth"),
        "search_times": np.array([tr.search_time for tr in traces], np.float32),
        "root_state_ids": state_ids,
        "full_searches": np.array([bool(tr.full_search) for tr in traces], bool),
        "has_policy_targets": has_target,
        "legal_offsets": offsets_of(legal_count[:, 0]),
        "legal_actions": np.nonzero(mask)[1].astype(action_type),
        "visit_probs": _to_f16(probs[mask], "visit distribution"),
        "q_values": _to_f16(_stack([tr.q_values for tr in traces], num_actions, np.float32, "q_values")[mask],
                            "q_values"),
        "prior_probs": _to_f16(_stack([tr.prior_probs for tr in traces], num_actions, np.float32, "priors")[mask],
                               "prior_probs"),
        "value_estimates": _to_f16(
            _stack([tr.value_estimates for tr in traces], num_actions, np.float32, "value_estimates")[mask],
            "value_estimates"),
        "policy_targets": _to_f16(targets[mask], "policy_target"),
    }


def _checked_uint(values: Any, dtype: Any, what: str) -> np.ndarray:
    """``values`` as ``dtype``; a one-line ``ValueError`` for a value outside the dtype's non-negative range."""
    arr = np.asarray(values, np.int64)
    top = np.iinfo(dtype).max
    if arr.size and (arr.min() < 0 or arr.max() > top):
        raise ValueError(f"{what} must be in 0..{top}, got {arr.min()}..{arr.max()}")
    return arr.astype(dtype)
