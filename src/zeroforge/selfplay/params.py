"""Self-play's parameters (``selfplay`` in a run's config)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zeroforge.params import at_least, is_number, one_of, require

__all__ = ["SelfPlayConfig"]


@dataclass(frozen=True)
class SelfPlayConfig:
    """Self-play: episodes per iteration, advanced ``parallel_batch_size`` at a time in lockstep.

    ``eval_cache_size`` > 0 puts an LRU cache of that many net evaluations in front of the net (hit rate in
    the metrics as ``eval_cache_hit_rate``); ``inference_dtype`` (``float32``, ``bfloat16``, ``float16``) is
    the autocast type of self-play inference (both in-process only, ``num_workers: 0``); ``save_episodes``
    writes each iteration's episodes with their search traces to ``episodes/iter_NNNNNN.parquet`` in the run
    directory.

    ``num_workers`` > 0 plays self-play in that many worker processes (``SelfPlayWorkerPool``), each running
    chunks of ``chunk_size`` episodes (``0``: ``parallel_batch_size``) in lockstep with its own copy of the
    best net (``inference: local``) or sending its leaves to one inference server process (``server``, the
    GPU layout), which batches the requests arriving within ``server_window_ms``; it runs on ``server_device``
    (``""``: ``train.device``). A dead worker is restarted
    (at most ``max_restarts`` times per chunk) and its chunk replayed; so is a hung one, which sent no sign of
    life for ``heartbeat_timeout_s`` while playing. ``backend: ray`` plays the chunks on ``num_workers`` Ray actors
    instead (``zeroforge.distributed.ray_source``; ``ray_address``: ``""`` starts a Ray instance on this machine,
    ``auto`` or ``HOST:PORT`` joins a running cluster), with the same chunks, random streams and restarts, so the
    two backends give the same episodes. There ``inference: server`` is one Ray inference actor
    (``zeroforge.distributed.ray_inference``; on a GPU node when ``server_device`` is a GPU), which may autocast in
    ``inference_dtype`` (AMP). Each chunk has its own random stream,
    so results do not depend on the number of workers, but they differ from the in-process path
    (``num_workers: 0``).
    """

    SECTION: ClassVar[str] = "selfplay"

    games_per_iteration: int = 256
    parallel_batch_size: int = 256
    eval_cache_size: int = 0
    inference_dtype: str = "float32"
    save_episodes: bool = True
    num_workers: int = 0
    chunk_size: int = 0
    inference: str = "local"
    server_window_ms: float = 2.0
    server_device: str = ""
    max_restarts: int = 3
    heartbeat_timeout_s: float = 30.0
    backend: str = "local"
    ray_address: str = ""

    def __post_init__(self) -> None:
        at_least(self, "games_per_iteration", 1, 10**7)
        at_least(self, "parallel_batch_size", 1, 10**6)
        at_least(self, "eval_cache_size", 0, 10**9)
        one_of(self, "inference_dtype", ("bfloat16", "float16", "float32"))
        require(self, "save_episodes", isinstance(self.save_episodes, bool), "true or false")
        at_least(self, "num_workers", 0, 1024)
        at_least(self, "chunk_size", 0, 10**7)
        one_of(self, "inference", ("local", "server"))
        at_least(self, "server_window_ms", 0, 60_000)
        at_least(self, "max_restarts", 0, 1000)
        require(self, "heartbeat_timeout_s", is_number(self.heartbeat_timeout_s) and self.heartbeat_timeout_s > 1,
                 "> 1 (seconds)")
        one_of(self, "backend", ("local", "ray"))
        require(self, "ray_address", isinstance(self.ray_address, str) and (
            self.ray_address in ("", "auto") or self.ray_address.startswith("ray://")
            or host_port(self.ray_address) is not None), "'', 'auto', 'HOST:PORT' or 'ray://HOST:PORT'")
        require(self, "server_device", isinstance(self.server_device, str) and _device_name(self.server_device),
                "a torch device name such as 'cuda' or 'cpu', or '' for train.device")
        if self.backend == "ray":
            require(self, "num_workers", self.num_workers > 0, "> 0 with backend: ray (the number of actors)")
        if self.num_workers > 0:  # the worker processes build their own plain float32 evaluators
            require(self, "eval_cache_size", self.eval_cache_size == 0, "0 when num_workers > 0 (in-process only)")
            require(self, "inference_dtype", self.inference_dtype == "float32" or (
                self.backend == "ray" and self.inference == "server"),
                "float32 when num_workers > 0 (in-process, or the Ray inference server)")


def host_port(address: str) -> tuple[str, int] | None:
    """``HOST:PORT`` split, or ``None`` when it is not one (no host, or a port that is not 1..65535)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host, int(port)


def _device_name(name: str) -> bool:
    """``""`` or a name ``torch.device`` reads (on a Ray GPU node the device is not this machine's to check)."""
    if not name:
        return True
    import torch

    try:
        torch.device(name)
    except (RuntimeError, TypeError):
        return False
    return True
