"""Ctrl-C (SIGINT) and SIGTERM stop ``zeroforge train`` cleanly in any phase: within 10 s, with exit code 130 /
143 and one line on stderr, every worker process and the inference server gone (the run is started in a
process group of its own, which must be empty afterwards), and a run that ``--resume`` finishes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proc_table import processes
from zeroforge.checkpoint import list_checkpoints

SETS = ["selfplay.games_per_iteration=32", "selfplay.parallel_batch_size=16", "mcts.num_simulations=16",
        "train.steps_per_iteration=60", "train.batch_size=64", "arena.anchors=[random]", "arena.anchor_games=4",
        "arena.num_simulations=4", "agent_simulations=4"]


def _train(run: Path, *extra: str) -> list[str]:
    sets = [*SETS, *extra]
    return [sys.executable, "-m", "zeroforge", "train", "--run-dir", str(run), "--quiet",
            *[x for s in sets for x in ("--set", s)]]


def _group_empty(pgid: int) -> bool:
    """No process left in the group but zombies (which the test's own wait reaps)."""
    return all(p.pgid != pgid or p.state in ("Z", "X") for p in processes())


def _signals(pid: int) -> str:
    """The signal masks of ``pid`` (blocked, ignored, caught), for a failure message."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return "gone"
    return " ".join(ln.replace("\t", "") for ln in lines if ln.startswith(("State", "SigBlk", "SigIgn", "SigCgt")))


def _wait_for(predicate: object, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize(("sig", "code", "workers", "phase"), [
    (signal.SIGINT, 130, 0, "self-play"),
    (signal.SIGTERM, 143, 0, "training"),
    (signal.SIGINT, 130, 2, "self-play"),  # workers busy with chunks
    (signal.SIGTERM, 143, 2, "training"),  # idle workers and the inference server
    (signal.SIGTERM, 143, -2, "self-play"),  # 2 Ray actors busy with chunks (Ray installs a SIGTERM handler)
])
def test_signal_stops_cleanly_and_the_run_resumes(tmp_path: Path, sig: int, code: int, workers: int,
                                                  phase: str) -> None:
    run = tmp_path / "run"
    extra = [f"selfplay.num_workers={abs(workers)}", "iterations=40"]
    if workers < 0:
        pytest.importorskip("ray")
        extra += ["selfplay.backend=ray", "selfplay.chunk_size=8"]
    elif workers:
        extra.append("selfplay.inference=server" if sig == signal.SIGTERM and phase == "training" else
                     "selfplay.chunk_size=8")
    proc = subprocess.Popen(_train(run, *extra), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group: workers and servers included
    try:
        assert _wait_for(lambda: len(list_checkpoints(run)) >= 1 or proc.poll() is not None, 120)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        if phase == "self-play":  # just after a checkpoint: the next iteration's self-play has begun
            time.sleep(0.3)
        else:  # training comes after the iteration's episodes are written
            n = int(list_checkpoints(run)[-1].name.split("_")[1]) + 1
            assert _wait_for(lambda: (run / "episodes" / f"iter_{n:06d}.parquet").exists(), 60)
            time.sleep(0.05)
        sent = time.monotonic()
        proc.send_signal(sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running 30 s after the signal: child {_signals(proc.pid)}, "
                                 f"test process {_signals(os.getpid())}") from None
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    err = proc.stderr.read() if proc.stderr else ""
    assert proc.returncode == code, err
    assert took < 10.0
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "continue with --resume" in lines[0], err
    assert _wait_for(lambda: _group_empty(proc.pid), 5.0), "processes left behind"
    done = int(list_checkpoints(run)[-1].name.split("_")[1]) + 1  # iterations finished before the signal
    same = [e for e in extra if not e.startswith("iterations=")]
    res = subprocess.run([*_train(run, *same, f"iterations={done + 1}"), "--resume"], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    its = [json.loads(x)["iteration"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert its == list(range(done + 1))


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_that_library_code_wraps_in_another_exception_still_ends_as_a_stop(
        sig: int, code: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A signal that lands while a class body is being created (as when matplotlib is first imported, right
    after the first checkpoint) reaches the CLI as ``RuntimeError("Error calling __set_name__ ...")`` on
    Python 3.11: it must still end as the stop, with its exit code and one line, not as a crash."""
    from zeroforge import cli

    def command(_: object) -> None:
        class Descriptor:
            def __set_name__(self, owner: type, name: str) -> None:
                os.kill(os.getpid(), sig)
                time.sleep(5)  # the handler raises inside this call

        class Owner:
            attr = Descriptor()

    monkeypatch.setattr(cli, "parse_args", lambda argv: (command, None))
    with pytest.raises(SystemExit) as info:
        cli.main(["train"])
    assert info.value.code == code
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "continue with --resume" in lines[0]
