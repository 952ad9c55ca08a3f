"""``zeroforge solve`` and ``zeroforge evaluate`` on a tiny trained maze agent (subprocesses, like a user)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from zeroforge import load_agent
from zeroforge.agent import set_recurrence
from zeroforge.arena.heldout import evaluate_held_out, held_out_seeds
from zeroforge.config import load_config
from zeroforge.search import NetworkEvaluator
from zeroforge.tasks import State, Task, make_task
from zeroforge.trainer import SelfPlayTrainer

# 7 x 7 grid of a size-3 maze: a corridor where the goal is two moves right of the start
CORRIDOR = "#######\n#S.G..#\n#######\n#.....#\n#######\n#.....#\n#######\n"


@pytest.fixture(scope="module")
def maze_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("maze_run")
    cfg = load_config(None, ["task.name=maze", "task.params.size=3", "iterations=1", "selfplay.games_per_iteration=16",
                             "mcts.num_simulations=8", "train.steps_per_iteration=5", "train.batch_size=32",
                             "arena.heldout_episodes=4", "arena.num_simulations=4", "agent_simulations=8"])
    SelfPlayTrainer(cfg, run).run()
    return run


def _zeroforge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zeroforge", *args], capture_output=True, text=True, timeout=120)


def test_solve_prints_the_verified_solution(maze_run: Path, tmp_path: Path) -> None:
    inst = tmp_path / "corridor.txt"
    inst.write_text(CORRIDOR)
    res = _zeroforge("solve", "--task", "maze", "--agent", str(maze_run), "--instance", str(inst))
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    # the first move is forced; from the middle square the search sees the goal one move away
    assert out["solution_path"] == ["right", "right"]
    assert out["outcome"] == "success" and out["verified"] is True and out["answer"] is None
    assert out["score"] == 1.0 and out["steps"] == 2 and out["simulations_per_move"] == 8


def test_solve_path_replays_to_the_reported_outcome(maze_run: Path, tmp_path: Path) -> None:
    maze = make_task("maze", size=3)
    inst = tmp_path / "m.txt"
    inst.write_text(maze.instance_text(maze.initial_state(5)))
    res = _zeroforge("solve", "--task", "maze", "--agent", str(maze_run), "--instance", str(inst),
                     "--simulations", "16")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    state = _replay(maze, inst.read_text(), out["solution_path"])
    assert state.terminal and out["outcome"] == maze.outcome(state)
    assert out["verified"] is (maze.outcome(state) == "success")
    assert out["steps"] == state.step_count == len(out["solution_path"]) and out["score"] == maze.score(state)
    assert out["simulations_per_move"] == 16


def test_one_agent_solves_mazes_of_sizes_it_never_trained_on(maze_run: Path, tmp_path: Path) -> None:
    """Trained on 7 x 7 grids, the agent takes any grid within the bounds: a 13 x 5 one (a corridor with a dead end
    it must not enter) and an open 15 x 15 one; a 33-wide grid is refused by its bound in one line."""
    wide = "#############\n#...........#\n#.#########.#\n#S#G........#\n#############\n"
    inst = tmp_path / "wide.txt"
    inst.write_text(wide)
    res = _zeroforge("solve", "--task", "maze", "--agent", str(maze_run), "--instance", str(inst),
                     "--simulations", "16")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    state = _replay(make_task("maze"), wide, out["solution_path"])
    assert out["outcome"] == make_task("maze").outcome(state) and out["steps"] == state.step_count
    big = ["#" * 15] + ["#" + "." * 13 + "#"] * 13 + ["#" * 15]
    big[1] = "#S" + "." * 12 + "#"
    big[13] = "#" + "." * 12 + "G#"
    inst.write_text("\n".join(big) + "\n")
    res = _zeroforge("solve", "--task", "maze", "--agent", str(maze_run), "--instance", str(inst))
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["steps"] >= 24  # BFS: 12 + 12 moves
    inst.write_text("S" + "." * 31 + "G\n")
    res = _zeroforge("solve", "--task", "maze", "--agent", str(maze_run), "--instance", str(inst))
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 1 and "beyond the bound 31 x 31" in lines[0], res.stderr


def _replay(task: Task, instance: str, path: list[str]) -> State:
    """The state after the path's actions, each found by its text among the legal actions, from the parsed
    instance."""
    state = task.parse(instance)
    for text in path:
        legal = np.flatnonzero(state.legal_action_mask)
        matches = [int(a) for a in legal if task.action_to_text(state, int(a)) == text]
        assert len(matches) == 1, (text, state.to_text())
        state = task.step(state, matches[0])
    return state


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "knapsack"], "was trained on 'maze', not 'knapsack'"),
        (["--instance", "nowhere.txt"], "no instance file"),
        (["--instance", "NOGOAL"], "maze"),
    ],
)
def test_solve_bad_input_is_one_line(maze_run: Path, tmp_path: Path, args: list[str], message: str) -> None:
    bad = tmp_path / "nogoal.txt"
    bad.write_text(CORRIDOR.replace("G", "."))
    opts = {"--task": "maze", "--agent": str(maze_run), "--instance": str(tmp_path / "c.txt")}
    (tmp_path / "c.txt").write_text(CORRIDOR)
    for k, v in zip(args[::2], args[1::2], strict=True):
        opts[k] = str(bad) if v == "NOGOAL" else str(tmp_path / v) if k == "--instance" else v
    res = _zeroforge("solve", *[x for kv in opts.items() for x in kv])
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], res.stderr


def test_evaluate_reports_trained_untrained_and_raw_policy(maze_run: Path, tmp_path: Path) -> None:
    """The raw policy is the trained net's top legal move, one simulation a move (replayed here by hand); the
    trained and untrained rows are the held-out evaluation of the run's net and of the net the run started
    from (its seed), with the agent's 8 simulations."""
    res = _zeroforge("evaluate", "--agent", str(maze_run), "--episodes", "6", "--difficulty", "1")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["task"] == "maze"
    agent = load_agent(maze_run)
    seeds = held_out_seeds(6, 1)
    finals = []
    for seed in seeds:
        state = agent.task.initial_state(seed, 1)
        while not state.terminal:
            priors, _ = agent.evaluator.evaluate_states(agent.task, [state])
            state = agent.task.step(state, int(np.argmax(priors[0])))  # priors are zero off the legal moves
        finals.append(state)
    raw = out["raw_policy"]
    moves = sum(f.step_count for f in finals)
    assert raw["num_simulations"] == 1 and raw["simulations_total"] == moves
    assert raw["mean_moves"] == pytest.approx(moves / 6)
    assert raw["outcomes"]["success"] == sum(agent.task.outcome(f) == "success" for f in finals)
    expected = {
        "trained": evaluate_held_out(agent.task, agent.evaluator, agent.mcts.config, 6, 1, 8),
        "untrained": evaluate_held_out(agent.task, _fresh_net_evaluator(maze_run, tmp_path / "fresh"),
                                       agent.mcts.config, 6, 1, 8),
    }
    for key, report in expected.items():
        assert out[key] == report.to_dict(), key
        assert out[key]["simulations_total"] == 8 * round(6 * out[key]["mean_moves"])
    bad = _zeroforge("evaluate", "--agent", str(maze_run), "--difficulty", "7")
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode == 2 and len(lines) == 1, bad.stderr
    assert lines[0].startswith("error: ") and "difficulty 7 is out of range 1..2" in lines[0], bad.stderr


