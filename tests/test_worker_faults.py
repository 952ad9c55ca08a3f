"""Worker faults beyond a clean death: a worker stopped by SIGSTOP (it hangs, its pipe stays open) is caught by
its silent heartbeat, killed and replaced; the episodes stay exactly those of an undisturbed run. Closing a
pool in the middle of a ``generate`` (Ctrl-C) leaves no process behind, quickly."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from test_workers import KEY, NET_A, assert_same, pool, reference
from zeroforge.data.table import EpisodeTable


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie still answers kill(pid, 0): it is gone once its state is Z or X
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def test_a_stopped_worker_is_detected_by_its_heartbeat_and_replaced() -> None:
    stopped: list[int] = []

    def stop_one(_: EpisodeTable) -> None:
        if not stopped:
            pid = p.worker_pids[1]
            os.kill(pid, signal.SIGSTOP)  # hangs: no death for the sentinel, no end of pipe
            stopped.append(pid)
            watchdog.start()  # should the heartbeat miss it, a kill ends the hang and the asserts below fail

    watchdog = threading.Timer(30.0, lambda: _gone(stopped[0]) or os.kill(stopped[0], signal.SIGKILL))
    watchdog.daemon = True

    with pool(2, heartbeat_timeout_s=2.0) as p:
        start = time.monotonic()
        got = p.generate(range(24), key=KEY, on_chunk=stop_one)
        took = time.monotonic() - start
        watchdog.cancel()
        assert stopped and p.hung_workers == 1 and stopped[0] not in p.worker_pids
        assert p.last_stats is not None and p.last_stats.restarts == 1
    assert _gone(stopped[0])
    assert_same(got, reference(NET_A, range(24)))  # exactly one episode per seed, as if nothing happened
    assert took < 60  # bounded: the 2 s heartbeat timeout, not forever


def test_heartbeat_timeout_must_exceed_two_beats() -> None:
    with pytest.raises(ValueError, match=r"heartbeat_timeout_s must be > 1\.0"):
        pool(2, heartbeat_timeout_s=0.5)


def test_close_in_the_middle_of_a_generate_stops_every_process_at_once() -> None:
    """Ctrl-C arrives while both workers play: closing must not wait for their chunks (nor 5 s each)."""
    p = pool(2, inference="server")
    assert p.server is not None and p.server.pid is not None
    pids = [*p.worker_pids, p.server.pid]
    interrupted = threading.Event()

    def interrupt(_: EpisodeTable) -> None:
        interrupted.set()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        p.generate(range(400), key=KEY, on_chunk=interrupt)
    assert interrupted.is_set()
    start = time.monotonic()
    p.close()
    assert time.monotonic() - start < 8.0
    assert all(_gone(pid) for pid in pids)
