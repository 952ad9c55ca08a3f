"""Episode storage: bytes per stored episode with its traces, and a 10k-episode buffer's memory.

Generates real tic-tac-toe and connect four episodes (uniform evaluator, ``--simulations`` per move, one
MCTSTrace per move) and prints one JSON object per figure (``name``, ``value``, ``unit``; ``reference``
and ``ratio`` where a reference was measured in the same run, ``ratio`` always oriented so that higher
is better, ``note`` saying how). The byte reference is the same episodes pickled (``pickle.dumps`` of the
list of ``SelfPlayEpisode`` objects, divided by their number). Issue targets: at most 10 KB per stored
episode; a 10k-episode buffer under its byte bound and under 150 MB resident.

To keep the run short, ``--episodes`` distinct episodes are generated per task and then cycled (fresh
array copies each time) to fill the ``--buffer-episodes`` buffer. Resident memory is read from
``/proc/self/status`` in a fresh process that loads the buffer from Parquet: once after its imports and
a warm-up load of a small file (pyarrow loads much of its code lazily), and again while holding the
buffer. The whole process's figure includes torch, which the ``zeroforge`` package imports; the
increment is the buffer's own. The reference is a fresh process holding the same number of episodes as
unpickled ``SelfPlayEpisode`` objects.

``--root-policy gumbel`` stores Gumbel episodes instead (every move with its improved policy as policy target).

    python benchmarks/episode_storage.py [--episodes 200] [--buffer-episodes 10000] [--simulations 16]
                                         [--root-policy puct|gumbel]
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from zeroforge.config import MCTSConfig
from zeroforge.data.buffer import EpisodeBuffer
from zeroforge.data.parquet import save_parquet
from zeroforge.data.table import EpisodeTable
from zeroforge.search.evaluator import UniformEvaluator
from zeroforge.selfplay.episode import SelfPlayEpisode
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator
from zeroforge.tasks import make_task

TARGET_BYTES_PER_EPISODE = 10_000
TARGET_RSS_MB = 150
MB = 1024 * 1024

#: run in a fresh process: import, measure VmRSS, hold the episodes, measure again
_HOLD = """
import json, pickle, sys
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
from zeroforge.data.parquet import load_parquet
if sys.argv[1] == "buffer":  # warm up: pyarrow's lazily loaded code belongs to the baseline, not the buffer
    load_parquet(sys.argv[4], int(sys.argv[3]))
base = status("VmRSS")
if sys.argv[1] == "buffer":
    held = load_parquet(sys.argv[2], int(sys.argv[3]))
    extra = {"episodes": len(held), "nbytes": held.nbytes}
else:
    data = open(sys.argv[2], "rb").read()
    held = [ep for _ in range(int(sys.argv[3])) for ep in pickle.loads(data)]
    extra = {"episodes": len(held)}
