"""SIGKILL inside a checkpoint write, a Parquet episode write and a metrics line, resumed after each:
no corrupt checkpoint, at most the interrupted iteration lost, contiguous metrics, and final weights equal to a
run never killed. The fast version of ``benchmarks/reliability.py`` (20 kills per setting, workers too)."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _harness() -> object:
    sys.path.insert(0, str(REPO / "benchmarks"))
    spec = importlib.util.spec_from_file_location("reliability", REPO / "benchmarks" / "reliability.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["reliability"] = module  # (dataclasses look their module up there)
    spec.loader.exec_module(module)
    return module


def test_sigkill_in_every_write_then_resume_equals_a_run_never_killed(tmp_path: Path) -> None:
    rel = _harness()
    driver = tmp_path / "kill_driver.py"
    driver.write_text(rel.DRIVER)  # type: ignore[attr-defined]
    rel.POINTS = ("checkpoint", "episodes", "metrics")  # type: ignore[attr-defined]
    out = rel.run_setting(0, 3, 0, 5, random.Random(0), tmp_path, driver)  # type: ignore[attr-defined]
    assert out.problems == [] and out.kills == 3 and out.survived == 3, out
    assert out.points == {"checkpoint": 1, "episodes": 1, "metrics": 1}
