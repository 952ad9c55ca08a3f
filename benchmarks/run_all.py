"""Run every speed and memory benchmark, one after the other, and pass their JSON lines through.

    python benchmarks/run_all.py [--quick]

Each benchmark prints one JSON object per figure (``name``, ``value``, ``unit``; ``reference`` and ``ratio``
where it measured a reference in the same run). A benchmark that fails prints
``{"name": "<script>", "error": ...}`` and the others still run; the exit status is then 1.
``--quick`` passes each script its short settings (for a smoke check, not for figures).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: script -> arguments of its quick run
BENCHMARKS: dict[str, list[str]] = {
    "search_speed.py": ["--roots", "64", "--simulations", "16", "--seconds", "0.5"],
    "selfplay_speed.py": ["--episodes", "50", "--reference-episodes", "5"],
    "workers_speed.py": ["--episodes", "16"],
    "episode_storage.py": ["--episodes", "200"],
    "replay_buffer.py": ["--positions", "20000", "--episodes", "100"],
    "concurrent_runs.py": ["--iterations", "2"],
    "size_free.py": ["--quick"],
    "ddp_speed.py": ["--steps", "3"],
}
# not here: ray_speed.py and inference_server.py need the ``ray`` extra (run them on their own)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short settings (smoke check)")
    args = ap.parse_args()
    failed = False
    for script, quick in BENCHMARKS.items():
        cmd = [sys.executable, str(HERE / script), *(quick if args.quick else [])]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent)
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                print(line, flush=True)
        if proc.returncode != 0:
            failed = True
            tail = proc.stderr.strip().splitlines()[-1:] or ["(no message)"]
            print(json.dumps({"name": script, "error": f"exit {proc.returncode}: {tail[0]}"}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
