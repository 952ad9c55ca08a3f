"""``SelfPlayTrainer``: the AlphaZero loop, once per ``iteration``, readable top to bottom.

1. self-play ``games_per_iteration`` episodes with the best net (batched lockstep search),
2. extract policy / value targets into the replay buffer,
3. train the candidate net (AdamW),
4. evaluate: candidate vs best (gating) and the best net vs fixed anchors, Elo,
5. promote the candidate if it passed (or always, without gating),
6. append metrics, write an atomic checkpoint, redraw the learning curve.

``await trainer.iteration(i)`` is the spec's async facade: the CPU work runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import errno
import json
import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zeroforge.agent import load_state, run_config
from zeroforge.arena.elo import GameRecord, fit_elo
from zeroforge.arena.evaluation import perfect_play_check
from zeroforge.arena.heldout import evaluate_held_out, training_seed
from zeroforge.arena.match import MatchResult, PerfectPlayer, Player, RandomPlayer, SearchPlayer, play_match
from zeroforge.checkpoint import (
    Checkpoint,
    CheckpointError,
    checkpoint_dir,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    numpy_rng_state,
    prune_checkpoints,
    restore_numpy_rng,
    restore_torch_rng,
    save_checkpoint,
    torch_rng_state,
)
from zeroforge.config import ConfigError, ZeroforgeConfig, config_from_dict, config_to_dict, save_config
from zeroforge.data.buffer import ReplayBuffer
from zeroforge.data.episodes import EpisodeBuffer
from zeroforge.data.extractor import TrainingDataExtractor, TrainingExample
from zeroforge.device import resolve_device
from zeroforge.nets import build_net
from zeroforge.report import plot_learning_curve
from zeroforge.search.evaluator import CachingEvaluator, NetworkEvaluator, RolloutEvaluator, TokenEvaluator
from zeroforge.selfplay.episode import SelfPlayEpisode
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator
from zeroforge.selfplay.workers import PoolStats, SelfPlayWorkerPool, WorkerSpec
from zeroforge.tasks.base import Task, make_task
from zeroforge.tasks.generators import Curriculum
from zeroforge.tasks.ranked import RankedReward, RankedRewardTask
from zeroforge.threads import configure_threads
from zeroforge.train.learner import Learner, optimizer_from_checkpoint, optimizer_to_checkpoint

__all__ = ["SelfPlayTrainer"]

ProgressFn = Callable[[str, int, int], None]
METRICS_FILE = "metrics.jsonl"
PLOT_FILE = "learning_curve.png"
EPISODES_DIR = "episodes"


class SelfPlayTrainer:
    """Owns one run directory: config, metrics, checkpoints and the learning-curve plot.

    ``config`` is a ``ZeroforgeConfig`` or a nested mapping of its fields. ``resume=True`` continues from
    the newest complete checkpoint in ``run_dir``; without it, a run directory that already holds
    checkpoints is refused (nothing is overwritten).
    """

    def __init__(self, config: ZeroforgeConfig | Mapping[str, Any] | None = None,
                 run_dir: str | Path = "runs/default", *, resume: bool = False, device: str | None = None,
                 on_progress: ProgressFn | None = None) -> None:
        if config is None:
            cfg = ZeroforgeConfig()
        elif isinstance(config, ZeroforgeConfig):
            cfg = config
        else:
            cfg = config_from_dict(ZeroforgeConfig, config)
        if device is not None:
            cfg = replace(cfg, train=replace(cfg.train, device=device))
        self.run_dir = Path(run_dir)
        self.on_progress = on_progress
        self.task = make_task(cfg.task.name, **cfg.task.params)
        if self.task.num_players == 2 and "perfect" in cfg.arena.anchors and not self.task.solvable:
            raise ConfigError(f"arena.anchors: the 'perfect' anchor needs a solvable game; "
                              f"{cfg.task.name!r} is not (drop 'perfect' from arena.anchors)")
        self.config = cfg
        self.curriculum = self._make_curriculum(cfg)
        self.ranked: RankedReward | None = None
        if cfg.task.ranked_reward:
            if self.task.num_players != 1 or type(self.task).score is Task.score:
                raise ConfigError(f"task.ranked_reward: needs a single-agent task that grades its episodes "
                                  f"(Task.score); {cfg.task.name!r} does not")
            self.ranked = RankedReward(cfg.task.ranked_reward_alpha, cfg.task.ranked_reward_window)
        torch.manual_seed(cfg.seed)
        self.threads = configure_threads(cfg.threads, cfg.torch_threads, cfg.mcts.search_threads)
        self.rng = np.random.default_rng(cfg.seed)
        self.device = resolve_device(cfg.train.device)
        self.best_net = build_net(cfg.net, self.task).to(self.device)
        symmetries = self.task.symmetries() if cfg.train.augment_symmetries else None
        self.learner = Learner(copy.deepcopy(self.best_net), cfg.train, seed=cfg.seed, symmetries=symmetries)
        self.buffer = ReplayBuffer(cfg.train.replay_buffer_size, self.task.seq_len, self.task.num_actions)
        self.extractor = TrainingDataExtractor(cfg.mcts.discount, cfg.train.self_imitation)
        self.next_iteration = 0
        self.best_generation = 0
        self.elo_games: list[GameRecord] = []
        self.history: list[dict[str, Any]] = []
        self._last_evaluator: NetworkEvaluator | None = None
        self._cache: CachingEvaluator | None = None
        self._pool: SelfPlayWorkerPool | None = None
        self._pool_stats: PoolStats | None = None
        self._pool_generation = -1  # best_generation whose weights the pool holds
        self._bytes_per_iteration = 0  # what the last iteration wrote (0: none yet)
        self._prepare_run_dir(resume)

    # -- the loop ------------------------------------------------------------------------------------

    async def iteration(self, iteration_num: int) -> dict[str, Any]:
        """One AlphaZero iteration (see the module docstring); returns its metrics."""
        return await asyncio.to_thread(self.run_iteration, iteration_num)

    async def run_self_play(self, num_games: int) -> list[SelfPlayEpisode]:
        """Play ``num_games`` self-play episodes with the best net (no training)."""
        return await asyncio.to_thread(self.generate_episodes, num_games)

    def extract_examples(self, episodes: list[SelfPlayEpisode]) -> dict[str, list[TrainingExample]]:
        """The spec's four kinds of examples (policy, value, reasoning, negative) from ``episodes``."""
        return self.extractor.extract(episodes)

    def quality_metrics(self) -> dict[str, float]:
        """The spec's run-level quality summary over the iterations so far (``{}`` before the first).

        ``success_rate_trend`` is the least-squares slope of the success rate per iteration.
        """
        if not self.history:
            return {}
        rates = np.array([m["success_rate"] for m in self.history], np.float64)
        trend = float(np.polyfit(np.arange(len(rates)), rates, 1)[0]) if len(rates) > 1 else 0.0
        return {
            "avg_success_rate": float(rates.mean()),
            "success_rate_std": float(rates.std()),
            "success_rate_trend": trend,
            "avg_episode_length": float(np.mean([m["avg_episode_length"] for m in self.history])),
            "total_episodes_generated": float(sum(m["episodes"] for m in self.history)),
            "best_success_rate": float(rates.max()),
        }

    def run(self) -> list[dict[str, Any]]:
        """Run the remaining iterations up to ``config.iterations``; returns their metrics."""
        try:
            return [self.run_iteration(i) for i in range(self.next_iteration, self.config.iterations)]
        finally:
            self.close()

    def run_iteration(self, i: int) -> dict[str, Any]:
        if i != self.next_iteration:
            raise ValueError(f"iteration {i} is out of order: the next iteration is {self.next_iteration}")
        cfg = self.config
        self._check_space()
        t0, cpu0 = time.perf_counter(), time.process_time()
        level = self.curriculum.level if self.curriculum is not None else self.task.difficulty_levels
        threshold = self.ranked.threshold if self.ranked is not None else None
        episodes = self.generate_episodes(cfg.selfplay.games_per_iteration, first_seed=training_seed(i, 0))
        t_selfplay = time.perf_counter() - t0
        if cfg.selfplay.save_episodes:
            with self._writing("episode file"):
                self._save_episodes(i, episodes)
        progression = self._progression(episodes, level, threshold)
        data = self.extractor.policy_value_arrays(episodes)
        self.buffer.add(data)
        self._progress("train", 0, 1)
        t1 = time.perf_counter()
        train = self.learner.train(self.buffer, on_step=lambda done, total: self._progress("train", done, total))
        t_train = time.perf_counter() - t1
        self._progress("train", 1, 1)
        t2 = time.perf_counter()
        gate = self._gate()
        evaluation = self._evaluate_anchors(i) if self._evaluate_now(i) else {}
        t_eval = time.perf_counter() - t2
        metrics: dict[str, Any] = {
            "iteration": i,
            **self._selfplay_metrics(episodes, t_selfplay),
            **progression,
            "positions": len(data),
            "buffer_size": len(self.buffer),
            "loss_policy": train.loss_policy,
            "loss_value": train.loss_value,
            "loss_l2": train.loss_l2,
            "weight_norm_sq": train.weight_norm_sq,
            "loss_total": train.loss_total,
            "train_steps": train.steps,
            **gate,
            "best_generation": self.best_generation,
            **evaluation,
            "selfplay_seconds": t_selfplay,
            "train_seconds": t_train,
            "eval_seconds": t_eval,
            "iteration_seconds": time.perf_counter() - t0,
            # CPU time of this process (all its threads): the compute an iteration costs, unlike wall time
            # not inflated when other jobs share the machine
            "iteration_cpu_seconds": time.process_time() - cpu0,
            "threads": self.threads.threads,
        }
        with self._writing("metrics line"):
            self._append_metrics(metrics)
        self.next_iteration = i + 1
        try:
            with self._writing("checkpoint"):
                self._save(i)
        except OSError:
            self.next_iteration = i
            raise
        self.history.append(metrics)
        with self._writing("learning curve"):
            plot_learning_curve(self.run_dir / METRICS_FILE, self.run_dir / PLOT_FILE)
        return metrics

    # -- steps ---------------------------------------------------------------------------------------

    def generate_episodes(self, num_games: int, first_seed: int = 0) -> list[SelfPlayEpisode]:
        """Self-play ``num_games`` episodes from seeds ``first_seed ...`` with the best net, at the curriculum's
        level (and review levels) and with ranked rewards when those are configured."""
        cfg = self.config
        if cfg.selfplay.num_workers > 0:
            return self._generate_in_workers(num_games, first_seed)
        net_evaluator = NetworkEvaluator(self.best_net, self.device, dtype=cfg.selfplay.inference_dtype)
        size = cfg.selfplay.eval_cache_size
        self._cache = CachingEvaluator(net_evaluator, size) if size > 0 else None
        evaluator: TokenEvaluator = self._cache if self._cache is not None else net_evaluator
        task = self.task
        if self.ranked is not None and self.ranked.threshold is not None:
            task = RankedRewardTask(self.task, self.ranked.threshold)
        generator = SelfPlayEpisodeGenerator(task, evaluator, cfg.mcts, cfg.selfplay.parallel_batch_size)
        done = [0]

        def tick(_: SelfPlayEpisode) -> None:
            done[0] += 1
            self._progress("self-play", done[0], num_games)

        self._progress("self-play", 0, num_games)
        self._last_evaluator = net_evaluator
        return generator.generate(range(first_seed, first_seed + num_games), self.rng, on_episode=tick,
                                  difficulties=self._levels(num_games))

    def _generate_in_workers(self, num_games: int, first_seed: int) -> list[SelfPlayEpisode]:
        """``generate_episodes`` in the worker pool (started on first use, closed by ``close``); the seeds'
        first one keys the chunks' random streams, so a resumed iteration replays the same games."""
        cfg = self.config
        weights = None if self._pool_generation == self.best_generation else self.best_net.state_dict()
        if self._pool is None:
            spec = WorkerSpec(cfg.task.name, cfg.net, cfg.mcts, dict(cfg.task.params), cfg.selfplay.parallel_batch_size)
            self._pool = SelfPlayWorkerPool(
                spec, self.best_net.state_dict(), cfg.selfplay.num_workers,
                chunk_size=cfg.selfplay.chunk_size or None, seed=cfg.seed, inference=cfg.selfplay.inference,
                device=cfg.train.device, server_window_s=cfg.selfplay.server_window_ms / 1000,
                max_restarts=cfg.selfplay.max_restarts, heartbeat_timeout_s=cfg.selfplay.heartbeat_timeout_s)
            weights = None  # a new pool starts with them
        self._pool_generation = self.best_generation  # the workers get the best net only when it changed
        threshold = self.ranked.threshold if self.ranked is not None else None
        done = [0]

        def tick(chunk: Sequence[SelfPlayEpisode]) -> None:
            done[0] += len(chunk)
            self._progress("self-play", done[0], num_games)

        self._progress("self-play", 0, num_games)
        self._last_evaluator = None
        episodes = self._pool.generate(range(first_seed, first_seed + num_games), self._levels(num_games),
                                       key=first_seed, weights=weights, ranked_threshold=threshold,
                                       on_chunk=tick)
        self._pool_stats = self._pool.last_stats
        return episodes

    def close(self) -> None:
        """Stop the self-play worker processes, if any (``run`` does it on its way out)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> SelfPlayTrainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _make_curriculum(self, cfg: ZeroforgeConfig) -> Curriculum | None:
        cur = cfg.curriculum
        if not cur.enabled:
            return None
        levels = self.task.difficulty_levels
        if cur.start_level > levels:
            raise ConfigError(f"config key 'curriculum.start_level' must be <= {levels} (the levels of "
                              f"{cfg.task.name!r}), got {cur.start_level}")
        return Curriculum(1, levels, cur.start_level, cur.raise_at, cur.lower_at)

    def _levels(self, num_games: int) -> list[int] | None:
        """Per episode difficulty: the curriculum's level, or with probability ``review_fraction`` a uniformly
        drawn lower level; ``None`` (the top level) without a curriculum."""
        if self.curriculum is None:
            return None
        level = self.curriculum.level
        review = self.rng.random(num_games) < self.config.curriculum.review_fraction
        lower = self.rng.integers(1, max(level, 2), size=num_games)
        return [int(lower[k]) if review[k] and level > 1 else level for k in range(num_games)]

    def _progression(self, episodes: list[SelfPlayEpisode], level: int, threshold: float | None) -> dict[str, Any]:
        """Feed the curriculum and the ranked-reward buffer with this iteration's episodes; their metrics."""
        out: dict[str, Any] = {"difficulty": level}
        scores = [s for e in episodes if (s := self.task.score(e.states[-1])) is not None]
        if scores:
            out["mean_score"] = float(np.mean(scores))
        if self.curriculum is not None:
            at_level = [e.outcome == "success" for e in episodes if e.metadata.get("difficulty") == level]
            out["success_rate_at_level"] = float(np.mean(at_level)) if at_level else 0.0
            out["next_difficulty"] = self.curriculum.update(at_level)
        if self.ranked is not None:
            out["ranked_threshold"] = threshold
            self.ranked.add(scores)
        return out
    def _selfplay_metrics(self, episodes: list[SelfPlayEpisode], seconds: float) -> dict[str, Any]:
        n = len(episodes)
        outcomes = {k: sum(e.outcome == k for e in episodes) / n for k in ("success", "failure", "timeout", "error")}
        sims = sum(t.num_simulations for e in episodes for t in e.mcts_traces)
        out: dict[str, Any] = {
            "episodes": n,
            "success_rate": outcomes["success"],
            "outcomes": outcomes,
            "avg_episode_length": float(np.mean([e.episode_length for e in episodes])),
            "avg_total_reward": float(np.mean([e.total_reward for e in episodes])),
            "search_efficiency": float(np.mean([e.search_efficiency for e in episodes])),
            "episodes_per_second": n / max(seconds, 1e-9),
            "simulations_per_second": sims / max(seconds, 1e-9),
            "net_positions": self._last_evaluator.positions if self._last_evaluator else 0,
            "net_time_share": (self._last_evaluator.seconds / max(seconds, 1e-9)) if self._last_evaluator else 0.0,
        }
        if self._cache is not None:
            out["eval_cache_hit_rate"] = self._cache.hit_rate
        if self.config.selfplay.num_workers > 0 and self._pool_stats is not None:
            stats = self._pool_stats
            out["net_positions"] = stats.net_positions
            out["net_time_share"] = stats.net_seconds / max(stats.worker_seconds, 1e-9)  # of the workers' time
            out["worker_restarts"] = stats.restarts
        if self.task.num_players == 2:
            winners = [e.metadata.get("winner") for e in episodes]
            out["selfplay_first_player_wins"] = sum(w == 0 for w in winners) / n
            out["selfplay_draws"] = sum(w is None for w in winners) / n
        return out

    def _search_player(self, name: str, net: torch.nn.Module, sims: int) -> SearchPlayer:
        return SearchPlayer(name, self.task, NetworkEvaluator(net, self.device), self.config.mcts, sims)

    def _gate(self) -> dict[str, Any]:
        """Candidate vs best; promote the candidate if it scores ``win_threshold`` (or without gating)."""
        arena = self.config.arena
        if not arena.gating or self.task.num_players != 2:
            self.best_net.load_state_dict(self.learner.net.state_dict())
            self.best_generation += 1
            return {"accepted": True}
        self._progress("arena", 0, arena.games)
        result = play_match(self.task, self._search_player("candidate", self.learner.net, arena.num_simulations),
                            self._search_player("best", self.best_net, arena.num_simulations),
                            arena.games, self.rng, arena.opening_random_moves)
        accepted = result.score >= arena.win_threshold
        if accepted:
            self.best_net.load_state_dict(self.learner.net.state_dict())
            self.best_generation += 1
        self._progress("arena", arena.games, arena.games)
        return {"arena_score": result.score, "arena_wins": result.wins, "arena_draws": result.draws,
                "arena_losses": result.losses, "accepted": accepted}

    def _evaluate_now(self, i: int) -> bool:
        every = self.config.arena.eval_every
        return every > 0 and (i % every == 0 or i == self.config.iterations - 1)

    def _anchor(self, name: str) -> Player:
        arena = self.config.arena
        if name == "random":
            return RandomPlayer()
        if name == "perfect":
            return PerfectPlayer(self.task)
        rollout = RolloutEvaluator(np.random.default_rng(self.rng.integers(2**63)), discount=self.config.mcts.discount)
        return SearchPlayer("rollout", self.task, rollout, self.config.mcts, arena.rollout_simulations)

    def _evaluate_anchors(self, i: int) -> dict[str, Any]:
        """The best net (searching with ``arena.num_simulations``) against each anchor; Elo; perfect play."""
        arena = self.config.arena
        if self.task.num_players == 1:
            return self._evaluate_held_out()
        if not arena.anchors:
            return {}
        me = f"iter{i}"
        agent = self._search_player(me, self.best_net, arena.num_simulations)
        out: dict[str, Any] = {}
        for k, name in enumerate(arena.anchors):
            self._progress("anchors", k, len(arena.anchors))
            res: MatchResult = play_match(self.task, agent, self._anchor(name), arena.anchor_games, self.rng,
                                          arena.opening_random_moves)
            out[f"win_rate_vs_{name}"] = res.wins / res.games
            out[f"score_vs_{name}"] = res.score
            out[f"losses_vs_{name}"] = res.losses / res.games
            self.elo_games += [GameRecord(me, name, 1.0)] * res.wins + [GameRecord(me, name, 0.5)] * res.draws \
                + [GameRecord(me, name, 0.0)] * res.losses
        self._progress("anchors", len(arena.anchors), len(arena.anchors))
        anchor = "random" if "random" in arena.anchors else arena.anchors[0]
        ratings = fit_elo(self.elo_games, anchor=anchor)
        out["elo"] = ratings[me]
        out["elo_anchor"] = anchor
        if "perfect" in arena.anchors:
            agent_player = self._search_player(me, self.best_net, self.config.agent_simulations)
            report = perfect_play_check(self.task, agent_player)
            out["perfect_play_losses"] = report.losses
            out["perfect_play_mistakes"] = report.mistakes
            out["perfect_play_draws"] = report.draws
            out["perfect_play_wins"] = report.wins
        return out

    def _evaluate_held_out(self) -> dict[str, Any]:
        """The best net on the held-out instances of the top level (``arena.heldout_episodes``)."""
        arena = self.config.arena
        if arena.heldout_episodes == 0:
            return {}
        self._progress("held-out", 0, arena.heldout_episodes)
        report = evaluate_held_out(self.task, NetworkEvaluator(self.best_net, self.device), self.config.mcts,
                                   arena.heldout_episodes, num_simulations=arena.num_simulations,
                                   parallel_batch_size=self.config.selfplay.parallel_batch_size)
        self._progress("held-out", arena.heldout_episodes, arena.heldout_episodes)
        out: dict[str, Any] = {"heldout_solve_rate": report.solve_rate}
        if report.optimality_gap is not None:
            out["heldout_optimality_gap"] = report.optimality_gap
        if report.mean_score is not None:
            out["heldout_mean_score"] = report.mean_score
        if report.heldout_case_pass_rate is not None:
            out["heldout_case_pass_rate"] = report.heldout_case_pass_rate
        return out

    # -- run directory, metrics, checkpoints ---------------------------------------------------------

    def _progress(self, stage: str, done: int, total: int) -> None:
        if self.on_progress is not None:
            self.on_progress(stage, done, total)

    @contextlib.contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """Turn a failed write (disk full, file too large, read-only) into one line that says what could not be
        written and from which checkpoint the run resumes; what was written before stays intact."""
        try:
            yield
        except OSError as exc:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                newest = latest_checkpoint(self.run_dir) if self.run_dir.is_dir() else None
            resume = f"the run resumes from {newest.name}" if newest is not None else "no checkpoint yet"
            raise OSError(exc.errno, f"cannot write the {what} in {self.run_dir} ({exc.strerror or exc}); {resume}: "
                                     f"free space or fix the directory, then run again with --resume") from None

    def _check_space(self) -> None:
        """Refuse to start an iteration whose output (about what the last one wrote) would not fit on the disk:
        better than losing its work to a full disk at the end."""
        need = 2 * self._bytes_per_iteration
        free = shutil.disk_usage(self.run_dir).free
        if need and free < need:
            raise OSError(errno.ENOSPC, f"only {free / 1e6:.1f} MB free in {self.run_dir}, and an iteration writes "
                                        f"about {need / 2e6:.1f} MB: free space, then run again with --resume")

    def _measure_output(self, i: int) -> None:
        """Bytes the iteration ``i`` left on disk (checkpoint and episode file): the next one's estimate."""
        files = [*checkpoint_dir(self.run_dir, i).iterdir(), self.run_dir / EPISODES_DIR / f"iter_{i:06d}.parquet"]
        self._bytes_per_iteration = sum(f.stat().st_size for f in files if f.is_file())

    def _prepare_run_dir(self, resume: bool) -> None:
        with self._writing("run directory"):
            self.run_dir.mkdir(parents=True, exist_ok=True)
            probe = self.run_dir / f".write-probe-{os.getpid()}"
            probe.write_bytes(b"")  # a read-only directory is refused now, not after the first iteration's work
            probe.unlink()
        metrics = self.run_dir / METRICS_FILE
        if resume:
            found = latest_checkpoint(self.run_dir)
            if found is not None:
                self._restore(found)
                with self._writing("metrics file"):
                    self._truncate_metrics(self.next_iteration)
                self._measure_output(self.next_iteration - 1)
                return
        elif list_checkpoints(self.run_dir):
            raise FileExistsError(f"{self.run_dir} already holds checkpoints: pass --resume to continue it, "
                                  f"or choose another --run-dir")
        with self._writing("metrics file and config"):
            metrics.write_text("")
            save_config(self.config, self.run_dir / "config.yaml")

    def _append_metrics(self, metrics: dict[str, Any]) -> None:
        with open(self.run_dir / METRICS_FILE, "a", encoding="utf-8") as f:
            f.write(json.dumps(metrics, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def _truncate_metrics(self, next_iteration: int) -> None:
        """Keep the metrics lines of iterations before ``next_iteration`` (a crash may have left later ones,
        or half a line, that the resumed run will write again)."""
        path = self.run_dir / METRICS_FILE
        kept: dict[int, str] = {}  # iteration -> its line (the first one, should a line be repeated)
        if path.exists():
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            for number, line in enumerate(lines, start=1):
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    if line.strip():
                        torn = "a half-written last line (cut by a crash)" if number == len(lines) else "a corrupt line"
                        warnings.warn(f"{path}:{number}: dropping {torn}", RuntimeWarning, stacklevel=2)
                    continue
                iteration = rec.get("iteration") if isinstance(rec, dict) else None
                if isinstance(iteration, int) and 0 <= iteration < next_iteration and iteration not in kept:
                    kept[iteration] = line
                    self.history.append(rec)
        missing = sorted(set(range(next_iteration)) - set(kept))
        if missing:
            warnings.warn(f"{path}: no readable line for iterations {missing[:10]}{' ...' if len(missing) > 10 else ''}"
                          f" (the checkpoint goes on from iteration {next_iteration})", RuntimeWarning, stacklevel=2)
        self.history.sort(key=lambda h: h["iteration"])
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(kept[k] + "\n" for k in sorted(kept)), encoding="utf-8")
        os.replace(tmp, path)

    def _save_episodes(self, i: int, episodes: list[SelfPlayEpisode]) -> None:
        """Iteration ``i``'s episodes with their traces as Parquet (atomic; a redone iteration replaces its file)."""
        buffer = EpisodeBuffer(max_bytes=1 << 62)
        buffer.add_episodes(episodes, self.task.vocab_size)
        folder = self.run_dir / EPISODES_DIR
        folder.mkdir(parents=True, exist_ok=True)
        buffer.save_parquet(folder / f"iter_{i:06d}.parquet")

    def _save(self, i: int) -> None:
        opt_tensors, opt_meta = optimizer_to_checkpoint(self.learner.optimizer)
        state = {
            "iteration": i,
            "next_iteration": self.next_iteration,
            "best_generation": self.best_generation,
            "config": config_to_dict(self.config),
            "task": {"name": self.task.name, "num_actions": self.task.num_actions, "seq_len": self.task.seq_len,
                     "vocab_size": self.task.vocab_size},
            "optimizer": opt_meta,
            "learner_steps": self.learner.steps_done,
            "learner_generator": self.learner.generator.get_state().tolist(),
            "rng": numpy_rng_state(self.rng),
            "torch_rng": torch_rng_state(),
            "elo_games": [[g.player_a, g.player_b, g.score_a] for g in self.elo_games],
            "curriculum": self.curriculum.state_dict() if self.curriculum is not None else None,
            "ranked_reward": self.ranked.state_dict() if self.ranked is not None else None,
        }
        tensors: dict[str, Any] = {
            "best": {k: v.detach().cpu() for k, v in self.best_net.state_dict().items()},
            "candidate": {k: v.detach().cpu() for k, v in self.learner.net.state_dict().items()},
            "buffer": self.buffer.state_arrays(),
        }
        if opt_tensors:
            tensors["optimizer"] = opt_tensors
        save_checkpoint(self.run_dir, i, tensors, state)
        prune_checkpoints(self.run_dir, keep=self.config.keep_checkpoints)
        self._measure_output(i)

    def _restore(self, path: Path) -> None:
        ckpt = load_checkpoint(path)
        saved = run_config(ckpt)
        if replace(saved, iterations=self.config.iterations) != self.config:
            diff = _config_diff(config_to_dict(saved), config_to_dict(self.config))
            raise ConfigError(f"--resume with a config that differs from the checkpoint's in: {', '.join(diff)} "
                              f"(only 'iterations' may change)")
        try:
            self._restore_state(ckpt)
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
            if isinstance(exc, CheckpointError):
                raise
            what = f"missing {exc}" if isinstance(exc, KeyError) else " ".join(str(exc).split())[:200]
            raise CheckpointError(f"checkpoint {path} cannot be restored ({type(exc).__name__}: {what}); resume "
                                  f"from an older one by moving this one out of {path.parent}") from None

    def _restore_state(self, ckpt: Checkpoint) -> None:
        st = ckpt.state
        load_state(self.best_net, ckpt.entry("best"), f"{ckpt.path / 'best.safetensors'}")
        load_state(self.learner.net, ckpt.entry("candidate"), f"{ckpt.path / 'candidate.safetensors'}")
        optimizer_from_checkpoint(self.learner.optimizer, ckpt.tensors.get("optimizer", {}), st["optimizer"])
        self.learner.steps_done = int(st["learner_steps"])
        self.learner.generator.set_state(torch.tensor(st["learner_generator"], dtype=torch.uint8))
        self.buffer.load_state_arrays(ckpt.arrays("buffer"))
        self.rng = restore_numpy_rng(st["rng"])
        restore_torch_rng(st["torch_rng"])
        self.next_iteration = int(st["next_iteration"])
        self.best_generation = int(st["best_generation"])
        self.elo_games = [GameRecord(a, b, float(s)) for a, b, s in st["elo_games"]]
        if self.curriculum is not None:
            self.curriculum.load_state_dict(st["curriculum"])
        if self.ranked is not None:
            self.ranked.load_state_dict(st["ranked_reward"])


def _config_diff(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
    keys = sorted(set(a) | set(b))
    out: list[str] = []
    for k in keys:
        name = f"{prefix}{k}"
        if isinstance(a.get(k), dict) and isinstance(b.get(k), dict) and k != "params":
            out += _config_diff(a[k], b[k], name + ".")
        elif a.get(k) != b.get(k) and name != "iterations":
            out.append(name)
    return out
