"""Two training runs side by side on the same cores: each must keep >= 0.4x of a solo run's throughput.

Trains ``--config`` (default: the knapsack preset, whose self-play is dominated by short compiled search loops)
for ``--iterations`` iterations alone, then twice at the same time (two ``zeroforge train`` processes, the
second with another seed), and compares the seconds per iteration (the first iteration, which compiles and
warms up, is left out). With threads that spin-wait (numba's pool on 2 cores) each concurrent run was 5-6x
slower than alone; the ratio is ``solo / concurrent`` seconds per iteration, one line per concurrent run.

    python benchmarks/concurrent_runs.py [--config configs/knapsack.yaml] [--iterations 4] [--set key=value ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    from _common import emit
except ImportError:  # run as a module from the repository root
    from benchmarks._common import emit

REPO = Path(__file__).resolve().parents[1]


def _command(config: str, iterations: int, run_dir: Path, seed: int, sets: list[str]) -> list[str]:
    fixed = [f"iterations={iterations}", f"seed={seed}", "arena.heldout_episodes=0", "arena.anchors=[]",
             "selfplay.save_episodes=false", *sets]
    return [sys.executable, "-m", "zeroforge", "train", "--config", config, "--run-dir", str(run_dir), "--quiet",
            *[x for s in fixed for x in ("--set", s)]]


def _seconds_per_iteration(run_dir: Path) -> float:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    timed = [r["iteration_seconds"] for r in rows[1:]] or [rows[0]["iteration_seconds"]]
    return sum(timed) / len(timed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(REPO / "configs" / "knapsack.yaml"))
    ap.add_argument("--iterations", type=int, default=4)
    ap.add_argument("--set", dest="sets", action="append", default=[], help="extra config override")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        subprocess.run(_command(args.config, args.iterations, root / "solo", 0, args.sets), check=True, cwd=REPO)
        solo = _seconds_per_iteration(root / "solo")
        procs = [subprocess.Popen(_command(args.config, args.iterations, root / f"pair{k}", k, args.sets), cwd=REPO)
                 for k in range(2)]
        for p in procs:
            if p.wait() != 0:
                raise SystemExit(f"a concurrent run failed with exit code {p.returncode}")
        name = Path(args.config).stem
        emit(f"{name}_solo_seconds_per_iteration", solo, "s", higher_is_better=False)
        for k in range(2):
            pair = _seconds_per_iteration(root / f"pair{k}")
            emit(f"{name}_concurrent_run{k}_iteration_throughput", 1 / pair, "iterations/s", 1 / solo,
                 note="ratio = this run's throughput beside another run / a solo run's (goal >= 0.4)")


if __name__ == "__main__":
    main()
