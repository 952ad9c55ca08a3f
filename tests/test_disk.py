"""A run directory that cannot take more bytes: a file-size limit (RLIMIT_FSIZE), a full disk (a small tmpfs, where
this machine lets the test mount one) or a read-only directory gives one clear line, the newest checkpoint stays
intact, and once space is back ``--resume`` finishes the run with contiguous metrics."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from zeroforge.checkpoint import latest_checkpoint, list_checkpoints, verify_checkpoint
from zeroforge.doctor import check_run

SETS = ["net.hidden=32", "selfplay.games_per_iteration=64", "selfplay.parallel_batch_size=64", "mcts.num_simulations=4",
        "train.steps_per_iteration=2", "train.batch_size=16", "arena.anchors=[random]", "arena.anchor_games=2",
        "arena.num_simulations=2", "agent_simulations=2"]


def _train(run: Path, iterations: int, *extra: str) -> list[str]:
    sets = [*SETS, f"iterations={iterations}"]
    return [sys.executable, "-m", "zeroforge", "train", "--run-dir", str(run), "--quiet",
            *[x for s in sets for x in ("--set", s)], *extra]


def _one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def _iterations(run: Path) -> list[int]:
    return [json.loads(x)["iteration"] for x in (run / "metrics.jsonl").read_text().splitlines()]


def _resume_finishes(run: Path, iterations: int) -> None:
    res = subprocess.run(_train(run, iterations, "--resume"), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert _iterations(run) == list(range(iterations))
    assert check_run(run).errors == []


def test_file_size_limit_mid_run(tmp_path: Path) -> None:
    """Python ignores SIGXFSZ, so a write past RLIMIT_FSIZE fails with EFBIG; the replay buffer file outgrows
    the limit after a few iterations."""
    run = tmp_path / "run"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))  # the buffer grows ~53 kB an iteration

    res = subprocess.run(_train(run, 30), capture_output=True, text=True, timeout=300, preexec_fn=limit)
    line = _one_line(res.stderr)
    assert res.returncode == 2 and "File too large" in line and "--resume" in line, line
    newest = latest_checkpoint(run)
    assert newest is not None and f"resumes from {newest.name}" in line
    verify_checkpoint(newest)
    done = int(newest.name.split("_")[1]) + 1
    assert 1 <= done < 30
    _resume_finishes(run, done + 1)


@pytest.fixture
def small_tmpfs(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A tmpfs of ``size`` (parametrised indirectly; 1 MB: a checkpoint of these settings takes ~0.3 MB)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    size = getattr(request, "param", "1m")
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True)
    if res.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs CAP_SYS_ADMIN)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_full_disk_then_space_freed(small_tmpfs: Path) -> None:
    run = small_tmpfs / "run"
    res = subprocess.run(_train(run, 40), capture_output=True, text=True, timeout=300)
    line = _one_line(res.stderr)
    assert res.returncode == 2 and "free space" in line and "--resume" in line, line
    assert "No space left on device" in line or "MB free" in line
    newest = latest_checkpoint(run)
    assert newest is not None
    verify_checkpoint(newest)
    done = int(newest.name.split("_")[1]) + 1
    # space is back: a bigger disk under the same path
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_tmpfs)], check=True, capture_output=True)
    _resume_finishes(run, done + 1)


@pytest.mark.parametrize("small_tmpfs", ["32m"], indirect=True)
def test_read_only_run_directory_is_refused_before_any_work(small_tmpfs: Path) -> None:
    run = small_tmpfs / "run"
    first = subprocess.run(_train(run, 1), capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    before = {p.name: sorted(q.name for q in p.iterdir()) for p in list_checkpoints(run)}
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True, capture_output=True)
    res = subprocess.run(_train(run, 3, "--resume"), capture_output=True, text=True, timeout=300)
    line = _one_line(res.stderr)
    assert res.returncode == 2 and "Read-only file system" in line and "cannot write the run directory" in line
    assert {p.name: sorted(q.name for q in p.iterdir()) for p in list_checkpoints(run)} == before
    subprocess.run(["mount", "-o", "remount,rw", str(small_tmpfs)], check=True, capture_output=True)
    _resume_finishes(run, 3)
