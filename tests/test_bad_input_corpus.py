"""The bad-input corpus of the command line: every case of ``tests/bad_inputs/cli_cases.yaml`` (config files,
``--set`` overrides, command lines with missing, empty or wrong files and agents) ends with exit code 2 and one
line on stderr naming what is wrong. Run in-process through ``zeroforge.cli.main`` (the entry point's own code;
``test_cli_usage.py`` checks the installed entry point in a subprocess). The instance files of every task are
``test_bad_instance_corpus.py``'s."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from zeroforge.cli import main

HERE = Path(__file__).resolve().parent
CASES: list[dict[str, Any]] = yaml.safe_load((HERE / "bad_inputs" / "cli_cases.yaml").read_text())


@pytest.fixture
def agents(tiny_run: Callable[..., Path]) -> dict[str, Path]:
    return {"ttt": tiny_run(), "maze": tiny_run("task.name=maze", "task.params.size=3")}


def _argv(case: dict[str, Any], tmp: Path, agents: dict[str, Path]) -> tuple[list[str], dict[str, str]]:
    subs = {"tmp": str(tmp), "config": str(tmp / "config.yaml"), "file": str(tmp / "input.bin"),
            **{k: str(v) for k, v in agents.items()}}
    if "config" in case:
        (tmp / "config.yaml").write_text(case["config"], encoding="utf-8")
        argv = ["train", "--config", "{config}", "--run-dir", "{tmp}/run", "--quiet"]
    elif "set" in case:
        argv = ["train", "--run-dir", "{tmp}/run", "--quiet", *[x for s in case["set"] for x in ("--set", s)]]
    else:
        argv = list(case["argv"])
    if "file_text" in case:
        (tmp / "input.bin").write_text(case["file_text"], encoding="utf-8")
    if "file_bytes" in case:
        (tmp / "input.bin").write_bytes(bytes.fromhex(case["file_bytes"]))
    if "file_size" in case:  # a sparse file: its size on paper, no disk used
        with open(tmp / "input.bin", "r+b") as f:
            f.truncate(case["file_size"])
    return [a.format(**subs) for a in argv], subs


def test_the_corpus_is_big_and_well_formed() -> None:
    assert len(CASES) >= 100
    for case in CASES:
        assert isinstance(case.get("error"), str) and case["error"], case
        assert sum(k in case for k in ("argv", "config", "set")) == 1, case


@pytest.mark.parametrize("case", CASES, ids=[f"{i:03d}" for i in range(len(CASES))])
def test_bad_input_exits_2_with_one_line(case: dict[str, Any], tmp_path: Path, agents: dict[str, Path],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    argv, subs = _argv(case, tmp_path, agents)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. a corrupt checkpoint skipped on the way
        with pytest.raises(SystemExit) as info:
            main(argv)
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert info.value.code == 2, (argv, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err)
    assert case["error"].format(**subs) in lines[0], (argv, lines[0])
    assert "Traceback" not in err and out == ""
    assert not (tmp_path / "run" / "checkpoints").exists()  # nothing was trained on bad input
