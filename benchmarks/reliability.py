"""kill -9 at any moment: SIGKILL ``zeroforge train`` again and again, resume each time, and check that nothing is
lost or corrupted and that the finished run equals one never killed.

Each cycle starts ``zeroforge train --resume`` (the first without ``--resume``) and kills it with SIGKILL, either
at a chosen point inside a phase or at a random moment from outside:

- ``selfplay``: on the n-th net evaluation of self-play (in-process self-play), or a random moment while the
  workers play (``num_workers`` 2);
- ``train``: on the n-th optimiser step;
- ``checkpoint``: half-way through writing the n-th checkpoint file (the file cut in two);
- ``episodes``: half-way through the Parquet episode file (after its first row group);
- ``metrics``: right after half a metrics line is written;
- ``random``: a uniformly random moment of the next seconds, from outside.

The chosen points are reached by a small driver that wraps one function of zeroforge or torch in the child
process and calls ``os.kill(os.getpid(), SIGKILL)`` there: a real SIGKILL, no clean-up runs. After each kill:
every checkpoint verifies, the newest one is at most one iteration behind the metrics (the interrupted
iteration), and no process of the run is left (workers and the fork server die with their parent). At the
end the run finishes; ``metrics.jsonl`` parses with unique contiguous iterations and the final weights (best and
candidate nets, optimiser state) equal, bit for bit, those of a reference run with the same seed that was
never killed.

    python benchmarks/reliability.py [--kills 20] [--workers 0 2] [--seed 0]

Prints one JSON line per setting (kills survived / tried) and exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

try:
    from _common import emit
except ImportError:  # run as a module from the repository root
    from benchmarks._common import emit

from zeroforge.checkpoint import CheckpointError, list_checkpoints, load_checkpoint, verify_checkpoint

REPO = Path(__file__).resolve().parents[1]
POINTS = ("selfplay", "train", "checkpoint", "episodes", "metrics", "random")

#: a small tic-tac-toe run: an iteration takes about a second on one core
SETTINGS = ["selfplay.games_per_iteration=24", "selfplay.parallel_batch_size=12", "mcts.num_simulations=12",
            "train.steps_per_iteration=20", "train.batch_size=32", "arena.anchors=[random]", "arena.anchor_games=2",
            "arena.num_simulations=4", "agent_simulations=4", "keep_checkpoints=2"]

DRIVER = textwrap.dedent('''
    """Run the zeroforge CLI, SIGKILLing this process at the n-th call of one wrapped function."""
    import os, signal, sys


    def _drive():
        point, nth = sys.argv[1], int(sys.argv[2])
        calls = [0]

        def die():
            os.kill(os.getpid(), signal.SIGKILL)

        def wrap(owner, name, before=None):
            real = getattr(owner, name)

            def wrapper(*args, **kwargs):
                calls[0] += 1
                if calls[0] == nth:
                    if before is not None:
                        before(*args, **kwargs)
                    die()
                return real(*args, **kwargs)

            setattr(owner, name, wrapper)

        if point == "selfplay":
            from zeroforge.search.evaluator import NetworkEvaluator
            wrap(NetworkEvaluator, "evaluate")
        elif point == "train":
            import torch
            wrap(torch.optim.AdamW, "step")
        elif point == "checkpoint":
            import zeroforge.checkpoint as ck

            def half(path, data):
                with open(path, "wb") as f:
                    f.write(data[: len(data) // 2])
                    f.flush()
            wrap(ck, "_write_file", half)
        elif point == "episodes":
            import pyarrow.parquet as pq
            real_write = pq.ParquetWriter.write_table

            def write_then_die(self, table, *a, **k):
                real_write(self, table, *a, **k)
                calls[0] += 1
                if calls[0] >= nth:
                    die()
            pq.ParquetWriter.write_table = write_then_die
        elif point == "metrics":
            import zeroforge.runstate as rs
            import json

            def torn(self, metrics):
                with open(self.run_dir / rs.METRICS_FILE, "a", encoding="utf-8") as f:
                    line = json.dumps(metrics, sort_keys=True)
                    f.write(line[: len(line) // 2])
                    f.flush()
            wrap(rs.RunState, "append_metrics", torn)
        from zeroforge.cli import main
        main(sys.argv[3:])



    if __name__ == "__main__":  # not in a worker process, which imports this script as its main module
        _drive()
''')


@dataclass
class Outcome:
    """What one setting's kill cycles found."""

    kills: int = 0
    survived: int = 0
    problems: list[str] = field(default_factory=list)
    points: dict[str, int] = field(default_factory=dict)


def _command(driver: Path, run: Path, iterations: int, seed: int, workers: int, resume: bool, point: str,
             nth: int) -> list[str]:
    sets = [*SETTINGS, f"iterations={iterations}", f"seed={seed}", f"selfplay.num_workers={workers}"]
    args = ["train", "--run-dir", str(run), "--quiet", *[x for s in sets for x in ("--set", s)]]
    if resume:
        args.append("--resume")
    return [sys.executable, str(driver), point, str(nth), *args]


