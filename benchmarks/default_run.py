"""The full default run (what `make run` trains), timed, then its agent checked for perfect play.

Prints JSON lines: wall time of the run and, for the agent it leaves, the final positions reached
against every optimal reply of a perfect player (as first and as second player): losses must be 0.

    python benchmarks/default_run.py [--run-dir DIR] [--config configs/default.yaml]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import zeroforge
from zeroforge.arena.evaluation import perfect_play_check
from zeroforge.config import load_config
from zeroforge.trainer import SelfPlayTrainer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(Path(__file__).resolve().parents[1] / "configs" / "default.yaml"))
    ap.add_argument("--run-dir", default=None, help="default: a fresh temporary directory")
    args = ap.parse_args()
    run_dir = Path(args.run_dir) if args.run_dir else Path(tempfile.mkdtemp(prefix="zeroforge-default-"))
    cfg = load_config(args.config)
    start = time.perf_counter()
    SelfPlayTrainer(cfg, run_dir).run()
    wall = time.perf_counter() - start
    print(json.dumps({"name": "default_run_wall_time", "value": round(wall, 2), "unit": "s",
                      "iterations": cfg.iterations, "run_dir": str(run_dir)}))
    agent = zeroforge.load_agent(run_dir)
    report = perfect_play_check(agent.task, agent)
    for key in ("losses", "draws", "wins"):
        print(json.dumps({"name": f"default_agent_vs_perfect_{key}", "value": getattr(report, key),
                          "unit": "final positions (every optimal reply, both seats)",
                          "agent_simulations": agent.num_simulations}))


if __name__ == "__main__":
    main()
