"""Validation of task constructor parameters: each bad value is a one-line ``ValueError`` starting with the
task's name."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["check_budget_factor", "check_int_param"]


def check_int_param(task: str, name: str, x: Any, lo: int, hi: int) -> int:
    """A task parameter that must be an integer (Python or numpy, not bool) in ``lo..hi``; else a one-line
    ``ValueError`` starting with ``task``."""
    if isinstance(x, bool) or not isinstance(x, int | np.integer) or not lo <= x <= hi:
        raise ValueError(f"{task}: {name} must be an integer in {lo}..{hi}, got {x!r}")
    return int(x)


def check_budget_factor(task: str, x: Any) -> float:
    """``step_budget_factor``: a finite number ``>= 1`` (Python or numpy, not bool); else a one-line
    ``ValueError`` starting with ``task``."""
    numeric = isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)
    if not numeric or not math.isfinite(x) or x < 1:
        raise ValueError(f"{task}: step_budget_factor must be a finite number >= 1, got {x!r}")
    return float(x)
