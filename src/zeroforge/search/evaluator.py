"""Leaf evaluators: ``(observations[B, L], masks[B, A]) -> (priors[B, A], values[B])``.

Values are from the perspective of the player to move in each evaluated state, in [-1, 1];
priors are a distribution over that state's legal actions (zero elsewhere). Search calls
``evaluate_states(task, states)``; evaluators that only need flat tokens implement ``evaluate``, net-backed ones
``evaluate_inputs`` (flat tokens, or the padded tokens and pointers of structured tasks).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from zeroforge.nets.denormal import flush_denormals
from zeroforge.nets.inputs import length_buckets, state_inputs, token_lengths
from zeroforge.tasks.base import State, Task, random_legal_action

__all__ = [
    "CachingEvaluator",
    "Evaluator",
    "LogitsEvaluator",
    "NetworkEvaluator",
    "RolloutEvaluator",
    "TokenEvaluator",
    "UniformEvaluator",
    "masked_softmax",
    "priors_and_values",
    "stack_states",
]


@runtime_checkable
class Evaluator(Protocol):
    """What the search needs: priors and values for a batch of non-terminal states."""

    def evaluate_states(self, task: Task, states: Sequence[State]) -> tuple[np.ndarray, np.ndarray]:
        """Return ``priors float32[B, A]`` (legal-only, summing to 1) and ``values float32[B]``."""
        ...


def stack_states(states: Sequence[State]) -> tuple[np.ndarray, np.ndarray]:
    """Stack ``observation`` and ``legal_action_mask`` of states: ``int64[B, L]``, ``bool[B, A]``."""
    obs = np.stack([s.observation for s in states])
    masks = np.stack([s.legal_action_mask for s in states])
    return obs, masks


def masked_softmax(logits: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Softmax of ``logits[B, A]`` over ``masks[B, A]``; rows without a legal action stay zero."""
    z = np.where(masks, logits, -np.inf).astype(np.float64)
    z_max = np.max(z, axis=1, keepdims=True)
    z_max = np.where(np.isfinite(z_max), z_max, 0.0)
    e = np.where(masks, np.exp(z - z_max), 0.0)
    total = e.sum(axis=1, keepdims=True)
    return (e / np.where(total > 0, total, 1.0)).astype(np.float32)


