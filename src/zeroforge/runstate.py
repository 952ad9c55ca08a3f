"""``RunState``: the one owner of a run directory's layout. The trainer writes through it, ``load_agent`` and
``zeroforge doctor`` / ``report`` read through it.

::

    RUN/config.yaml                       the run's config (written when the run starts)
    RUN/metrics.jsonl                     one JSON object per finished iteration (``scan_metrics`` reads it)
    RUN/learning_curve.png                redrawn after every iteration
    RUN/episodes/iter_NNNNNN.parquet      each iteration's episodes (``selfplay.save_episodes``)
    RUN/checkpoints/iter_NNNNNN/          atomic checkpoints (``zeroforge.checkpoint``): best / candidate
                                          weights, optimizer, replay buffer, state.json

Failed writes (disk full, file too large, read-only) become one ``OSError`` line that says what could not be
written and from which checkpoint the run resumes; what was written before stays intact.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import warnings
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from zeroforge.atomic import write_text_atomic
from zeroforge.checkpoint import (
    MANIFEST,
    Checkpoint,
    CheckpointError,
    checkpoint_dir,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
)
from zeroforge.config import ConfigError, ZeroforgeConfig, config_from_dict, config_to_dict, save_config
from zeroforge.data.table import EpisodeTable

__all__ = ["CONFIG_FILE", "EPISODES_DIR", "METRICS_FILE", "PLOT_FILE", "FollowerRunState", "MetricsLine", "RunState",
           "checkpoint_config", "find_checkpoint", "scan_metrics"]

METRICS_FILE = "metrics.jsonl"
PLOT_FILE = "learning_curve.png"
EPISODES_DIR = "episodes"
CONFIG_FILE = "config.yaml"


@dataclass(frozen=True)
class MetricsLine:
    """One non-blank line of ``metrics.jsonl``: its 1-based ``number``, the parsed ``record`` (``None`` if the
    line is unreadable) and, if so, the ``problem`` in words."""

    number: int
    text: str
    record: dict[str, Any] | None
    problem: str | None

    @property
    def iteration(self) -> int | None:
        it = None if self.record is None else self.record.get("iteration")
        return it if isinstance(it, int) and not isinstance(it, bool) else None


def scan_metrics(path: str | Path) -> list[MetricsLine]:
    """Every non-blank line of a metrics file, parsed (a half-written last line is told from a corrupt one)."""
    lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    out = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            torn = "a half-written last line (cut by a crash)" if number == len(lines) else "a corrupt line"
            out.append(MetricsLine(number, text, None, torn))
            continue
        problem = None if isinstance(record, dict) else "not a JSON object"
        out.append(MetricsLine(number, text, record if isinstance(record, dict) else None, problem))
    return out


def find_checkpoint(path: str | Path) -> Path:
    """The checkpoint directory ``path`` names: itself, or a run directory's newest complete checkpoint."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no run or checkpoint directory at {p}")
    if (p / MANIFEST).exists() or p.name.startswith("iter_"):
        return p
    found = latest_checkpoint(p)
    if found is None:
        raise FileNotFoundError(f"no complete checkpoint under {p}")
    return found


def checkpoint_config(ckpt: Checkpoint) -> ZeroforgeConfig:
    """The run config a checkpoint's state.json holds; missing or invalid, a one-line ``CheckpointError``."""
    try:
        return config_from_dict(ZeroforgeConfig, ckpt.field("config", dict))
    except ConfigError as exc:
        raise CheckpointError(f"{ckpt.path / 'state.json'}: its config is not valid here ({exc})") from None