print(json.dumps({"base": base, "rss": status("VmRSS"), "hwm": status("VmHWM"), **extra}))
"""


def emit(name: str, value: float, unit: str, reference: float | None = None, higher_is_better: bool = True,
         **extra: object) -> None:
    row: dict[str, object] = {"name": name, "value": round(value, 4), "unit": unit}
    if reference is not None:
        row["reference"] = round(reference, 4)
        row["ratio"] = round(value / reference if higher_is_better else reference / value, 3)
        if not higher_is_better:
            row["note"] = "ratio = reference / value (higher is better)"
    row.update(extra)
    print(json.dumps(row), flush=True)


def generate(task_name: str, count: int, sims: int, root_policy: str = "puct") -> list[SelfPlayEpisode]:
    task = make_task(task_name)
    gen = SelfPlayEpisodeGenerator(task, UniformEvaluator(), MCTSConfig(num_simulations=sims, root_policy=root_policy))
    return gen.generate(range(count), np.random.default_rng(0))


def hold_in_fresh_process(kind: str, path: Path, arg: int, warm: Path | None = None) -> dict[str, int]:
    out = subprocess.run([sys.executable, "-c", _HOLD, kind, str(path), str(arg), str(warm)], capture_output=True,
                         text=True, check=True)
    result: dict[str, int] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def bytes_per_episode(short: str, eps: list[SelfPlayEpisode], table: EpisodeTable, workdir: Path) -> None:
    n = len(eps)
    pickled = len(pickle.dumps(eps, protocol=pickle.HIGHEST_PROTOCOL)) / n
    emit(f"{short}_bytes_per_episode_in_memory", table.nbytes / n, "bytes/episode", pickled, higher_is_better=False,
         target=TARGET_BYTES_PER_EPISODE, moves_per_episode=round(table.num_moves / n, 2))
    buf = EpisodeBuffer(10 * table.nbytes)
    buf.add(table)
    path = workdir / f"{short}_{n}.parquet"
    save_parquet(buf, path)
    emit(f"{short}_bytes_per_episode_parquet", path.stat().st_size / n, "bytes/episode", pickled,
         higher_is_better=False, target=TARGET_BYTES_PER_EPISODE)


def fill(table: EpisodeTable, buffer: EpisodeBuffer, count: int) -> tuple[float, int]:
    """Add ``count`` episodes to ``buffer`` by cycling ``table`` (fresh copies); (seconds, max nbytes seen)."""
    start, peak, added = time.perf_counter(), 0, 0
    while added < count:
        k = min(len(table), count - added)
        buffer.add(table.select(0, k))
        added += k
        peak = max(peak, buffer.nbytes)
    return time.perf_counter() - start, peak


def big_buffer(short: str, eps: list[SelfPlayEpisode], table: EpisodeTable, count: int, workdir: Path) -> None:
    bound = TARGET_BYTES_PER_EPISODE * count
    buf = EpisodeBuffer(bound)
    seconds, peak = fill(table, buf, count)
    emit(f"{short}_buffer_{count}_nbytes", buf.nbytes / MB, "MB", bound=round(bound / MB, 3),
         under_bound=peak <= bound, episodes_held=len(buf))
    emit(f"{short}_buffer_add_rate", count / seconds, "episodes/s (copy + add, no conversion)")
    evicting = EpisodeBuffer(buf.nbytes // 4)  # a quarter of what the full buffer holds: evicts
    _, peak = fill(table, evicting, count)
    emit(f"{short}_evicting_buffer_max_nbytes", peak / MB, "MB", bound=round(evicting.max_bytes / MB, 3),
         under_bound=peak <= evicting.max_bytes, episodes_held=len(evicting), episodes_evicted=evicting.total_evicted)
    path = workdir / f"{short}_{count}.parquet"
    save_parquet(buf, path)
    emit(f"{short}_buffer_{count}_parquet_file", path.stat().st_size / MB, "MB")
    ours = hold_in_fresh_process("buffer", path, bound, warm=workdir / f"{short}_{len(eps)}.parquet")
    pickled = workdir / f"{short}.pkl"
    pickled.write_bytes(pickle.dumps(eps, protocol=pickle.HIGHEST_PROTOCOL))
    ref = hold_in_fresh_process("objects", pickled, count // len(eps))
    emit(f"{short}_rss_process_holding_{count}_buffer", ours["rss"] / MB, "MB", target=TARGET_RSS_MB,
         baseline_after_imports=round(ours["base"] / MB, 1), peak=round(ours["hwm"] / MB, 1),
         note="whole process; the baseline is the interpreter, numpy, pyarrow (warmed up by loading a small file) "
              "and torch (imported by the zeroforge package)")
    emit(f"{short}_rss_increment_holding_{count}_buffer", (ours["rss"] - ours["base"]) / MB, "MB",
         (ref["rss"] - ref["base"]) / MB * count / ref["episodes"], higher_is_better=False, target=TARGET_RSS_MB,
         reference_is=f"RSS increment of {ref['episodes']} unpickled SelfPlayEpisode objects, scaled to {count}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=200, help="distinct episodes generated per task")
    ap.add_argument("--buffer-episodes", type=int, default=10_000)
    ap.add_argument("--simulations", type=int, default=16)
    ap.add_argument("--root-policy", choices=("puct", "gumbel"), default="puct")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for task_name, short in (("tictactoe", "ttt"), ("connect_four", "c4")):
            start = time.perf_counter()
            eps = generate(task_name, args.episodes, args.simulations, args.root_policy)
            emit(f"{short}_generation_time", time.perf_counter() - start, f"s for {args.episodes} episodes")
            start = time.perf_counter()
            table = EpisodeTable.from_episodes(eps, make_task(task_name).vocab_size)
            emit(f"{short}_conversion_rate", len(eps) / (time.perf_counter() - start), "episodes/s (from_episodes)")
            bytes_per_episode(short, eps, table, workdir)
            big_buffer(short, eps, table, args.buffer_episodes, workdir)


if __name__ == "__main__":
    main()
