"""This machine's processes as ``/proc`` lists them, for the tests that check what a run left behind (a process
group, a sandboxed program's children, a Ray cluster's actors)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Proc:
    """One process: its ids, its state letter (``R``, ``S``, ``Z`` for a zombie, ...) and its command line (the
    arguments joined by NUL bytes; a process may rewrite it, as Ray's workers write their title there)."""

    pid: int
    ppid: int
    pgid: int
    state: str
    cmdline: bytes


def processes() -> list[Proc]:
    """Every process readable now (one that is gone meanwhile is left out)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        out.append(Proc(int(entry), int(fields[1]), int(fields[2]), fields[0], cmdline))
    return out