def test_evaluate_and_solve_take_more_passes_of_the_recurrent_net(maze_run: Path, tmp_path: Path) -> None:
    """``--recurrence 3`` runs the trained pointer net's shared layers three times (the run trained one): the
    reported rows are the held-out evaluation of ``load_agent(run, recurrence=3)``, whose priors differ from the
    one-pass net's (the value); a count below 1 and a flat net are refused in one line."""
    res = _zeroforge("evaluate", "--agent", str(maze_run), "--episodes", "4", "--difficulty", "1",
                     "--recurrence", "3")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    agent = load_agent(maze_run, recurrence=3)
    assert out["recurrence"] == 3 and agent.net.recurrence == 3 and load_agent(maze_run).net.recurrence == 1
    assert out["trained"] == evaluate_held_out(agent.task, agent.evaluator, agent.mcts.config, 4, 1, 8).to_dict()
    state = agent.task.initial_state(held_out_seeds(1, 1)[0], 1)
    one_pass = load_agent(maze_run).evaluator.evaluate_states(agent.task, [state])[1]  # the value
    assert not np.allclose(agent.evaluator.evaluate_states(agent.task, [state])[1], one_pass)
    inst = tmp_path / "corridor.txt"
    inst.write_text(CORRIDOR)
    solved = _zeroforge("solve", "--task", "maze", "--agent", str(maze_run), "--instance", str(inst),
                        "--recurrence", "2")
    assert solved.returncode == 0 and json.loads(solved.stdout)["task"] == "maze", solved.stderr
    bad = _zeroforge("evaluate", "--agent", str(maze_run), "--recurrence", "0")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "--recurrence" in bad.stderr
    with pytest.raises(ValueError, match="pointer net"):
        set_recurrence(torch.nn.Linear(2, 2), 2)
    with pytest.raises(ValueError, match="integer >= 1"):
        set_recurrence(agent.net, 0)


