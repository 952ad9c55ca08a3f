"""Usage errors of the ``zeroforge`` command line: each ends with exactly one line on stderr that names what is
wrong, and exit code 2 (never a traceback; never a crash from a dependency that a fresh install lacks)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from zeroforge.cli import main


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), out, err


USAGE_ERRORS = [
    (["trian"], "unknown command 'trian'; did you mean 'train'?"),
    (["solvee"], "did you mean 'solve'?"),
    (["frobnicate"], "unknown command 'frobnicate'; one of: train, generate, play, solve, evaluate, report, export, "
                      "score-dabstep, bench, doctor"),
    (["generate", "--agent", "a"], "the following arguments are required: --out"),
    (["bench", "--seconds", "0"], "argument --seconds: must be >= 1, got 0"),
    (["train", "--cnofig", "x.yaml"], "unrecognized arguments: --cnofig x.yaml; did you mean --config?"),
    (["train", "--run_dir", "x"], "did you mean --run-dir?"),
    (["train", "--set"], "argument --set: expected one argument"),
    (["train", "--config"], "argument --config: expected one argument"),
    (["train", "--run-dir", ""], "argument --run-dir: an empty path"),
    (["train", "--run-dir", "  "], "argument --run-dir: an empty path"),
    (["train", "extra"], "unrecognized arguments: extra"),
    (["solve"], "the following arguments are required: --task, --agent, --instance"),
    (["solve", "--task", "maze", "--agent", "a"], "the following arguments are required: --instance"),
    (["solve", "--task", "maze", "--agent", "a", "--instance", "i", "--simulations", "0"],
     "argument --simulations: must be >= 1, got 0"),
    (["solve", "--task", "maze", "--agent", "a", "--instance", "i", "--simulations", "many"],
     "argument --simulations: 'many' is not a whole number"),
    (["evaluate"], "the following arguments are required: --agent"),
    (["evaluate", "--agent", "a", "--episodes", "-3"], "argument --episodes: must be >= 1, got -3"),
    (["evaluate", "--agent", "a", "--episodes", "1e3"], "argument --episodes: '1e3' is not a whole number"),
    (["evaluate", "--agent", "a", "--difficulty", "0"], "argument --difficulty: must be >= 1, got 0"),
    (["play", "--agent"], "argument --agent: expected one argument"),
    (["report", "--run-dir"], "argument --run-dir: expected one argument"),
    (["train", "--conf", "x.yaml"], "unrecognized arguments: --conf x.yaml; did you mean --config?"),
]


@pytest.mark.parametrize(("argv", "message"), USAGE_ERRORS, ids=[" ".join(a) or "-" for a, _ in USAGE_ERRORS])
def test_usage_error_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run_main(capsys, *argv)
    lines = err.strip().splitlines()
    assert code == 2 and out == ""
    assert len(lines) == 1 and lines[0].startswith("error: zeroforge") and message in lines[0], err


def test_no_arguments_and_help_print_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["--help"], ["-h"]):
        code, out, err = run_main(capsys, *argv)
        assert code == 0 and err == ""
        assert all(name in out for name in ("train", "play", "solve", "evaluate", "report"))
    code, out, _ = run_main(capsys, "train", "--help")
    assert code == 0 and "--config" in out and "--set" in out and "--resume" in out


def test_missing_files_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: object) -> None:
    cases = [
        (["train", "--config", "/nonexistent/zf.yaml", "--run-dir", "/nonexistent/run"],
         "config file '/nonexistent/zf.yaml' not found"),
        (["report", "--run-dir", "/nonexistent/run"], "no metrics.jsonl in /nonexistent/run"),
        (["play", "--agent", "/nonexistent/run"], "/nonexistent/run"),
        (["evaluate", "--agent", "/nonexistent/run"], "/nonexistent/run"),
        (["solve", "--task", "maze", "--agent", "/nonexistent/run", "--instance", "m.txt"], "/nonexistent/run"),
    ]
    for argv, message in cases:
        code, _, err = run_main(capsys, *argv)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], (argv, err)


@pytest.mark.parametrize(("argv", "message"), [
    (["trian"], "did you mean 'train'?"),
    (["train", "--cnofig", "x"], "did you mean --config?"),
    (["train", "--set"], "expected one argument"),
    (["solve"], "required: --task, --agent, --instance"),
])
def test_the_installed_entry_point_gives_the_same_one_line(argv: list[str], message: str) -> None:
    """Through the interpreter, as a user runs it (``python -m zeroforge``)."""
    res = subprocess.run([sys.executable, "-m", "zeroforge", *argv], capture_output=True, text=True, timeout=120)
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 1 and message in lines[0], res.stderr
