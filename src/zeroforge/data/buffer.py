"""``ReplayBuffer``: a ring buffer of policy/value examples, the newest ``capacity`` kept."""

from __future__ import annotations

import numpy as np

from zeroforge.data.extractor import PolicyValueArrays

__all__ = ["ReplayBuffer"]


class ReplayBuffer:
    """Fixed-capacity columnar storage: ``observations int64[C, L]``, ``masks bool[C, A]``,
    ``policies float32[C, A]``, ``values float32[C]``. Adding past capacity overwrites the oldest."""

    FIELDS = ("observations", "masks", "policies", "values")

    def __init__(self, capacity: int, seq_len: int, num_actions: int) -> None:
        if capacity < 1:
            raise ValueError(f"replay buffer capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self.observations = np.zeros((capacity, seq_len), np.int64)
        self.masks = np.zeros((capacity, num_actions), bool)
        self.policies = np.zeros((capacity, num_actions), np.float32)
        self.values = np.zeros(capacity, np.float32)
        self.size = 0
        self.cursor = 0
        self.total_added = 0

    def __len__(self) -> int:
        return self.size

    def add(self, data: PolicyValueArrays) -> None:
        """Append ``data`` (only its newest ``capacity`` rows if it is larger than the buffer)."""
        n = len(data)
        start = max(0, n - self.capacity)
        idx = (self.cursor + np.arange(n - start)) % self.capacity
        self.observations[idx] = data.observations[start:]
        self.masks[idx] = data.masks[start:]
        self.policies[idx] = data.policies[start:]
        self.values[idx] = data.values[start:]
        self.cursor = int((self.cursor + n - start) % self.capacity)
        self.size = min(self.capacity, self.size + n - start)
        self.total_added += n

    def contents(self) -> PolicyValueArrays:
        """The stored rows (oldest first)."""
        if self.size < self.capacity:
            idx = np.arange(self.size)
        else:
            idx = (self.cursor + np.arange(self.capacity)) % self.capacity
        return PolicyValueArrays(self.observations[idx], self.masks[idx], self.policies[idx], self.values[idx])

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The buffer as numpy arrays for a checkpoint (contents oldest first plus counters)."""
        c = self.contents()
        return {
            "observations": c.observations, "masks": c.masks, "policies": c.policies, "values": c.values,
            "counters": np.array([self.total_added], np.int64),
        }

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore what ``state_arrays`` wrote (into a buffer of the same shapes)."""
        missing = [k for k in (*self.FIELDS, "counters") if k not in arrays]
        if missing:
            raise ValueError(f"replay buffer checkpoint lacks {missing}")
        self.size = self.cursor = 0
        self.add(PolicyValueArrays(arrays["observations"], arrays["masks"].astype(bool),
                                   arrays["policies"], arrays["values"]))
        self.total_added = int(arrays["counters"][0])
