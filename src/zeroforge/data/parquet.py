"""Arrow / Parquet form of ``EpisodeTable`` (DESIGN §3 "Data"): the schema, the conversions both ways with
their validation, the atomic file writer ``save_parquet`` (an ``EpisodeBuffer`` or tables to a file) and the
checked reader ``load_parquet`` (a file into a bounded ``EpisodeBuffer``). The only module of ``zeroforge.data``
that imports pyarrow; nothing in ``zeroforge.data`` imports it back.

One row per episode: scalar columns for the per-episode fields, ``list<...>`` columns for the per-move
fields and ``list<list<...>>`` for the per-legal-action ones (``COLUMNS``), so
``pyarrow.parquet.read_table(path).to_pandas()`` reads a file directly. ``policy_targets`` holds zeros for
the moves whose ``has_policy_target`` is false (their trace's ``policy_target`` is ``None``).

Observations: each move's ``observation`` is its tokens' fields flattened (``token_fields`` per token: ``1`` for
flat tasks, ``5`` for structured ones, whose tokens ``(type, a, b, row, col)`` vary in number); ``action_pointers``
holds each move's legal actions' ``(kind, src, dst)`` flattened (empty lists for flat tasks).

Files written before ``full_search``, ``has_policy_target``, ``policy_targets``, ``token_fields`` and
``action_pointers`` existed still load (``OPTIONAL_COLUMNS``): every move a full search, none with a policy target
of its own, flat observations.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from zeroforge.data.buffer import EpisodeBuffer
from zeroforge.data.table import FIXED_DTYPES, EpisodeTable, encode_strings, offsets_of, smallest_uint
from zeroforge.data.targets import TargetRule
from zeroforge.selfplay.episode import OUTCOMES

__all__ = ["COLUMNS", "FORMAT", "OPTIONAL_COLUMNS", "from_arrow", "load_parquet", "save_parquet", "to_arrow"]

#: Parquet / Arrow columns: name -> (kind, field): ``episode`` scalars, ``move`` lists (one item per move),
#: ``legal`` lists of lists (one list per move, one item per legal action); ``None`` marks derived columns.
COLUMNS: dict[str, tuple[str, str | None]] = {
    "task_id": ("episode", None), "seed": ("episode", "seeds"), "difficulty": ("episode", "difficulties"),
    "outcome": ("episode", None), "total_reward": ("episode", "total_rewards"),
    "episode_length": ("episode", None), "search_efficiency": ("episode", "search_efficiency"),
    "returns": ("episode", None), "winner": ("episode", "winners"), "metadata": ("episode", None),
    "num_actions": ("episode", None), "vocab_size": ("episode", None), "token_fields": ("episode", None),
    "player": ("move", "players"), "action": ("move", "actions"), "action_text": ("move", None),
    "reward": ("move", "rewards"), "observation": ("move", None), "action_pointers": ("move", None),
    "visit_total": ("move", "visit_totals"),
    "num_simulations": ("move", "num_simulations"), "root_value": ("move", "root_values"),
    "root_prior_value": ("move", "root_prior_values"), "selected_action": ("move", "selected_actions"),
    "tree_depth": ("move", "tree_depths"), "search_time": ("move", "search_times"),
    "root_state_id": ("move", "root_state_ids"), "full_search": ("move", "full_searches"),
    "has_policy_target": ("move", "has_policy_targets"),
    "legal_actions": ("legal", "legal_actions"), "visit_probs": ("legal", "visit_probs"),
    "q_values": ("legal", "q_values"), "prior_probs": ("legal", "prior_probs"),
    "value_estimates": ("legal", "value_estimates"), "policy_targets": ("legal", "policy_targets"),
}
#: columns a file may lack (written before they existed): name -> the value every item then reads
OPTIONAL_COLUMNS: dict[str, Any] = {"full_search": True, "has_policy_target": False, "policy_targets": 0.0,
                                     "token_fields": 1, "action_pointers": None}
#: columns that come together or not at all
_TOGETHER = ("has_policy_target", "policy_targets")
FORMAT = b"zeroforge-episodes/2"

_ACTION_FIELDS = ("actions", "selected_actions", "legal_actions")


# -- EpisodeTable -> Arrow ------------------------------------------------------------------------------


def _list_array(offsets: np.ndarray, values: pa.Array) -> pa.Array:
    if offsets[-1] > np.iinfo(np.int32).max:
        raise ValueError("too many items for one Arrow list batch; save fewer episodes per table")
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values)


def _string_array(offsets: np.ndarray, data: np.ndarray) -> pa.Array:
    return pa.StringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets.astype(np.int32).tobytes()),
                                       pa.py_buffer(data.tobytes()))


def to_arrow(t: EpisodeTable) -> pa.Table:
    """One row per episode (``COLUMNS``): scalar, ``list`` and ``list<list>`` columns."""
    n, eo = len(t), t.episode_offsets
    cols: dict[str, pa.Array] = {
        "task_id": _string_array(t.task_id_offsets, t.task_id_bytes),
        "outcome": pa.array([OUTCOMES[c] for c in t.outcomes], pa.string()),
        "episode_length": pa.array(t.episode_lengths.astype(np.int32)),
        "returns": _list_array(np.arange(n + 1) * t.num_players, pa.array(t.returns.ravel())),
        "metadata": _string_array(t.metadata_offsets, t.metadata_bytes),
        "num_actions": pa.array(np.full(n, t.num_actions, np.int32)),
        "vocab_size": pa.array(np.full(n, t.vocab_size, np.int64)),
        "action_text": _list_array(eo, _string_array(t.text_offsets, t.text_bytes)),
        "token_fields": pa.array(np.full(n, t.token_fields, np.int32)),
        "observation": _list_array(eo, _list_array(t.observation_offsets * t.token_fields,
                                                   pa.array(t.observations.ravel()))),
        "action_pointers": _list_array(eo, _list_array(t.legal_offsets * t.action_pointers.shape[1],
                                                       pa.array(t.action_pointers.ravel()))),
    }
    for name, (kind, field) in COLUMNS.items():
        if field is None:
            continue
        values = pa.array(getattr(t, field))
        if kind == "move":
            values = _list_array(eo, values)
        elif kind == "legal":
            values = _list_array(eo, _list_array(t.legal_offsets, values))
        cols[name] = values
    return pa.table({name: cols[name] for name in COLUMNS}).replace_schema_metadata({b"zeroforge.format": FORMAT})


def _empty_arrow() -> pa.Table:
    """A zero-row table with the schema of a ``uint8``-token, ``uint16``-action episode table."""
    token, action = pa.uint8(), pa.uint16()
    types: dict[str, pa.DataType] = {
        "task_id": pa.string(), "outcome": pa.string(), "episode_length": pa.int32(),
        "returns": pa.list_(pa.float32()), "metadata": pa.string(), "num_actions": pa.int32(),
        "vocab_size": pa.int64(), "token_fields": pa.int32(), "action_text": pa.list_(pa.string()),
        "observation": pa.list_(pa.list_(token)), "action_pointers": pa.list_(pa.list_(pa.uint16())),
    }
    for name, (kind, field) in COLUMNS.items():
        if field is None:
            continue
        inner = action if field in _ACTION_FIELDS else pa.from_numpy_dtype(np.dtype(FIXED_DTYPES[field]))
        types[name] = inner if kind == "episode" else pa.list_(inner) if kind == "move" else pa.list_(pa.list_(inner))
    return pa.schema([(name, types[name]) for name in COLUMNS]).empty_table()


# -- Arrow -> EpisodeTable ------------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _column(table: pa.Table | pa.RecordBatch, name: str) -> pa.Array:
    col = table.column(name)
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if col.null_count:
        raise ValueError(f"column {name!r} has nulls")
    return col


def _cast(arr: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    try:
        return arr.cast(target)
    except (ValueError, TypeError, NotImplementedError, ArithmeticError) as exc:  # Arrow's cast errors are these
        raise ValueError(f"column {name!r} of type {arr.type} cannot be read as {target} "
                         f"({_first_line(exc)})") from None


def _flat(arr: pa.Array, target: Any, name: str) -> np.ndarray:
    """A non-list column as a fresh numpy array of ``target`` dtype."""
    return np.array(_cast(arr, pa.from_numpy_dtype(np.dtype(target)), name).to_numpy(zero_copy_only=False),
                    dtype=target)


def _unlist(arr: pa.Array, name: str) -> tuple[np.ndarray, pa.Array]:
    """``(offsets int64[n + 1], flattened values)`` of a list column."""
    if not pa.types.is_list(arr.type) and not pa.types.is_large_list(arr.type):
        raise ValueError(f"column {name!r} must be a list column, got {arr.type}")
    values = arr.flatten()
    if values.null_count:
        raise ValueError(f"column {name!r} has nulls")
    return offsets_of(arr.value_lengths().to_numpy(zero_copy_only=False).astype(np.int64)), values


def _constant(table: pa.Table | pa.RecordBatch, name: str) -> int:
    values = np.unique(_flat(_column(table, name), np.int64, name))
    if len(values) != 1 or values[0] < 1:
        raise ValueError(f"column {name!r} must hold one positive value, got {values[:5].tolist()}")
    return int(values[0])


def _check_columns(names: Sequence[str]) -> None:
    """All required columns present, the optional ones that come together present together."""
    missing = [name for name in COLUMNS if name not in names and name not in OPTIONAL_COLUMNS]
    if missing:
        raise ValueError(f"not a zeroforge episode table: missing columns {missing}")
    have = [name for name in _TOGETHER if name in names]
    if have and len(have) != len(_TOGETHER):
        lacking = [name for name in _TOGETHER if name not in names]
        raise ValueError(f"column {have[0]!r} needs column {lacking[0]!r}, which is missing")


def from_arrow(table: pa.Table | pa.RecordBatch) -> EpisodeTable:
    """Read what ``to_arrow`` wrote (extra columns are ignored; types are cast where they fit; the
    ``OPTIONAL_COLUMNS`` may be missing); a one-line ``ValueError`` naming the column that is missing,
    mistyped or inconsistent."""
    _check_columns(table.schema.names)
    if table.num_rows == 0:
        raise ValueError("no episodes in the table")
    num_actions, vocab_size = _constant(table, "num_actions"), _constant(table, "vocab_size")
    dtypes = dict.fromkeys(_ACTION_FIELDS, smallest_uint(num_actions))
    out: dict[str, Any] = {}
    episode_offsets, _ = _unlist(_column(table, "player"), "player")
    legal_offsets: np.ndarray | None = None
    for name, (kind, field) in COLUMNS.items():
        if field is None or name not in table.schema.names:
            continue
        dtype = dtypes.get(field, FIXED_DTYPES.get(field))
        col = _column(table, name)
        if kind != "episode":
            offs, col = _unlist(col, name)
            _same_offsets(offs, episode_offsets, name, "moves")
        if kind == "legal":
            offs, col = _unlist(col, name)
            if legal_offsets is None:
                legal_offsets = offs
            _same_offsets(offs, legal_offsets, name, "legal actions")
        out[field] = _flat(col, dtype, name)
    assert legal_offsets is not None
    sizes = {"move": int(episode_offsets[-1]), "legal": int(legal_offsets[-1])}
    for name, default in OPTIONAL_COLUMNS.items():
        kind, field = COLUMNS[name]
        if name not in table.schema.names and field is not None:
            out[field] = np.full(sizes[kind], default, FIXED_DTYPES[field])
    out.update(_derived_from_arrow(table, episode_offsets, legal_offsets, vocab_size))
    out["episode_offsets"], out["legal_offsets"] = episode_offsets, legal_offsets
    result = EpisodeTable(num_actions=num_actions, vocab_size=vocab_size, **out)
    _check_values(result)
    return result


def _same_offsets(offs: np.ndarray, expected: np.ndarray, name: str, what: str) -> None:
    if not np.array_equal(offs, expected):
        raise ValueError(f"column {name!r} has a different number of {what} than column 'player' / 'legal_actions'")


def _derived_from_arrow(table: pa.Table | pa.RecordBatch, episode_offsets: np.ndarray, legal_offsets: np.ndarray,
                        vocab_size: int) -> dict[str, np.ndarray]:
    """The columns of ``EpisodeTable`` that are not one Arrow column each: strings, returns, observations, action
    pointers."""
    outcome = _cast(_column(table, "outcome"), pa.string(), "outcome").to_pylist()
    bad = sorted({o for o in outcome if o not in OUTCOMES})
    if bad:
        raise ValueError(f"column 'outcome' has values {bad[:3]} outside {OUTCOMES}")
    lengths = _flat(_column(table, "episode_length"), np.int64, "episode_length")
    if not np.array_equal(lengths, np.diff(episode_offsets)):
        raise ValueError("column 'episode_length' disagrees with the number of moves")
    returns_offsets, returns = _unlist(_column(table, "returns"), "returns")
    widths = np.unique(np.diff(returns_offsets))
    if len(widths) != 1:
        raise ValueError("column 'returns' must have one entry per player in every row")
    text_offsets, texts = _unlist(_column(table, "action_text"), "action_text")
    _same_offsets(text_offsets, episode_offsets, "action_text", "moves")
    obs_offsets, obs_rows = _unlist(_column(table, "observation"), "observation")
    _same_offsets(obs_offsets, episode_offsets, "observation", "moves")
    token_offsets, tokens = _unlist(obs_rows, "observation")
    fields = _constant(table, "token_fields") if "token_fields" in table.schema.names else 1
    if (token_offsets % fields).any():
        raise ValueError(f"column 'observation' has observations that are not whole {fields}-field tokens")
    token_values = _flat(tokens, np.int64, "observation")
    if token_values.size and (token_values.min() < 0 or token_values.max() >= vocab_size):
        raise ValueError(f"column 'observation' has tokens outside 0..{vocab_size - 1}")
    legal_counts = np.diff(legal_offsets)
    pointer_width = 3 if fields > 1 else 0
    if "action_pointers" in table.schema.names:
        ptr_offsets, ptr_rows = _unlist(_column(table, "action_pointers"), "action_pointers")
        _same_offsets(ptr_offsets, episode_offsets, "action_pointers", "moves")
        inner_offsets, ptr_values = _unlist(ptr_rows, "action_pointers")
        if not np.array_equal(np.diff(inner_offsets), legal_counts * pointer_width):
            raise ValueError(f"column 'action_pointers' must hold {pointer_width} values per legal action")
        pointers = _flat(ptr_values, np.uint16, "action_pointers").reshape(int(legal_counts.sum()), pointer_width)
    elif pointer_width:
        raise ValueError("column 'action_pointers' is missing (structured observations need it)")
    else:
        pointers = np.zeros((int(legal_counts.sum()), 0), np.uint16)
    task_offsets, task_bytes = encode_strings(_cast(_column(table, "task_id"), pa.string(), "task_id").to_pylist())
    meta_text = _cast(_column(table, "metadata"), pa.string(), "metadata").to_pylist()
    text_offsets, text_bytes = encode_strings(_cast(texts, pa.string(), "action_text").to_pylist())
    meta_offsets, meta_bytes = encode_strings(meta_text)
    return {
        "outcomes": np.array([OUTCOMES.index(o) for o in outcome], np.uint8),
        "returns": _flat(returns, np.float32, "returns").reshape(len(outcome), int(widths[0])),
        "observation_offsets": token_offsets // fields,
        "observations": token_values.astype(smallest_uint(vocab_size)).reshape(-1, fields),
        "action_pointers": pointers,
        "task_id_offsets": task_offsets, "task_id_bytes": task_bytes,
        "metadata_offsets": meta_offsets, "metadata_bytes": meta_bytes,
        "text_offsets": text_offsets, "text_bytes": text_bytes,
    }


def _check_values(t: EpisodeTable) -> None:
    """Value ranges the layout cannot express (a one-line ``ValueError``)."""
    for name in _ACTION_FIELDS:
        arr = getattr(t, name)
        if arr.size and int(arr.max()) >= t.num_actions:
            raise ValueError(f"column {name!r} has action ids >= num_actions {t.num_actions}")
    if t.num_moves and int(t.players.max()) >= t.num_players:
        raise ValueError(f"column 'player' has players >= the {t.num_players} of 'returns'")
    first = np.zeros(len(t.legal_actions), bool)
    first[t.legal_offsets[:-1][np.diff(t.legal_offsets) > 0]] = True
    if (np.diff(t.legal_actions.astype(np.int64), prepend=-1) <= 0)[~first].any():
        raise ValueError("column 'legal_actions' must list each move's actions in ascending order")
    without = ~np.repeat(t.has_policy_targets, np.diff(t.legal_offsets))
    if (t.policy_targets[without] != 0).any():
        raise ValueError("column 'policy_targets' must be all zeros where 'has_policy_target' is false")
    offs = t.metadata_offsets
    for i in range(len(t)):
        try:
            if not isinstance(json.loads(bytes(t.metadata_bytes[offs[i]:offs[i + 1]]).decode()), dict):
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            raise ValueError(f"column 'metadata' row {i} is not a JSON object") from None


# -- files ----------------------------------------------------------------------------------------------


def save_parquet(episodes: EpisodeBuffer | EpisodeTable | Sequence[EpisodeTable], path: str | os.PathLike[str],
                 total_added: int | None = None) -> None:
    """Write the episodes of a buffer, a table or tables to ``path`` (zstd Parquet, one row group per chunk /
    table, one row per episode; a zero-row file of the schema when there are none), atomically: a temporary
    file in the same directory, then ``os.replace``. ``total_added`` (default: the buffer's, or the number of
    episodes) goes to the file's metadata."""
    if isinstance(episodes, EpisodeBuffer):
        tables: Sequence[EpisodeTable] = episodes.chunks
        total_added = episodes.total_added if total_added is None else total_added
    else:
        tables = [episodes] if isinstance(episodes, EpisodeTable) else list(episodes)
    total_added = sum(len(t) for t in tables) if total_added is None else total_added
    target = Path(path)
    arrows = [to_arrow(t) for t in tables] or [_empty_arrow()]
    meta = {b"zeroforge.format": FORMAT, b"zeroforge.total_added": str(total_added).encode()}
    schema = arrows[0].schema.with_metadata(meta)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            with pq.ParquetWriter(fh, schema, compression="zstd") as writer:
                for t in arrows:
                    writer.write_table(t.replace_schema_metadata(meta))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_parquet(path: str | os.PathLike[str], max_bytes: int, max_positions: int | None = None,
                 rule: TargetRule | None = None, buffer_class: type[EpisodeBuffer] = EpisodeBuffer) -> EpisodeBuffer:
    """A buffer (``buffer_class(max_bytes, max_positions, rule)``) holding the episodes of ``path``, added oldest
    first in tables of at most ``CHUNK_EPISODES`` episodes, so it evicts as it reads; its ``total_added`` is
    raised to the file's. A file that is not Parquet or not a zeroforge episode file raises a one-line
    ``ValueError`` naming the file and the problem."""
    buffer = buffer_class(max_bytes, max_positions, rule)
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: no such episode file")
    try:
        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
        _check_columns(names)
        columns = [name for name in COLUMNS if name in names]
        step = buffer.CHUNK_EPISODES
        for g in range(pf.num_row_groups):
            group = pf.read_row_group(g, columns=columns)
            for lo in range(0, group.num_rows, step):
                buffer.add(from_arrow(group.slice(lo, step)))
        total = (pf.schema_arrow.metadata or {}).get(b"zeroforge.total_added", b"")
    except (ValueError, OSError, pa.ArrowException) as exc:
        raise ValueError(f"{path}: {_first_line(exc)}") from None
    buffer.total_added = max(buffer.total_added, int(total) if total.isdigit() else 0)
    pa.default_memory_pool().release_unused()
    return buffer