def _fresh_net_evaluator(run: Path, scratch: Path) -> NetworkEvaluator:
    """The net a run started from: the best net of a trainer just built from the run's config."""
    with torch.random.fork_rng(devices=[]):
        return NetworkEvaluator(SelfPlayTrainer(load_config(run / "config.yaml"), scratch).best_net)


def test_report_redraws_the_learning_curve(maze_run: Path) -> None:
    png = maze_run / "learning_curve.png"
    png.unlink()
    res = _zeroforge("report", "--run-dir", str(maze_run))
    assert res.returncode == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    missing = _zeroforge("report", "--run-dir", str(maze_run / "nowhere"))
    assert missing.returncode == 2 and "no metrics.jsonl" in missing.stderr


_TINY_RUNS: dict[str, Path] = {}


def _tiny_run(root: Path, task: str) -> Path:
    """A barely trained agent of ``task`` (one small iteration), built once per test session."""
    if task in _TINY_RUNS:
        return _TINY_RUNS[task]
    run = root / task
    cfg = load_config(None, [f"task.name={task}", "iterations=1", "selfplay.games_per_iteration=8",
                             "mcts.num_simulations=8", "train.steps_per_iteration=2", "train.batch_size=16",
                             "arena.heldout_episodes=2", "arena.num_simulations=2", "agent_simulations=64"])
    SelfPlayTrainer(cfg, run).run()
    _TINY_RUNS[task] = run
    return run


@pytest.mark.parametrize(
    ("task", "instance", "answer"),
    [
        ("linear_equation", "2*x + 3 = 7\n", "x = 2"),
        ("quadratic", "x**2 - 5*x + 6 = 0\n", "x = 2 or x = 3"),
        ("linear_system", "x + y = 3\nx - y = 1\n", {"x": "2", "y": "1"}),
        ("arithmetic", "2 + 3 * 4\n", "14"),
    ],
)
def test_solve_math_instances_from_text(tmp_path: Path, task: str, instance: str, answer: object) -> None:
    """Equations in sympy-readable text: the search of a barely trained agent (64 simulations) finds and
    the verifier confirms these short solutions; the path replays to the same verdict."""
    inst = tmp_path / "problem.txt"
    inst.write_text(instance)
    res = _zeroforge("solve", "--task", task, "--agent", str(_tiny_run(tmp_path, task)), "--instance", str(inst))
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["outcome"] == "success" and out["verified"] is True and out["answer"] == answer
    t = make_task(task)
    state = _replay(t, instance, out["solution_path"])
    assert state.terminal and t.outcome(state) == "success" and t.answer(state) == answer


def test_solve_code_instance_answers_python_source(tmp_path: Path) -> None:
    """A function from examples (x -> x + 1): the answer is the exported Python source, which computes it.
    (The program ends by itself once it passes: ``INC`` is a terminal child that 64 simulations visit.)"""
    inst = tmp_path / "inc.json"
    examples = [{"input": x, "output": x + 1} for x in (0, 3, 7, -2)]
    inst.write_text(json.dumps({"kind": "function", "examples": examples}))
    res = _zeroforge("solve", "--task", "code_function", "--agent", str(_tiny_run(tmp_path, "code_function")),
                     "--instance", str(inst))
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["outcome"] == "success" and out["verified"] is True and out["solution_path"] == ["INC"]
    from zeroforge.tasks.code.export import run_exported

    ran = run_exported(out["answer"], "f", [[5], [10]])
    assert ran.status == "ok" and list(ran.outputs) == [6, 11], (out["answer"], ran)


def test_solve_malformed_math_and_code_instances_are_one_line(tmp_path: Path) -> None:
    for task, text, message in [("linear_equation", "2*x + = 7", "linear_equation: unexpected end of expression"),
                                ("code_function", '{"kind": "class"}',
                                 "code_function: instance is missing the key 'examples'")]:
        inst = tmp_path / "bad.txt"
        inst.write_text(text)
        res = _zeroforge("solve", "--task", task, "--agent", str(_tiny_run(tmp_path, task)), "--instance", str(inst))
        lines = res.stderr.strip().splitlines()
        assert res.returncode == 2 and len(lines) == 1, res.stderr
        assert lines[0].startswith("error: ") and message in lines[0], res.stderr
