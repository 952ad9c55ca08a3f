"""``SelfPlayTrainer``: the AlphaZero loop (DESIGN §1), once per iteration, readable top to bottom::

    round = source.play(best, seeds, levels)          # self-play: an EpisodeTable (+ Parquet on disk)
                                                      # (supervised phase: the solver's demonstrations)
    buffer.add(round.table)                           # the replay buffer, bounded in bytes and positions
    learner.train(buffer)                             # AdamW on minibatches taken from the buffer
    verdict = evaluation.run(i, candidate, best)      # gate, anchors / Elo, held-out sets
    if verdict.accepted: best <- candidate
    run_state.append_metrics(...); run_state.save_checkpoint(...)

Under ``torchrun`` (more than one process, ``zeroforge.distributed``) the loop is data-parallel: rank ``r`` plays
the round's seeds ``r, r + W, ...`` and the ranks' episode tables are gathered in rank order, so every rank's
buffer is the same; the learner trains in ``DistributedDataParallel``; rank 0 evaluates and hands its verdict,
metrics and random state to the others; rank 0 alone writes the run directory and reports progress.

A ``SystemMonitor`` (``config.monitor``) samples the CPU and memory of this process and the source's processes
(workers, inference server) in the background; each iteration's metrics carry its ``resource_*`` summary, and with
``monitor.tensorboard`` they also go to TensorBoard event files (``TensorBoardLog``).

The three parts are passed in (or built from the config): the self-play ``source`` (in-process lockstep or a
worker pool), the ``evaluation`` and the ``run_state`` (the run directory). Progress is reported through
``on_progress(stage, done, total)``. ``await trainer.iteration(i)`` is the spec's async facade: the CPU work runs
in a worker thread.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zeroforge.agent import Agent
from zeroforge.arena.heldout import NEAR_OPTIMAL_SCORE, training_seed
from zeroforge.arena.judge import Evaluation
from zeroforge.checkpoint import Checkpoint, numpy_rng_state, restore_numpy_rng, restore_torch_rng, torch_rng_state
from zeroforge.config import ZeroforgeConfig, config_from_dict, config_to_dict
from zeroforge.data.buffer import EpisodeBuffer
from zeroforge.data.extractor import TrainingDataExtractor, TrainingExample
from zeroforge.data.table import EpisodeTable
from zeroforge.data.targets import TargetRule
from zeroforge.device import resolve_device
from zeroforge.distributed.ddp import init_from_env
from zeroforge.monitor import SystemMonitor
from zeroforge.nets import build_net
from zeroforge.report import quality_metrics
from zeroforge.runstate import FollowerRunState, RunState
from zeroforge.selfplay.demonstrations import DemonstrationSource, demonstration_metrics
from zeroforge.selfplay.episode import SelfPlayEpisode
from zeroforge.selfplay.progression import Progression
from zeroforge.selfplay.source import SelfPlayRound, SelfPlaySource, make_source, round_metrics
from zeroforge.tasks import make_task
from zeroforge.tensorboard_log import TensorBoardLog
from zeroforge.threads import configure_threads
from zeroforge.train.learner import Learner

__all__ = ["SelfPlayTrainer"]

ProgressFn = Callable[[str, int, int], None]


class SelfPlayTrainer:
    """One run: ``config`` (a ``ZeroforgeConfig`` or a nested mapping of its fields) in ``run_dir``. ``resume=True``
    continues from the newest complete checkpoint there; without it a directory holding checkpoints is refused."""

    def __init__(self, config: ZeroforgeConfig | Mapping[str, Any] | None = None,
                 run_dir: str | Path = "runs/default", *, resume: bool = False, device: str | None = None,
                 on_progress: ProgressFn | None = None, source: SelfPlaySource | None = None,
                 evaluation: Evaluation | None = None, run_state: RunState | None = None,
                 agent: Agent | None = None) -> None:
        if agent is not None and config is None:
            config = agent.config
        cfg = config if isinstance(config, ZeroforgeConfig) else config_from_dict(ZeroforgeConfig, config or {})
        cfg = cfg if device is None else replace(cfg, train=replace(cfg.train, device=device))
        self.config = cfg
        self.task = make_task(cfg.task.name, **cfg.task.params)
        self.device = resolve_device(cfg.train.device)
        self.dist = init_from_env(self.device)
        self.on_progress = on_progress if self.dist.rank == 0 else None
        self.evaluation = evaluation or Evaluation(self.task, cfg, self.device)
        self.progression = Progression(self.task, cfg.curriculum, cfg.task.ranked_reward,
                                       cfg.task.ranked_reward_alpha, cfg.task.ranked_reward_window)
        torch.manual_seed(cfg.seed)
        self.threads = configure_threads(cfg.threads, cfg.torch_threads, cfg.mcts.search_threads)
        self.rng = np.random.default_rng(cfg.seed)
        self.best_net = build_net(cfg.net, self.task).to(self.device)
        if agent is not None:
            self._start_from(agent)
        symmetries = self.task.symmetries() if cfg.train.augment_symmetries else None
        self.learner = Learner(copy.deepcopy(self.best_net), cfg.train, seed=cfg.seed, symmetries=symmetries,
                               dist=self.dist)
        self.rule = TargetRule(cfg.mcts.discount, cfg.train.self_imitation)
        self.buffer = EpisodeBuffer(cfg.train.replay_buffer_bytes, cfg.train.replay_buffer_size, self.rule)
        self.source = source or make_source(self.task, cfg, self.device)
        self.demonstrations = DemonstrationSource(self.task, cfg.supervised.min_level, cfg.supervised.detour_fraction)
        self.run_state = run_state or (RunState(run_dir) if self.dist.rank == 0 else FollowerRunState(run_dir))
        self.run_dir = self.run_state.run_dir
        self.next_iteration, self.best_generation = 0, 0
        lead = self.dist.rank == 0
        self.monitor = SystemMonitor(cfg.monitor.interval_s) if cfg.monitor.enabled and lead else None
        if lead:
            ckpt, self.history = self.run_state.open(cfg, resume)
        self.dist.barrier()  # rank 0 has prepared the directory (or cut its metrics back to the checkpoint)
        if not lead:
            ckpt, self.history = self.run_state.open(cfg, resume)
        if ckpt is not None:
            self._restore(ckpt)
        self.tensorboard = (TensorBoardLog(self.run_dir, self.next_iteration) if cfg.monitor.tensorboard and lead
                            else None)

    # -- the loop ------------------------------------------------------------------------------------

    def run(self) -> list[dict[str, Any]]:
        """Run the remaining iterations up to ``config.total_iterations`` (or until ``config.cpu_budget_minutes`` is
        spent); returns their metrics."""
        try:
            return self.run_until(self.config.total_iterations)
        finally:
            self.close()

    def run_until(self, end: int) -> list[dict[str, Any]]:
        """Run iterations up to ``end`` (exclusive), stopping early once the CPU budget is spent."""
        out = []
        for i in range(self.next_iteration, end):
            if self.budget_spent():
                break
            out.append(self.run_iteration(i))
        return out

    def budget_spent(self) -> bool:
        """Whether the run's iterations have used ``config.cpu_budget_minutes`` of CPU time (never, at 0)."""
        budget = self.config.cpu_budget_minutes
        used = sum(float(m.get("iteration_cpu_seconds", 0.0)) for m in self.history)
        return budget > 0 and used >= 60 * budget

    def run_iteration(self, i: int) -> dict[str, Any]:
        """Iteration ``i`` (the module docstring); returns its metrics, appended to ``metrics.jsonl``."""
        if i != self.next_iteration:
            raise ValueError(f"iteration {i} is out of order: the next iteration is {self.next_iteration}")
        cfg, t0, cpu0 = self.config, time.perf_counter(), time.process_time()
        self.run_state.check_space()
        self._watch_processes()
        phase = cfg.phase(i)
        if phase == "supervised":
            played = self._demonstrate(cfg.supervised.episodes_per_iteration, training_seed(i, 0))
            progression, round_figures = {}, demonstration_metrics(played)
        else:
            played = self._play(cfg.selfplay.games_per_iteration, training_seed(i, 0))
            progression, round_figures = self.progression.update(played.table), round_metrics(played, self.task)
        if cfg.selfplay.save_episodes:
            self.run_state.save_episodes(i, played.table)
        self.buffer.add(played.table)
        self._watch_processes()  # a pool starts its processes in its first round and replaces dead ones
        t1 = time.perf_counter()
        self._progress("train", 0, 1)
        steps = cfg.supervised.steps_per_iteration if phase == "supervised" else 0
        train = self.learner.train(self.buffer, steps or None,
                                   on_step=lambda done, total: self._progress("train", done, total))
        t2 = time.perf_counter()
        if self.dist.rank == 0:
            verdict = self.evaluation.run(i, self.learner.candidate, self.best_net, self.rng, self.on_progress)
        if self.dist.active:  # rank 0's verdict and random state on every rank: the ranks stay in step
            verdict, rng_state = self.dist.broadcast(
                (verdict, self.rng.bit_generator.state) if self.dist.rank == 0 else None)
            self.rng.bit_generator.state = rng_state
        if verdict.accepted:
            self.best_net.load_state_dict(self.learner.candidate.state_dict())
            self.best_generation += 1
        metrics: dict[str, Any] = {
            "iteration": i, "phase": phase, **round_figures, **progression,
            "buffer_size": self.buffer.num_positions, "buffer_bytes": self.buffer.nbytes, **train.as_metrics(),
            **verdict.metrics, "best_generation": self.best_generation,
            "selfplay_seconds": played.seconds, "train_seconds": t2 - t1, "eval_seconds": time.perf_counter() - t2,
            "iteration_seconds": time.perf_counter() - t0,
            # CPU time of this process (all threads): unlike wall time not inflated when other jobs share the machine
            "iteration_cpu_seconds": time.process_time() - cpu0, "threads": self.threads.threads,
            **self._resources(),
        }
        if self.dist.active:  # rank 0's figures (its CPU time decides the budget) in every rank's history
            metrics = self.dist.broadcast(metrics)
        self.run_state.append_metrics(metrics)
        if self.tensorboard is not None:
            self.tensorboard.log_iteration(i, metrics, played.table if phase == "selfplay" else None,
                                           cfg.mcts.discount)
        # the supervised phase's last checkpoint stays: the "supervised only" agent (README's size table)
        supervised_end = {cfg.supervised.iterations - 1} if cfg.supervised.iterations else set()
        self.run_state.save_checkpoint(i, *self._checkpoint(i), keep=cfg.keep_checkpoints, protect=supervised_end)
        self.next_iteration = i + 1
        self.history.append(metrics)
        self.run_state.plot()
        return metrics

    def _demonstrate(self, num_episodes: int, first_seed: int) -> SelfPlayRound:
        self._progress("demonstrations", 0, num_episodes)
        # ranked-reward tasks: a demonstration wins iff it ends within 5 % of the optimum (no recent scores yet)
        near = NEAR_OPTIMAL_SCORE if self.progression.ranked is not None else None
        return self.demonstrations.play(self.best_net, self.best_generation,
                                        range(first_seed, first_seed + num_episodes), None, near, self.rng,
                                        lambda done, total: self._progress("demonstrations", done, total))

    def _play(self, num_games: int, first_seed: int) -> SelfPlayRound:
        self._progress("self-play", 0, num_games)
        seeds = range(first_seed, first_seed + num_games)
        levels = self.progression.levels(num_games, self.rng)
        progress = lambda done, total: self._progress("self-play", done, total)  # noqa: E731
        if not self.dist.active:
            return self.source.play(self.best_net, self.best_generation, seeds, levels, self.progression.threshold,
                                    self.rng, progress)
        # data-parallel: this rank's share of the seeds with a stream of its own; the ranks' rounds in rank order
        r, w = self.dist.rank, self.dist.world_size
        own = np.random.default_rng([int(self.rng.integers(2**63)), r])
        mine = self.source.play(self.best_net, self.best_generation, seeds[r::w],
                                None if levels is None else levels[r::w], self.progression.threshold, own, progress)
        rounds: list[SelfPlayRound] = self.dist.gather(mine)
        return SelfPlayRound(EpisodeTable.concat([x.table for x in rounds]), max(x.seconds for x in rounds),
                             sum(x.net_positions for x in rounds),
                             float(np.mean([x.net_time_share for x in rounds])), mine.extra)

    # -- the spec's facade ---------------------------------------------------------------------------

    async def iteration(self, iteration_num: int) -> dict[str, Any]:
        """One AlphaZero iteration (see the module docstring); returns its metrics."""
        return await asyncio.to_thread(self.run_iteration, iteration_num)

    async def run_self_play(self, num_games: int) -> list[SelfPlayEpisode]:
        """Play ``num_games`` self-play episodes with the best net (no training)."""
        return await asyncio.to_thread(self.generate_episodes, num_games)

    def generate_episodes(self, num_games: int, first_seed: int = 0) -> list[SelfPlayEpisode]:
        """``num_games`` episodes from seeds ``first_seed ...`` with the best net, as ``SelfPlayEpisode`` records
        (replayed from the round's episode table)."""
        table = self._play(num_games, first_seed).table
        return [table.to_episode(k, self.task) for k in range(len(table))]

    def extract_examples(self, episodes: list[SelfPlayEpisode]) -> dict[str, list[TrainingExample]]:
        """The spec's four kinds of examples (policy, value, reasoning, negative) from ``episodes`` of this run's
        task (verified with its verifier; the tree's negatives with their reasons)."""
        return TrainingDataExtractor(self.rule.discount, self.rule.self_imitation).extract(episodes, task=self.task)

    def quality_metrics(self) -> dict[str, float]:
        """The spec's run-level quality summary over the iterations so far (``report.quality_metrics``)."""
        return quality_metrics(self.history)

    def close(self) -> None:
        """Stop the self-play worker processes, if any, and the resource monitor (``run`` does it on its way
        out)."""
        self.source.close()
        if self.monitor is not None:
            self.monitor.stop()
        if self.tensorboard is not None:
            self.tensorboard.close()

    def _resources(self) -> dict[str, float]:
        """The monitor's figures over this iteration, its window closed by a sample now (so that a first iteration
        shorter than the sampling interval has CPU figures too: its opening sample only primed them)."""
        if self.monitor is None:
            return {}
        self.monitor.sample_now()
        return self.monitor.summary()

    def _watch_processes(self) -> None:
        """Start the monitor (first iteration) and watch the source's current processes (dead ones it drops)."""
        if self.monitor is None:
            return
        known = self.monitor.watched()
        new = {pid: role for pid, role in self.source.process_roles().items() if known.get(pid) != role}
        for pid, role in new.items():
            self.monitor.watch(pid, role)
        if new:  # a first reading now (memory; it primes CPU): the iteration's figures include them
            self.monitor.sample_now()
        self.monitor.start()

    def __enter__(self) -> SelfPlayTrainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _progress(self, stage: str, done: int, total: int) -> None:
        if self.on_progress is not None:
            self.on_progress(stage, done, total)

    # -- checkpoints ---------------------------------------------------------------------------------

    def _checkpoint(self, i: int) -> tuple[dict[str, Any], dict[str, Any]]:
        learner_tensors, state = self.learner.checkpoint()
        tensors: dict[str, Any] = dict(learner_tensors)
        tensors.update(best={k: v.detach().cpu() for k, v in self.best_net.state_dict().items()},
                       buffer=self.buffer.state_arrays())
        t = self.task
        shape = {"name": t.name, "num_actions": t.num_actions, "seq_len": t.seq_len, "vocab_size": t.vocab_size}
        state.update(iteration=i, next_iteration=i + 1, best_generation=self.best_generation,
                     config=config_to_dict(self.config), rng=numpy_rng_state(self.rng), torch_rng=torch_rng_state(),
                     task=shape, **self.evaluation.state_dict(), **self.progression.state_dict())
        return tensors, state

    def _start_from(self, agent: Agent) -> None:
        """Train ``agent``'s net (``create_trm_agent`` ...): its weights become the first best net and candidate; an
        agent of another task or net configuration is a one-line ``ValueError``."""
        ours = self.config
        theirs = agent.config
        if theirs is None or theirs.task != ours.task or theirs.net != ours.net:
            raise ValueError(f"agent {agent.name!r} was made for another task or net than this run's config "
                             f"(task {ours.task.name!r}, net.kind {ours.net.kind!r}): pass agent.config, or no config")
        self.best_net.load_state_dict(agent.net.state_dict())

    def _restore(self, ckpt: Checkpoint) -> None:
        with self.run_state.restoring(ckpt):
            st = ckpt.state
            ckpt.load_weights(self.best_net, "best")
            self.learner.restore(ckpt)
            self.buffer.load_state_arrays(ckpt.arrays("buffer"))
            self.rng = restore_numpy_rng(st["rng"])
            restore_torch_rng(st["torch_rng"])
            self.next_iteration, self.best_generation = int(st["next_iteration"]), int(st["best_generation"])
            self.evaluation.load_state_dict(st)
            self.progression.load_state_dict(st)
