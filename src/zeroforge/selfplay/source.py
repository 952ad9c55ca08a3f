"""Self-play sources: where a training iteration's episodes come from (DESIGN §1). One interface,
``SelfPlaySource.play``, returns the round as an ``EpisodeTable``; the in-process lockstep generator, the local
worker pool and Ray actors (``zeroforge.distributed.ray_source``) implement it.

Determinism: a round depends on the net, the seeds, their levels and (in process) the caller's ``rng`` or (in
the pool) the seeds' first one as the key of the chunks' random streams, so a resumed iteration replays the
same games.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch

from zeroforge.data.table import EpisodeTable
from zeroforge.data.targets import trainable_lengths
from zeroforge.device import resolve_device
from zeroforge.search.evaluator import CachingEvaluator, NetworkEvaluator, TokenEvaluator
from zeroforge.selfplay.episode import OUTCOMES, SelfPlayEpisode
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator
from zeroforge.selfplay.workers import SelfPlayWorkerPool, WorkerSpec
from zeroforge.tasks.base import Task
from zeroforge.tasks.mix import MixedTask
from zeroforge.tasks.ranked import RankedRewardTask

if TYPE_CHECKING:
    from zeroforge.config import ZeroforgeConfig

__all__ = ["LockstepSource", "SelfPlayRound", "SelfPlaySource", "WorkerPoolSource", "family_metrics", "make_source",
           "round_metrics"]

#: ``on_progress(done, total)``: episodes finished so far
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True, eq=False)
class SelfPlayRound:
    """One round of self-play: the episodes, its wall time, and what the net cost (``net_time_share`` of the
    time spent evaluating; of the workers' time for a pool). ``extra``: source-specific metrics."""

    table: EpisodeTable
    seconds: float
    net_positions: int
    net_time_share: float
    extra: dict[str, float | int] = field(default_factory=dict)


class SelfPlaySource(Protocol):
    def play(self, net: torch.nn.Module, generation: int, seeds: Sequence[int], levels: Sequence[int] | None,
             ranked_threshold: float | None, rng: np.random.Generator,
             on_progress: ProgressFn | None = None) -> SelfPlayRound:
        """Play one episode per seed with ``net`` (``generation`` numbers its weights: a source that keeps a copy
        refreshes it only when the number changes)."""
        ...

    def process_roles(self) -> dict[int, str]:
        """The source's own processes, pid -> role (``worker``, ``inference_server``): what the run's
        ``SystemMonitor`` watches beside the main process; none in process."""
        ...

    def close(self) -> None: ...


class LockstepSource:
    """In this process: ``parallel_batch_size`` episodes in lockstep, every leaf of every episode evaluated in
    one net call per simulation step (with an optional evaluation cache)."""

    def __init__(self, task: Task, config: ZeroforgeConfig, device: torch.device) -> None:
        self.task, self.config, self.device = task, config, device

    def play(self, net: torch.nn.Module, generation: int, seeds: Sequence[int], levels: Sequence[int] | None,
             ranked_threshold: float | None, rng: np.random.Generator,
             on_progress: ProgressFn | None = None) -> SelfPlayRound:
        cfg = self.config
        start = time.perf_counter()
        net_evaluator = NetworkEvaluator(net, self.device, dtype=cfg.selfplay.inference_dtype)
        cache = CachingEvaluator(net_evaluator, cfg.selfplay.eval_cache_size) if cfg.selfplay.eval_cache_size else None
        evaluator: TokenEvaluator = cache if cache is not None else net_evaluator
        task = self.task if ranked_threshold is None else RankedRewardTask(self.task, ranked_threshold)
        generator = SelfPlayEpisodeGenerator(task, evaluator, cfg.mcts, cfg.selfplay.parallel_batch_size)
        done = [0]

        def tick(_: SelfPlayEpisode) -> None:
            done[0] += 1
            if on_progress is not None:
                on_progress(done[0], len(seeds))

        episodes = generator.generate(seeds, rng, on_episode=tick, difficulties=levels)
        table = EpisodeTable.from_episodes(episodes, self.task.vocab_size)
        seconds = time.perf_counter() - start
        extra = {"eval_cache_hit_rate": cache.hit_rate} if cache is not None else {}
        return SelfPlayRound(table, seconds, net_evaluator.positions, net_evaluator.seconds / max(seconds, 1e-9), extra)

    def process_roles(self) -> dict[int, str]:
        return {}

    def close(self) -> None:
        pass


class WorkerPoolSource:
    """``selfplay.num_workers`` processes (``SelfPlayWorkerPool``, started on first use), each playing chunks of
    seeds in lockstep; the workers send their episodes back as tables. Weights go to the workers only when the
    generation changed."""

    def __init__(self, task: Task, config: ZeroforgeConfig) -> None:
        self.task, self.config = task, config
        self._pool: SelfPlayWorkerPool | None = None
        self._generation = -1
        sp = config.selfplay
        self.device = config.train.device  # the workers' nets, or the inference server's
        if sp.inference == "server" and sp.server_device:  # the server runs here: a device this machine has
            resolve_device(sp.server_device, "selfplay.server_device")
            self.device = sp.server_device

    def play(self, net: torch.nn.Module, generation: int, seeds: Sequence[int], levels: Sequence[int] | None,
             ranked_threshold: float | None, rng: np.random.Generator,
             on_progress: ProgressFn | None = None) -> SelfPlayRound:
        cfg = self.config
        weights = None if self._generation == generation else net.state_dict()
        if self._pool is None:
            spec = WorkerSpec(cfg.task.name, cfg.net, cfg.mcts, dict(cfg.task.params), cfg.selfplay.parallel_batch_size)
            self._pool = SelfPlayWorkerPool(
                spec, net.state_dict(), cfg.selfplay.num_workers, chunk_size=cfg.selfplay.chunk_size or None,
                seed=cfg.seed, inference=cfg.selfplay.inference, device=self.device,
                server_window_s=cfg.selfplay.server_window_ms / 1000, max_restarts=cfg.selfplay.max_restarts,
                heartbeat_timeout_s=cfg.selfplay.heartbeat_timeout_s)
            weights = None  # a new pool starts with them
        self._generation = generation
        done = [0]

        def tick(chunk: EpisodeTable) -> None:
            done[0] += len(chunk)
            if on_progress is not None:
                on_progress(done[0], len(seeds))

        table = self._pool.generate(seeds, levels, key=int(seeds[0]) if len(seeds) else 0, weights=weights,
                                    ranked_threshold=ranked_threshold, on_chunk=tick)
        stats = self._pool.last_stats
        assert stats is not None
        return SelfPlayRound(table, stats.wall_seconds, stats.net_positions,
                             stats.net_seconds / max(stats.worker_seconds, 1e-9),
                             {"worker_restarts": stats.restarts})

    def process_roles(self) -> dict[int, str]:
        return {} if self._pool is None else self._pool.process_roles()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def make_source(task: Task, config: ZeroforgeConfig, device: torch.device) -> SelfPlaySource:
    """Ray actors with ``selfplay.backend: ray``, the worker pool when ``selfplay.num_workers > 0``, else the
    in-process lockstep generator."""
    if config.selfplay.backend == "ray":
        from zeroforge.distributed.ray_source import RaySource

        return RaySource(task, config)
    if config.selfplay.num_workers > 0:
        return WorkerPoolSource(task, config)
    return LockstepSource(task, config, device)


def family_metrics(task: Task, table: EpisodeTable) -> dict[str, float]:
    """A mix's round family by family (``success_rate_<family>``, ``episodes_<family>``: each episode's family is
    its seed's); empty for any other task."""
    if not isinstance(task, MixedTask):
        return {}
    families = np.array([task.family_for_seed(int(seed)) for seed in table.seeds])
    success = table.outcomes == OUTCOMES.index("success")
    out: dict[str, float] = {}
    for family in task.families:
        mine = families == family
        if mine.any():
            out[f"success_rate_{family}"] = float(np.mean(success[mine]))
            out[f"episodes_{family}"] = int(mine.sum())
    return out


def level_metrics(table: EpisodeTable) -> dict[str, float]:
    """A single-agent round difficulty level by level (``success_rate_level_<k>``, ``episodes_level_<k>`` for each
    level ``k`` played); empty for two-player games (every self-play game ends: no success rate to split)."""
    if table.num_players != 1:
        return {}
    success = table.outcomes == OUTCOMES.index("success")
    out: dict[str, float] = {}
    for level in np.unique(table.difficulties):
        if level > 0:  # -1: an episode without a recorded level
            mine = table.difficulties == level
            out[f"success_rate_level_{int(level)}"] = float(np.mean(success[mine]))
            out[f"episodes_level_{int(level)}"] = int(mine.sum())
    return out


def round_metrics(played: SelfPlayRound, task: Task | None = None) -> dict[str, object]:
    """The metrics of a self-play round: outcomes, lengths, rewards, search efficiency, throughput (and a mix's
    per-family success, ``family_metrics``, when ``task`` is given; per-level success, ``level_metrics``)."""
    t = played.table
    n = len(t)
    outcomes = {k: float(np.mean(t.outcomes == OUTCOMES.index(k))) for k in ("success", "failure", "timeout", "error")}
    seconds = max(played.seconds, 1e-9)
    out: dict[str, object] = {
        "episodes": n,
        "success_rate": outcomes["success"],
        "outcomes": outcomes,
        "positions": int(trainable_lengths(t).sum()),  # moves with training targets
        "avg_episode_length": float(np.mean(t.episode_lengths)),
        "avg_total_reward": float(np.mean(t.total_rewards)),
        "search_efficiency": float(np.mean(t.search_efficiency)),
        "episodes_per_second": n / seconds,
        "simulations_per_second": float(t.num_simulations.sum()) / seconds,
        "net_positions": played.net_positions,
        "net_time_share": played.net_time_share,
        **played.extra,
    }
    out.update(family_metrics(task, t) if task is not None else {})
    out.update(level_metrics(t))
    if t.num_players == 2:
        out["selfplay_first_player_wins"] = float(np.mean(t.winners == 0))
        out["selfplay_draws"] = float(np.mean(t.winners < 0))  # a draw, or no winner recorded
    return out