class RunState:
    """A run directory, opened for one run (see the module docstring for the layout)."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.bytes_per_iteration = 0  # what the last iteration wrote (0: none yet)

    def open(self, config: ZeroforgeConfig, resume: bool) -> tuple[Checkpoint | None, list[dict[str, Any]]]:
        """Prepare the directory. With ``resume``, the newest complete checkpoint (its config must equal
        ``config`` but for where the run stops, ``iterations`` and ``cpu_budget_minutes``, and the ``monitor``)
        and the metrics of the iterations before it (later lines are cut); otherwise ``(None, [])`` after
        refusing a directory that already holds checkpoints."""
        with self.writing("run directory"):
            self.run_dir.mkdir(parents=True, exist_ok=True)
            probe = self.run_dir / f".write-probe-{os.getpid()}"
            probe.write_bytes(b"")  # a read-only directory is refused now, not after the first iteration's work
            probe.unlink()
        if resume and (found := latest_checkpoint(self.run_dir)) is not None:
            ckpt = load_checkpoint(found)
            saved = checkpoint_config(ckpt)
            if replace(saved, iterations=config.iterations, cpu_budget_minutes=config.cpu_budget_minutes,
                       monitor=config.monitor) != config:
                diff = _config_diff(config_to_dict(saved), config_to_dict(config))
                raise ConfigError(f"--resume with a config that differs from the checkpoint's in: {', '.join(diff)} "
                                  f"(only 'iterations', 'cpu_budget_minutes' and 'monitor' may change)")
            next_iteration = ckpt.field("next_iteration", int)
            with self.writing("metrics file"):
                history = self._truncate_metrics(next_iteration)
            self._measure_output(next_iteration - 1)
            return ckpt, history
        if not resume and list_checkpoints(self.run_dir):
            raise FileExistsError(f"{self.run_dir} already holds checkpoints: pass --resume to continue it, "
                                  f"or choose another --run-dir")
        with self.writing("metrics file and config"):
            (self.run_dir / METRICS_FILE).write_text("")
            save_config(config, self.run_dir / CONFIG_FILE)
        return None, []

    @contextlib.contextmanager
    def writing(self, what: str) -> Iterator[None]:
        """Turn a failed write into one line naming ``what`` and the checkpoint the run resumes from."""
        try:
            yield
        except OSError as exc:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                newest = latest_checkpoint(self.run_dir) if self.run_dir.is_dir() else None
            resume = f"the run resumes from {newest.name}" if newest is not None else "no checkpoint yet"
            raise OSError(exc.errno, f"cannot write the {what} in {self.run_dir} ({exc.strerror or exc}); {resume}: "
                                     f"free space or fix the directory, then run again with --resume") from None

    @staticmethod
    @contextlib.contextmanager
    def restoring(ckpt: Checkpoint) -> Iterator[None]:
        """Turn a checkpoint whose state does not restore (a missing key, a value of the wrong kind) into one
        ``CheckpointError`` line that names it and how to resume from an older one."""
        try:
            yield
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
            if isinstance(exc, CheckpointError):
                raise
            what = f"missing {exc}" if isinstance(exc, KeyError) else " ".join(str(exc).split())[:200]
            raise CheckpointError(f"checkpoint {ckpt.path} cannot be restored ({type(exc).__name__}: {what}); resume "
                                  f"from an older one by moving this one out of {ckpt.path.parent}") from None

    def check_space(self) -> None:
        """Refuse to start an iteration whose output (about what the last one wrote) would not fit on the disk:
        better than losing its work to a full disk at the end."""
        need = 2 * self.bytes_per_iteration
        free = shutil.disk_usage(self.run_dir).free
        if need and free < need:
            raise OSError(errno.ENOSPC, f"only {free / 1e6:.1f} MB free in {self.run_dir}, and an iteration writes "
                                        f"about {need / 2e6:.1f} MB: free space, then run again with --resume")

    def append_metrics(self, metrics: Mapping[str, Any]) -> None:
        with self.writing("metrics line"), open(self.run_dir / METRICS_FILE, "a", encoding="utf-8") as f:
            f.write(json.dumps(dict(metrics), sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def save_episodes(self, i: int, table: EpisodeTable) -> None:
        """Iteration ``i``'s episodes with their traces as Parquet (atomic; a redone iteration replaces its file)."""
        from zeroforge.data.parquet import save_parquet  # pyarrow only where episodes are written

        with self.writing("episode file"):
            folder = self.run_dir / EPISODES_DIR
            folder.mkdir(parents=True, exist_ok=True)
            save_parquet(table, folder / f"iter_{i:06d}.parquet")

    def save_checkpoint(self, i: int, tensors: Mapping[str, Mapping[str, Any]], state: Mapping[str, Any],
                        keep: int, protect: Collection[int] = ()) -> None:
        """Write iteration ``i``'s checkpoint, then delete all but the newest ``keep`` ones and those in
        ``protect`` (the supervised phase's last checkpoint: the "supervised only" agent of a two-phase run)."""
        with self.writing("checkpoint"):
            save_checkpoint(self.run_dir, i, tensors, state)
            prune_checkpoints(self.run_dir, keep=keep, protect=protect)
        self._measure_output(i)

    def plot(self) -> None:
        from zeroforge.report import plot_learning_curve

        with self.writing("learning curve"):
            plot_learning_curve(self.run_dir / METRICS_FILE, self.run_dir / PLOT_FILE)

    def _measure_output(self, i: int) -> None:
        """Bytes the iteration ``i`` left on disk (checkpoint and episode file): the next one's estimate."""
        files = [*checkpoint_dir(self.run_dir, i).iterdir(), self.run_dir / EPISODES_DIR / f"iter_{i:06d}.parquet"]
        self.bytes_per_iteration = sum(f.stat().st_size for f in files if f.is_file())

    def _truncate_metrics(self, next_iteration: int) -> list[dict[str, Any]]:
        """Keep the metrics lines of iterations before ``next_iteration`` (a crash may have left later ones, or
        half a line, that the resumed run writes again); returns their records in order."""
        path = self.run_dir / METRICS_FILE
        kept: dict[int, MetricsLine] = {}  # iteration -> its line (the first one, should a line be repeated)
        for line in scan_metrics(path) if path.exists() else []:
            if line.problem is not None and line.record is None:
                warnings.warn(f"{path}:{line.number}: dropping {line.problem}", RuntimeWarning, stacklevel=3)
            it = line.iteration
            if it is not None and 0 <= it < next_iteration and it not in kept:
                kept[it] = line
        missing = sorted(set(range(next_iteration)) - set(kept))
        if missing:
            warnings.warn(f"{path}: no readable line for iterations {missing[:10]}{' ...' if len(missing) > 10 else ''}"
                          f" (the checkpoint goes on from iteration {next_iteration})", RuntimeWarning, stacklevel=3)
        write_text_atomic(path, "".join(kept[k].text + "\n" for k in sorted(kept)))
        return [kept[k].record for k in sorted(kept)]  # type: ignore[misc]


