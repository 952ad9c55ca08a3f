"""The usage examples in ``examples/`` run as written: each script as a subprocess from the repository root with
``--out`` in a temporary directory, exit code 0, and something real checked in what it printed or wrote."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import zeroforge

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
TIMEOUT_S = 150


def run_example(name: str, out: Path, *args: str) -> str:
    """Run ``examples/<name>.py --out OUT ARGS`` with this checkout's ``src`` first on the path; its stdout."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), "--out", str(out), *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, f"{name} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return proc.stdout


def metrics(run: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def check_basic_training(out: Path, stdout: str) -> None:
    lines = metrics(out)
    assert [m["iteration"] for m in lines] == list(range(6))
    assert all(0.0 <= float(m["score_vs_random"]) <= 1.0 for m in lines)  # type: ignore[arg-type]
    assert (out / "learning_curve.png").stat().st_size > 0
    assert any((out / "checkpoints").iterdir())
    assert len(re.findall(r"^iteration \d+: self-play success", stdout, re.M)) == 6
    assert re.search(r"^quality metrics: avg_success_rate [\d.]+", stdout, re.M)
    assert zeroforge.load_agent(out).task.name == "tictactoe"


def check_trm_hrm(out: Path, stdout: str) -> None:
    for kind in ("trm", "hrm"):
        found = re.search(rf"^\[{kind}\] answer: '(.+)', verified: (True|False), confidence: ([\d.]+)$", stdout, re.M)
        assert found, stdout
        assert found.group(1) in ("true", "not provable")
        assert 0.0 <= float(found.group(3)) <= 1.0
        phases = [m["phase"] for m in metrics(out / kind)]
        assert phases == ["supervised"] * 3 + ["selfplay"]


def check_supervised_then_selfplay(out: Path, stdout: str) -> None:
    assert [m["phase"] for m in metrics(out)] == ["supervised"] * 3 + ["selfplay"] * 2
    rates = re.findall(r"^iteration \d+ \((supervised|selfplay)\): held-out solve rate ([\d.]+)", stdout, re.M)
    assert [phase for phase, _ in rates] == ["supervised"] * 3 + ["selfplay"] * 2
    assert all(0.0 <= float(rate) <= 1.0 for _, rate in rates)
    assert "supervised phase done" in stdout


def check_custom_task(out: Path, stdout: str) -> None:
    assert "registered: True" in stdout
    found = re.search(r"^solution: (\{.*\})$", stdout, re.M)
    assert found, stdout
    solution = json.loads(found.group(1))
    value = 1  # the puzzle's rule, replayed here without the example's code
    for move in solution["moves"]:
        value = value + 1 if move == 0 else value * 2
    target = solution["target"]
    assert value == target and len(solution["moves"]) == (target.bit_length() - 1) + bin(target).count("1") - 1
    assert solution["verified"] is True and solution["outcome"] == "success"


def check_custom_net(out: Path, stdout: str) -> None:
    found = re.search(r"^net: BoardConvNet, (\d+) parameters$", stdout, re.M)
    assert found and int(found.group(1)) > 0, stdout
    assert re.search(r"^search \(64 simulations\): visits \[\[", stdout, re.M)
    assert re.search(r"^chosen move: \d", stdout, re.M)
    assert len(metrics(out)) == 3


def check_evaluation(out: Path, stdout: str) -> None:
    positions = re.findall(r"^known position .*: best (\d), agent plays (\d): (correct|WRONG)$", stdout, re.M)
    assert len(positions) == 4 and all(verdict == "correct" for *_, verdict in positions), stdout
    assert "known positions: 4 of 4 correct" in stdout
    assert re.search(r"^perfect-play check .*: \d+ losses", stdout, re.M)
    rates = re.findall(r"^held-out solve rate, (trained|untrained|raw policy) .*: ([\d.]+)", stdout, re.M)
    assert [who for who, _ in rates] == ["trained", "untrained", "raw policy"]
    assert all(0.0 <= float(rate) <= 1.0 for _, rate in rates)
    assert (out / "tictactoe" / "metrics.jsonl").is_file() and (out / "maze" / "metrics.jsonl").is_file()


def check_data_export(out: Path, stdout: str) -> None:
    table = pq.read_table(out / "episodes.parquet")
    assert table.num_rows == 64 and "visit_probs" in table.column_names
    lines = [json.loads(line) for line in (out / "reasoning.jsonl").read_text().splitlines()]
    assert lines, "no solved episode"
    assert sum(o == "success" for o in table["outcome"].to_pylist()) == len(lines)
    task = zeroforge.make_task(lines[0]["task"], num_numbers=3, max_number=10, target=None)
    for line in lines:  # each final answer re-verifies: the moves replayed on the instance, with the task's verifier
        state = task.parse(line["instance"])
        for action in line["actions"]:
            state = task.step(state, action)
        assert task.outcome(state) == "success" and task.answer(state) == line["answer"]
        assert line["query"] and len(line["reasoning_chain"]) == len(line["actions"])
    kinds = re.search(r"^training examples: policy (\d+), value (\d+), reasoning (\d+), negative (\d+)$", stdout, re.M)
    assert kinds and int(kinds.group(3)) == len(lines), stdout
    assert f"{len(lines)} of {len(lines)} answers re-verified" in stdout
    sft = [json.loads(line) for line in (out / "export" / "sft.jsonl").read_text().splitlines()]
    assert sft and all(r["verified"] for r in sft) and (out / "export" / "README.md").is_file()
    assert re.search(rf"sft.jsonl: {len(sft)} SFT records from \d+ verified of \d+ recorded episodes", stdout), stdout


def check_langgraph(out: Path, stdout: str) -> None:
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r.get("task") for r in results] == ["linear_equation", "linear_equation", "maze", None]
    assert results[3]["error"].startswith("no family reads this instance")
    tasks = {"linear_equation": zeroforge.make_task("linear_equation"), "maze": zeroforge.make_task("maze", size=3)}
    for r in results[:3]:  # the graph's verdict is the verifier's on the replayed moves
        task = tasks[r["task"]]
        state = task.parse(r["instance"])
        for a in r["actions"]:
            state = task.step(state, a)
        assert r["verified"] == (state.terminal and task.outcome(state) == "success")
        assert len(r["trace"]) == len(r["actions"]) and all(m["top"] for m in r["trace"])
    maze = results[2]  # the hand-drawn maze: its shortest path (BFS) is 6 moves, and search finds one
    assert maze["verified"] and len(maze["actions"]) == len(tasks["maze"].demonstration(
        tasks["maze"].parse(maze["instance"])) or []) == 6
    assert "tool zeroforge_solve: maze -> verified True, path right right down down left left" in stdout


CASES: dict[str, tuple[tuple[str, ...], Callable[[Path, str], None]]] = {
    "01_basic_training": ((), check_basic_training),
    "02_trm_hrm_agents": ((), check_trm_hrm),
    "03_supervised_then_selfplay": ((), check_supervised_then_selfplay),
    "04_custom_task": ((), check_custom_task),
    "05_custom_net": ((), check_custom_net),
    "06_evaluation": (("--fresh",), check_evaluation),  # trains its own agents, whatever runs/examples holds
    "07_data_export": ((), check_data_export),
    "08_langgraph_router": ((), check_langgraph),
}


def test_every_example_is_tested_and_listed() -> None:
    scripts = sorted(p.stem for p in EXAMPLES.glob("[0-9][0-9]_*.py"))
    assert scripts == sorted(CASES)
    listed = (EXAMPLES / "README.md").read_text()
    assert all(f"examples/{name}.py" in listed for name in scripts)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs(name: str, tmp_path: Path) -> None:
    args, check = CASES[name]
    out = tmp_path / name
    stdout = run_example(name, out, *args)
    check(out, stdout)