def priors_and_values(logits: np.ndarray, values: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A net's raw output as an evaluator answers: legal-only softmax priors ``float32[B, A]`` and values
    ``float32[B]`` clipped to [-1, 1]."""
    return masked_softmax(logits, masks), np.clip(np.asarray(values).reshape(-1), -1.0, 1.0).astype(np.float32)


class TokenEvaluator:
    """Base for evaluators that read only tokens and masks (the DESIGN §3 contract)."""

    def evaluate(self, observations: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def evaluate_states(self, task: Task, states: Sequence[State]) -> tuple[np.ndarray, np.ndarray]:
        obs, masks = stack_states(states)
        return self.evaluate(obs, masks)


class UniformEvaluator(TokenEvaluator):
    """Uniform priors over legal actions and value 0: search driven by terminal rewards alone."""

    def evaluate_states(self, task: Task, states: Sequence[State]) -> tuple[np.ndarray, np.ndarray]:
        return self.evaluate(np.zeros((len(states), 0), np.int64), np.stack([s.legal_action_mask for s in states]))

    def evaluate(self, observations: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return masked_softmax(np.zeros(masks.shape, np.float32), masks), np.zeros(len(masks), np.float32)


class LogitsEvaluator(TokenEvaluator):
    """Base of evaluators backed by a policy-value net, wherever it runs: ``_logits(inputs)`` gives the net's raw
    ``(logits float32[B, A], values float32[B])`` for its inputs (``zeroforge.nets.inputs``: flat ``(tokens
    [B, L],)`` or structured ``(tokens [B, N, 5], pointers [B, A, 3])``); ``evaluate_inputs`` turns them into
    legal-only priors and clipped values, running structured batches one length bucket at a time.
    ``calls``, ``positions`` and ``seconds`` count the calls, the positions evaluated and the wall time spent
    here (the net's share of self-play time)."""

    def __init__(self) -> None:
        self.calls = 0
        self.positions = 0
        self.seconds = 0.0

    def _logits(self, inputs: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def evaluate(self, observations: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.evaluate_inputs((observations,), masks)

    def evaluate_states(self, task: Task, states: Sequence[State]) -> tuple[np.ndarray, np.ndarray]:
        return self.evaluate_inputs(state_inputs(states), np.stack([s.legal_action_mask for s in states]))

    def evaluate_inputs(self, inputs: tuple[np.ndarray, ...], masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Priors ``float32[B, A]`` and values ``float32[B]`` of a batch of net inputs and legal masks."""
        start = time.perf_counter()
        self.calls += 1
        self.positions += len(masks)
        if len(inputs) == 1:
            logits, values = self._logits((np.ascontiguousarray(inputs[0], dtype=np.int64),))
        else:
            tokens, pointers = inputs
            logits = np.zeros(masks.shape, np.float32)
            values = np.zeros(len(masks), np.float32)
            lengths = token_lengths(tokens)
            for rows in length_buckets(lengths):
                logits[rows], values[rows] = self._logits((tokens[rows, :lengths[rows].max()], pointers[rows]))
        out = priors_and_values(logits, values, masks)
        self.seconds += time.perf_counter() - start
        return out


class NetworkEvaluator(LogitsEvaluator):
    """A policy-value net in ``torch.inference_mode`` in this process; one forward pass per call (per length
    bucket for structured nets).

    The net maps its inputs (``zeroforge.nets.inputs``) to ``(logits float[B, A], values float[B])``.
    ``device`` is a parameter so that the same code runs on a GPU; ``dtype`` other than float32
    (``bfloat16``, ``float16``) runs the forward pass under ``torch.autocast`` (the net's weights stay as
    they are, so the learner is not affected).
    """

    def __init__(self, net: torch.nn.Module, device: str | torch.device = "cpu",
                 dtype: str | torch.dtype = torch.float32) -> None:
        self.net = net
        self.device = torch.device(device)
        self.dtype = _torch_dtype(dtype)
        super().__init__()

    def _logits(self, inputs: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
        was_training = self.net.training
        if was_training:  # eval() walks every submodule: only when needed (a per-leaf cost in search)
            self.net.eval()
        # flush_denormals: denormal weights stall CPU matmuls ~40x (the mode is scoped to the net's call)
        with flush_denormals(), torch.inference_mode():
            tensors = [_to_device(x, self.device) for x in inputs]
            if self.dtype == torch.float32:
                logits, values = self.net(*tensors)
            else:
                with torch.autocast(self.device.type, dtype=self.dtype):
                    logits, values = self.net(*tensors)
            logits_np = logits.float().cpu().numpy()
            values_np = values.float().cpu().numpy().reshape(-1)
        if was_training:
            self.net.train()
        return logits_np, values_np


def _to_device(x: np.ndarray, device: torch.device) -> torch.Tensor:
    """Net input ``x`` as an int64 tensor on ``device`` (to a GPU through pinned memory, copied asynchronously)."""
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.int64))
    if device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)


def _torch_dtype(dtype: str | torch.dtype) -> torch.dtype:
    names = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    if isinstance(dtype, torch.dtype):
        if dtype not in names.values():
            raise ValueError(f"evaluator dtype must be one of {sorted(names)}, got {dtype}")
        return dtype
    if dtype not in names:
        raise ValueError(f"evaluator dtype must be one of {sorted(names)}, got {dtype!r}")
    return names[dtype]


class CachingEvaluator(TokenEvaluator):
    """An LRU cache of ``capacity`` evaluations in front of a token evaluator (OpenSpiel's
    ``LRUCache`` idea): positions reached twice (transpositions, re-searched subtrees, the next move's root)
    are evaluated once. The key is the observation and the legal mask (all a token evaluator reads).

    ``hits`` / ``misses`` count looked-up positions; ``hit_rate`` is their ratio. Misses of one call go to
    the inner evaluator as one batch, in the order they came.
    """

    def __init__(self, inner: LogitsEvaluator | TokenEvaluator, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise ValueError(f"evaluation cache capacity must be >= 1, got {capacity}")
        self.inner = inner
        self.capacity = capacity
        self._cache: OrderedDict[bytes, tuple[np.ndarray, np.float32]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def __len__(self) -> int:
        return len(self._cache)

    def clear(self) -> None:
        """Forget every entry (after the net's weights changed) and reset the counters."""
        self._cache.clear()
        self.hits = self.misses = 0

    def evaluate_states(self, task: Task, states: Sequence[State]) -> tuple[np.ndarray, np.ndarray]:
        """Flat states as ``evaluate``; structured ones keyed by their tokens, pointers and legal mask, the misses
        evaluated by the inner evaluator's ``evaluate_states`` (one batch)."""
        if not states or states[0].observation.ndim == 1:
            return super().evaluate_states(task, states)
        keys = [s.observation.tobytes() + s.action_pointers().tobytes()  # type: ignore[union-attr]
                + s.legal_action_mask.tobytes() for s in states]
        priors = np.zeros((len(states), len(states[0].legal_action_mask)), np.float32)
        values = np.zeros(len(states), np.float32)
        missing = self._lookup(keys, priors, values)
        if missing:
            p, v = self.inner.evaluate_states(task, [states[rows[0]] for rows in missing.values()])
            self._store(missing, p, v, priors, values)
        return priors, values

    def _lookup(self, keys: list[bytes], priors: np.ndarray, values: np.ndarray) -> dict[bytes, list[int]]:
        """Fill the rows of the cached keys; the rows of each missing key."""
        missing: dict[bytes, list[int]] = {}
        for i, key in enumerate(keys):
            hit = self._cache.get(key)
            if hit is None:
                missing.setdefault(key, []).append(i)
                continue
            self._cache.move_to_end(key)
            priors[i], values[i] = hit
            self.hits += 1
        return missing

    def _store(self, missing: dict[bytes, list[int]], p: np.ndarray, v: np.ndarray, priors: np.ndarray,
               values: np.ndarray) -> None:
        """Cache the evaluations ``p``, ``v`` of the ``missing`` keys (in order) and fill their rows."""
        for (key, rows), pi, vi in zip(missing.items(), p, v, strict=True):
            priors[rows], values[rows] = pi, vi
            self._cache[key] = (pi.copy(), np.float32(vi))
            self.misses += 1
            self.hits += len(rows) - 1  # repeats within the call are evaluated once
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)

    def evaluate(self, observations: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        obs = np.ascontiguousarray(observations, np.int64)
        legal = np.ascontiguousarray(masks, bool)
        keys = [o.tobytes() + m.tobytes() for o, m in zip(obs, legal, strict=True)]
        priors = np.zeros(legal.shape, np.float32)
        values = np.zeros(len(keys), np.float32)
        missing = self._lookup(keys, priors, values)
        if missing:
            first = [rows[0] for rows in missing.values()]
            p, v = self.inner.evaluate(obs[first], legal[first])
            self._store(missing, p, v, priors, values)
        return priors, values


class RolloutEvaluator:
    """Uniform priors and the mean return of ``num_rollouts`` uniformly random playouts.

    The value is the (discounted) return of the player to move in the evaluated state, so this is the
    evaluator of "pure" Monte-Carlo tree search (OpenSpiel's ``RandomRolloutEvaluator``).
    """

    def __init__(self, rng: np.random.Generator, num_rollouts: int = 1, discount: float = 1.0) -> None:
        if num_rollouts < 1:
            raise ValueError(f"num_rollouts must be >= 1, got {num_rollouts}")
        self.rng = rng
        self.num_rollouts = num_rollouts
        self.discount = discount

    def _rollout(self, task: Task, state: State) -> float:
        player = state.current_player
        ret, scale = 0.0, 1.0
        steps = 0
        while not state.terminal and steps < task.max_episode_steps:
            state = task.step(state, random_legal_action(state, self.rng))
            ret += scale * float(state.rewards[player])
            scale *= self.discount
            steps += 1
        return ret

    def evaluate_states(self, task: Task, states: Sequence[State]) -> tuple[np.ndarray, np.ndarray]:
        masks = np.stack([s.legal_action_mask for s in states])
        priors = masked_softmax(np.zeros(masks.shape, np.float32), masks)
        values = np.array(
            [np.mean([self._rollout(task, s) for _ in range(self.num_rollouts)]) for s in states],
            dtype=np.float32,
        )
        return priors, np.clip(values, -1.0, 1.0)