def _config_diff(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for k in sorted(set(a) | set(b)):
        name = f"{prefix}{k}"
        if isinstance(a.get(k), dict) and isinstance(b.get(k), dict) and k != "params":
            out += _config_diff(a[k], b[k], name + ".")
        elif a.get(k) != b.get(k) and name != "iterations":
            out.append(name)
    return out


class FollowerRunState(RunState):
    """The run directory as a data-parallel rank other than 0 sees it: it reads the checkpoint to resume from (after
    rank 0 has opened the directory) and writes nothing; rank 0 is the run's only writer."""

    def open(self, config: ZeroforgeConfig, resume: bool) -> tuple[Checkpoint | None, list[dict[str, Any]]]:
        if resume and (found := latest_checkpoint(self.run_dir)) is not None:
            ckpt = load_checkpoint(found)
            next_iteration = ckpt.field("next_iteration", int)
            from zeroforge.report import read_metrics

            history = [m for m in read_metrics(self.run_dir / METRICS_FILE) if m.get("iteration", -1) < next_iteration]
            return ckpt, history
        return None, []

    def check_space(self) -> None:
        pass

    def append_metrics(self, metrics: Mapping[str, Any]) -> None:
        pass

    def save_episodes(self, i: int, table: EpisodeTable) -> None:
        pass

    def save_checkpoint(self, i: int, tensors: Mapping[str, Mapping[str, Any]], state: Mapping[str, Any],
                        keep: int, protect: Collection[int] = ()) -> None:
        pass

    def plot(self) -> None:
        pass
