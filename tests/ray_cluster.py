"""A Ray cluster of two nodes on this machine, started as a user starts one (``ray start --head`` and ``ray start
--address``), for the cluster tests: free ports, its own temp folder and auth token, torn down after.

Ray turns a loopback ``--node-ip-address`` into the machine's own address (``resolve_ip_for_localhost``), so the
nodes register under that address; the head is still reached at ``127.0.0.1:<port>``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from proc_table import processes

RAY = str(Path(sys.executable).with_name("ray"))
STARTED = "Ray runtime started"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _free_range(width: int = 40) -> tuple[int, int]:
    """``width`` consecutive ports above Ray's defaults that nothing listens on now (the nodes' worker ports)."""
    rng = secrets.SystemRandom()
    for _ in range(200):
        base = rng.randrange(20000, 30000 - width)
        ok = True
        for port in range(base, base + width):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base, base + width - 1
    raise RuntimeError("no free range of ports for the Ray workers")


class LoopbackCluster:
    """A head node with ``head_cpus`` and a worker node with ``node_cpus`` logical CPUs. ``env`` is what a driver
    needs to join it (token auth on, its token); ``address`` is ``127.0.0.1:<port>``."""

    def __init__(self, head_cpus: int = 2, node_cpus: int = 1, startup_s: float = 90.0) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="zfray", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
                    "RAY_AUTH_TOKEN": secrets.token_hex(16)}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        common = ["--block", "--node-ip-address", "127.0.0.1", "--object-store-memory", str(100 * 2**20),
                  "--disable-usage-stats", "--dashboard-agent-listen-port", str(free_port())]
        try:
            lo, hi = _free_range()
            self._start("head", [RAY, "start", "--head", "--port", str(self.port), "--num-cpus", str(head_cpus),
                                 "--include-dashboard", "false", "--temp-dir", str(self.dir),
                                 "--ray-client-server-port", str(free_port()), "--min-worker-port", str(lo),
                                 "--max-worker-port", str(lo + 19), *common], startup_s)
            common[-1] = str(free_port())
            self._start("node", [RAY, "start", "--address", self.address, "--num-cpus", str(node_cpus),
                                 "--min-worker-port", str(lo + 20), "--max-worker-port", str(hi), *common],
                        startup_s)
        except BaseException:
            self.close()
            raise

    def _log(self, name: str) -> Path:
        return self.dir / f"{name}.log"

    def _start(self, name: str, cmd: list[str], startup_s: float) -> None:
        with self._log(name).open("wb") as log:  # each node in a session of its own: killing it kills the node
            self.procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                                start_new_session=True)
        deadline = time.monotonic() + startup_s
        while time.monotonic() < deadline:
            text = self._log(name).read_text(errors="replace")
            if STARTED in text:
                return
            if self.procs[name].poll() is not None:
                break
            time.sleep(0.2)
        tail = "\n".join(self._log(name).read_text(errors="replace").splitlines()[-15:])
        raise RuntimeError(f"the Ray {name} node did not start:\n{tail}")

    def kill_node(self) -> None:
        """Lose the worker node: every process of it killed at once, as a machine that goes away."""
        _kill_group(self.procs["node"], signal.SIGKILL)

    def actor_pids(self, title: str) -> list[int]:
        """The processes of this cluster whose title starts with ``ray::<title>`` (the actors'): children of one of
        its raylets, found through /proc."""
        table = processes()
        ours = str(self.dir).encode()
        raylets = {p.pid for p in table if b"raylet" in p.cmdline.split(b"\0", 1)[0] and ours in p.cmdline}
        return [p.pid for p in table if p.cmdline.startswith(f"ray::{title}".encode()) and p.ppid in raylets]

    def close(self) -> None:
        for proc in self.procs.values():
            _kill_group(proc, signal.SIGKILL)
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        subprocess.run(["pkill", "-9", "-f", str(self.dir)], check=False)  # anything still naming its folder
        subprocess.run(["rm", "-rf", str(self.dir)], check=False)


def _kill_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)