def _metrics_iterations(run: Path) -> list[int]:
    path = run / "metrics.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            out.append(int(json.loads(line)["iteration"]))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def _group_alive(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                pids.append(int(entry.name))
    return pids


def _final_weights(run: Path) -> dict[str, torch.Tensor]:
    ckpt = load_checkpoint(list_checkpoints(run)[-1])
    return {f"{entry}/{k}": v for entry, tensors in ckpt.tensors.items() for k, v in tensors.items()}


def _check_after_kill(run: Path, out: Outcome, label: str) -> None:
    for path in list_checkpoints(run):
        try:
            verify_checkpoint(path)
        except CheckpointError as exc:
            out.problems.append(f"{label}: corrupt checkpoint left: {exc}")
    ckpts = list_checkpoints(run)
    newest = int(ckpts[-1].name.split("_")[1]) if ckpts else -1
    its = _metrics_iterations(run)
    if its and max(its) - newest > 1:
        out.problems.append(f"{label}: metrics reach {max(its)} but the newest checkpoint is {newest}")


def run_setting(workers: int, kills: int, seed: int, iterations: int, rng: random.Random, root: Path,
                driver: Path) -> Outcome:
    """``kills`` kill cycles of one run with ``workers`` self-play workers, then the comparison with a reference."""
    out = Outcome()
    ref = root / f"reference-w{workers}"
    res = subprocess.run(_command(driver, ref, iterations, seed, workers, False, "none", 0), capture_output=True,
                         text=True, cwd=REPO)
    if res.returncode != 0:
        out.problems.append(f"reference run failed: {res.stderr.strip()[-300:]}")
        return out
    run = root / f"killed-w{workers}"
    points = [p for p in POINTS if not (workers and p == "selfplay")]  # self-play runs in the workers
    for k in range(kills):
        point = points[k % len(points)]
        nth = {"selfplay": rng.randint(1, 400), "train": rng.randint(1, 40), "checkpoint": rng.randint(1, 12),
               "episodes": 1, "metrics": 1, "random": 0}[point]
        cmd = _command(driver, run, iterations, seed, workers, run.exists(), point, nth)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO,
                                start_new_session=True)
        if point == "random":
            time.sleep(rng.uniform(0.5, 4.0))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)  # the main process only, as a user's kill -9 would
        try:
            proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            out.problems.append(f"kill {k} ({point}): the run did not end")
        label = f"kill {k} ({point} #{nth})"
        if proc.returncode == 0:  # the run finished before the kill point came: start over isn't needed
            out.problems.append(f"{label}: finished before the kill (raise --iterations)")
            break
        if proc.returncode != -signal.SIGKILL:
            err = proc.stderr.read().strip() if proc.stderr else ""
            out.problems.append(f"{label}: exit code {proc.returncode}: {err[-300:]}")
            continue
        out.kills += 1
        out.points[point] = out.points.get(point, 0) + 1
        deadline = time.monotonic() + 10
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = _group_alive(proc.pid)
        if left:
            out.problems.append(f"{label}: processes left behind: {left}")
            for pid in left:
                os.kill(pid, signal.SIGKILL)
        before = len(out.problems)
        _check_after_kill(run, out, label)
        out.survived += len(out.problems) == before
    res = subprocess.run(_command(driver, run, iterations, seed, workers, True, "none", 0), capture_output=True,
                         text=True, cwd=REPO)
    if res.returncode != 0:
        out.problems.append(f"the final resume failed: {res.stderr.strip()[-300:]}")
        return out
    its = _metrics_iterations(run)
    if its != list(range(iterations)):
        out.problems.append(f"metrics iterations {its} are not 0..{iterations - 1}, unique and contiguous")
    a, b = _final_weights(ref), _final_weights(run)
    if a.keys() != b.keys() or any(not torch.equal(a[k], b[k]) for k in a):
        diff = sorted(k for k in a.keys() & b.keys() if not torch.equal(a[k], b[k]))
        out.problems.append(f"final weights differ from the never-killed run in {diff[:5]}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=20, help="kills per setting")
    ap.add_argument("--workers", type=int, nargs="+", default=[0, 2], help="selfplay.num_workers settings")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--iterations", type=int, default=0, help="run length (default: enough for the kills)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        driver = Path(tmp) / "kill_driver.py"
        driver.write_text(DRIVER)
        for workers in args.workers:
            iterations = args.iterations or args.kills + 4
            start = time.perf_counter()
            out = run_setting(workers, args.kills, args.seed, iterations, rng, Path(tmp), driver)
            emit(f"sigkill_survived_workers{workers}", out.survived, f"of {out.kills} kills",
                 note=f"points {out.points}; {time.perf_counter() - start:.0f} s"
                      + (f"; problems: {out.problems}" if out.problems else "; final weights equal the reference"))
            failed |= bool(out.problems) or out.kills < args.kills
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
