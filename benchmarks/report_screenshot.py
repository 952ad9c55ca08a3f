"""A screenshot of a run's HTML report (``zeroforge report``) for the README: headless Chromium (Debian's
``chromium``; ``make browser`` installs it) opens ``RUN/report.html#episode=K&step=T`` and saves the window as a PNG.

    python benchmarks/report_screenshot.py --run-dir RUN [--episode 0] [--step 2] [--out docs/images/report.png]
    python benchmarks/report_screenshot.py --run-dir runs/report-demo --train   # a tiny tic-tac-toe run first

``--train`` first trains the tests' tiny tic-tac-toe run (two iterations of 8 games, episodes saved; seconds) into
``--run-dir`` unless it already holds metrics. Not a benchmark (``run_all.py`` does not run it): a tool beside them.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from zeroforge.html_report import write_report

#: tests/conftest.py's TINY_RUN with two iterations: a run that trains in seconds and has episodes to show
TINY_TICTACTOE = ["iterations=2", "selfplay.games_per_iteration=8", "selfplay.parallel_batch_size=8",
                  "mcts.num_simulations=4", "train.steps_per_iteration=2", "train.batch_size=16",
                  "arena.anchors=[random]", "arena.anchor_games=2", "arena.num_simulations=2",
                  "arena.heldout_episodes=2", "agent_simulations=4", "selfplay.save_episodes=true"]


def train_tiny(run_dir: Path) -> None:
    from zeroforge.config import load_config
    from zeroforge.trainer import SelfPlayTrainer

    SelfPlayTrainer(load_config(None, TINY_TICTACTOE), run_dir).run()


def screenshot(page: Path, out: Path, fragment: str, window: str) -> Path:
    """Save Chromium's rendering of ``page`` + ``fragment`` in a ``window`` ("W,H") to ``out``."""
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed: run `make browser`")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="report-screenshot-") as profile:
        cmd = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
               "--no-first-run", "--hide-scrollbars", "--virtual-time-budget=3000", f"--window-size={window}",
               f"--screenshot={out.resolve()}", page.resolve().as_uri() + fragment]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if res.returncode != 0 or not out.is_file():
        raise SystemExit(f"chromium failed ({res.returncode}): {res.stderr.strip().splitlines()[-1:]}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run-dir", type=Path, required=True, help="the run whose report is shown")
    ap.add_argument("--train", action="store_true", help="train the tiny tic-tac-toe run there first (if none)")
    ap.add_argument("--episode", type=int, default=0, help="episode of the viewer's list (default: 0)")
    ap.add_argument("--step", type=int, default=2, help="step of that episode (default: 2)")
    ap.add_argument("--window-size", default="1280,1600", help="browser window W,H in pixels (default: 1280,1600)")
    ap.add_argument("--out", type=Path, default=Path("docs/images/report.png"), help="the PNG written")
    args = ap.parse_args()
    if args.train and not (args.run_dir / "metrics.jsonl").is_file():
        train_tiny(args.run_dir)
    page = write_report(args.run_dir)
    out = screenshot(page, args.out, f"#episode={args.episode}&step={args.step}", args.window_size)
    print(f"{out} ({out.stat().st_size / 1024:.0f} KiB) from {page}", file=sys.stderr)


if __name__ == "__main__":
    main()
