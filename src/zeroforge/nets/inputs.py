"""What a net reads, batched: flat nets take ``(tokens int64[B, L],)``; structured nets (``PointerNet``) take
``(tokens int64[B, N, 5], pointers int64[B, A, 3])``, the variable-length observations of
:mod:`zeroforge.tasks.structured` padded with all-zero tokens (type 0) to the longest in the batch.

Padding costs attention time quadratic in ``N``, so batches of mixed lengths are split into length buckets
(``length_buckets``) before they reach a net.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zeroforge.tasks.base import State
from zeroforge.tasks.structured import TOKEN_FIELDS, TYPE

__all__ = ["concat_inputs", "length_buckets", "pad_tokens", "state_inputs", "token_lengths",
           "trim_padding"]

#: a bucket holds rows whose token counts are within this factor of its shortest
BUCKET_SPREAD = 1.25


def pad_tokens(observations: Sequence[np.ndarray]) -> np.ndarray:
    """``int64[B, N, 5]``: ``observations`` (each ``[N_i, 5]``) padded with zero tokens to ``N = max N_i``."""
    n = max((len(o) for o in observations), default=0)
    out = np.zeros((len(observations), n, TOKEN_FIELDS), np.int64)
    for i, obs in enumerate(observations):
        out[i, :len(obs)] = obs
    return out


def token_lengths(tokens: np.ndarray) -> np.ndarray:
    """``int64[B]``: the tokens of each row of a padded ``tokens [B, N, 5]`` batch (padding is type 0 and comes
    last)."""
    return np.asarray((tokens[..., TYPE] != 0).sum(axis=1), np.int64)


def trim_padding(tokens: np.ndarray) -> np.ndarray:
    """``tokens [B, N, 5]`` without the padding columns that no row uses."""
    n = int(token_lengths(tokens).max(initial=0))
    return tokens[:, :max(n, 1)]


def state_inputs(states: Sequence[State]) -> tuple[np.ndarray, ...]:
    """The net inputs of ``states`` (all flat or all structured): ``(tokens int64[B, L],)`` or ``(tokens
    int64[B, N, 5], pointers int64[B, A, 3])``."""
    if states[0].observation.ndim == 1:
        return (np.stack([s.observation for s in states]).astype(np.int64, copy=False),)
    pointers = [s.action_pointers() for s in states]
    if any(p is None for p in pointers):
        raise ValueError("a structured observation needs the state's action_pointers()")
    return pad_tokens([s.observation for s in states]), np.stack(pointers)  # type: ignore[arg-type]


def length_buckets(lengths: np.ndarray, spread: float = BUCKET_SPREAD, min_rows: int = 1) -> list[np.ndarray]:
    """Row indices grouped by length, shortest first: each group's longest row is at most ``spread`` times its
    shortest, unless the group has fewer than ``min_rows`` rows (a group closes only once it has ``min_rows``;
    the last takes what is left), so padding a group to its longest wastes little."""
    order = np.argsort(lengths, kind="stable")
    groups: list[np.ndarray] = []
    start = 0
    for i in range(1, len(order) + 1):
        if i == len(order) or (i - start >= min_rows and lengths[order[i]] > spread * max(1, lengths[order[start]])):
            groups.append(order[start:i])
            start = i
    return groups


def concat_inputs(parts: Sequence[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """Batches of net inputs as one: flat tokens concatenated; structured tokens padded to the longest first."""
    if len(parts[0]) == 1:
        return (np.concatenate([p[0] for p in parts]),)
    n = max(p[0].shape[1] for p in parts)
    tokens = np.concatenate([np.pad(p[0], ((0, 0), (0, n - p[0].shape[1]), (0, 0))) for p in parts])
    return tokens, np.concatenate([p[1] for p in parts])
